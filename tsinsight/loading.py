"""A user's own classifier and data, read without executing code that was not asked for.

- :func:`load_classifier`: a TorchScript file (``torch.jit.save``; read with ``torch.jit.load``, which runs no
  Python it finds in the file), or a state dict (read with ``torch.load(weights_only=True)``) together with the
  import path of the module class it belongs to (``"package.module:ClassName"``, the code the user asks to run) and
  its constructor's keyword arguments. A pickled model (``torch.save(model)``) is refused: unpickling it could run
  anything.
- :func:`load_arrays`: an ``.npz`` file with ``x_train, y_train, x_test, y_test`` and optionally ``x_val, y_val``
  and ``evidence`` (a boolean mask shaped like ``x_test``: where the class evidence is), read with
  ``allow_pickle=False``.

:func:`check_pair` then checks the two against each other (the classifier takes the data's inputs and has one
output per class) before any work starts.
"""

from __future__ import annotations

import importlib
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tsinsight.checks import check_classifier, check_model
from tsinsight.data import Dataset, Split, from_arrays
from tsinsight.data.dataset import encode_labels

REQUIRED = ("x_train", "y_train", "x_test", "y_test")
OPTIONAL = ("x_val", "y_val", "evidence")


def _is_torchscript(path: Path) -> bool:
    """A TorchScript archive is a zip with a ``code/`` folder; a ``torch.save`` file is a zip with ``data.pkl`` only."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name or name.startswith("code/") for name in archive.namelist())


def load_classifier(path: str | Path, module: str | None = None, kwargs: dict | None = None) -> nn.Module:
    """The classifier in ``path``: TorchScript, or a state dict for the class ``module`` (``"pkg.mod:Class"``).

    Raises ``ValueError`` naming the fix for a missing file, a pickled model, a state dict without its module
    path, an import path that does not resolve, or weights that do not fit the class.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no classifier file at {path}: pass a TorchScript file (torch.jit.save) or a state dict")
    if _is_torchscript(path):
        if module is not None:
            raise ValueError(
                f"{path.name} is a TorchScript file: it holds its own code, so leave classifier_module empty"
            )
        with (
            warnings.catch_warnings()
        ):  # torch deprecates TorchScript for torch.export; it is still the format users have
            warnings.simplefilter("ignore", DeprecationWarning)
            model = torch.jit.load(str(path), map_location="cpu")
        return model.float().eval()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # weights_only refuses pickled objects: that is the point
        raise ValueError(
            f"{path.name} is neither TorchScript nor a plain state dict, so reading it would mean unpickling it, which "
            "can run any code: save the model with torch.jit.save(torch.jit.script(model), path) or save its "
            f"state_dict() and give classifier_module=<package.module:Class> ({type(error).__name__})"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"{path.name} holds a {type(state).__name__}, not a state dict of tensors: save model.state_dict()"
        )
    if module is None:
        raise ValueError(
            f"{path.name} is a state dict: say which class it belongs to with classifier_module='package.module:Class' "
            "(and its constructor's arguments with classifier_kwargs)"
        )
    model = _instantiate(module, kwargs or {})
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"the weights in {path.name} do not fit {module}: {error}") from None
    return model.float().eval()


