"""Reliability (issue 12): bad input at every public entry point, caches that cannot run code, interruption,
corruption and determinism."""

import dataclasses
import errno
import gzip
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from toys import toy_dataset

from tsinsight import artifacts, data, experiments, zoo
from tsinsight.attribution import attribute
from tsinsight.data.dataset import Dataset, Split
from tsinsight.evaluation.fgsm import fgsm_accuracy
from tsinsight.evaluation.ground_truth import ground_truth_scores, ground_truth_table
from tsinsight.evaluation.jacobian import average_jacobian
from tsinsight.evaluation.landscape import loss_landscape
from tsinsight.evaluation.sanity import sanity_check
from tsinsight.evaluation.suppress import suppression
from tsinsight.explainer import TSInsight
from tsinsight.models import AutoEncoder, CNNClassifier
from tsinsight.profiles import get_profile
from tsinsight.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
FAST = TrainConfig(max_epochs=1, batch_size=32, progress=False, device="cpu")
TINY = dataclasses.replace(
    get_profile("smoke"), name="tiny", runs=1, max_train=64, max_val=32, max_test=32, n_eval=16, max_epochs=1
)


# ---------------------------------------------------------------------------------------------- bad input
def classifier(**_) -> CNNClassifier:
    torch.manual_seed(0)
    return CNNClassifier(3, 2, 24).eval()


def explainer(classifier_model=None, autoencoder_model=None) -> TSInsight:
    torch.manual_seed(0)
    return TSInsight(classifier_model or classifier(), autoencoder_model or AutoEncoder(3, 24), gamma=1.0, beta=1e-3)


def x(n=4, value=None, at=(0, 1, 2)) -> np.ndarray:
    inputs = np.random.default_rng(0).normal(size=(n, 3, 24)).astype(np.float32)
    if value is not None:
        inputs[at] = value
    return inputs


def y(*labels) -> np.ndarray:
    return np.array(labels or (0, 1, 0, 1), dtype=np.int64)


def toy_with(split="train", **changes) -> Dataset:
    """The toy data set with one split changed (``x``, ``y``) and/or ``n_classes``."""
    base = toy_dataset(32, 16, 16)
    n_classes = changes.pop("n_classes", 2)
    part = getattr(base, split)
    replaced = Split(changes.get("x", part.x), changes.get("y", part.y))
    names = [str(k) for k in range(n_classes)]
    return dataclasses.replace(base, **{split: replaced}, n_classes=n_classes, class_names=names)


def nan_split() -> Dataset:
    data_set = toy_with()
    data_set.train.x[3, 1, 5] = np.nan
    return data_set


def half_on_meta() -> CNNClassifier:
    model = classifier()
    model.head.to("meta")
    return model


def from_arrays(**changes):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.normal(size=(20, 24)), y_train=np.arange(20) % 2, x_test=rng.normal(size=(6, 24)))
    arrays["y_test"] = np.arange(6) % 2
    arrays.update(changes)
    return data.from_arrays(**arrays, name="mine")


def evidence(n=4) -> np.ndarray:
    marks = np.zeros((n, 3, 24), dtype=bool)
    marks[:, 1, 3] = True
    return marks


