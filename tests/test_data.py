"""Tests of ``tsinsight.data``: the paper's split sizes on the real mirror, every reader on tiny files in the
archives' own formats (written here), the synthetic generator, the cache and every error message. No network."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from tsinsight import data
from tsinsight.data import cache, character_trajectories, forest_cover, synthetic, ucr_uea, wesad
from tsinsight.data.dataset import Split, stratified_subset


# ---------------------------------------------------------------------------------------------- fixture writers
def write_ucr(folder: Path, name: str, x_train, y_train, x_test, y_test, suffix=".tsv.gz") -> None:
    folder = folder / "ucr" / name
    folder.mkdir(parents=True, exist_ok=True)
    for split, x, y in (("TRAIN", x_train, y_train), ("TEST", x_test, y_test)):
        text = "\n".join("\t".join([str(label), *map(repr, map(float, row))]) for label, row in zip(y, x, strict=True))
        path = folder / f"{name}_{split}{suffix}"
        if suffix.endswith(".gz"):
            with gzip.open(path, "wt") as handle:
                handle.write(text + "\n")
        else:
            path.write_text(text.replace("\t", "  ") + "\n")


def write_ts(path: Path, x: np.ndarray, y, header_extra: str = "") -> None:
    lines = [
        "# a comment line",
        "@problemName Fixture",
        "@timeStamps false",
        "@univariate false",
        f"@dimensions {x.shape[1]}",
        "@equalLength true",
        f"@classLabel true {' '.join(sorted(set(map(str, y))))}",
        header_extra,
        "@data",
    ]
    lines += [
        ":".join(",".join(repr(float(v)) for v in dim) for dim in case) + f":{label}"
        for case, label in zip(x, y, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(line for line in lines if line) + "\n")


def write_wesad(folder: Path, subject: str, length_per_label: dict[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, code) for code, n in length_per_label.items()])
    n = len(labels)
    chest = {
        k: rng.normal(size=(n, d))
        for k, d in (("ACC", 3), ("ECG", 1), ("EMG", 1), ("EDA", 1), ("Temp", 1), ("Resp", 1))
    }
    chest["Temp"] += 33.0
    record = {"signal": {"chest": chest, "wrist": {}}, "label": labels, "subject": subject}
    path = folder / subject / f"{subject}.pkl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(record, protocol=2))


def cell(arrays) -> np.ndarray:
    out = np.empty((1, len(arrays)), dtype=object)
    for i, a in enumerate(arrays):
        out[0, i] = a
    return out


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty data dir and an empty mirror, no WESAD folder: only what the test writes is found."""
    monkeypatch.setenv("TSINSIGHT_DATA_DIR", str(tmp_path / "datadir"))
    monkeypatch.delenv("TSINSIGHT_DATA_MIRROR", raising=False)
    monkeypatch.delenv("TSINSIGHT_WESAD_DIR", raising=False)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    return mirror


# ---------------------------------------------------------------------------------------------- the real mirror
# The mirror is the folder named by $TSINSIGHT_DATA_MIRROR (CI sets it through .ci/run). Without it these tests
# skip, unless TSINSIGHT_REQUIRE_MIRROR=1 says the mirror is expected; a mirror named but missing always fails.
MIRROR = os.environ.get("TSINSIGHT_DATA_MIRROR")
MIRROR_REQUIRED = os.environ.get("TSINSIGHT_REQUIRE_MIRROR", "") not in ("", "0")

