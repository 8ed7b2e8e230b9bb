"""Table 3 at the paper's budget on whatever machine runs it (no GPU needed), with its provenance.

For each data set: every run's classifier (Table 2: 50 epochs, early stopping, full splits) and TSInsight with the
paper's own γ, β, the runs' explainers fitted together (``tsinsight.experiments.accuracy.paper_table3``). Models are
cached in the artifacts directory as they finish, so an interrupted run loses at most the fit in progress and a rerun
continues where it stopped. After each data set the tables are rewritten (atomically) into ``OUT``:

- ``table3_runs.csv``: one row per data set, run and model (accuracy, seconds, epochs, how the fit ended, …);
- ``table3.csv``: the paper's Table 3 beside ours (mean and std over runs, in %; ``compare_table3``);
- ``provenance.json``: the commit, the machine, the profile, and per data set its wall time, its fits' own seconds
  (stored with the models, so right also after a resumed run), how many models this run trained, when it ended, the
  commit and the machine it ran on.

Usage::

    python tools/paper_table3.py [--profile paper] [--out results/paper] [--runs N] [DATASET ...]

Without data set names it runs every data set of the mirror, cheapest first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Cheapest first at the paper's budget (training series × channels × length), so that a short session ends with the
# most data sets done; Forest Cover (107 110 series) is last by far.
ORDER = (
    "uwave_gesture",
    "character_trajectories",
    "electric_devices",
    "ecg_thorax",
    "ford_a",
    "synthetic_anomaly",
    "forest_cover",
    "wesad",
)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place: an interruption leaves the old file."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, path)


def _commit() -> dict:
    """The commit of the package that runs (the one imported, which need not be this script's checkout)."""
    import tsinsight

    package = Path(tsinsight.__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=package, capture_output=True, text=True).stdout.strip()

    return dict(
        commit=git("rev-parse", "HEAD") or None,
        dirty=bool(git("status", "--porcelain", "--", ".")),
        package=str(package),
    )


def _machine() -> dict:
    import torch

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line),
        platform.processor(),
    ) if Path("/proc/cpuinfo").exists() else platform.processor()  # fmt: skip
    return dict(
        device="cuda" if torch.cuda.is_available() else "cpu",
        gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        cpu=cpu,
        cores=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        torch=torch.__version__,
        python=platform.python_version(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "datasets", nargs="*", help="data sets to run (default: every one of the mirror, cheapest first)"
    )
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--runs", type=int, default=None, help="run seeds 0..N-1 (default: the profile's)")
    parser.add_argument("--out", type=Path, default=None, help="where the tables go (default: results/PROFILE)")
    args = parser.parse_args()

    import pandas as pd

    from tsinsight import artifacts, data, zoo
    from tsinsight.experiments.accuracy import compare_table3, paper_table3
    from tsinsight.profiles import get_profile
    from tsinsight.runner import plan

    profile = get_profile(args.profile)
    available = {name for name in data.available() if data.is_available(name)}
    names = args.datasets or [name for name in ORDER if name in available]
    missing = [name for name in names if name not in available]
    if missing:
        sys.exit(f"no data for {missing} on this machine (set TSINSIGHT_DATA_MIRROR); available: {sorted(available)}")
    out = args.out or plan.COMMITTED / profile.name
    out.mkdir(parents=True, exist_ok=True)
    runs_path, provenance_path = out / "table3_runs.csv", out / "provenance.json"
    # a rerun keeps the data sets an earlier run finished and replaces those it runs again
    earlier = pd.read_csv(runs_path) if runs_path.exists() else pd.DataFrame(columns=["dataset", "profile"])
    if set(earlier["profile"]) - {profile.name}:
        sys.exit(
            f"{runs_path} holds runs of profile {sorted(set(earlier['profile']))}, not {profile.name!r}: use --out"
        )
    provenance = json.loads(provenance_path.read_text()) if provenance_path.exists() else {"datasets": {}}
    provenance.update(
        what="Table 3 at the paper's budget: tools/paper_table3.py (tsinsight.experiments.accuracy.paper_table3)",
        **_commit(),
        machine=_machine(),
        profile=profile.as_dict(),
        artifacts_at_start=artifacts.count(),
    )
    for name in names:
        print(
            f"[{datetime.now():%H:%M:%S}] {name}: {profile.runs if args.runs is None else args.runs} runs", flush=True
        )
        start, stored_before = time.perf_counter(), artifacts.count()
        rows = paper_table3(name, profile, args.runs, progress=True)
        seconds = time.perf_counter() - start
        earlier = pd.concat([earlier[earlier["dataset"] != name], rows], ignore_index=True)
        # The fits' own seconds, stored with each model, whichever run of this script trained it: a run that resumed
        # from cached models has a shorter wall time (``models_trained`` < 3 per run then says so).
        autoencoders = sum(zoo.autoencoder(name, profile, seed).seconds for seed in sorted(set(rows["run"])))
        provenance["datasets"][name] = dict(
            seconds=round(seconds, 1), fit_seconds=round(float(rows["seconds"].sum()) + autoencoders, 1),
            models_trained=artifacts.count() - stored_before, ended=datetime.now(UTC).isoformat(timespec="seconds"),
            runs=int(rows["run"].nunique()), commit=provenance["commit"], dirty=provenance["dirty"],
            machine=provenance["machine"],
        )  # fmt: skip
        _write(runs_path, earlier.to_csv(index=False))
        _write(out / "table3.csv", compare_table3(earlier).round(4).to_csv(index=False))
        _write(provenance_path, json.dumps(provenance, indent=2) + "\n")
        mean = rows.groupby("model")["accuracy"].mean().mul(100).round(2).to_dict()
        print(f"[{datetime.now():%H:%M:%S}] {name}: {seconds:.0f} s, test accuracy (%) {mean}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
