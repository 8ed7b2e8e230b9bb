"""TSInsight: a local-global attribution framework for time series (Siddiqui et al., ICLR 2020 submission).

The package behind the companion book: data sets, models, training, the ``TSInsight`` explainer, the
baseline attribution methods and the evaluations.
"""

__version__ = "0.1.0"

import warnings

from tqdm import TqdmWarning

# Captum imports tqdm.auto, which warns "IProgress not found" in a notebook kernel without ipywidgets; the book's
# progress bars are plain tqdm, so the warning says nothing useful. Silenced for that one import only.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)
    import captum.attr  # noqa: F401

from tsinsight.explainer import TSInsight  # noqa: E402

__all__ = ["TSInsight", "__version__"]