PAPER_SIZES = {
    # name: (train, val, test, channels, length, classes, substitute)
    "synthetic_anomaly": (45000, 5000, 10000, 3, 50, 2, False),
    "electric_devices": (6244, 2682, 7711, 1, 96, 7, False),
    "ford_a": (2520, 1081, 1320, 1, 500, 2, False),
    "ecg_thorax": (1244, 556, 1965, 1, 750, 42, False),
    "forest_cover": (107110, 45906, 65580, 10, 50, 2, True),
    # substitutes from the mirror: the UEA split of UWave (120/320) and half of Character Trajectories
    "uwave_gesture": (80, 40, 320, 3, 315, 8, True),
    "character_trajectories": (692, 303, 434, 3, 206, 20, True),
}
FOREST_FIRST = [
    -0.5539557,
    -0.1103396,
    -0.6275123,
    -0.0582222,
    0.3250533,
    0.4807594,
    0.8032,
    0.7002872,
    -0.1969165,
    2.8869398,
]
UCR_FILES = {"ford_a": "FordA", "electric_devices": "ElectricDevices", "ecg_thorax": "NonInvasiveFetalECGThorax1"}
# Seed 0 on the mirror: samples per class in train, val and test, and the first training sample's first step.
KNOWN = {
    "synthetic_anomaly": ([[37562, 7438], [4168, 832], [8408, 1592]], [-1.9075130, -1.8610605, 1.3435847]),
    "forest_cover": ([[103495, 3615], [45053, 853], [63469, 2111]], FOREST_FIRST),
    "uwave_gesture": ([[10] * 8, [5] * 8, [40] * 8], [0.0136539, -1.0099968, -1.1416082]),
    "character_trajectories": (
        [
            [40, 40, 32, 34, 47, 36, 28, 38, 33, 30, 32, 34, 28, 28, 31, 31, 44, 28, 33, 45],
            [18, 18, 14, 15, 20, 16, 12, 17, 14, 13, 14, 15, 12, 12, 14, 14, 19, 12, 14, 20],
            [25, 26, 20, 22, 29, 23, 17, 24, 20, 19, 20, 21, 17, 18, 20, 19, 27, 18, 21, 28],
        ],
        [-0.1085604, 0.0615716, 0.2445974],
    ),
}


@pytest.fixture(scope="module")
def mirror() -> Path:
    """The offline mirror; a failure, not a skip, when it is named but missing or required but not named."""
    if not MIRROR:
        if MIRROR_REQUIRED:
            pytest.fail("TSINSIGHT_REQUIRE_MIRROR is set but TSINSIGHT_DATA_MIRROR is not: point it at the mirror")
        pytest.skip("TSINSIGHT_DATA_MIRROR is not set: the tests on the offline mirror do not run")
    path = Path(MIRROR).expanduser()
    if not path.is_dir():
        pytest.fail(f"TSINSIGHT_DATA_MIRROR={MIRROR} is not a directory: fix the path or unset the variable")
    return path


@pytest.fixture(scope="module")
def mirror_sets(mirror, tmp_path_factory):
    """Every mirror data set loaded once (seed 0) into a fresh cache, loaded again (what the cache served: the data
    set, or None where it was built again) and the summary. How fast a cached load is: benchmarks/bench_data.py."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TSINSIGHT_DATA_DIR", str(tmp_path_factory.mktemp("mirror-cache")))
        patch.setenv("TSINSIGHT_DATA_MIRROR", str(mirror))
        patch.delenv("TSINSIGHT_WESAD_DIR", raising=False)
        sets = {name: data.load(name, download=False, progress=False) for name in PAPER_SIZES}
        served, read = {}, cache.read

        def reading(name, *args, **kwargs):
            served[name] = read(name, *args, **kwargs)
            return served[name]

        patch.setattr(cache, "read", reading)
        again = {name: data.load(name, download=False, progress=False) for name in PAPER_SIZES}
        patch.setattr(cache, "read", read)
        table = data.summary()
        yield sets, table, (served, again)


@pytest.mark.parametrize("name", list(PAPER_SIZES))
def test_mirror_split_sizes_and_types(mirror_sets, name):
    dataset = mirror_sets[0][name]
    train, val, test, channels, length, classes, substitute = PAPER_SIZES[name]
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (train, val, test)
    assert (dataset.n_channels, dataset.length, dataset.n_classes, dataset.substitute) == (
        channels,
        length,
        classes,
        substitute,
    )
    assert bool(dataset.note) == substitute
    for split in (dataset.train, dataset.val, dataset.test):
        assert split.x.dtype == np.float32 and split.x.shape[1:] == (channels, length)
        assert split.y.dtype == np.int64 and split.y.min() >= 0 and split.y.max() < classes
        assert np.isfinite(split.x).all()
    assert set(np.unique(dataset.train.y)) == set(range(classes))
    assert (dataset.train.evidence is not None) == (name == "synthetic_anomaly")


@pytest.mark.parametrize("name", list(KNOWN))
def test_mirror_known_class_counts_and_first_sample(mirror_sets, name):
    dataset = mirror_sets[0][name]
    counts, first = KNOWN[name]
    splits = (dataset.train, dataset.val, dataset.test)
    assert [np.bincount(s.y, minlength=dataset.n_classes).tolist() for s in splits] == counts
    assert np.allclose(dataset.train.x[0, :, 0], first, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(UCR_FILES))
def test_mirror_ucr_sets_are_the_archive_files(mirror, mirror_sets, name):
    """Test = the archive's TEST file as it is; train + val = its TRAIN, val holding ceil(0.3·n_c) of class c."""
    dataset, archive = mirror_sets[0][name], UCR_FILES[name]
    files = ucr_uea.find_ucr(mirror, archive)
    x_train, y_train = ucr_uea.read_ucr_text(files["train"])
    x_test, y_test = ucr_uea.read_ucr_text(files["test"])
    names = np.array(dataset.class_names)
    assert np.array_equal(dataset.test.x[:, 0], x_test.astype(np.float32))
    assert np.array_equal(names[dataset.test.y], [str(int(label)) for label in y_test])
    kept = np.concatenate([dataset.train.x, dataset.val.x])[:, 0]
    assert np.array_equal(kept[np.lexsort(kept.T)], (rows := x_train.astype(np.float32))[np.lexsort(rows.T)])
    per_class = np.bincount(np.concatenate([dataset.train.y, dataset.val.y]))
    assert np.array_equal(np.bincount(dataset.val.y), np.ceil(0.3 * per_class).astype(int))
    assert per_class.tolist() == [np.sum(y_train == float(c)) for c in dataset.class_names]