def _instantiate(module: str, kwargs: dict) -> nn.Module:
    name, sep, attribute = module.partition(":")
    if not sep or not name or not attribute:
        raise ValueError(f"classifier_module is 'package.module:Class', got {module!r}")
    try:
        cls = getattr(importlib.import_module(name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import {module!r}: {error}; is the package installed or on PYTHONPATH?") from None
    try:
        model = cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"{module} cannot be built from classifier_kwargs={kwargs!r}: {error}") from None
    if not isinstance(model, nn.Module):
        raise ValueError(f"{module} builds a {type(model).__name__}, not a torch.nn.Module")
    return model


@dataclass
class UserData:
    """A user's data set (``dataset``) and, when given, the evidence mask of its test split."""

    dataset: Dataset
    evidence: np.ndarray | None


def load_arrays(
    path: str | Path,
    *,
    name: str = "your_data",
    channel_names: list[str] | None = None,
    class_names: list[str] | None = None,
    val_fraction: float = 0.3,
    seed: int = 0,
) -> UserData:
    """The ``.npz`` at ``path`` as a :class:`~tsinsight.data.Dataset` (a validation split is held out of the training
    arrays when ``x_val, y_val`` are absent), checked; raises ``ValueError`` naming the fix."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no data file at {path}: pass an .npz written by numpy.savez with {', '.join(REQUIRED)}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path.name} is not an .npz archive: write it with numpy.savez(path, x_train=..., ...)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        raise ValueError(
            f"{path.name} holds object arrays, which only unpickling can read: store numbers ({error})"
        ) from None
    missing = [key for key in REQUIRED if key not in arrays]
    unknown = sorted(set(arrays) - set(REQUIRED) - set(OPTIONAL))
    if missing or unknown:
        raise ValueError(
            f"{path.name}: "
            + (f"missing {', '.join(missing)}; " if missing else "")
            + (f"unknown arrays {', '.join(unknown)}; " if unknown else "")
            + f"it takes {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}"
        )
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise ValueError(
            f"{path.name}: give x_val and y_val together, or neither (then validation is held out of train)"
        )
    dataset = from_arrays(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
        name=name, val_fraction=val_fraction, seed=seed, channel_names=channel_names, source=f"{path.name}",
    )  # fmt: skip
    if "x_val" in arrays:  # the user's own validation split: checked with the others, labels encoded together
        checked = from_arrays(
            np.concatenate([arrays["x_train"], arrays["x_val"]]), np.concatenate([arrays["y_train"], arrays["y_val"]]),
            arrays["x_test"], arrays["y_test"], name=name, channel_names=channel_names,
        )  # fmt: skip
        (train, val, test), names = encode_labels(arrays["y_train"], arrays["y_val"], arrays["y_test"])

        def shaped(key: str) -> np.ndarray:
            return np.asarray(arrays[key], dtype=np.float32).reshape(
                len(arrays[key]), checked.n_channels, checked.length
            )

        dataset = Dataset(
            name=name, train=Split(shaped("x_train"), train), val=Split(shaped("x_val"), val),
            test=Split(shaped("x_test"), test), n_classes=len(names), n_channels=checked.n_channels,
            length=checked.length, channel_names=checked.channel_names, class_names=names, source=path.name,
        )  # fmt: skip
    if class_names is not None:
        if len(class_names) != dataset.n_classes:
            raise ValueError(f"{len(class_names)} class names for {dataset.n_classes} classes: give one per class")
        dataset.class_names = list(class_names)
    evidence = arrays.get("evidence")
    if evidence is not None:
        evidence = (
            np.asarray(evidence).reshape(dataset.test.x.shape) if evidence.size == dataset.test.x.size else evidence
        )
        if evidence.shape != dataset.test.x.shape:
            raise ValueError(
                f"evidence must be shaped like x_test {dataset.test.x.shape}, got {np.shape(arrays['evidence'])}"
            )
        if evidence.dtype != bool and not np.isin(evidence, (0, 1)).all():
            raise ValueError("evidence is a mask: True (or 1) where the class evidence is, False (or 0) elsewhere")
        evidence = evidence.astype(bool)
        dataset.test = Split(dataset.test.x, dataset.test.y, evidence)
    return UserData(dataset, evidence)


def check_pair(classifier: nn.Module, dataset: Dataset) -> None:
    """The classifier takes the data's inputs and returns one logit per class of the data; else ``ValueError``."""
    check_model(classifier)
    x = torch.as_tensor(dataset.test.x[:2])
    check_classifier(classifier, x, torch.as_tensor(dataset.test.y[:2]))
    with torch.no_grad():
        width = classifier(x).shape[1]
    if width != dataset.n_classes:
        raise ValueError(
            f"the classifier has {width} outputs but the data have {dataset.n_classes} classes "
            f"({', '.join(dataset.class_names)}): pass the data it was trained on, with every class"
        )
