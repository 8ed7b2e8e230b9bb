"""The evaluations of the paper run on the zoo's trained models: the only place that asks :mod:`tsinsight.zoo` for them.

Each function returns exactly the table its rule in :mod:`tsinsight.claims` reads; notebooks call it, save the
table with :mod:`tsinsight.results`, plot it and show the claims.

- :mod:`~tsinsight.experiments.accuracy`: Table 3 (also at the paper's budget alone: ``paper_table3``), training curves, Figs. 1–2 outputs, the γ × β trade-off;
- :mod:`~tsinsight.experiments.attributions`: Fig. 4 suppression curves, the methods' sparseness, ground truth, randomisation sanity check;
- :mod:`~tsinsight.experiments.properties`: Jacobian (Fig. 5), FGSM (Fig. 6), loss landscape (Fig. 8),
  CNN vs LSTM (Fig. 9), model vs instance (Section 6.2);
- :mod:`~tsinsight.experiments.planted`: every method against planted evidence in real series (beyond the paper).
"""

from tsinsight.experiments.accuracy import (
    VARIANTS,
    accuracy_table,
    compare_table3,
    outputs,
    paper_table3,
    swept,
    tradeoff,
    training_histories,
    variant,
    weights_comparison,
    weights_origin,
)
from tsinsight.experiments.attributions import (
    anomalous_samples,
    example_table,
    ground_truth_scores,
    sanity_table,
    sparseness_table,
    suppression_curves,
    suppression_ranking,
)
from tsinsight.experiments.planted import planted_design, planted_scores
from tsinsight.experiments.properties import (
    architecture_attributions,
    architectures_summary,
    fgsm_robustness,
    fgsm_summary,
    instance_agreement,
    instance_attributions,
    instance_choice,
    instance_fits,
    jacobian_spectra,
    jacobian_summary,
    landscape_table,
    landscapes,
    mass_profile,
)

__all__ = [
    "VARIANTS",
    "accuracy_table",
    "anomalous_samples",
    "architecture_attributions",
    "architectures_summary",
    "compare_table3",
    "example_table",
    "fgsm_robustness",
    "fgsm_summary",
    "ground_truth_scores",
    "instance_agreement",
    "instance_attributions",
    "instance_choice",
    "instance_fits",
    "jacobian_spectra",
    "jacobian_summary",
    "landscape_table",
    "landscapes",
    "mass_profile",
    "outputs",
    "paper_table3",
    "planted_design",
    "planted_scores",
    "sanity_table",
    "sparseness_table",
    "suppression_curves",
    "suppression_ranking",
    "swept",
    "tradeoff",
    "training_histories",
    "variant",
    "weights_comparison",
    "weights_origin",
]
