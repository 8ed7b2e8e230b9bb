"""The book of a profile on a borrowed GPU machine in one window: prepare here, execute there, bring the pages back.

The GPU machine (see DEVELOPERS.md) has PyTorch with CUDA, numpy, pandas, scipy, scikit-learn, matplotlib, seaborn,
tqdm and h5py, but no network and none of the book's other tools; what it gets comes in the ``carry`` of one call
(64 MiB in all), and what comes back is at most 8 files of 16 MiB. So::

    python tools/device.py prepare          # here: .whl/ (the wheels it lacks, Python 3.12) and .mirror/ (the data)
    # there, one call carrying .whl and .mirror:  bash tools/device_run.sh paper "$OUT" 8
    python tools/device.py unpack DIR       # here: the executed pages and result tables into place
    make edition PROFILE=paper              # executes the pages left to do here, then writes the reference edition

``device_run.sh`` executes every page except those that need scikit-posthocs (it draws the critical-difference
diagram and pulls statsmodels, 12 MB of wheels the carry cannot spare): those pages read result tables only and are
executed here by ``make edition``, which finds every other page up to date (page stamps hash the data's contents, so a
copy of the mirror on another machine stamps the same). ``make smoke-book`` goes through this path on the CPU, so
that a GPU window is never spent on a typo.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS, MIRROR = ROOT / ".whl", ROOT / ".mirror"
# What the book executes with (besides the package's core dependencies) and the GPU machine lacks: their whole
# dependency closure is read from this machine's environment, less what the GPU machine has already.
ROOTS = ("captum", "papermill", "ipykernel", "nbformat", "pyyaml", "filelock", "dask", "distributed", "tqdm", "bokeh")
# (pillow and contourpy come with matplotlib)
ON_DEVICE = {"torch", "numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "seaborn", "tqdm", "h5py", "pip",
             "pillow", "contourpy"}  # fmt: skip
# Left out on purpose: scikit-posthocs and statsmodels (see the docstring); tslearn only downloads data; ipykernel
# runs without debugpy (5 MB: it only serves a debugger).
LEFT_OUT = {"scikit-posthocs", "statsmodels", "patsy", "formulaic", "tslearn", "debugpy"}
NEEDS_LEFT_OUT = ("suppression_summary", "later_explainers")  # executed here: their plotting needs scikit-posthocs
PART = 15 * 2**20  # bytes per file brought back
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]).lower()


def closure(roots=ROOTS) -> dict[str, str]:
    """The installed version of each distribution ``roots`` need, less the GPU machine's own and ``LEFT_OUT``."""
    found: dict[str, str] = {}

    def walk(name: str) -> None:
        name = _name(name)
        if name in found or name in ON_DEVICE or name in LEFT_OUT:
            return
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return
        found[name] = dist.version
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                walk(requirement)

    for root in roots:
        walk(root)
    return dict(sorted(found.items()))


