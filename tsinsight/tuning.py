"""Choosing TSInsight's γ and β on the validation split: the paper's "manual fine-tuning" as a procedure.

The paper sets γ and β per data set "by manual fine-tuning of hyperparameters" (Section 3, Table 3) and reports
an auto-encoder that "suppressed most of the input" with an output "both sparse as well as aligned with the
input". Its values were tuned for the authors' own networks and loss scaling. In ours (``TSInsight.loss``) the
terms are normalised as follows, per batch:

- cross-entropy: the mean over the inputs of the batch;
- reconstruction: γ · the mean squared error over every point (channels × time) of every input;
- sparsity: β · the L1 norm of the auto-encoder's output summed over the points of an input, averaged over
  the inputs of the batch.

With Table 3's β the sparsity term barely acts (on the synthetic set 4 % of the output points are near zero), so
:func:`tune` redoes the tuning as a procedure, written down before it is run:

1. candidates: Table 3's (γ, β), then the ladder :data:`RATIOS` in ρ = β·C·T/γ above Table 3's ρ (same γ); each
   fine-tuned from the pretrained auto-encoder **until early stopping** (all together, :mod:`tsinsight.stacking`);
2. a candidate qualifies when (a) its fit *converged* (stopped early, not at the epoch cap); (b) it is *accurate*:
   the one-sided 95 % lower bound (:data:`CONFIDENCE_Z`, Agresti–Min adjusted: :func:`paired_change`) of its paired
   accuracy change against the classifier on the judging split (the whole validation split, up to 10 000 series
   in the zoo) is at least −:data:`TOLERANCE`;
   (c) it is *aligned*: on the points its output keeps (above 0.05·std x), at least :data:`MIN_SIGN_AGREEMENT` carry
   the input's sign and their correlation with the input is at least :data:`MIN_KEPT_CORRELATION`;
3. the sparsest qualifying candidate is chosen; with none, the given values stay (``fell_back``).

The sweep's table says for every candidate, in words, why it was taken or refused (``reason``, :func:`reasons`).

Why (c): once fits converge, high ρ gives outputs that are sparse and keep the classifier's accuracy yet no longer
follow the input — a *code* the classifier reads (a few spikes whose place or size carries the class). Measured on
the synthetic set (cpu, run 0, three fine-tuning seeds, issue 19): at ρ = 3 the converged output leaves 68–78 % of
its points near zero and its top point lands within ±1 step of the injected anomaly 92–94 % of the time (the input
magnitude: 91 %); at ρ = 5 that falls to 58–64 %, at ρ = 10 to 35–45 %, and every rung up to ρ = 30 stayed within
one point of accuracy. The suppression test is deliberately not used: Fig. 4 judges TSInsight against baselines
that get no tuning.

Per point, the sparsity term weighs ``|output|`` by β and the reconstruction term weighs the squared error by
γ/(C·T) (C channels, T time steps), so the trade-off between them is set by one number, ρ
(:func:`sparsity_ratio`): in ρ the data sets agree where in β they do not. Outputs turn sparse between ρ ≈ 1 and
ρ ≈ 10 and collapse towards the majority class from ρ ≈ 25, whereas Table 3's own ρ ranges from 0.0024
(electric_devices) to 0.75 (ecg_thorax); hence the ladder's half-decades refined by {1, 2, 3, 5} in the band.
Without ``points`` :func:`sweep_grid` scales β by :data:`BETA_FACTORS`.

CALIBRATION of (c) (``tools/calibrate_tuning.py``; run seeds 100 and 101, which the book never uses; validation
split; converged fits):

  seed  ρ      epochs  Δ val acc  near zero  sign agr.  kept corr.  top point on anomaly (input magnitude: 0.928)
  100   0.15   38      +0.007     0.037      0.990      0.996       0.952
  100   0.3    18      +0.004     0.037      0.987      0.995       0.964
  100   1      49      +0.010     0.061      0.960      0.966       0.970
  100   2      49      +0.005     0.165      0.929      0.811       0.952
  100   3      73      +0.007     0.846      0.889      0.485       0.910
  100   5      48      +0.006     0.946      0.699      0.376       0.892
  100   10     45      −0.006     0.980      0.621      0.238       0.446  (code)
  100   30     75      −0.011     0.991      0.591      0.213       0.392  (code)
  101   0.15   40      +0.001     0.036      0.987      0.994       0.952
  101   0.3    57      +0.000     0.040      0.986      0.994       0.940
  101   1      63      +0.002     0.090      0.967      0.964       0.964
  101   2      138     +0.002     0.619      0.982      0.847       0.946
  101   3      59      −0.005     0.867      0.906      0.536       0.904
  101   5      48      +0.000     0.949      0.742      0.415       0.777  (code)
  101   10     68      +0.003     0.983      0.622      0.353       0.536  (code)
  101   30     61      −0.017     0.994      0.562      0.184       0.380  (code)

"code": the top point lands on the anomaly more than two standard errors (2 · 0.020, 166 anomalous series) less
often than the input magnitude's. Every code has sign agreement ≤ 0.742 and kept correlation ≤ 0.415; every other
candidate but one has ≥ 0.889 and ≥ 0.485. The thresholds 0.8 and 0.45 sit in those gaps; they reject one
candidate that still points at the evidence (ρ = 5, seed 100: 0.699 / 0.376, top point 0.892) rather than admit a
code. Every candidate changed validation accuracy by less than two points, so accuracy alone cannot tell a code.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from torch import nn

from tsinsight.checks import check_data
from tsinsight.explainer import TSInsight, alignment, near_zero_share
from tsinsight.stacking import fit_together
from tsinsight.training import TrainConfig, convergence, predict

# The ρ = β·C·T/γ ladder swept above the given setting: the half-decades, refined where outputs turn sparse.
RATIOS = (0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
BETA_FACTORS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # multiples of the given β, when the input size is not known
TOLERANCE = 0.01  # the pipeline may lose at most one point of validation accuracy against the classifier alone
CONFIDENCE_Z = 1.645  # one-sided 95 %: the paired loss's upper bound, not its estimate, must stay within TOLERANCE
SPARSITY_TOLERANCE = 0.05  # near zero: |output| ≤ this · std(x) (``near_zero_share``)
# Alignment (rule c), calibrated on the synthetic set's ground truth with run seeds the book does not use (below).
MIN_SIGN_AGREEMENT = 0.8  # kept points with the input's sign
MIN_KEPT_CORRELATION = 0.45  # Pearson correlation of output and input over the kept points
RULE = "converged, adjusted paired accuracy bound, aligned; sparsest qualifying (v3)"  # part of cached tunings' keys

COLUMNS = ["gamma", "beta", "ratio", "epochs", "best_epoch", "converged", "val_accuracy", "classifier_val_accuracy",
           "accuracy_change", "accuracy_change_low", "n_judged", "sparsity", "sign_agreement", "kept_correlation",
           "reconstruction_mse", "accurate", "aligned", "qualifies", "chosen", "reason"]  # fmt: skip


@dataclass
class Tuned:
    """The chosen ``gamma``, ``beta``; ``fell_back`` when no candidate qualified; the sweep ``table`` (see :func:`tune`)."""

    gamma: float
    beta: float
    fell_back: bool
    table: pd.DataFrame
    explainer: TSInsight | None = field(default=None, repr=False)


def sparsity_ratio(gamma: float, beta: float, points: int) -> float:
    """ρ = β·points/γ: the sparsity term's per-point weight over the reconstruction term's (inf when γ = 0)."""
    gamma, beta = _weight("gamma", gamma), _weight("beta", beta)
    return math.inf if gamma == 0 else beta * _points(points) / gamma


def sweep_grid(
    gamma: float,
    beta: float,
    points: int | None = None,
    *,
    ratios: Iterable[float] = RATIOS,
    beta_factors: Iterable[float] = BETA_FACTORS,
) -> list[tuple[float, float]]:
    """The candidate (γ, β), the given setting first, then ever sparser ones at the same γ.

    With ``points`` (channels × length of an input): ``(gamma, β_ρ)`` for each ρ of ``ratios`` above the given
    setting's :func:`sparsity_ratio`, β_ρ = ρ·γ/points rounded to 3 significant digits. Without ``points``, or
    when γ = 0 (ρ undefined): ``(gamma, beta · factor)`` for each of ``beta_factors``. Duplicates are dropped.
    """
    gamma, beta = _weight("gamma", gamma), _weight("beta", beta)
    if points is None or gamma == 0:
        betas = [beta * _weight("beta factor", factor) for factor in beta_factors]
    else:
        start = sparsity_ratio(gamma, beta, points)
        ladder = sorted(_weight("ratio", ratio) for ratio in ratios)
        betas = [beta] + [float(f"{ratio * gamma / points:.3g}") for ratio in ladder if ratio > start]
    grid = []
    for candidate in betas:
        if (gamma, candidate) not in grid:
            grid.append((gamma, candidate))
    if not grid:
        raise ValueError("the sweep grid is empty: give at least one β factor")
    return grid


def paired_change(explainer: TSInsight, x: np.ndarray, y: np.ndarray, classifier_correct: np.ndarray) -> dict:
    """The pipeline's accuracy change against the classifier on the same inputs, with its one-sided lower bound.

    Per input d = (pipeline right) − (classifier right) ∈ {−1, 0, 1}; ``accuracy_change`` is the mean of d.
    ``accuracy_change_low`` is the lower end of Agresti & Min's adjusted interval for matched proportions (Statistics
    in Medicine 24:729, 2005) at :data:`CONFIDENCE_Z`: half an input is added to each cell of the paired 2 × 2 table
    before the usual standard error. The plain standard error of d is zero when no input changes, so on a small split
    (UWave's 40 validation series) a candidate that loses six test points passed; adjusted, 40 inputs that all agree
    bound the change at −3.9 points, 5000 at −0.03. Fractions, like the accuracies.
    """
    correct = predict(explainer.pipeline, x) == y
    d = correct.astype(np.float64) - classifier_correct
    gained, lost, n = np.sum(d > 0) + 0.5, np.sum(d < 0) + 0.5, len(d) + 2
    adjusted = (gained - lost) / n
    spread = math.sqrt(gained + lost - (gained - lost) ** 2 / n) / n
    return dict(val_accuracy=float(correct.mean()), accuracy_change=float(d.mean()),
                accuracy_change_low=float(adjusted - CONFIDENCE_Z * spread), n_judged=len(d))  # fmt: skip


def evaluate(explainer: TSInsight, x: np.ndarray, sparsity_tolerance: float = SPARSITY_TOLERANCE) -> dict:
    """The output's ``sparsity``, ``sign_agreement``, ``kept_correlation`` (:func:`alignment`) and ``reconstruction_mse``."""
    output = explainer.reconstruct(x)
    aligned = alignment(output, x, sparsity_tolerance)
    return dict(
        sparsity=near_zero_share(output, x, sparsity_tolerance),
        sign_agreement=aligned["sign_agreement"],
        kept_correlation=aligned["kept_correlation"],
        reconstruction_mse=float(np.mean((output - x) ** 2)),
    )


def choose(table: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """The rule, applied to a sweep table: ``accurate``, ``aligned``, ``qualifies``, ``chosen`` and ``reason`` added.

    A candidate qualifies when (a) its fit converged (stopped early, not at the epoch cap); (b) the one-sided 95 %
    lower bound of its paired accuracy change is at least −``tolerance`` (noise cannot pass a real loss);
    (c) it is aligned with the input: at least :data:`MIN_SIGN_AGREEMENT` of its kept points carry the input's
    sign and their correlation with the input is at least :data:`MIN_KEPT_CORRELATION` (a code fails here).
    The chosen one is the sparsest qualifying candidate (ties: the earlier); none when nothing qualifies.
    """
    table = table.copy()
    table["accurate"] = table["accuracy_change_low"] >= -tolerance
    table["aligned"] = (table["sign_agreement"] >= MIN_SIGN_AGREEMENT) & (
        table["kept_correlation"] >= MIN_KEPT_CORRELATION
    )  # NaN (nothing kept) compares False
    table["qualifies"] = table["converged"].astype(bool) & table["accurate"] & table["aligned"]
    table["chosen"] = False
    qualified = table[table["qualifies"]]
    if not qualified.empty:
        table.loc[qualified["sparsity"].idxmax(), "chosen"] = True
    table["reason"] = reasons(table, tolerance)
    return table


def reasons(table: pd.DataFrame, tolerance: float = TOLERANCE, *, kept=None) -> pd.Series:
    """Why each candidate of a chosen sweep table (:func:`choose`'s columns) was taken or refused, in words.

    A refused candidate gets every test it fails, e.g. "not converged (ran to the cap, 200 epochs); accuracy
    bound −1.31 < −1.00 points; not aligned: sign agreement 0.62 < 0.8"; one that qualifies reads "chosen: the
    sparsest that qualifies (…% near zero)" or says which sparser one was chosen. ``kept``: the index of the row
    whose γ, β stay when nothing qualifies (:func:`tune`'s fall-back), which says so. It reads only the table's
    columns, so it also explains a table stored before this column existed (:func:`with_reasons`).
    """
    chosen = table[table["chosen"].astype(bool)]
    best = None if chosen.empty else chosen.iloc[0]
    out = []
    for _, row in table.iterrows():
        if bool(row["chosen"]):
            out.append(f"chosen: the sparsest that qualifies ({row['sparsity']:.1%} near zero)")
            continue
        failed = []
        if not bool(row["converged"]):
            failed.append(f"not converged (ran to the cap, {int(row['epochs'])} epochs)")
        if not row["accuracy_change_low"] >= -tolerance:
            failed.append(f"accuracy bound {100 * row['accuracy_change_low']:.2f} < {-100 * tolerance:.2f} points")
        failed += _alignment_failures(row)
        if failed:
            out.append("; ".join(failed))
        elif best is not None and row["sparsity"] < best["sparsity"]:
            out.append(f"qualifies; ρ = {best['ratio']:.3g} is sparser ({best['sparsity']:.1%} near zero against "
                       f"{row['sparsity']:.1%})")  # fmt: skip
        else:
            out.append(f"qualifies; ρ = {best['ratio']:.3g}, as sparse, comes first")
    said = pd.Series(out, index=table.index, name="reason", dtype=object)
    if kept is not None:
        said[kept] += "; kept all the same: nothing qualifies, so the given γ, β stay"
    return said


def with_reasons(table: pd.DataFrame, gamma: float, beta: float, fell_back: bool) -> pd.DataFrame:
    """A stored sweep ``table`` with its ``reason`` column: a table stored before the column existed gets it from its
    other columns (:func:`reasons`), the row of ``gamma``, ``beta`` marked as kept when the tuning ``fell_back``."""
    if "reason" in table:
        return table
    given = table.index[(table["gamma"] == gamma) & (table["beta"] == beta)]
    return table.assign(reason=reasons(table, kept=given[0] if fell_back and len(given) else None))


def _alignment_failures(row: pd.Series) -> list[str]:
    if pd.isna(row["sign_agreement"]) or pd.isna(row["kept_correlation"]):
        return ["not aligned: the output keeps no point to compare with the input"]
    failures = []
    if not row["sign_agreement"] >= MIN_SIGN_AGREEMENT:
        failures.append(f"sign agreement {row['sign_agreement']:.2f} < {MIN_SIGN_AGREEMENT:g}")
    if not row["kept_correlation"] >= MIN_KEPT_CORRELATION:
        failures.append(f"kept correlation {row['kept_correlation']:.2f} < {MIN_KEPT_CORRELATION:g}")
    return [f"not aligned: {', '.join(failures)}"] if failures else []


def tune(
    classifier: nn.Module,
    autoencoder: nn.Module,
    dataset,
    config: TrainConfig | None = None,
    *,
    gamma: float,
    beta: float,
    grid: Iterable[tuple[float, float]] | None = None,
    tolerance: float = TOLERANCE,
    sparsity_tolerance: float = SPARSITY_TOLERANCE,
    judge=None,
    fit: Callable[[list[tuple[float, float]]], list[tuple[TSInsight, pd.DataFrame]]] | None = None,
) -> Tuned:
    """Fit TSInsight for each (γ, β) of ``grid`` and choose one by the rule of :func:`choose`.

    The default ``grid`` is :func:`sweep_grid` from ``gamma``, ``beta`` and the inputs' channels × length.
    Each candidate starts from a copy of the pretrained ``autoencoder`` (the caller's is left unchanged) and is
    fine-tuned on ``dataset.train`` with ``config`` until early stopping on ``dataset.val`` (all candidates in one
    stacked fit, :func:`tsinsight.stacking.fit_together`), or comes from ``fit(grid)`` when given: a list of
    ``(explainer, history)`` per candidate (e.g. a cache of trained explainers). Only validation data decide:
    accuracy is judged on ``judge`` (a split with ``x``, ``y``; default ``dataset.val``; pass a larger held-out
    split to tighten the bound), the output's sparsity and alignment on ``dataset.val``. With none qualifying,
    ``gamma``, ``beta`` are kept and ``fell_back`` is set. The table has one row per candidate (:data:`COLUMNS`).
    """
    config = config or TrainConfig()
    gamma, beta = _weight("gamma", gamma), _weight("beta", beta)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise ValueError(f"tolerance is an accuracy difference, a fraction in [0, 1), got {tolerance!r}")
    numeric = not isinstance(sparsity_tolerance, bool) and isinstance(sparsity_tolerance, (int, float))
    if not numeric or not 0 < sparsity_tolerance < math.inf:
        raise ValueError(f"sparsity_tolerance must be a positive number, got {sparsity_tolerance!r}")
    val = getattr(dataset, "val", None)
    if val is None:
        raise TypeError("the data set has no 'val' split: pass a tsinsight.data.Dataset")
    x, _ = (tensor.numpy() for tensor in check_data(val.x, val.y, "val split"))
    judged = val if judge is None else judge
    jx, jy = (tensor.numpy() for tensor in check_data(judged.x, judged.y, "judging split"))
    points = x.shape[1] * x.shape[2]
    grid = (
        sweep_grid(gamma, beta, points)
        if grid is None
        else [(_weight("gamma", g), _weight("beta", b)) for g, b in grid]
    )
    if not grid:
        raise ValueError("the sweep grid is empty: give at least one (γ, β)")

    def fit_copies(candidates: list[tuple[float, float]]) -> list[tuple[TSInsight, pd.DataFrame]]:
        starts = [TSInsight(classifier, copy.deepcopy(autoencoder), gamma=g, beta=b) for g, b in candidates]
        return list(zip(starts, fit_together(starts, dataset, config), strict=True))

    fitted = (fit or fit_copies)(list(grid))
    classifier_correct = (predict(classifier, jx) == jy).astype(np.float64)
    rows = []
    for (g, b), (explainer, history) in zip(grid, fitted, strict=True):
        ended = convergence(history, config.early_stopping_patience, config.max_epochs)
        row = dict(gamma=g, beta=b, ratio=sparsity_ratio(g, b, points), epochs=ended["epochs"],
                   best_epoch=ended["best_epoch"], converged=ended["stopped_early"],
                   classifier_val_accuracy=float(classifier_correct.mean()))  # fmt: skip
        row |= paired_change(explainer, jx, jy, classifier_correct) | evaluate(explainer, x, sparsity_tolerance)
        rows.append(row)
    table = choose(pd.DataFrame(rows), tolerance)[COLUMNS]
    if not table["chosen"].any():
        given = [i for i, point in enumerate(grid) if point == (gamma, beta)]
        if given:
            table["reason"] = reasons(table, tolerance, kept=given[0])
        return Tuned(gamma, beta, True, table, fitted[given[0]][0] if given else None)
    best = int(table.index[table["chosen"]][0])
    return Tuned(rows[best]["gamma"], rows[best]["beta"], False, table, fitted[best][0])


def _weight(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _points(points) -> int:
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise ValueError(f"points (channels × length of an input) must be a positive integer, got {points!r}")
    return int(points)
