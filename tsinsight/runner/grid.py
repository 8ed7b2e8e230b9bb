"""The book's runs on Dask: ``python -m tsinsight.book build --workers N`` or ``--scheduler tcp://HOST:8786``.

Every run of :func:`tsinsight.runner.plan.book_runs` becomes one task that depends on the tasks of the runs it
:func:`~tsinsight.runner.plan.needs`. On its worker, once those have finished, a task checks whether its page is up
to date (:func:`~tsinsight.runner.stamps.why_stale`) and executes the notebook only when it is not, exactly as the serial
runner does. Pages and artifacts are written atomically and every artifact is computed under a lock of its own
(:func:`tsinsight.artifacts.cached`), so two workers never train the same model twice and a worker that dies
leaves nothing half-written. A task that raises is retried once (``retries=1``); one whose worker died is
given to another worker once (the local scheduler's ``allowed_failures=1``); then the build fails with the
notebook's error.

The local cluster has ``N`` single-threaded worker processes, each notebook kernel with its share of the cores
(``OMP_NUM_THREADS``); on a machine with GPUs worker ``i`` sees GPU ``i mod #GPUs`` only
(``CUDA_VISIBLE_DEVICES``), as dask-cuda's ``LocalCUDACluster`` pins them. ``book/cluster.md`` shows a cluster.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import torch
from distributed import Client, KilledWorker, LocalCluster, Nanny, Scheduler, SpecCluster, as_completed

from tsinsight import artifacts
from tsinsight.runner.execute import NotebookFailed, Outcome, execute, report
from tsinsight.runner.plan import Run, needs
from tsinsight.runner.stamps import why_stale


def local_cluster(workers: int) -> SpecCluster:
    """``workers`` single-threaded worker processes on this machine, one GPU each where there are GPUs."""
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    gpus = torch.cuda.device_count()
    if not gpus:
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            env={"OMP_NUM_THREADS": threads},
            scheduler_kwargs={"allowed_failures": 1},
        )
    pinned = {
        i: {
            "cls": Nanny,
            "options": {"nthreads": 1, "env": {"OMP_NUM_THREADS": threads, "CUDA_VISIBLE_DEVICES": str(i % gpus)}},
        }
        for i in range(workers)
    }
    return SpecCluster(scheduler={"cls": Scheduler, "options": {"allowed_failures": 1}}, workers=pinned)


def _task(run: Run, profile: str, force: bool, cached: int, *needed) -> tuple[str | None, float | None]:
    """On a worker: execute ``run`` unless its page is up to date (``needed``: the results of the runs it waited
    for; ``cached``: the artifacts the build began with). Returns why it was executed (None: up to date) and the
    seconds it took."""
    why = "forced" if force else why_stale(run, profile)
    return why, None if why is None else execute(run, profile, cached)


def on_dask(
    runs: list[Run], profile: str, force: bool = False, *, workers: int = 2, scheduler: str | None = None
) -> Iterator[Outcome]:
    """Execute the ``runs`` that are not up to date (``force``: all) on a local cluster of ``workers`` processes, or
    on the Dask cluster at ``scheduler``, yielding each run's outcome as it finishes; raises the first failure."""
    cluster = contextlib.nullcontext(scheduler) if scheduler else local_cluster(workers)
    with cluster as address, Client(address) as client:
        print(f"executing {len(runs)} runs on the Dask cluster at {client.scheduler.address}", flush=True)
        futures, of, cached = {}, {}, artifacts.count()
        for run in runs:
            needed = [futures[str(other)] for other in needs(run, runs)]
            future = client.submit(
                _task, run, profile, force, cached, *needed, key=f"{run} {uuid.uuid4().hex[:8]}", pure=False, retries=1
            )
            futures[str(run)], of[future.key] = future, run
        for future in as_completed(list(futures.values())):
            run = of[future.key]
            try:
                why, seconds = future.result()
            except KilledWorker:
                raise NotebookFailed(
                    f"{run}: the worker executing it died, twice (out of memory? killed?); see the workers' logs"
                ) from None
            yield Outcome(run, "up to date") if why is None else Outcome(run, "executed", why, seconds)


def execute_all(
    runs: list[Run], profile: str, force: bool = False, *, workers: int = 2, scheduler: str | None = None
) -> list[tuple[Run, float]]:
    """:func:`on_dask` with its progress printed; returns the runs executed and their seconds."""
    return report(on_dask(runs, profile, force, workers=workers, scheduler=scheduler), len(runs), profile)
