"""TSInsight: a local-global attribution framework for time series (Siddiqui et al., ICLR 2020 submission).

The package behind the companion book: data sets, models, training, the ``TSInsight`` explainer, the
baseline attribution methods and the evaluations.
"""

__version__ = "0.1.0"

from tsinsight.explainer import TSInsight

__all__ = ["TSInsight", "__version__"]