def test_forest_cover_is_standardised_with_training_rows(mirror_sets):
    forest = mirror_sets[0]["forest_cover"]
    assert "windowing" in forest.note and forest.channel_names[0] == "elevation"
    # The training rows have mean 0 per channel; their overlapping windows keep it within 0.003, while the
    # validation windows (other rows, not standardised with their own statistics) are off by up to 0.18.
    means = forest.train.x.mean(axis=(0, 2), dtype=np.float64)
    known = [0.00185, 0.00227, -0.0012, -0.00051, -0.00155, 0.00163, -0.00063, 0.00174, 0.00161, 0.00264]
    assert np.allclose(means, known, atol=1e-5)
    assert np.allclose(forest.val.x.mean(axis=(0, 2), dtype=np.float64)[[3, 9]], [-0.1096, 0.1845], atol=1e-4)


def test_summary_beside_table1(mirror_sets):
    table = mirror_sets[1]
    assert list(table.index) == data.available()
    assert table.loc["ford_a", ["train", "val", "test"]].tolist() == [2520, 1081, 1320]
    assert table.loc["ford_a", "paper_train"] == 2520
    assert table.loc["wesad", "source"] == "not available"
    assert "TSINSIGHT_WESAD_DIR" in table.loc["wesad", "note"]
    assert bool(table.loc["uwave_gesture", "substitute"]) is True


def test_a_second_load_is_the_cached_data_set(mirror_sets):
    sets, (served, again) = mirror_sets[0], mirror_sets[2]
    assert sorted(served) == sorted(PAPER_SIZES) and all(dataset is not None for dataset in served.values())
    for name, dataset in again.items():
        assert dataset is served[name]  # what the cache read is what load returned, nothing built again
        for split in ("train", "val", "test"):
            first, second = getattr(sets[name], split), getattr(dataset, split)
            assert np.array_equal(first.x, second.x) and np.array_equal(first.y, second.y), (name, split)


# ---------------------------------------------------------------------------------------------- registry & errors
def test_available_lists_the_eight_sets():
    assert data.available() == [
        "synthetic_anomaly", "electric_devices", "character_trajectories", "ford_a",
        "forest_cover", "wesad", "ecg_thorax", "uwave_gesture",
    ]  # fmt: skip


def test_unknown_name_lists_available(isolated):
    with pytest.raises(ValueError, match="unknown data set 'fordA'.*ford_a.*uwave_gesture"):
        data.load("fordA")
    with pytest.raises(ValueError, match="choose one of"):
        data.is_available("mnist")


