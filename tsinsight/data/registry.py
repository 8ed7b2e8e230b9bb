"""The paper's eight data sets by name, and the public entry points :func:`available`, :func:`load`,
:func:`is_available` and :func:`summary`.

``load`` tries, in order: the processed cache (``<data dir>/cache``), the data set's search roots (a mirror laid
out like the offline mirror, ``mirror=`` or ``$TSINSIGHT_DATA_MIRROR``, then earlier downloads in
``<data dir>/downloads``; WESAD first ``$TSINSIGHT_WESAD_DIR``), then the original archive when ``download=True``.
How each set is found, built, split and preprocessed is documented in its module:

- ``ford_a``, ``electric_devices``, ``ecg_thorax``, ``uwave_gesture``: :mod:`tsinsight.data.ucr_uea`
- ``character_trajectories``: :mod:`tsinsight.data.character_trajectories`
- ``forest_cover``: :mod:`tsinsight.data.forest_cover`
- ``wesad``: :mod:`tsinsight.data.wesad`
- ``synthetic_anomaly``: :mod:`tsinsight.data.synthetic`

Beside them, :func:`planted_sets` names the planted family (``planted_ford_a`` …, :mod:`tsinsight.data.planted`):
a paper data set's series carrying a planted, class-determining pattern whose place is known. ``load`` builds one
from its base (loaded as above, with the same seed) and caches it like the others.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from tsinsight.data import cache, character_trajectories, forest_cover, planted, synthetic, ucr_uea, wesad
from tsinsight.data.dataset import Dataset
from tsinsight.data.sources import DataNotFoundError, Found, Spec
from tsinsight.paper import TABLE1

# In Table 1's order.
_SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        synthetic.SPEC,
        ucr_uea.ucr_spec("electric_devices", "ElectricDevices", "electricity consumption"),
        character_trajectories.SPEC,
        ucr_uea.ucr_spec("ford_a", "FordA", "engine noise"),
        forest_cover.SPEC,
        wesad.SPEC,
        ucr_uea.ucr_spec(
            "ecg_thorax", "NonInvasiveFetalECGThorax1", "thorax ECG", tslearn_name="NonInvasiveFatalECGThorax1"
        ),
        ucr_uea.UWAVE,
    )
}


def _planted_spec(base: str) -> Spec:
    """``planted_<base>``: found, fetched and cache-checked by its base's source files, built from the loaded base."""
    base_spec = _SPECS[base]

    def build(found: Found, seed: int, progress: bool) -> Dataset:
        source = load(base, seed=seed, mirror=found.root, download=False, progress=progress)
        return planted.build(source, seed)

    return replace(
        base_spec,
        name=planted.planted_name(base),
        construction=f"{planted.GENERATOR_VERSION}+{base_spec.construction}",
        build=build,
        memory_mapped=True,
    )


_PLANTED: dict[str, Spec] = {planted.planted_name(base): _planted_spec(base) for base in planted.BASES}


def available() -> list[str]:
    """The names of the paper's eight data sets, in Table 1's order."""
    return list(_SPECS)


def planted_sets() -> list[str]:
    """The names of the planted data sets (:mod:`tsinsight.data.planted`), one per base data set."""
    return list(_PLANTED)


def source_spec(name: str) -> Spec:
    """The description of data set ``name``: its sources, how it is built, where it is looked for."""
    spec = _SPECS.get(name) or _PLANTED.get(name)
    if spec is None:
        raise ValueError(f"unknown data set {name!r}: choose one of {available()} or the planted {planted_sets()}")
    return spec


def _checked_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def _fetch(spec: Spec, roots: list[Path], download: bool) -> Found:
    """The files downloaded from the original archive, or :class:`DataNotFoundError` saying what to do."""
    where = f"looked for {', '.join(spec.looked_for)} under {', '.join(str(r) for r in roots)}"
    if not download or spec.download is None:
        reason = "download=False" if spec.download else "it cannot be downloaded automatically"
        raise DataNotFoundError(
            f"data set {spec.name!r} was not found ({reason}): {where}. To get it: {spec.how_to_get}"
        )
    try:
        return spec.download()
    except Exception as error:  # any failure to fetch (no network, archive moved) means: not found
        raise DataNotFoundError(
            f"data set {spec.name!r} was not found and downloading it failed ({error}): {where}. "
            f"To get it: {spec.how_to_get}"
        ) from error


def load(
    name: str, *, seed: int = 0, mirror: str | Path | None = None, download: bool = True, progress: bool = True
) -> Dataset:
    """The data set ``name`` with the paper's train / validation / test splits (drawn with ``seed``).

    Uses the processed cache when it is valid, else builds it from a mirror (``mirror`` or
    ``$TSINSIGHT_DATA_MIRROR``), from earlier downloads or, with ``download=True``, from the original archive
    (WESAD only from ``$TSINSIGHT_WESAD_DIR``). Raises :class:`DataNotFoundError` naming the files, the
    places searched and how to get them when nothing is found.
    """
    spec = source_spec(name)
    seed = _checked_seed(seed)
    roots = spec.roots(mirror)
    found = spec.find(roots)
    files = None if found is None else found.files
    cached = cache.read(name, seed, spec.construction, files, memory_mapped=spec.memory_mapped)
    if cached is not None:
        return cached
    found = found or _fetch(spec, roots, download)
    dataset = spec.build(found, seed, progress)
    cache.write(dataset, seed, spec.construction, found.files, memory_mapped=spec.memory_mapped)
    return dataset


def is_available(name: str, mirror: str | Path | None = None, *, seed: int = 0) -> bool:
    """Whether ``load(name, seed=seed, download=False)`` can succeed: its source files or a cache entry exist."""
    spec = source_spec(name)
    return spec.find(spec.roots(mirror)) is not None or cache.has(
        name, _checked_seed(seed), spec.construction, memory_mapped=spec.memory_mapped
    )


def summary(mirror: str | Path | None = None, *, seed: int = 0) -> pd.DataFrame:
    """Every data set's split sizes, length, channels, classes and source, beside the paper's Table 1.

    A data set that cannot be loaded without downloading (e.g. WESAD without a user folder) gets a row saying
    "not available" and how to get it.
    """
    columns = ("train", "val", "test", "length", "channels", "classes")
    rows = []
    for name in available():
        paper = TABLE1[name]
        row = {"dataset": name, "label": paper["label"]}
        if is_available(name, mirror, seed=seed):
            ours = load(name, seed=seed, mirror=mirror, download=False, progress=False).describe()
        else:
            ours = dict(source="not available", substitute=None, note=f"not available: {_SPECS[name].how_to_get}")
        for column in columns:
            row[f"paper_{column}"] = paper[column]
            row[column] = ours.get(column)
        row.update(source=ours["source"], substitute=ours["substitute"], note=ours["note"])
        rows.append(row)
    table = pd.DataFrame(rows).set_index("dataset")
    return table.astype(dict.fromkeys([c for c in table.columns if c.removeprefix("paper_") in columns], "Int64"))
