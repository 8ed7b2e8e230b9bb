"""Libraries imported on first use, not with the package: a page or a process that needs none of them does not pay.

Every page of the book is a fresh kernel that imports the package, so an import that costs half a second costs the
book half a second a page. Captum is imported here; SciPy's statistics and scikit-learn are imported inside the
functions that use them.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType


def captum(module: str = "attr") -> ModuleType:
    """``captum.<module>`` (``attr``, ``metrics``, ``robust``), imported on first use.

    Captum imports ``tqdm.auto``, which warns "IProgress not found" in a notebook kernel without ipywidgets; the
    book's progress bars are plain tqdm, so that warning says nothing useful and is silenced for the import.
    """
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        return importlib.import_module(f"captum.{module}")
