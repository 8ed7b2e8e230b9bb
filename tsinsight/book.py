"""The book's command line: execute the notebook runs of the book (:mod:`tsinsight.runner`), then build the HTML.

Incremental; Dask with ``--workers``/``--scheduler``; no ``--profile``/``--force``: renders the reference edition::

    python -m tsinsight.book build [--profile P] [--force] [--workers N | --scheduler tcp://HOST:8786] [--skip NB ...]
    python -m tsinsight.book run NB [key=value ...] [--profile P]   # re-execute one notebook, then build the HTML
    python -m tsinsight.book edition --profile P [--commit C]       # keep the finished build as the reference edition
    python -m tsinsight.book list [--profile P]                      # the runs of the book
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from tsinsight import artifacts
from tsinsight.profiles import get_profile
from tsinsight.runner import edition, plan
from tsinsight.runner.execute import NotebookFailed, execute, execute_all
from tsinsight.runner.html import build_html
from tsinsight.runner.parameters import check_parameters, parse_assignments, with_default_dataset
from tsinsight.runner.stamps import remove_foreign_pages


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tsinsight.book", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="execute every notebook of the book, then build the HTML")
    build.add_argument("--force", action="store_true", help="execute every run, also those that are up to date")
    where = build.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=1, help="runs at a time, on a local Dask cluster (default 1)")
    where.add_argument("--scheduler", help="execute the runs on this Dask cluster, e.g. tcp://HOST:8786")
    build.add_argument("--skip", nargs="+", default=[], metavar="NB", help="leave these notebooks' pages as they are")
    one = commands.add_parser("run", help="re-execute one notebook with new parameters, then build the HTML")
    one.add_argument("notebook", help="a notebook name, e.g. train")
    one.add_argument("assignments", nargs="*", help="key=value parameters, e.g. dataset=ford_a beta=0.001")
    keep = commands.add_parser("edition", help="write the finished build as the reference edition of its profile")
    keep.add_argument("--commit", default="HEAD", help="the commit whose code executed the pages (default HEAD)")
    listing = commands.add_parser("list", help="list the runs of the book")
    for command in (build, one, keep, listing):
        command.add_argument("--profile", default=None, help="smoke, cpu or paper (default: paper with CUDA, else cpu)")
    for command in (build, one):
        command.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    return parser


def _build(args, profile: str) -> None:
    if args.workers < 1:
        raise ValueError(f"--workers takes a positive number of workers, got {args.workers}")
    every = plan.book_runs(profile=profile)
    remove_foreign_pages(every, profile)  # one profile per book: no stale pages of another
    runs = plan.without(every, args.skip)
    if args.profile is None and not args.force and edition.provenance(profile):
        print(f"rendering the reference edition of {profile}: {len(edition.render(profile))} page(s)", flush=True)
    elif args.workers > 1 or args.scheduler:
        from tsinsight.runner import grid  # Dask is imported only for a parallel build

        grid.execute_all(runs, profile, args.force, workers=args.workers, scheduler=args.scheduler)
    else:
        execute_all(runs, profile, args.force)
    if not args.no_html:
        build_html()


def _run_one(args, profile: str) -> None:
    parameters = parse_assignments(args.assignments)
    if "profile" in parameters:
        if args.profile is not None and parameters["profile"] != args.profile:
            raise ValueError(
                f'two profiles given: PROFILE={args.profile} and P="profile={parameters["profile"]}"; give one'
            )
        check_parameters(args.notebook, {"profile": parameters["profile"]})
        profile = parameters.pop("profile")
    check_parameters(args.notebook, {"profile": profile, **parameters})  # before any kernel starts
    run = plan.Run(args.notebook, with_default_dataset(args.notebook, parameters))
    print(f"{run} (profile {profile}) ...", flush=True)
    seconds = execute(run, profile, artifacts.count())
    print(f"done in {seconds:.1f} s -> {run.output.relative_to(plan.ROOT)}", flush=True)
    if not args.no_html:
        build_html()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        profile = get_profile(args.profile).name
        if args.command == "list":
            print("\n".join(str(run) for run in plan.book_runs(profile=profile)))
        elif args.command == "edition":
            print(f"the reference edition is at {edition.write(profile, args.commit)}", flush=True)
        else:
            (_build if args.command == "build" else _run_one)(args, profile)
    except (NotebookFailed, FileNotFoundError, ValueError, subprocess.CalledProcessError) as error:
        failed = "the book build failed, see the messages above"
        print(f"error: {failed if isinstance(error, subprocess.CalledProcessError) else error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