# (entry point, bad input, call, exception type, message fragment)
BAD_INPUTS = [
    ("TSInsight.fit", "NaN in the training split", lambda: explainer().fit(nan_split(), FAST), ValueError,
     "train split: x holds 1 NaN or infinite values"),
    ("TSInsight.fit", "empty training split", lambda: explainer().fit(toy_with(x=np.zeros((0, 3, 24)), y=np.zeros(0)), FAST),
     ValueError, "train split is empty"),
    ("TSInsight.fit", "labels outside the classifier's classes", lambda: explainer().fit(
        toy_with(n_classes=3, y=np.arange(32) % 3), FAST), ValueError, "returns 2 logits but the labels go up to 2"),
    ("TSInsight.fit", "classifier and auto-encoder on different devices",
     lambda: explainer(classifier().to("meta")).fit(toy_with(), FAST), ValueError,
     "the classifier is on meta but the auto-encoder on cpu: move both to one device"),
    ("TSInsight.fit", "float64 auto-encoder", lambda: explainer(autoencoder_model=AutoEncoder(3, 24).double()).fit(
        toy_with(), FAST), TypeError, "the autoencoder's weights are torch.float64"),
    ("TSInsight.attribute", "NaN", lambda: explainer().attribute(x(value=np.nan)), ValueError,
     "x holds 1 NaN or infinite values"),
    ("TSInsight.attribute", "inf (tensor)", lambda: explainer().attribute(torch.as_tensor(x(value=np.inf))), ValueError,
     "x holds 1 NaN or infinite values"),
    ("TSInsight.attribute", "empty batch", lambda: explainer().attribute(x(0)), ValueError, "x is empty"),
    ("TSInsight.attribute", "complex values", lambda: explainer().attribute(x().astype(np.complex64)), TypeError,
     "x must hold real numbers"),
    ("TSInsight.attribute", "classifier split over two devices", lambda: explainer(half_on_meta()).attribute(x()),
     ValueError, "weights are on several devices (cpu, meta)"),
    ("TSInsight.fit_instance", "NaN", lambda: explainer().fit_instance(x(1, np.nan)[0], 0, FAST), ValueError,
     "instance: x holds 1 NaN"),
    ("TSInsight.fit_instance", "label outside the classes", lambda: explainer().fit_instance(x(1)[0], 5, FAST),
     ValueError, "returns 2 logits but the labels go up to 5"),
    ("TSInsight.fit_instance", "fractional label", lambda: explainer().fit_instance(x(1)[0], 0.7, FAST), ValueError,
     "y must be the input's integer class index"),
    ("data.from_arrays", "empty training split", lambda: from_arrays(x_train=np.zeros((0, 24)), y_train=np.zeros(0)),
     ValueError, "x_train is empty"),
    ("data.from_arrays", "empty test split", lambda: from_arrays(x_test=np.zeros((0, 24)), y_test=np.zeros(0)),
     ValueError, "x_test is empty"),
    ("data.from_arrays", "NaN in x", lambda: from_arrays(x_test=np.full((6, 24), np.nan)), ValueError,
     "NaN or infinite values"),
    ("data.from_arrays", "NaN label", lambda: from_arrays(y_train=np.r_[np.nan, np.arange(19) % 2]), ValueError,
     "y_train holds NaN or infinite labels"),
    ("data.from_arrays", "a single training class", lambda: from_arrays(y_train=np.ones(20, dtype=int)), ValueError,
     "y_train holds a single class"),
    ("data.from_arrays", "every training sample drawn for validation",
     lambda: from_arrays(x_train=np.ones((2, 24)), y_train=[0, 1]), ValueError, "leaving the training split empty"),
    ("evaluation.suppression", "NaN in x", lambda: suppression(classifier(), x(value=np.nan), y(), None), ValueError,
     "x holds 1 NaN or infinite values"),
    ("evaluation.suppression", "empty batch", lambda: suppression(classifier(), x(0), y()[:0], None), ValueError,
     "x is empty"),
    ("evaluation.suppression", "labels outside the classes", lambda: suppression(classifier(), x(), y(0, 1, 5, 1), None),
     ValueError, "y holds labels from 0 to 5 but the classifier has 2 classes (0..1)"),
    ("evaluation.suppression", "negative label", lambda: suppression(classifier(), x(), y(0, -1, 0, 1), None),
     ValueError, "y holds labels from -1 to 1"),
    ("evaluation.suppression", "float64 classifier", lambda: suppression(classifier().double(), x(), y(), None),
     TypeError, "the classifier's weights are torch.float64"),
    ("evaluation.ground_truth", "NaN in x", lambda: ground_truth_table(classifier(), x(value=np.nan), evidence(),
     methods=["input_magnitude"], progress=False), ValueError, "x holds 1 NaN or infinite values"),
    ("evaluation.ground_truth", "NaN attribution", lambda: ground_truth_scores(x(value=np.nan), evidence()),
     ValueError, "the attribution holds 1 NaN or infinite values"),
    ("evaluation.fgsm", "NaN in x", lambda: fgsm_accuracy(classifier(), x(value=np.nan), y(), [0.1]), ValueError,
     "x holds 1 NaN or infinite values"),
    ("evaluation.fgsm", "labels outside the classes", lambda: fgsm_accuracy(classifier(), x(), y(0, 1, 2, 3), [0.1]),
     ValueError, "y holds labels from 0 to 3 but the model has 2 classes"),
    ("evaluation.fgsm", "float labels", lambda: fgsm_accuracy(classifier(), x(), y().astype(float), [0.1]), ValueError,
     "labels must be integer class indices"),
    ("evaluation.fgsm", "empty batch", lambda: fgsm_accuracy(classifier(), x(0), y()[:0], [0.1]), ValueError,
     "non-empty batch"),
    ("evaluation.jacobian", "inf in x", lambda: average_jacobian(AutoEncoder(3, 24), x(value=-np.inf)), ValueError,
     "x holds 1 NaN or infinite values"),
    ("evaluation.jacobian", "float64 model", lambda: average_jacobian(AutoEncoder(3, 24).double(), x()), TypeError,
     "the model's weights are torch.float64"),
    ("evaluation.landscape", "labels outside the classes", lambda: loss_landscape(classifier(), x(), y(0, 1, 0, 7),
     points=2), ValueError, "y holds labels from 0 to 7 but the model has 2 classes"),
    ("evaluation.landscape", "NaN in x", lambda: loss_landscape(classifier(), x(value=np.nan), y(), points=2),
     ValueError, "x holds 1 NaN or infinite values"),
    ("evaluation.sanity", "NaN in x", lambda: sanity_check(classifier(), x(value=np.nan), methods=["gradient"],
     progress=False), ValueError, "x holds 1 NaN or infinite values"),
    ("evaluation.sanity", "classifier split over two devices", lambda: sanity_check(half_on_meta(), x(),
     methods=["gradient"], progress=False), ValueError, "weights are on several devices"),
    ("attribution.attribute", "NaN", lambda: attribute("gradient", classifier(), x(value=np.nan)), ValueError,
     "x holds 1 NaN or infinite values"),
    ("attribution.attribute", "empty batch", lambda: attribute("gradient", classifier(), x(0)), ValueError, "x is empty"),
    ("attribution.attribute", "float64 classifier", lambda: attribute("gradient", classifier().double(), x()),
     TypeError, "call classifier.float()"),
    ("attribution.attribute", "wrong number of channels", lambda: attribute("gradient", classifier(), x()[:, :2]),
     ValueError, "the classifier takes 3 channels but x has 2"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "bad", "call", "error", "message"), BAD_INPUTS, ids=[f"{case[0]}: {case[1]}" for case in BAD_INPUTS]
)
def test_bad_input_gets_one_clear_error(entry, bad, call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value), f"{entry} with {bad}: {raised.value}"


