"""The evaluations of the book, one module per property, each a function that returns a pandas table.

- ``suppress``: keep the top-ranked points, zero the rest, classify: the suppression test (Fig. 4).
- ``ground_truth``: how well attributions find the injected anomalies of ``synthetic_anomaly``.
- ``sanity``: cascading model randomisation (Adebayo et al. 2018).
- ``jacobian``: the auto-encoder's average Jacobian and its spectrum (Fig. 5).
- ``fgsm``: accuracy under the fast gradient sign attack (Fig. 6).
- ``landscape``: filter-normalised loss surfaces (Fig. 8).
- ``attribution_stats``: attribution mass over time and agreement between attributions (Fig. 9, Section 6.2).

Import the submodule you need, e.g. ``from tsinsight.evaluation.suppress import auc_table``. The suppression
test itself is also ``tsinsight.evaluation.suppression(classifier, x, y, attribution, levels)``.
"""

from tsinsight.evaluation.suppress import suppression

__all__ = ["suppression"]