@pytest.mark.parametrize(
    ("name", "looked_for", "fetched_by"),
    [
        ("ford_a", "ucr/FordA/FordA_{TRAIN,TEST}", "timeseriesclassification.com"),
        ("uwave_gesture", "uea/UWaveGestureLibrary/UWaveGestureLibrary_{TRAIN,TEST}", "timeseriesclassification.com"),
        ("character_trajectories", "uci/CharacterTrajectories/labelled_half.mat", "mixoutALL_shifted.mat"),
        ("forest_cover", "odds/cover.mat", "fetch_covtype"),
    ],
)
def test_not_found_offline_names_files_places_and_remedy(isolated, name, looked_for, fetched_by):
    with pytest.raises(data.DataNotFoundError) as info:
        data.load(name, mirror=isolated, download=False)
    message = str(info.value)
    assert f"{name!r}" in message and "download=False" in message
    assert looked_for in message and str(isolated) in message
    assert "$TSINSIGHT_DATA_MIRROR at a folder laid out like the offline mirror (see data/README.md)" in message
    assert "download=True" in message and fetched_by in message
    assert isinstance(info.value, FileNotFoundError)


def test_wesad_not_found_says_how_to_get_it(isolated):
    with pytest.raises(data.DataNotFoundError, match=r"'wesad'.*S2/S2\.pkl.*downloads/wesad.*TSINSIGHT_WESAD_DIR"):
        data.load("wesad", download=True)
    assert not data.is_available("wesad")