def test_bad_input_table(capsys):
    """Prints the table of the closing note: every bad input tried and the message it gets."""
    rows = []
    for entry, bad, call, _, _ in BAD_INPUTS:
        try:
            call()
            rows.append((entry, bad, "no error"))
        except Exception as error:  # noqa: BLE001 - the table reports whatever is raised
            rows.append((entry, bad, f"{type(error).__name__}: {str(error).splitlines()[0]}"))
    with capsys.disabled():
        if os.environ.get("TSINSIGHT_PRINT_TABLE"):
            print("\n| entry point | bad input | message |\n|---|---|---|")
            for row in rows:
                print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    assert all(row[2] != "no error" for row in rows)


# ---------------------------------------------------------------------------------------------- safe caches
def test_every_stored_kind_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(0)
    history = pd.DataFrame(
        {
            "epoch": np.arange(4),
            "train_loss": rng.normal(size=4),  # float64: must come back bit-exact
            "val_metric": [np.nan, 1 / 3, np.inf, -0.0],
            "half": rng.random(4).astype(np.float32),
            "phase": ["a", "b", "c", "d"],
            "stopped": [False, False, True, False],
        }
    )
    history.attrs["metric"] = "val_accuracy"
    values = {
        "model": {
            "state_dict": OrderedDict(w=torch.randn(3, 2), n=torch.tensor(7)),
            "history": history,
            "seconds": 1.5,
            "saliency_average": None,
        },
        "explainer": {
            "state_dict": OrderedDict(w=torch.ones(2)),
            "saliency_average": torch.rand(3, 24),
            "seconds": 2.0,
        },
        "frame": history.set_index("phase"),
        "spectrum": rng.random(72),
        "attributions": rng.random((2, 3, 24)).astype(np.float32),
    }
    for kind, value in values.items():
        artifacts.cached(kind, {}, lambda value=value: value, root=tmp_path)
        again = artifacts.cached(kind, {}, lambda: pytest.fail("recomputed"), root=tmp_path)
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(again, value, check_exact=True)
        elif isinstance(value, np.ndarray):
            assert again.dtype == value.dtype and again.tobytes() == value.tobytes()
        else:
            assert list(again) == list(value) and isinstance(again["state_dict"], OrderedDict)
            for name, tensor in value["state_dict"].items():
                assert torch.equal(again["state_dict"][name], tensor)
    stored = artifacts.cached("model", {}, lambda: None, root=tmp_path)["history"]
    assert stored["train_loss"].to_numpy().tobytes() == history["train_loss"].to_numpy().tobytes()
    assert stored.attrs == {"metric": "val_accuracy"}
    with pytest.raises(TypeError, match="cannot store a object"):
        artifacts.cached("bad", {}, lambda: object(), root=tmp_path)


