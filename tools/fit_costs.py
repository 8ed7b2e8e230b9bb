"""The training time of a built book, per data set and kind of fit, read from the models it stored (nothing is trained).

Every model the zoo stores keeps the seconds its fit took (a stacked fit's members share its time). This sums them
for the book's CNN models of a profile (the LSTM page's fits count in that page's time): the classifiers, the
auto-encoders, the tuning sweep (run 0's candidates) and the other explainers of every run (``zoo.run_groups``). A
model that is not in the artifacts directory stops the script: build the book first (``make book PROFILE=cpu``). Usage::

    python tools/fit_costs.py [--profile cpu] [--artifacts DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--artifacts", help="the artifacts directory (default: $TSINSIGHT_ARTIFACTS or artifacts/)")
    args = parser.parse_args()
    if args.artifacts:
        os.environ["TSINSIGHT_ARTIFACTS"] = args.artifacts
    import pandas as pd

    from tsinsight import artifacts, stacking, zoo
    from tsinsight.profiles import get_profile
    from tsinsight.runner.plan import book_datasets

    class NotBuilt(Exception):
        pass

    stored = artifacts.cached

    def cached_only(kind, parts, compute, **kw):
        def refuse():
            raise NotBuilt(f"a {kind} of {parts.get('dataset')} is not in {artifacts.artifacts_dir()}")

        return stored(kind, parts, refuse, **kw)

    def no_fit(*_, **__):
        raise NotBuilt(f"a stacked fit is not in {artifacts.artifacts_dir()}")

    artifacts.cached, stacking.fit_together = cached_only, no_fit  # this script reads; it never trains
    profile = get_profile(args.profile)
    rows = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in book_datasets():
                runs = profile.run_seeds()
                tuning = zoo.tuned(name, profile)
                sweep = zoo.fit_sweep(name, profile, tuning.grid, "cnn", 0)
                groups = [
                    zoo.explainer(name, profile, seed, mode, gamma, beta, group=group).seconds
                    for group in zoo.run_groups(name, profile)
                    for seed, mode, gamma, beta in group
                ]
                rows.append(
                    dict(
                        dataset=name,
                        classifiers=sum(zoo.classifier(name, profile, seed).seconds for seed in runs),
                        autoencoders=sum(zoo.autoencoder(name, profile, seed).seconds for seed in runs),
                        sweep=sum(member.seconds for member in sweep),
                        candidates=len(tuning.grid),
                        other_explainers=sum(groups),
                    )
                )
    except NotBuilt as missing:
        print(f"error: {missing}: build the book first (make book PROFILE={profile.name})", file=sys.stderr)
        return 1
    table = pd.DataFrame(rows).set_index("dataset")
    minutes = (table.drop(columns="candidates") / 60).round(1)
    minutes.loc["total"] = minutes.sum()
    print(f"training time of the {profile.name} book's models, minutes (from {artifacts.artifacts_dir()}):")
    print(minutes.assign(candidates=table["candidates"].astype("Int64")).to_string())
    print(f"all fits: {minutes.loc['total'].sum():.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
