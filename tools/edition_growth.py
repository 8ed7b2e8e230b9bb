"""What an edition refresh adds to a git repository's history, with the figures inside the pages and kept apart.

Exports ``book/reference/<profile>/`` at two commits (before and after a refresh) into a scratch repository twice —
as committed, and as :func:`tsinsight.runner.edition.write` now keeps it (papermill's paths and times dropped, the
figures apart in ``figures/``) — commits the two versions one after the other and prints, for each layout, the
loose objects the second commit adds (what a ``git pull`` stores before ``git gc``, and what a local ``git clone``
copies) and what it adds to a full pack (what a clone over the network receives)::

    python tools/edition_growth.py f8fa9c8^ f8fa9c8 [--profile cpu]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat

from tsinsight.runner import edition, present

ROOT = Path(__file__).resolve().parents[1]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def export(commit: str, folder: str, target: Path, apart: bool) -> None:
    """``folder`` at ``commit`` into ``target``; with ``apart``, its pages as an edition written now keeps them."""
    for name in git(ROOT, "ls-tree", "-r", "--name-only", commit, folder).split():
        content = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{name}"], capture_output=True,
                                 check=True).stdout  # fmt: skip
        out = target / Path(name).relative_to(folder)
        out.parent.mkdir(parents=True, exist_ok=True)
        if apart and name.endswith(".ipynb"):
            page = nbformat.reads(content.decode(), as_version=4)
            present.drop_volatile(page)
            edition.keep_figures_apart(page, target / "figures")
            nbformat.write(page, out)
        else:
            out.write_bytes(content)


def loose_kib(repo: Path) -> int:
    return int(git(repo, "count-objects", "-v").split("size: ")[1].split()[0])


def pack_kib(repo: Path) -> float:
    objects = git(repo, "rev-list", "--objects", "HEAD")
    pack = subprocess.run(["git", "-C", str(repo), "pack-objects", "--stdout", "-q"], input=objects.encode(),
                          capture_output=True, check=True).stdout  # fmt: skip
    return len(pack) / 1024


def growth(before: str, after: str, folder: str, apart: bool) -> dict[str, float]:
    repo = Path(tempfile.mkdtemp(prefix="edition-growth-"))
    try:
        git(repo, "init", "-q")
        for commit in (before, after):
            shutil.rmtree(repo / "edition", ignore_errors=True)
            export(commit, folder, repo / "edition", apart)
            git(repo, "add", "-A")
            git(repo, "-c", "user.name=measure", "-c", "user.email=measure@localhost", "commit", "-qm", commit)
            if commit == before:
                packed = pack_kib(repo)
                git(repo, "gc", "-q")  # the history before the refresh, packed
        disk = sum(path.stat().st_size for path in (repo / "edition").rglob("*") if path.is_file()) / 1024
        return dict(disk=disk, loose=loose_kib(repo), packed=pack_kib(repo) - packed)
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--profile", default="cpu")
    args = parser.parse_args()
    for apart in (False, True):
        found = growth(args.before, args.after, f"book/reference/{args.profile}", apart)
        print(f"{'figures apart ' if apart else 'figures inside'}: the edition {found['disk']:,.0f} KiB on disk; "
              f"the refresh adds {found['loose']:,.0f} KiB of loose objects, {found['packed']:,.0f} KiB to a full pack")  # fmt: skip


if __name__ == "__main__":
    main()
