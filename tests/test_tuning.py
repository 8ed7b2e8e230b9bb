"""The γ, β tuning procedure: the sparsest setting within tolerance wins, on the validation split only."""

import copy

import numpy as np
import pytest
import torch
from torch import nn
from toys import toy_dataset

from tsinsight.models import AutoEncoder
from tsinsight.training import TrainConfig
from tsinsight.tuning import BETA_FACTORS, RATIOS, sparsity_ratio, sweep_grid, tune


class SpikeDetector(nn.Module):
    """Class 1 when channels 1–2 hold a spike (the toy data's rule): nearly exact on the toy set, blind to channel 0."""

    def __init__(self):
        super().__init__()
        self.threshold = nn.Parameter(torch.tensor(3.0))

    def forward(self, x):
        peak = x[:, 1:].amax(dim=(1, 2))
        return torch.stack([self.threshold - peak, peak - self.threshold], dim=1)


class Masked:
    """A stand-in explainer whose output is the input times a fixed mask over channels."""

    def __init__(self, classifier, keep):
        self.mask = torch.zeros(1, 3, 1)
        self.mask[0, list(keep)] = 1.0
        self.pipeline = nn.Sequential(_Scale(self.mask), classifier)

    def reconstruct(self, x):
        return (torch.as_tensor(x) * self.mask).numpy()


class _Scale(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, x):
        return x * self.mask


def test_the_sparsest_setting_that_keeps_accuracy_is_chosen_and_the_others_are_reported():
    data = toy_dataset(n_train=8, n_val=200, n_test=8, seed=1)
    classifier = SpikeDetector()
    # β grows along the grid: everything kept, channel 0 dropped (the classifier never reads it), everything dropped
    masks = {1e-4: (0, 1, 2), 1e-3: (1, 2), 1e-2: ()}
    result = tune(classifier, None, data, gamma=1.0, beta=1e-4, grid=[(1.0, b) for b in masks],
                  fit=lambda g, b: Masked(classifier, masks[b]))  # fmt: skip
    assert (result.gamma, result.beta, result.fell_back) == (1.0, 1e-3, False)
    table = result.table.set_index("beta")
    small = np.abs(data.val.x) <= 0.05 * data.val.x.std()  # points near zero already in the input
    assert table.loc[1e-4, "sparsity"] == pytest.approx(small.mean())
    assert table.loc[1e-3, "sparsity"] == pytest.approx(1 / 3 + small[:, 1:].sum() / small.size)
    assert table.loc[1e-2, "sparsity"] == 1.0
    assert table.classifier_val_accuracy.nunique() == 1 and table.classifier_val_accuracy.iloc[0] > 0.9
    assert list(table.qualifies) == [True, True, False]
    assert list(table.chosen) == [False, True, False] and table.loc[1e-4, "spearman"] == pytest.approx(1.0)


def test_with_nothing_within_tolerance_the_given_values_stay():
    data = toy_dataset(n_train=8, n_val=200, n_test=8, seed=2)
    classifier = SpikeDetector()
    result = tune(classifier, None, data, gamma=2.0, beta=1e-4, grid=[(2.0, 1e-4), (2.0, 1e-3)],
                  fit=lambda g, b: Masked(classifier, (0,)))  # fmt: skip
    assert (result.gamma, result.beta, result.fell_back) == (2.0, 1e-4, True)
    assert not result.table.chosen.any() and not result.table.qualifies.any()


def test_only_the_validation_split_decides_and_the_callers_autoencoder_is_untouched():
    torch.manual_seed(0)
    data = toy_dataset(n_train=64, n_val=32, n_test=16, length=12, seed=3)
    data.test.x[:] = np.nan  # the test split must never be read
    classifier = SpikeDetector()
    autoencoder = AutoEncoder(3, 12)
    before = copy.deepcopy(autoencoder.state_dict())
    config = TrainConfig(lr=1e-3, max_epochs=1, batch_size=32, progress=False, device="cpu")
    result = tune(classifier, autoencoder, data, config, gamma=1.0, beta=1e-3, grid=[(1.0, 1e-3), (1.0, 1e-1)])
    assert len(result.table) == 2 and result.table.val_accuracy.between(0, 1).all()
    assert all(torch.equal(before[k], v) for k, v in autoencoder.state_dict().items())
    assert result.explainer is not None and result.explainer.autoencoder is not autoencoder


def test_the_default_grid_starts_at_the_given_values_and_grows_beta():
    grid = sweep_grid(0.25, 1e-4)
    assert grid[0] == (0.25, 1e-4) and len(grid) == len(BETA_FACTORS)
    assert all(g == 0.25 for g, _ in grid) and [b for _, b in grid] == sorted(b for _, b in grid)


def test_with_the_input_size_the_grid_is_a_ladder_in_rho_above_the_given_setting():
    # synthetic: C·T = 150, Table 3 ρ = 1e-3·150/1 = 0.15 → the ladder from 0.3 on
    grid = sweep_grid(1.0, 1e-3, 150)
    assert grid[0] == (1.0, 1e-3) and all(g == 1.0 for g, _ in grid)
    assert [round(sparsity_ratio(g, b, 150), 2) for g, b in grid[1:]] == [0.3, 1.0, 3.0, 10.0, 30.0]
    # electric_devices: ρ = 0.0024, every rung is above it; ford_a-like γ = 2 keeps γ
    assert len(sweep_grid(4.0, 1e-4, 96)) == 1 + len(RATIOS)
    assert sweep_grid(2.0, 1e-4, 500)[-1] == (2.0, 0.12)
    assert sweep_grid(1.0, 1.0, 150) == [(1.0, 1.0)]  # already past the ladder: only the given setting
    assert sweep_grid(0.0, 1e-3, 150) == sweep_grid(0.0, 1e-3)  # γ = 0: ρ undefined, β multiples
    assert sparsity_ratio(0.0, 1e-3, 150) == float("inf")
    with pytest.raises(ValueError, match="points"):
        sweep_grid(1.0, 1e-3, 0)


def test_the_default_grid_of_tune_uses_the_validation_inputs_size():
    data = toy_dataset(n_train=8, n_val=32, n_test=8, seed=4)
    classifier = SpikeDetector()
    seen = []
    result = tune(classifier, None, data, gamma=1.0, beta=1e-3,
                  fit=lambda g, b: seen.append((g, b)) or Masked(classifier, (0, 1, 2)))  # fmt: skip
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
