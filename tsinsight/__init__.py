"""TSInsight: a local-global attribution framework for time series (Siddiqui et al., ICLR 2020 submission).

The package behind the companion book. The library — data sets (:mod:`tsinsight.data`), models, training, the
:class:`TSInsight` explainer, its tuning, the baseline attribution methods and the evaluations — needs only
``pip install tsinsight``; the book (notebooks, figures, the runner) needs ``pip install "tsinsight[book]"``.
"""

import importlib as _importlib
import warnings as _warnings

from tqdm import TqdmWarning as _TqdmWarning

# Captum imports tqdm.auto, which warns "IProgress not found" in a notebook kernel without ipywidgets; the book's
# progress bars are plain tqdm, so the warning says nothing useful. Silenced for that one import only.
with _warnings.catch_warnings():
    _warnings.simplefilter("ignore", _TqdmWarning)
    _importlib.import_module("captum.attr")

from tsinsight.explainer import TSInsight  # noqa: E402

__version__ = "0.1.0"
__all__ = ["TSInsight", "__version__"]