def _tree_bytes() -> int:
    """The bytes of the working tree a device call carries besides its ``carry`` (tracked and unignored files)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()  # fmt: skip
    return sum((ROOT / path).stat().st_size for path in listed if (ROOT / path).is_file())


def prepare(mirror: Path | None, without: list[str]) -> None:
    pins = [f"{name}=={version}" for name, version in closure().items()]
    shutil.rmtree(WHEELS, ignore_errors=True)
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", *platforms, "-d", str(WHEELS), *pins], check=True)  # fmt: skip
    if mirror is None:
        print("no data mirror given (--mirror or $TSINSIGHT_DATA_MIRROR): .mirror/ not written")
    else:
        shutil.rmtree(MIRROR, ignore_errors=True)
        shutil.copytree(mirror, MIRROR)
        for folder in without:
            shutil.rmtree(MIRROR / folder)
    carried = sum(f.stat().st_size for folder in (WHEELS, MIRROR) if folder.exists() for f in folder.rglob("*"))
    total = carried + _tree_bytes()
    print(f"{len(pins)} wheels in .whl/, data in .mirror/: {carried / 2**20:.1f} MiB; with the working tree "
          f"{total / 2**20:.1f} MiB to carry (at most 64)")  # fmt: skip
    if total > 64 * 2**20:
        sizes = sorted(((sum(f.stat().st_size for f in d.rglob("*")), d) for d in MIRROR.glob("*/*")), reverse=True)
        largest = ", ".join(f"{d.relative_to(MIRROR)} ({size / 2**20:.0f} MiB)" for size, d in sizes[:3])
        raise SystemExit(f"too much to carry in one call: leave out a data set (--without FOLDER; the largest: "
                         f"{largest}) or split the run into two calls")  # fmt: skip


def install(folder: Path) -> None:
    """Install, without the network or dependency resolution, each wheel in ``folder`` not installed already."""
    missing = []
    for wheel in sorted(folder.glob("*.whl")):
        name = _name(wheel.name.split("-")[0])
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(str(wheel))
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", *missing],
                       check=True)  # fmt: skip
    print(f"installed {len(missing)} wheel(s) from {folder}")


def _results_dir(profile: str) -> Path:
    sys.path.insert(0, str(ROOT))
    from tsinsight.results import results_dir  # the tool runs before the package's dependencies are checked

    return results_dir(profile)


def pack(profile: str, out: Path) -> list[Path]:
    """The executed pages (``book/generated/``) and the result tables of ``profile``, as a tar.gz in parts."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(ROOT / "book" / "generated", arcname="generated")
        archive.add(_results_dir(profile), arcname="results")
    data, parts = buffer.getvalue(), []
    out.mkdir(parents=True, exist_ok=True)
    for index, start in enumerate(range(0, len(data), PART)):
        parts.append(out / f"{profile}-book.tar.gz.{index:03d}")
        parts[-1].write_bytes(data[start : start + PART])
    print(f"packed {len(data) / 2**20:.1f} MiB into {len(parts)} part(s) in {out}")
    return parts


def unpack(folder: Path) -> str:
    """Put the pages and tables of :func:`pack`'s parts in ``folder`` into place; returns the profile."""
    parts = sorted(folder.glob("*-book.tar.gz.*"))
    if not parts:
        raise SystemExit(f"no packed book (*-book.tar.gz.000 …) in {folder}")
    profile = parts[0].name.split("-book.tar.gz")[0]
    targets = {"generated": ROOT / "book" / "generated", "results": _results_dir(profile)}
    with tempfile.TemporaryDirectory(dir=ROOT) as staging:
        archive = io.BytesIO(b"".join(part.read_bytes() for part in parts))
        with tarfile.open(fileobj=archive, mode="r:gz") as packed:
            packed.extractall(staging, filter="data")  # no links, devices or paths outside staging
        for top, target in targets.items():
            if (Path(staging) / top).is_dir():
                shutil.copytree(Path(staging) / top, target, dirs_exist_ok=True)
    print(f"unpacked the {profile} pages and tables: now `make edition PROFILE={profile}`")
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ready = commands.add_parser("prepare", help="wheels and data for the GPU machine, into .whl/ and .mirror/")
    ready.add_argument("--mirror", type=Path, default=None, help="the data mirror (default $TSINSIGHT_DATA_MIRROR)")
    ready.add_argument("--without", nargs="+", default=[], metavar="FOLDER",
                       help="folders of the mirror left behind, e.g. ucr/FordA (to fit the 64 MiB carry)")  # fmt: skip
    commands.add_parser("install", help="(on the GPU machine) install the carried wheels").add_argument(
        "folder", type=Path
    )
    packing = commands.add_parser("pack", help="(on the GPU machine) the executed pages and tables into OUT")
    packing.add_argument("profile")
    packing.add_argument("out", type=Path)
    commands.add_parser("unpack", help="(here) the packed pages and tables into place").add_argument(
        "folder", type=Path
    )
    commands.add_parser("left-out", help="the notebooks the GPU machine leaves to this one")
    args = parser.parse_args()
    if args.command == "prepare":
        mirror = args.mirror or (
            Path(os.environ["TSINSIGHT_DATA_MIRROR"]) if "TSINSIGHT_DATA_MIRROR" in os.environ else None
        )
        prepare(mirror, args.without)
    elif args.command == "install":
        install(args.folder)
    elif args.command == "pack":
        pack(args.profile, args.out)
    elif args.command == "unpack":
        unpack(args.folder)
    else:
        print(" ".join(NEEDS_LEFT_OUT))


if __name__ == "__main__":
    main()
