"""Train every model of the book under a profile (default ``paper``) and print the time and test accuracy per data set.

Meant for a machine with a GPU: it runs the training behind the "Training and accuracy" chapter (classifier,
auto-encoder, TSInsight, Palacio et al., sparsity only; every run seed) through ``tsinsight.zoo``, so the models
land in the artifacts cache that ``make book`` then reuses. Usage::

    python benchmarks/paper_profile.py [--profile paper] [--runs N] [--out DIR] [dataset ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from tsinsight import data, experiments, paper, zoo
from tsinsight.profiles import get_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", help="data sets (default: every one found on this machine)")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--runs", type=int, default=None, help="run seeds (default: the profile's)")
    parser.add_argument("--out", type=Path, default=None, help="folder for accuracy.csv and timings.csv")
    args = parser.parse_args()

    profile = get_profile(args.profile)
    names = args.datasets or [name for name in data.available() if data.is_available(name)]
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    print(f"profile {profile.name}, runs {args.runs or profile.runs}, device {device}", flush=True)
    tables, timings = [], []
    for name in names:
        start = time.perf_counter()
        table = experiments.accuracy_table(name, profile, runs=args.runs)
        seconds = time.perf_counter() - start
        tables.append(table)
        mean = table.groupby("model").accuracy.agg(["mean", "std"]) * 100
        reported = paper.TABLE3.get(name, {})
        timings.append(dict(dataset=name, seconds=seconds, train=len(zoo.dataset(name, profile).train)))
        print(
            f"{name}: {seconds:.0f} s; classifier {mean.loc['classifier', 'mean']:.2f} ± {mean.loc['classifier', 'std']:.2f} % "
            f"(paper {reported.get('classifier', float('nan')):.2f}), TSInsight {mean.loc['tsinsight', 'mean']:.2f} ± "
            f"{mean.loc['tsinsight', 'std']:.2f} % (paper {reported.get('tsinsight', float('nan')):.2f})",
            flush=True,
        )
        if args.out:  # after every data set, so that a run cut short keeps what it finished
            args.out.mkdir(parents=True, exist_ok=True)
            pd.concat(tables).to_csv(args.out / "accuracy.csv", index=False)
            pd.DataFrame(timings).to_csv(args.out / "timings.csv", index=False)


if __name__ == "__main__":
    main()
