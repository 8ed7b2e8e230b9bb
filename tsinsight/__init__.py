"""TSInsight: a local-global attribution framework for time series (Siddiqui et al., ICLR 2020 submission).

The package behind the companion book. The library — data sets (:mod:`tsinsight.data`), models, training, the
:class:`TSInsight` explainer, its tuning, the baseline attribution methods and the evaluations — needs only
``pip install tsinsight``; the book (notebooks, figures, the runner) needs ``pip install "tsinsight[book]"``.
"""

from tsinsight.explainer import TSInsight

__version__ = "0.1.0"
__all__ = ["TSInsight", "__version__"]
