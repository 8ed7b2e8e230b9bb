"""The γ, β tuning procedure: of the converged, accurate candidates the best sparsity × alignment trade-off wins, on
validation data only."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from toys import toy_dataset

from tsinsight.explainer import ConvergenceWarning
from tsinsight.models import AutoEncoder
from tsinsight.training import TrainConfig
from tsinsight.tuning import (
    BETA_FACTORS,
    RATIOS,
    accuracy_floor,
    choose,
    paired_change,
    sparsity_ratio,
    sweep_grid,
    tune,
)


class SpikeDetector(nn.Module):
    """Class 1 when channels 1–2 hold a spike (the toy data's rule): nearly exact on the toy set, blind to channel 0."""

    def __init__(self):
        super().__init__()
        self.threshold = nn.Parameter(torch.tensor(3.0))

    def forward(self, x):
        peak = x[:, 1:].amax(dim=(1, 2))
        return torch.stack([self.threshold - peak, peak - self.threshold], dim=1)


class Masked:
    """A stand-in explainer whose output is the input times a fixed mask over channels (a sparse copy: aligned)."""

    def __init__(self, classifier, keep):
        self.mask = torch.zeros(1, 3, 1)
        self.mask[0, list(keep)] = 1.0
        self.pipeline = nn.Sequential(_Scale(self.mask), classifier)

    def reconstruct(self, x):
        return (torch.as_tensor(x) * self.mask).numpy()


class Code:
    """A stand-in explainer that *encodes* the class: one fixed point set to 6 when the input holds a spike, else 0.

    The spike detector reads it perfectly and it is sparser than any mask, but it does not follow the input: the
    kept point's value has nothing to do with the input's value there. The tuning rule must not choose it.
    """

    def __init__(self, classifier):
        self.pipeline = nn.Sequential(_Encode(), classifier)

    def reconstruct(self, x):
        return _Encode()(torch.as_tensor(x)).numpy()


class Scrambled:
    """A stand-in explainer that encodes the class like :class:`Code` and keeps a few points of channel 0 at fixed
    values: sparser than a mask, just as accurate, and its kept points have a defined correlation with the input —
    near zero, since their values do not follow it. Sparse and accurate, it trades alignment for sparsity."""

    def __init__(self, classifier):
        self.pipeline = nn.Sequential(_Scramble(), classifier)

    def reconstruct(self, x):
        return _Scramble()(torch.as_tensor(x)).numpy()


class _Scramble(nn.Module):
    def forward(self, x):
        out = _Encode()(x)
        out[:, 0, 1:4] = torch.tensor([1.0, 2.0, 3.0])
        return out


class Thresholded:
    """A stand-in explainer keeping only the points above 2.5 in magnitude: sparse, aligned and accurate."""

    def __init__(self, classifier):
        self.pipeline = nn.Sequential(_Threshold(), classifier)

    def reconstruct(self, x):
        return _Threshold()(torch.as_tensor(x)).numpy()


class _Threshold(nn.Module):
    def forward(self, x):
        return torch.where(x.abs() > 2.5, x, torch.zeros_like(x))


class _Scale(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, x):
        return x * self.mask


class _Encode(nn.Module):
    def forward(self, x):
        out = torch.zeros_like(x)
        out[:, 1, 0] = 6.0 * (x[:, 1:].amax(dim=(1, 2)) > 3.0)
        return out


def history(converged: bool = True, patience: int = 10, epochs: int = 50) -> pd.DataFrame:
    """A fit's history: best at epoch 5 then ``patience`` worse epochs (stopped early), or improving to the cap."""
    losses = [1.0 / e for e in range(1, 6)] + [1.0] * patience if converged else [1.0 / e for e in range(1, epochs + 1)]
    return pd.DataFrame({"epoch": range(1, len(losses) + 1), "val_loss": losses})


def fits(table):
    """A ``fit`` callback of :func:`tune` serving a fixed (explainer, history) per β."""
    return lambda grid: [table[b] for _, b in grid]


def test_the_best_trade_off_is_chosen_and_a_sparser_code_loses():
    data = toy_dataset(n_train=8, n_val=400, n_test=8, seed=1)
    classifier = SpikeDetector()
    # β grows along the grid: everything kept, channel 0 dropped (the classifier never reads it), a code whose kept
    # points are constant (sparser still, just as accurate, nothing to correlate), a code keeping fixed values
    # (sparser, accurate, comparable, uncorrelated), a hard threshold (sparse, accurate, aligned) whose fit did not
    # converge, everything dropped (accuracy lost)
    candidates = {1e-4: (Masked(classifier, (0, 1, 2)), history()), 1e-3: (Masked(classifier, (1, 2)), history()),
                  1e-2: (Code(classifier), history()), 1.5e-2: (Scrambled(classifier), history()),
                  2e-2: (Thresholded(classifier), history(converged=False)),
                  1e-1: (Masked(classifier, ()), history())}  # fmt: skip
    result = tune(classifier, None, data, TrainConfig(), gamma=1.0, beta=1e-4, grid=[(1.0, b) for b in candidates],
                  fit=fits(candidates))  # fmt: skip
    assert (result.gamma, result.beta, result.fell_back) == (1.0, 1e-3, False)
    table = result.table.set_index("beta")
    small = np.abs(data.val.x) <= 0.05 * data.val.x.std()  # points near zero already in the input
    assert table.loc[1e-4, "sparsity"] == pytest.approx(small.mean())
    assert table.loc[1e-3, "sparsity"] == pytest.approx(1 / 3 + small[:, 1:].sum() / small.size)
    assert table.loc[1e-3, "kept_per_input"] == pytest.approx((~small[:, 1:]).sum() / len(small))
    for code in (1e-2, 1.5e-2):  # the codes are sparser and as accurate ...
        assert table.loc[code, "sparsity"] > table.loc[1e-3, "sparsity"] and table.loc[code, "accurate"]
    assert not table.loc[1e-2, "comparable"] and table.loc[1e-2, "kept_per_input"] < 1  # ... one keeps too little
    scrambled = table.loc[1.5e-2]  # ... the other qualifies but trades alignment away
    assert scrambled["qualifies"] and abs(scrambled["kept_correlation"]) < 0.2
    assert scrambled["trade_off"] < table.loc[1e-3, "trade_off"]
    assert table.loc[1e-3, "sign_agreement"] == 1.0 and table.loc[1e-3, "kept_correlation"] == pytest.approx(1.0)
    assert table.loc[1e-3, "trade_off"] == pytest.approx(table.loc[1e-3, "sparsity"])
    assert not table.loc[2e-2, "converged"] and table.loc[2e-2, "comparable"] and table.loc[2e-2, "accurate"]
    assert table.loc[1e-1, "sparsity"] == 1.0 and not table.loc[1e-1, "accurate"]
    assert list(table.qualifies) == [True, True, False, True, False, False]
    assert list(table.chosen) == [False, True, False, False, False, False]
    assert table.classifier_val_accuracy.nunique() == 1 and table.classifier_val_accuracy.iloc[0] > 0.9
    # every row says why it was taken or refused
    chosen = table.loc[1e-3]
    assert chosen["reason"] == (f"chosen: the best trade-off ({chosen['sparsity']:.1%} near zero × sign agreement 1.00 × kept correlation "
                                f"1.00 = {chosen['trade_off']:.2f})")  # fmt: skip
    assert (
        table.loc[1e-4, "reason"].startswith("qualifies (")
        and f"ρ = {chosen['ratio']:.3g} trades better" in (table.loc[1e-4, "reason"])
    )
    assert scrambled["reason"].endswith(f"trades better ({chosen['trade_off']:.2f})")
    assert table.loc[1e-2, "reason"].startswith("keeps 0.") and "accuracy" not in table.loc[1e-2, "reason"]
    assert table.loc[2e-2, "reason"] == "not converged (ran to the cap, 50 epochs)"
    lost = table.loc[1e-1]
    floor = accuracy_floor(400)
    assert lost["reason"] == (
        f"accuracy bound {100 * lost['accuracy_change_low']:.2f} < {100 * floor:.2f} points (1 below what no change "
        "gets on 400 series); keeps 0 points per input, too few to compare with the input"
    )


def test_the_paired_bound_refuses_a_loss_that_noise_could_hide():
    # 1000 inputs; the pipeline gets 8 wrong that the classifier got right: −0.8 points, within one point as an
    # estimate, but the one-sided 95 % bound (Agresti–Min: half an input added to each cell) reaches ≈ −1.29 points
    classifier_correct = np.ones(1000)
    x, y = np.zeros((1000, 1, 1), np.float32), np.zeros(1000, dtype=int)
    for lost, passes in ((8, False), (2, True)):
        predicted = np.r_[np.ones(lost, dtype=int), np.zeros(1000 - lost, dtype=int)]
        change = paired_change(_Fixed(predicted), x, y, classifier_correct)
        assert change["accuracy_change"] == pytest.approx(-lost / 1000)
        spread = np.sqrt(lost + 1 - lost**2 / 1002) / 1002
        assert change["accuracy_change_low"] == pytest.approx(-lost / 1002 - 1.645 * spread)
        assert (change["accuracy_change_low"] >= -0.01) is passes


def test_on_a_small_split_a_candidate_that_changes_nothing_passes_and_one_lost_prediction_fails():
    # no input changes: adjusted, 40 inputs bound the change at −3.9 points, below a plain one-point tolerance that
    # no candidate could then meet; the floor is one point below what no change gets, so it passes there, while a
    # single prediction lost (−2.5 points) fails; on 5000 inputs the floor is −1.03 points
    for n, lost, passes in ((40, 0, True), (40, 1, False), (5000, 0, True), (5000, 60, False)):
        x, y = np.zeros((n, 1, 1), np.float32), np.zeros(n, dtype=int)
        predicted = np.r_[np.ones(lost, dtype=int), np.zeros(n - lost, dtype=int)]
        change = paired_change(_Fixed(predicted), x, y, np.ones(n))
        if not lost:
            assert change["accuracy_change"] == 0.0
            assert change["accuracy_change_low"] == pytest.approx(-1.645 / (n + 2))
        assert bool(change["accuracy_change_low"] >= accuracy_floor(n)) is passes
    assert accuracy_floor(40) == pytest.approx(-0.01 - 1.645 / 42) and accuracy_floor(5000) > -0.0104


class _Fixed:
    """A stand-in explainer whose pipeline predicts a fixed class per input (0 is right, 1 wrong)."""

    def __init__(self, predicted):
        self.pipeline = _Lookup(predicted)


class _Lookup(nn.Module):
    def __init__(self, predicted):
        super().__init__()
        self.register_buffer("logits", torch.nn.functional.one_hot(torch.as_tensor(predicted), 2).float())
        self.device_marker = nn.Parameter(torch.zeros(()))  # predict() reads the device off a parameter
        self.offset = 0

    def forward(self, x):
        out = self.logits[self.offset : self.offset + len(x)]
        self.offset += len(x)
        return out


def test_with_nothing_qualifying_the_given_values_stay():
    data = toy_dataset(n_train=8, n_val=200, n_test=8, seed=2)
    classifier = SpikeDetector()
    candidates = {1e-4: (Masked(classifier, (0,)), history()), 1e-3: (Code(classifier), history())}
    result = tune(classifier, None, data, TrainConfig(), gamma=2.0, beta=1e-4, grid=[(2.0, 1e-4), (2.0, 1e-3)],
                  fit=fits(candidates))  # fmt: skip
    assert (result.gamma, result.beta, result.fell_back) == (2.0, 1e-4, True)
    assert not result.table.chosen.any() and not result.table.qualifies.any()
    assert result.table.reason.iloc[0].endswith("; kept all the same: nothing qualifies, so the given γ, β stay")
    assert "kept all the same" not in result.table.reason.iloc[1]


def test_on_a_small_split_a_sparse_candidate_that_keeps_every_prediction_is_chosen():
    # 150 validation series: a candidate whose predictions are all the classifier's has the bound −1.08 points, so a
    # plain one-point tolerance (v3) refused every candidate here and fell back to the start; measured from what
    # no change gets, the sparse threshold (its predictions provably the classifier's) is taken
    data = toy_dataset(n_train=8, n_val=150, n_test=8, seed=5)
    classifier = SpikeDetector()
    candidates = {1e-4: (Masked(classifier, (0, 1, 2)), history()), 1e-2: (Thresholded(classifier), history())}
    result = tune(classifier, None, data, TrainConfig(), gamma=1.0, beta=1e-4, grid=[(1.0, b) for b in candidates],
                  fit=fits(candidates))  # fmt: skip
    table = result.table.set_index("beta")
    assert (table.accuracy_change == 0).all() and (table.accuracy_change_low < -0.01).all()
    assert (result.beta, result.fell_back) == (1e-2, False) and table.loc[1e-2, "sparsity"] > 0.9


def _sweep_table(rng, n):
    """A random sweep table with the columns :func:`choose` reads (some NaN alignments: nothing kept)."""
    table = pd.DataFrame(
        dict(ratio=np.round(rng.uniform(0.1, 30, n), 2), epochs=rng.integers(10, 201, n),
             converged=rng.random(n) < 0.7, accuracy_change_low=rng.uniform(-0.05, 0.005, n),
             n_judged=rng.choice([40, 150, 5000], n), kept_per_input=rng.choice([0.5, 3.0, 40.0], n),
             sparsity=np.round(rng.uniform(0, 1, n), 2), sign_agreement=rng.uniform(0.5, 1, n),
             kept_correlation=np.round(rng.uniform(-0.2, 1, n), 1))
    )  # fmt: skip
    table.loc[rng.random(n) < 0.1, ["sign_agreement", "kept_correlation"]] = np.nan
    return table


def test_the_reasons_do_not_change_the_choice():
    # the rule (v5), restated here: the reasons only describe it
    rng = np.random.default_rng(0)
    for _ in range(300):
        table = _sweep_table(rng, int(rng.integers(1, 9)))
        chosen = choose(table)
        accurate = table.accuracy_change_low >= -0.01 - 1.645 / (table.n_judged + 2)
        ok = table.converged & accurate & (table.kept_per_input >= 1) & table.kept_correlation.notna()
        expected = ok & False
        if ok.any():
            expected[(table.sparsity * table.sign_agreement * table.kept_correlation)[ok].idxmax()] = True
        assert list(chosen.chosen) == list(expected) and list(chosen.qualifies) == list(ok)
        assert list(chosen.reason.str.startswith("chosen: ")) == list(expected)
        assert list(chosen.reason.str.startswith("qualifies (")) == list(ok & ~expected)
        refused = chosen[~ok]
        assert (refused.reason.str.contains("not converged") == ~refused.converged).all()
        assert (refused.reason.str.contains("accuracy bound") == ~accurate[~ok]).all()
        assert (refused.reason.str.contains("too few to compare") == (refused.kept_per_input < 1)).all()


def test_only_validation_data_decide_and_the_callers_autoencoder_is_untouched():
    torch.manual_seed(0)
    data = toy_dataset(n_train=64, n_val=32, n_test=16, length=12, seed=3)
    data.test.x[:] = np.nan  # the test split must never be read
    classifier = SpikeDetector()
    autoencoder = AutoEncoder(3, 12)
    before = copy.deepcopy(autoencoder.state_dict())
    config = TrainConfig(lr=1e-3, max_epochs=2, batch_size=32, progress=False, device="cpu")
    judge = toy_dataset(n_train=8, n_val=48, n_test=8, length=12, seed=4).val
    with pytest.warns(ConvergenceWarning):
        result = tune(classifier, autoencoder, data, config, gamma=1.0, beta=1e-3, grid=[(1.0, 1e-3), (1.0, 1e-1)],
                      judge=judge)  # fmt: skip
    assert len(result.table) == 2 and result.table.val_accuracy.between(0, 1).all()
    assert (result.table.n_judged == 48).all() and (result.table.epochs == 2).all()
    assert not result.table.converged.any()  # two epochs cannot trigger a patience of 10: capped, so nothing qualifies
    assert result.fell_back and result.explainer is not None and result.explainer.autoencoder is not autoencoder
    assert all(torch.equal(before[k], v) for k, v in autoencoder.state_dict().items())


def test_the_default_grid_starts_at_the_given_values_and_grows_beta():
    grid = sweep_grid(0.25, 1e-4)
    assert grid[0] == (0.25, 1e-4) and len(grid) == len(BETA_FACTORS)
    assert all(g == 0.25 for g, _ in grid) and [b for _, b in grid] == sorted(b for _, b in grid)


def test_with_the_input_size_the_grid_is_a_ladder_in_rho_above_the_given_setting():
    # synthetic: C·T = 150, Table 3 ρ = 1e-3·150/1 = 0.15 → the ladder from 0.3 on
    grid = sweep_grid(1.0, 1e-3, 150)
    assert grid[0] == (1.0, 1e-3) and all(g == 1.0 for g, _ in grid)
    # β is rounded to 3 significant digits (2/150 → 0.0133: ρ 1.995)
    assert [round(sparsity_ratio(g, b, 150), 1) for g, b in grid[1:]] == [0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0]
    # electric_devices: ρ = 0.0024, every rung is above it; ford_a-like γ = 2 keeps γ
    assert len(sweep_grid(4.0, 1e-4, 96)) == 1 + len(RATIOS)
    assert sweep_grid(2.0, 1e-4, 500)[-1] == (2.0, 0.12)
    assert sweep_grid(1.0, 1.0, 150) == [(1.0, 1.0)]  # already past the ladder: only the given setting
    assert sweep_grid(0.0, 1e-3, 150) == sweep_grid(0.0, 1e-3)  # γ = 0: ρ undefined, β multiples
    assert sparsity_ratio(0.0, 1e-3, 150) == float("inf")
    with pytest.raises(ValueError, match="points"):
        sweep_grid(1.0, 1e-3, 0)


def test_the_default_grid_of_tune_uses_the_validation_inputs_size():
    data = toy_dataset(n_train=8, n_val=400, n_test=8, seed=4)
    classifier = SpikeDetector()
    seen = []
    result = tune(classifier, None, data, gamma=1.0, beta=1e-3,
                  fit=lambda grid: seen.extend(grid) or [(Masked(classifier, (0, 1, 2)), history()) for _ in grid])  # fmt: skip
    assert seen == sweep_grid(1.0, 1e-3, 3 * 24) and list(result.table.beta) == [b for _, b in seen]
    assert result.fell_back is False and result.table.chosen.sum() == 1 and result.table.chosen.iloc[0]  # ties: first


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(gamma=-1.0, beta=1e-4), "gamma must be"), (dict(gamma=1.0, beta=float("nan")), "beta must be"),
     (dict(gamma=1.0, beta=1e-4, tolerance=2.0), "tolerance"), (dict(gamma=1.0, beta=1e-4, grid=[]), "empty"),
     (dict(gamma=1.0, beta=1e-4, tolerance=-0.01), "tolerance"),
     (dict(gamma=1.0, beta=1e-4, sparsity_tolerance=0.0), "sparsity_tolerance"),
     (dict(gamma=1.0, beta=1e-4, grid=[(1.0, -1e-3)]), "beta must be")],
)  # fmt: skip
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tune(SpikeDetector(), None, toy_dataset(8, 8, 8), **kwargs)
