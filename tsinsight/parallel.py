"""Cached attributions computed side by side, one worker process per CPU core.

Why a process pool: a mask fit (ExtremalMask, Dynamic Masks: :mod:`tsinsight.later_methods`) is hundreds of
optimiser steps over thousands of tiny operations (ExtremalMask's recurrent perturbation network unrolled over time),
so it keeps about one core busy whatever torch's thread count, while the book's other fits keep every core busy. Fits
of different data sets and runs do not depend on each other: a pool runs one per core. A worker has this process's
torch thread count (on one thread, some shapes' masks differ in their last bits, which Adam's steps then carry on:
Forest Cover's ExtremalMask), and every call seeds itself (:func:`tsinsight.attribution.cached_attribute`), so each
attribution is the one the serial loop gives, bit for bit, stored under the same key: the callers then read it from
the cache as if they had computed it. The workers' OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE``): two
workers of two threads each on two cores took 417 s for what they did in 99 s so (the four masks of a planted set),
as a spinning thread holds its core from the other worker.

The pool is the standard library's, with processes started fresh (``spawn``: safe in a Jupyter kernel and after
torch has started its threads). Work on a GPU, or a machine with one core, runs in this process, one call after
the other.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any
from unittest import mock

import numpy as np
import torch

from tsinsight.attribution import cached_attribute


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cached_attributes(
    calls: list[dict[str, Any]], workers: int | None = None, *, desc: str = "attributions"
) -> list[np.ndarray]:
    """:func:`~tsinsight.attribution.cached_attribute` of every keyword set of ``calls``, in order, on ``workers``
    processes (default: one per available core; at most one per call). A call whose classifier is on a GPU makes the
    whole batch run here, one after the other. The first error of a call is raised once the running calls end."""
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    for call in calls:
        if call.get("key") is None:
            raise ValueError("every call needs a cache key: a computed attribution that is not stored would be lost")
    workers = min(workers or available_cores(), len(calls))
    on_gpu = any(next(call["classifier"].parameters()).device.type != "cpu" for call in calls)
    from tqdm.auto import tqdm

    if workers <= 1 or on_gpu:
        return [cached_attribute(**call) for call in tqdm(calls, desc=desc, leave=False)]
    results: list[np.ndarray | None] = [None] * len(calls)
    context = multiprocessing.get_context("spawn")
    threads = torch.get_num_threads()  # this process's: the numbers of some shapes depend on it
    passive = mock.patch.dict(os.environ, OMP_WAIT_POLICY="PASSIVE")  # read as a worker loads OpenMP: before they start
    with (
        passive,
        ProcessPoolExecutor(
            workers, mp_context=context, initializer=torch.set_num_threads, initargs=(threads,)
        ) as pool,
    ):
        futures = {pool.submit(_cached_attribute, call): index for index, call in enumerate(calls)}
        try:
            for future in tqdm(as_completed(futures), total=len(futures), desc=desc, leave=False):
                results[futures[future]] = future.result()
        except BaseException:  # an error or an interrupt: the calls not started yet are dropped, not run
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def _cached_attribute(call: dict[str, Any]) -> np.ndarray:
    # a module-level function: the spawned workers find it by name
    return cached_attribute(**call)