class _Bomb:
    """Unpickling it creates a marker file: what a tampered artifact could do to a trusting reader."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_tampered_artifact_is_rejected_and_recomputed_never_executed(tmp_path):
    marker = tmp_path / "code-ran"
    artifacts.cached("thing", {"seed": 0}, lambda: {"w": torch.ones(2)}, root=tmp_path)
    path = tmp_path / "thing" / f"{artifacts.artifact_key({'seed': 0})}.pt"
    torch.save({"format": artifacts.FORMAT, "value": _Bomb(str(marker))}, path)  # a valid pickle that runs code
    with pytest.warns(UserWarning, match="unreadable"):
        value = artifacts.cached("thing", {"seed": 0}, lambda: {"w": torch.zeros(2)}, root=tmp_path)
    assert not marker.exists(), "loading an artifact ran code"
    assert torch.equal(value["w"], torch.zeros(2))
    path.write_bytes(b"\x80\x02K\x01.")  # a foreign pickle (the integer 1): not an artifact
    with pytest.warns(UserWarning, match="unreadable"):
        assert artifacts.cached("thing", {"seed": 0}, lambda: 3, root=tmp_path) == 3


@pytest.mark.parametrize("failure", ["read-only", "full"])
def test_unwritable_artifacts_directory_is_a_clear_error(tmp_path, monkeypatch, failure):
    if failure == "read-only":

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(artifacts.tempfile, "mkstemp", refuse)
    else:

        def full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(artifacts.os, "fsync", full)
    with pytest.raises(artifacts.ArtifactWriteError, match="cannot write artifacts to .*TSINSIGHT_ARTIFACTS") as raised:
        artifacts.cached("thing", {}, lambda: 1, root=tmp_path)
    assert ("Permission denied" if failure == "read-only" else "No space left") in str(raised.value)
    assert not [path for path in (tmp_path / "thing").iterdir() if path.suffix == ".pt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_artifacts_directory_for_real(tmp_path):
    (tmp_path / "thing").mkdir()
    (tmp_path / "thing").chmod(0o500)
    try:
        with pytest.raises(artifacts.ArtifactWriteError, match="Make the directory writable"):
            artifacts.cached("thing", {}, lambda: 1, root=tmp_path)
    finally:
        (tmp_path / "thing").chmod(0o700)


# ---------------------------------------------------------------------------------------------- interruption
ZOO_SCRIPT = textwrap.dedent(
    """
    import dataclasses, os, sys, time
    sys.path.insert(0, {tests!r})
    from toys import toy_dataset
    from tsinsight import artifacts, zoo
    from tsinsight.profiles import get_profile

    log = open(os.environ["FIT_LOG"], "a", buffering=1)
    kill_at, stage = int(os.environ.get("KILL_AT", "0")), os.environ.get("KILL_STAGE", "training")
    zoo.load = lambda name, seed: toy_dataset(96, 32, 32, name="synthetic_anomaly", seed=seed)
    fit, save = zoo.fit_classifier, artifacts._save_encoded
    fits = []

    def counted_fit(*args, **kwargs):
        fits.append(1)
        log.write("fit\\n")
        if len(fits) == kill_at and stage == "training":
            log.write("waiting\\n")
            time.sleep(120)
        return fit(*args, **kwargs)

    def slow_save(encoded, handle):
        if len(fits) == kill_at and stage == "writing":
            handle.write(b"half an artifact")
            handle.flush()
            log.write("waiting\\n")
            time.sleep(120)
        save(encoded, handle)

    zoo.fit_classifier, artifacts._save_encoded = counted_fit, slow_save
    profile = dataclasses.replace(get_profile("smoke"), name="tiny", max_train=64, max_val=32, max_test=32, max_epochs=1)
    for seed in (0, 1):
        zoo.classifier("synthetic_anomaly", profile, seed)
        log.write("done\\n")
    """
)


def _run_zoo(tmp_path: Path, kill_at: int = 0, stage: str = "training") -> list[str]:
    script = tmp_path / "train_two.py"
    script.write_text(ZOO_SCRIPT.format(tests=str(Path(__file__).parent)))
    log = tmp_path / f"fits-{kill_at}-{stage}.log"
    env = {**os.environ, "FIT_LOG": str(log), "KILL_AT": str(kill_at), "KILL_STAGE": stage}
    process = subprocess.Popen([sys.executable, str(script)], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 240
        while process.poll() is None and time.monotonic() < deadline:
            if kill_at and log.exists() and "waiting" in log.read_text():
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.1)
        assert process.wait(timeout=60) == (-signal.SIGKILL if kill_at else 0)
    finally:
        if process.poll() is None:
            process.kill()
    return log.read_text().split()


@pytest.mark.parametrize("stage", ["training", "writing"])
def test_killed_training_keeps_finished_models_and_leaves_no_half_artifact(tmp_path, monkeypatch, stage):
    store = tmp_path / "artifacts"
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(store))
    monkeypatch.setenv("TSINSIGHT_DATA_DIR", str(tmp_path / "data"))
    killed = _run_zoo(tmp_path, kill_at=2, stage=stage)
    assert killed.count("fit") == 2 and killed.count("done") == 1  # SIGKILLed in the second model
    stored = sorted((store / "classifier").glob("*.pt"))
    assert len(stored) == 1, "only the finished model is stored"
    assert artifacts.load(stored[0])["state_dict"], "the stored artifact is whole"
    rerun = _run_zoo(tmp_path)
    assert rerun.count("fit") == 1 and rerun.count("done") == 2, "the rerun refits only the interrupted model"
    assert len(list((store / "classifier").glob("*.pt"))) == 2


def test_killed_notebook_leaves_no_half_page(tmp_path):
    notebooks, book_dir = tmp_path / "notebooks", tmp_path / "book"
    notebooks.mkdir()
    marker = tmp_path / "started"
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('profile = "smoke"')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Slow"),
        parameters,
        nbformat.v4.new_code_cell(f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(120)"),
    ]
    nbformat.write(notebook, notebooks / "slow.ipynb")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from tsinsight.runner import execute, plan
        plan.NOTEBOOKS, plan.BOOK = Path({str(notebooks)!r}), Path({str(book_dir)!r})
        plan.GENERATED = plan.BOOK / "generated"
        execute.execute(plan.Run("slow"), "smoke")
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the notebook never started"
        os.killpg(process.pid, signal.SIGKILL)  # the runner and its kernel, as a killed build would lose them
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not (book_dir / "generated" / "slow.ipynb").exists()
    assert not list((book_dir / "generated").glob("**/*.ipynb")) if (book_dir / "generated").exists() else True


# ---------------------------------------------------------------------------------------------- corrupted mirror
MIRROR = Path(os.environ.get("TSINSIGHT_DATA_MIRROR", "/nonexistent"))
TRUNCATED = [
    ("electric_devices", "ucr/ElectricDevices", "ElectricDevices_TRAIN.tsv.gz", False),
    ("electric_devices", "ucr/ElectricDevices", "ElectricDevices_TRAIN.tsv", True),
    ("uwave_gesture", "uea/UWaveGestureLibrary", "UWaveGestureLibrary_TRAIN.ts.gz", False),
    ("forest_cover", "odds", "cover.mat", False),
    ("character_trajectories", "uci/CharacterTrajectories", "labelled_half.mat", False),
]


@pytest.mark.parametrize(("name", "folder", "damaged", "plain"), TRUNCATED, ids=[case[2] for case in TRUNCATED])
def test_truncated_mirror_file_is_named_and_poisons_no_cache(tmp_path, monkeypatch, name, folder, damaged, plain):
    if not (MIRROR / folder).exists():
        pytest.skip(f"no {folder} in the mirror {MIRROR}")
    monkeypatch.setenv("TSINSIGHT_DATA_DIR", str(tmp_path / "data"))
    mirror = tmp_path / "mirror"
    shutil.copytree(MIRROR / folder, mirror / folder)
    for path in (mirror / folder).iterdir():
        path.chmod(0o644)
        if plain and path.suffix == ".gz":  # an uncompressed copy, cut in the middle of a row
            path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
            path.unlink()
    target = mirror / folder / damaged
    content = target.read_bytes()
    target.write_bytes(content[: len(content) // 2 + 7])
    with pytest.raises(ValueError, match=str(target)):
        data.load(name, mirror=mirror, download=False, progress=False)
    cache = tmp_path / "data" / "cache"
    assert not cache.exists() or not any(cache.iterdir()), "a damaged source reached the processed cache"


# ---------------------------------------------------------------------------------------------- determinism
def test_same_seed_and_profile_give_identical_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "load", lambda name, seed: toy_dataset(96, 32, 32, name="synthetic_anomaly", seed=seed))
    tables = []
    for attempt in range(2):
        monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path / f"artifacts{attempt}"))  # trained from scratch
        zoo._dataset.cache_clear()
        accuracy = experiments.accuracy_table("synthetic_anomaly", TINY, runs=1).drop(columns="seconds")
        fgsm = experiments.fgsm_robustness("synthetic_anomaly", TINY, [0.0, 0.1], runs=1)
        tables.append((accuracy, fgsm))
    zoo._dataset.cache_clear()
    for first, second in zip(*tables, strict=True):
        pd.testing.assert_frame_equal(first, second, check_exact=True)