def test_failed_download_is_data_not_found(isolated, monkeypatch):
    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(forest_cover, "download_cover", offline)
    with pytest.raises(data.DataNotFoundError, match="downloading it failed.*network unreachable.*odds/cover.mat"):
        data.load("forest_cover", download=True)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed(isolated, seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        data.load("synthetic_anomaly", seed=seed)


def test_is_available(isolated):
    assert data.is_available("synthetic_anomaly")
    assert not data.is_available("ford_a", mirror=isolated)
    rng = np.random.default_rng(0)
    write_ucr(isolated, "FordA", rng.normal(size=(10, 8)), [1, -1] * 5, rng.normal(size=(4, 8)), [1, -1] * 2)
    assert data.is_available("ford_a", mirror=isolated)


# ---------------------------------------------------------------------------------------------- from_arrays & Dataset
def test_from_arrays_split_labels_and_determinism():
    rng = np.random.default_rng(1)
    y = np.repeat([10, 9, 2], [10, 7, 3])
    x = rng.normal(size=(20, 16))
    a = data.from_arrays(x, y, x[:5], y[:5], name="mine", seed=3)
    b = data.from_arrays(x, y, x[:5], y[:5], name="mine", seed=3)
    c = data.from_arrays(x, y, x[:5], y[:5], name="mine", seed=4)
    assert a.class_names == ["2", "9", "10"]  # numeric order
    assert (len(a.val), len(a.train), len(a.test)) == (3 + 3 + 1, 13, 5)  # ceil(0.3·10), ceil(0.3·7), ceil(0.3·3)
    assert a.n_channels == 1 and a.length == 16
    assert np.array_equal(a.val.x, b.val.x) and not np.array_equal(a.val.x, c.val.x)
    # train and validation partition the training arrays
    together = np.sort(np.concatenate([a.train.x, a.val.x])[:, 0, 0])
    assert np.array_equal(together, np.sort(x[:, 0].astype(np.float32)))


def test_from_arrays_standardise_uses_training_split_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal(5.0, 2.0, size=(40, 2, 30))
    x_test = rng.normal(100.0, 1.0, size=(10, 2, 30))
    ds = data.from_arrays(x_train, np.arange(40) % 2, x_test, np.arange(10) % 2, name="z", standardise=True)
    assert np.allclose(ds.train.x.mean(axis=(0, 2)), 0, atol=1e-5)
    assert ds.test.x.mean() > 20  # test is scaled with training statistics, not its own


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(x_train=np.zeros((4, 2, 3, 5))), r"x_train must have shape \(n, length\) or \(n, channels, length\)"),
        (dict(y_train=np.zeros(3)), "labels must match samples"),
        (dict(x_test=np.zeros((2, 7))), "differ in"),
        (dict(x_train=np.full((4, 5), np.nan)), "NaN or infinite"),
        (dict(val_fraction=1.0), "val_fraction must lie strictly between 0 and 1"),
        (dict(x_train=np.array([["a"] * 5] * 4)), "must be numeric"),
    ],
)
def test_from_arrays_bad_input(kwargs, message):
    args = dict(
        x_train=np.zeros((4, 5)), y_train=np.array([0, 1, 0, 1]), x_test=np.zeros((2, 5)), y_test=np.array([0, 1])
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        data.from_arrays(name="bad", **args)


def test_split_and_dataset_validation():
    with pytest.raises(ValueError, match=r"Split.x must have shape \(n, channels, length\)"):
        Split(np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="Split.y must have shape"):
        Split(np.zeros((3, 1, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="evidence must be shaped like x"):
        Split(np.zeros((3, 1, 4)), np.zeros(3), np.zeros((3, 1, 5), bool))
    ok = Split(np.zeros((3, 1, 4)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="labels outside 0..1"):
        data.Dataset("d", ok, ok, ok, n_classes=2, n_channels=1, length=4)
    with pytest.raises(ValueError, match=r"expected \(n, 2, 4\)"):
        data.Dataset("d", ok, ok, ok, n_classes=3, n_channels=2, length=4)


def test_subsample_is_stratified_deterministic_and_keeps_evidence():
    x, y, evidence = synthetic.generate(3000, np.random.default_rng(0))
    split = Split(x, y, evidence)
    ds = data.Dataset("s", split, split, split, n_classes=2, n_channels=3, length=50)
    small = ds.subsample(max_train=300, max_val=50, seed=1)
    again = ds.subsample(max_train=300, max_val=50, seed=1)
    assert (len(small.train), len(small.val), len(small.test)) == (300, 50, 3000)
    assert np.array_equal(small.train.x, again.train.x)
    assert abs(small.train.y.mean() - y.mean()) < 1 / 300 + 1e-9  # class shares kept
    assert np.array_equal(small.train.evidence.sum(axis=(1, 2)), small.train.y)
    assert small.describe()["train"] == 300 and small.describe()["test"] == 3000
    with pytest.raises(ValueError, match="max_val must be a non-negative"):
        ds.subsample(max_val=-1)


def test_stratified_subset_counts():
    y = np.array([0] * 90 + [1] * 10)
    picked = stratified_subset(y, 20, np.random.default_rng(0))
    assert np.bincount(y[picked]).tolist() == [18, 2] and np.all(np.diff(picked) > 0)


# ---------------------------------------------------------------------------------------------- synthetic generator
def test_synthetic_generator_follows_the_protocol():
    x, y, evidence = synthetic.generate(12000, np.random.default_rng(7))
    x2, y2, _ = synthetic.generate(12000, np.random.default_rng(7))
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, synthetic.generate(12000, np.random.default_rng(8))[0])
    assert x.shape == (12000, 3, 50) and x.dtype == np.float32
    assert abs(y.mean() - 1 / 6) < 0.015
    assert not evidence[:, 0].any()  # never on pressure
    assert np.array_equal(evidence.sum(axis=(1, 2)), y)  # one injected point per anomalous sample
    assert not evidence[:, :, [0, 49]].any()  # t in 1..48
    spikes = np.abs(x[evidence])
    assert np.median(spikes) > 2.5  # a value ≥ 1 scaled by |f| ≈ 3
    normal = x[y == 0]
    assert np.allclose(normal.mean(axis=2), 0, atol=1e-4) and np.allclose(normal.std(axis=2), 1, atol=1e-3)


def test_synthetic_load_is_deterministic_per_seed(isolated):
    a = data.load("synthetic_anomaly", seed=1)
    a_again = data.load("synthetic_anomaly", seed=1)  # from the cache
    splits = synthetic.generate_splits(1)
    assert np.array_equal(a.val.x, splits["val_x"]) and np.array_equal(a_again.test.evidence, splits["test_evidence"])
    assert not np.array_equal(synthetic.generate_splits(2)["train_x"][:10], a.train.x[:10])
    assert (len(a.train), len(a.val), len(a.test)) == (45000, 5000, 10000)


# ---------------------------------------------------------------------------------------------- readers on fixtures
def test_ucr_reader_tsv_gz_and_txt(isolated):
    rng = np.random.default_rng(0)
    x_train, x_test = rng.normal(size=(20, 12)), rng.normal(size=(6, 12))
    y_train, y_test = [-1, 1] * 10, [1, -1] * 3
    write_ucr(isolated, "FordA", x_train, y_train, x_test, y_test)
    ds = data.load("ford_a", mirror=isolated, download=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (14, 6, 6)
    assert ds.class_names == ["-1", "1"] and np.array_equal(ds.test.y, [1, 0] * 3)
    assert np.allclose(ds.test.x[:, 0], x_test)
    assert str(isolated) in ds.source
    write_ucr(isolated, "ElectricDevices", x_train, np.arange(20) % 7 + 1, x_test, np.arange(6) + 1, suffix=".txt")
    ed = data.load("electric_devices", mirror=isolated, download=False)
    assert ed.n_classes == 7 and np.allclose(ed.test.x[:, 0], x_test)


def test_ucr_reader_rejects_garbage(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("only_one_column\n")
    with pytest.raises(ValueError, match="is not a UCR text file"):
        ucr_uea.read_ucr_text(path)


def test_uea_ts_reader_and_uwave_substitute(isolated):
    rng = np.random.default_rng(0)
    x_train, x_test = rng.normal(size=(16, 3, 20)), rng.normal(size=(8, 3, 20))
    y_train, y_test = [f"{k}.0" for k in np.arange(16) % 8 + 1], [f"{k}.0" for k in np.arange(8) + 1]
    folder = isolated / "uea" / "UWaveGestureLibrary"
    write_ts(folder / "UWaveGestureLibrary_TRAIN.ts.gz", x_train, y_train)
    write_ts(folder / "UWaveGestureLibrary_TEST.ts.gz", x_test, y_test)
    x, y = ucr_uea.read_ts(folder / "UWaveGestureLibrary_TEST.ts.gz")
    assert np.allclose(x, x_test) and list(y) == y_test
    ds = data.load("uwave_gesture", mirror=isolated, download=False)
    assert ds.substitute and "UEA" in ds.note and ds.n_channels == 3 and ds.n_classes == 8
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8, 8, 8)
    assert np.allclose(ds.test.x.std(axis=2), 1, atol=1e-4)  # z-normalised per series and channel


def test_uwave_prefers_the_paper_ucr_xyz_files(isolated):
    rng = np.random.default_rng(0)
    y_train, y_test = np.arange(16) % 8 + 1, np.arange(8) + 1
    axes = {axis: (rng.normal(size=(16, 30)), rng.normal(size=(8, 30))) for axis in "XYZ"}
    for axis, (tr, te) in axes.items():
        write_ucr(isolated, f"UWaveGestureLibrary{axis}", tr, y_train, te, y_test)
    ds = data.load("uwave_gesture", mirror=isolated, download=False)
    assert not ds.substitute and ds.note == ""
    assert np.allclose(ds.test.x[:, 2], axes["Z"][1]) and ds.channel_names[0] == "accelerometer x"


def test_ts_reader_missing_values_and_errors(tmp_path):
    path = tmp_path / "a.ts"
    path.write_text("@classLabel true a b\n@data\n1,?,3:a\n4,5:b\n")
    x, y = ucr_uea.read_ts(path)
    assert x.shape == (2, 1, 3) and np.isnan(x[0, 0, 1]) and np.isnan(x[1, 0, 2]) and list(y) == ["a", "b"]
    path.write_text("@timeStamps true\n@classLabel true a\n@data\n(0,1):a\n")
    with pytest.raises(ValueError, match="time-stamped"):
        ucr_uea.read_ts(path)
    path.write_text("@classLabel true a\n@data\n1,x:a\n")
    with pytest.raises(ValueError, match=r"a.ts:3: a value is not a number"):
        ucr_uea.read_ts(path)
    path.write_text("@classLabel true a\n1,2:a\n")
    with pytest.raises(ValueError, match="expected an @ header line before @data"):
        ucr_uea.read_ts(path)
    path.write_text("@classLabel false\n@data\n1,2:a\n")
    with pytest.raises(ValueError, match="no class labels"):
        ucr_uea.read_ts(path)


def write_cover(folder: Path, n: int = 20000) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3000, size=(n, 10)).astype(np.int16)
    x[:, 0] = np.arange(n)  # a unique row id, to check that no row reaches two splits
    y = np.zeros((n, 1), np.uint8)
    y[rng.choice(n, 40, replace=False)] = 1
    x[:, 1] = 1000 * y[:, 0].astype(np.int16)  # an anomaly marker, to check the window labels
    (folder / "odds").mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder / "odds" / "cover.mat", {"X": x, "y": y})
    return y.ravel()


def test_forest_cover_reader_windowing_without_leakage(isolated):
    write_cover(isolated)
    ds = data.load("forest_cover", mirror=isolated, download=False)
    # Table 1's sizes scaled to the file's rows: 20000 / 286048 of (107110, 45906, 65580)
    assert [len(ds.train), len(ds.val), len(ds.test)] == [7489, 3210, 4585]
    assert ds.substitute and "windowing" in ds.note and ds.length == 50 and ds.n_channels == 10
    splits = {name: getattr(ds, name) for name in ("train", "val", "test")}
    # the id column is an increasing affine map of the row id: equal values are equal rows
    ids = {name: np.unique(split.x[:, 0, :]) for name, split in splits.items()}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not np.intersect1d(ids[a], ids[b]).size, f"{a} and {b} share rows"
    for split in splits.values():
        steps = np.diff(split.x[:, 0, :].astype(np.float64), axis=1)
        assert np.allclose(steps, steps[0, 0], rtol=1e-3)  # 50 consecutive rows
        marker = split.x[:, 1, :]  # the anomaly marker column: high on anomalous rows
        assert np.array_equal(split.y.astype(bool), (marker > marker.min() + 1).any(axis=1))
    assert all(split.y.any() for split in splits.values())


def test_cover_reader_error(tmp_path):
    scipy.io.savemat(tmp_path / "c.mat", {"Z": np.zeros(3)})
    with pytest.raises(ValueError, match="not the ODDS cover.mat.*'X' and 'y'"):
        forest_cover.read_cover_mat(tmp_path / "c.mat")


def ct_series(rng, n):
    return [rng.normal(size=(3, int(rng.integers(20, 40)))) for _ in range(n)]


def test_character_trajectories_labelled_half(isolated):
    rng = np.random.default_rng(0)
    series, labels = ct_series(rng, 100), np.arange(100) % 20 + 1
    key = cell([np.array([c]) for c in "abcdeghlmnopqrsuvwyz"])
    folder = isolated / "uci" / "CharacterTrajectories"
    folder.mkdir(parents=True)
    scipy.io.savemat(folder / "labelled_half.mat", {"xtrain": cell(series), "ytrain": labels[None, :], "key": key})
    ds = data.load("character_trajectories", mirror=isolated, download=False)
    assert ds.substitute and "labelled half" in ds.note
    assert (len(ds.train), len(ds.val), len(ds.test)) == (100 - 21 - 30, 21, 30)  # 606/2858 and 869/2858 of 100
    assert ds.length == 206 and ds.class_names[:3] == ["a", "b", "c"]
    assert np.all(ds.train.x[:, :, 40:] == 0)  # zero-padded


def test_character_trajectories_full_uci_file_gives_the_paper_split(isolated):
    rng = np.random.default_rng(0)
    n = 2858
    series = [rng.normal(size=(3, 8)) for _ in range(n)]
    labels = np.arange(n) % 20 + 1
    consts = {"charlabels": labels[None, :], "key": cell([np.array([c]) for c in "abcdeghlmnopqrsuvwyz"])}
    folder = isolated / "uci" / "CharacterTrajectories"
    folder.mkdir(parents=True)
    scipy.io.savemat(folder / "mixoutALL_shifted.mat", {"mixout": cell(series), "consts": consts})
    ds = data.load("character_trajectories", mirror=isolated, download=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (1383, 606, 869) and not ds.substitute


def test_character_trajectories_reader_error(tmp_path):
    scipy.io.savemat(tmp_path / "c.mat", {"something": np.zeros(3)})
    with pytest.raises(ValueError, match="not a Character Trajectories file"):
        character_trajectories.read_mat(tmp_path / "c.mat")


WESAD_SEGMENTS = {0: 500, 1: 3500, 2: 3500, 3: 3000, 4: 1000}  # 2 neutral, 2 stress, 1 amusement window


def test_wesad_reader_windows_and_subject_split(isolated, monkeypatch):
    folder = isolated / "wesad"
    for k, subject in enumerate(["S2", "S3", "S10", "S4"]):
        write_wesad(folder, subject, WESAD_SEGMENTS, seed=k)
    monkeypatch.setenv("TSINSIGHT_WESAD_DIR", str(folder))
    assert data.is_available("wesad")
    ds = data.load("wesad", download=False, progress=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (10, 5, 5)  # 2 / 1 / 1 subjects × 5 windows
    assert ds.class_names == ["neutral", "amusement", "stress"] and ds.channel_names[3] == "ECG"
    assert np.bincount(ds.train.y).tolist() == [4, 2, 4] and ds.length == 700 and ds.n_channels == 8
    assert np.allclose(ds.train.x.mean(axis=(0, 2)), 0, atol=1e-5)  # standardised with training statistics
    assert ds.substitute and "subject-wise" in ds.note
    again = data.load("wesad", download=False)
    assert np.array_equal(again.test.x, ds.test.x)
    monkeypatch.delenv("TSINSIGHT_WESAD_DIR")
    assert data.is_available("wesad", mirror=isolated, seed=1)  # found as the mirror's wesad/ folder


def test_wesad_errors(isolated, monkeypatch, tmp_path):
    folder = isolated / "WESAD"
    for subject in ("S2", "S3"):
        write_wesad(folder, subject, WESAD_SEGMENTS, seed=0)
    monkeypatch.setenv("TSINSIGHT_WESAD_DIR", str(folder))
    with pytest.raises(ValueError, match="at least 3 subjects.*TSINSIGHT_WESAD_DIR"):
        data.load("wesad")
    bad = tmp_path / "S9.pkl"
    bad.write_bytes(pickle.dumps({"label": [0]}))
    with pytest.raises(ValueError, match="not an official WESAD subject pickle"):
        wesad.read_subject(bad)


# ---------------------------------------------------------------------------------------------- the cache
def test_cache_rebuilt_after_corruption(isolated):
    rng = np.random.default_rng(0)
    write_ucr(isolated, "FordA", rng.normal(size=(20, 12)), [-1, 1] * 10, rng.normal(size=(6, 12)), [1, -1] * 3)
    first = data.load("ford_a", mirror=isolated, download=False)
    npz, sidecar = cache.cache_paths("ford_a", 0)
    assert npz.exists() and json.loads(sidecar.read_text())["format_version"] == cache.FORMAT_VERSION
    npz.write_bytes(npz.read_bytes()[:100])  # truncated
    with pytest.warns(UserWarning, match="unreadable.*rebuilding"):
        second = data.load("ford_a", mirror=isolated, download=False)
    assert np.array_equal(first.train.x, second.train.x)
    sidecar.write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable"):
        third = data.load("ford_a", mirror=isolated, download=False)
    assert np.array_equal(first.val.y, third.val.y)
    assert not list(npz.parent.glob("*.tmp"))  # atomic writes leave no temporary files


def test_memory_mapped_cache_rebuilt_after_truncation(isolated):
    write_cover(isolated)
    first = data.load("forest_cover", mirror=isolated, download=False)
    folder, _ = cache.cache_paths("forest_cover", 0, memory_mapped=True)
    target = folder / "train_x.npy"
    target.write_bytes(target.read_bytes()[:-400])
    second = data.load("forest_cover", mirror=isolated, download=False)
    assert np.array_equal(first.train.x, second.train.x)


def test_cache_rebuilt_after_source_change_and_used_offline(isolated):
    rng = np.random.default_rng(0)
    write_ucr(isolated, "FordA", rng.normal(size=(20, 12)), [-1, 1] * 10, rng.normal(size=(6, 12)), [1, -1] * 3)
    first = data.load("ford_a", mirror=isolated, download=False)
    new_test = rng.normal(size=(6, 12))
    write_ucr(isolated, "FordA", rng.normal(size=(20, 12)), [-1, 1] * 10, new_test, [1, -1] * 3)
    second = data.load("ford_a", mirror=isolated, download=False)
    assert np.allclose(second.test.x[:, 0], new_test) and not np.array_equal(first.test.x, second.test.x)
    # with the mirror gone, the (valid) cache still serves the data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = data.load("ford_a", mirror=isolated / "nowhere", download=False)
    assert np.array_equal(third.test.x, second.test.x)
    assert data.is_available("ford_a", mirror=isolated / "nowhere")
    assert not data.is_available("ford_a", mirror=isolated / "nowhere", seed=1)  # only seed 0 is cached


def test_cache_rebuilt_when_construction_changes(isolated):
    rng = np.random.default_rng(0)
    write_ucr(isolated, "FordA", rng.normal(size=(20, 12)), [-1, 1] * 10, rng.normal(size=(6, 12)), [1, -1] * 3)
    a = data.load("ford_a", mirror=isolated, seed=5)
    _, sidecar = cache.cache_paths("ford_a", 5)
    meta = json.loads(sidecar.read_text())
    meta["construction"] = "an older construction"
    meta["dataset"]["note"] = "stale"
    sidecar.write_text(json.dumps(meta))
    b = data.load("ford_a", mirror=isolated, seed=5)
    assert b.note == "" and np.array_equal(a.val.x, b.val.x)
    assert json.loads(sidecar.read_text())["construction"] != "an older construction"
