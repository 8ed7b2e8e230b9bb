"""The book's runs on Dask: ``python -m tsinsight.book build --workers N`` or ``--scheduler tcp://HOST:8786``.

Every run of :func:`tsinsight.book.book_runs` becomes one task that depends on the tasks of the runs it
:func:`~tsinsight.book.needs`. On its worker, once those have finished, a task checks whether its page is up to
date (:func:`~tsinsight.book.why_stale`) and executes the notebook only when it is not, exactly as the serial
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
import time
import uuid

import torch
from distributed import Client, KilledWorker, LocalCluster, Nanny, Scheduler, SpecCluster, as_completed

from tsinsight import book


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


def _task(run: book.Run, profile: str, force: bool, *needed) -> tuple[str | None, float | None]:
    """On a worker: execute ``run`` unless its page is up to date (``needed``: the results of the runs it waited
    for). Returns why it was executed (None: up to date) and the seconds it took."""
    why = "forced" if force else book.why_stale(run, profile)
    return why, None if why is None else book.execute(run, profile)


def execute_all(
    runs: list[book.Run], profile: str, force: bool = False, *, workers: int = 2, scheduler: str | None = None
) -> list[tuple[book.Run, float]]:
    """Execute the ``runs`` that are not up to date (``force``: all) on a local cluster of ``workers`` processes, or
    on the Dask cluster at ``scheduler``; prints each run as it finishes and raises the first failure. Returns the
    runs executed and their seconds."""
    total = time.perf_counter()
    cluster = contextlib.nullcontext(scheduler) if scheduler else local_cluster(workers)
    with cluster as address, Client(address) as client:
        print(f"executing {len(runs)} runs on the Dask cluster at {client.scheduler.address}", flush=True)
        futures, of = {}, {}
        for run in runs:
            needed = [futures[str(other)] for other in book.needs(run, runs)]
            future = client.submit(
                _task, run, profile, force, *needed, key=f"{run} {uuid.uuid4().hex[:8]}", pure=False, retries=1
            )
            futures[str(run)], of[future.key] = future, run
        timings = []
        for index, future in enumerate(as_completed(list(futures.values())), 1):
            run = of[future.key]
            try:
                why, seconds = future.result()
            except KilledWorker:
                raise book.NotebookFailed(
                    f"{run}: the worker executing it died, twice (out of memory? killed?); see the workers' logs"
                ) from None
            if why is None:
                print(f"[{index}/{len(runs)}] {run}: up to date", flush=True)
            else:
                timings.append((run, seconds))
                print(
                    f"[{index}/{len(runs)}] {run} (profile {profile}): {why}, executed in {seconds:.1f} s", flush=True
                )
    print(f"{len(timings)} of {len(runs)} notebooks executed in {time.perf_counter() - total:.0f} s", flush=True)
    return timings
