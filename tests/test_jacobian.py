"""The auto-encoder's average Jacobian and its spectrum summary (tsinsight.evaluation.jacobian)."""

import numpy as np
import pytest
import torch
from torch import nn

from tsinsight.evaluation.jacobian import (
    average_jacobian,
    effective_rank,
    jacobian_spectrum,
    singular_values,
    spectrum_summary,
)
from tsinsight.models import AutoEncoder


class Flat(nn.Module):
    """x ↦ M·vec(x), reshaped back to the input's shape: a linear map with a known matrix."""

    def __init__(self, matrix: torch.Tensor, shape: tuple[int, int]):
        super().__init__()
        self.matrix, self.shape = nn.Parameter(matrix), shape

    def forward(self, x):
        return (x.flatten(1) @ self.matrix.T).reshape(len(x), *self.shape)


def test_jacobian_of_a_linear_map_is_its_matrix():
    torch.manual_seed(0)
    matrix = torch.randn(12, 12)
    x = torch.randn(7, 3, 4)
    # a batch size that does not divide the set checks the averaging over uneven batches
    jacobian = average_jacobian(Flat(matrix, (3, 4)), x, batch_size=3, device="cpu")
    np.testing.assert_allclose(jacobian, matrix.numpy(), atol=1e-6)


def test_average_jacobian_of_a_nonlinear_model_matches_autograd():
    torch.manual_seed(1)
    model = AutoEncoder(2, 8).eval()
    x = torch.randn(5, 2, 8)
    expected = np.mean(
        [
            torch.autograd.functional.jacobian(lambda s: model(s.unsqueeze(0)).reshape(-1), sample)
            .reshape(16, 16)
            .numpy()
            for sample in x
        ],
        axis=0,
    )
    np.testing.assert_allclose(average_jacobian(model, x.numpy(), batch_size=2), expected, atol=1e-6)


def test_non_square_jacobian_and_spectrum_of_a_known_matrix():
    torch.manual_seed(2)
    linear = nn.Linear(6, 4, bias=True)
    x = torch.randn(3, 1, 6)
    np.testing.assert_allclose(average_jacobian(linear, x), linear.weight.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(
        jacobian_spectrum(linear, x), torch.linalg.svdvals(linear.weight.detach().double()).numpy(), atol=1e-6
    )


def test_the_callers_model_is_left_untouched():
    model = AutoEncoder(2, 8).train()
    average_jacobian(model, torch.randn(2, 2, 8))
    assert model.training and all(parameter.requires_grad for parameter in model.parameters())


def test_singular_values_are_sorted_and_exact():
    values = singular_values(np.diag([1.0, 3.0, 2.0]))
    np.testing.assert_allclose(values, [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="2-D"):
        singular_values(np.ones(3))


def test_effective_rank_of_flat_and_rank_one_spectra():
    assert effective_rank(np.ones(8)) == pytest.approx(8.0)
    assert effective_rank(np.array([5.0, 0.0, 0.0])) == pytest.approx(1.0)
    # two equal values and zeros: entropy log 2
    assert effective_rank(np.array([2.0, 2.0, 0.0, 0.0])) == pytest.approx(2.0)


def test_spectrum_summary_counts_values_below_a_tenth_of_the_largest():
    summary = spectrum_summary(np.array([10.0, 5.0, 0.99, 0.5, 0.0]))
    assert summary["share_below"] == pytest.approx(3 / 5)
    assert summary["largest"] == 10.0 and summary["smallest"] == 0.0 and summary["n"] == 5
    assert summary["effective_rank_share"] == pytest.approx(summary["effective_rank"] / 5)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        spectrum_summary(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="relative_threshold"):
        spectrum_summary(np.ones(3), relative_threshold=2)
    with pytest.raises(ValueError, match="non-empty batch"):
        average_jacobian(AutoEncoder(2, 8), torch.randn(0, 2, 8))
    with pytest.raises(ValueError, match="batch_size"):
        average_jacobian(AutoEncoder(2, 8), torch.randn(2, 2, 8), batch_size=0)
