"""The loss landscape around a trained model along two filter-normalised random directions (Fig. 8, Appendix D).

Li et al. (2018, "Visualizing the loss landscape of neural nets") draw two random directions δ and η
in parameter space, rescale every filter of each direction to the norm of the matching filter of the
trained weights θ* (filter normalisation, which makes the picture invariant to the scale of the
weights), and plot f(α, β) = L(θ* + αδ + βη). The paper does so for the classifier alone and for
auto-encoder + classifier with the classifier's weights kept fixed, so only the auto-encoder's weights
move; it reports a nearly convex bowl for the former and a flat, higher surface with a kink at the
optimum for the latter.

Conventions, as in Li et al.'s reference code (``net_plotter.py``, ``ignore='biasbn'``):

- a "filter" is a slice along a weight's first dimension (an output channel of a ``Conv1d``, an input
  channel of a ``ConvTranspose1d``, a row of a ``Linear`` or LSTM weight);
- one-dimensional parameters (biases, BatchNorm's scale and shift) get a zero direction, so they stay at
  their trained values; buffers (BatchNorm's running statistics) are never moved, and BatchNorm runs in
  eval mode;
- L is the mean cross-entropy of the model's logits on a fixed set of inputs. For auto-encoder +
  classifier this is the classification loss whose gradient reaches the auto-encoder through the frozen
  classifier, the part of TSInsight's objective that the paper's argument is about.

The grid is evaluated in chunks of grid points at once: ``torch.func.functional_call`` under ``vmap``
over the chunk's stacked parameter sets, with the inputs in batches, so each forward pass covers many
grid points instead of looping over the 1681 points of the paper's grid one by one (about 3× faster
than one point at a time on the CPU for the CNN classifier). Recurrent layers have no ``vmap`` rule in
PyTorch, so for an LSTM the points of a chunk are evaluated one after the other (still batched over inputs).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm import tqdm

from tsinsight.checks import check_labelled_inputs
from tsinsight.models import contains_rnn
from tsinsight.training import resolve_device

Direction = dict[str, torch.Tensor]


def moving_parameter_names(model: nn.Module, moving: nn.Module | None = None) -> list[str]:
    """Names (in ``model.named_parameters()``) of the parameters that move: all of them, or those of submodule ``moving``."""
    names = [name for name, _ in model.named_parameters()]
    if moving is None:
        return names
    moving_ids = {id(parameter) for parameter in moving.parameters()}
    selected = [name for name, parameter in model.named_parameters() if id(parameter) in moving_ids]
    if not moving_ids or len(selected) != len(moving_ids):
        raise ValueError(
            "moving must be a submodule of model with parameters (e.g. the explainer's autoencoder inside its pipeline)"
        )
    return selected


def filter_normalized_direction(
    model: nn.Module,
    *,
    moving: nn.Module | None = None,
    generator: torch.Generator | None = None,
) -> Direction:
    """One random direction over the moving parameters of ``model``, filter-normalised as in Li et al. (2018).

    Each entry is drawn from N(0, 1) with ``generator``; every filter (first-dimension slice) of a
    parameter with two or more dimensions is rescaled to the norm of the same filter of the trained
    weights; one-dimensional parameters get zeros. Returns ``{parameter name: direction}`` on the CPU.
    """
    parameters = dict(model.named_parameters())
    direction: Direction = {}
    for name in moving_parameter_names(model, moving):
        weight = parameters[name].detach().cpu().float()
        if weight.dim() <= 1:
            direction[name] = torch.zeros_like(weight)
            continue
        noise = torch.randn(weight.shape, generator=generator)
        filter_norms = weight.flatten(1).norm(dim=1)
        noise_norms = noise.flatten(1).norm(dim=1)
        scale = filter_norms / (noise_norms + 1e-10)  # Li et al.'s epsilon keeps an all-zero filter at zero
        direction[name] = noise * scale.view(-1, *([1] * (weight.dim() - 1)))
    return direction


def random_directions(
    model: nn.Module, *, moving: nn.Module | None = None, seed: int = 0
) -> tuple[Direction, Direction]:
    """The two filter-normalised directions (δ, η), drawn in that order from a generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    delta = filter_normalized_direction(model, moving=moving, generator=generator)
    eta = filter_normalized_direction(model, moving=moving, generator=generator)
    return delta, eta


def loss_landscape(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    moving: nn.Module | None = None,
    points: int = 41,
    span: float = 1.0,
    seed: int = 0,
    batch_size: int = 256,
    grid_chunk: int = 8,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """f(α, β) = mean cross-entropy of ``model`` with weights θ* + αδ + βη on ``(x, y)``: columns ``alpha, beta, loss``.

    α and β each take ``points`` evenly spaced values in [−``span``, ``span``] (the paper: 41 points,
    step 0.05, over [−1, 1]); the frame holds ``points²`` rows, α varying slowest. Only the parameters
    of submodule ``moving`` move (``None``: all of ``model``'s), along the directions of
    :func:`random_directions` with ``seed``. ``grid_chunk`` grid points are evaluated in one vmapped
    call on batches of ``batch_size`` inputs. The model is evaluated in eval mode on a private copy on
    ``device`` (``None``: CUDA when available, else CPU).
    """
    inputs, labels = check_labelled_inputs(x, y, model)
    if not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an integer ≥ 2 (the paper: 41), got {points!r}")
    if not span > 0:
        raise ValueError(f"span must be positive, got {span!r}")
    for name, value in (("batch_size", batch_size), ("grid_chunk", grid_chunk)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    names = moving_parameter_names(model, moving)  # checks ``moving`` against the caller's model
    delta, eta = random_directions(model, moving=moving, seed=seed)
    device = resolve_device(device)
    model = copy.deepcopy(model).to(device).eval()

    parameters = {name: value.detach() for name, value in model.named_parameters()}
    fixed = {name: value for name, value in parameters.items() if name not in delta}
    fixed.update(dict(model.named_buffers()))
    optimum = {name: parameters[name] for name in names}
    delta = {name: value.to(device) for name, value in delta.items()}
    eta = {name: value.to(device) for name, value in eta.items()}

    def summed_loss(moved: dict[str, torch.Tensor], batch: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, {**fixed, **moved}, (batch,))
        return nn.functional.cross_entropy(logits, target, reduction="sum")

    if contains_rnn(model):
        # PyTorch has no vmap rule for its fused recurrent kernels: evaluate the chunk's points one by one.
        def loss_on_grid(moved: dict[str, torch.Tensor], batch: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            chunk = len(next(iter(moved.values())))
            return torch.stack([summed_loss({k: v[g] for k, v in moved.items()}, batch, target) for g in range(chunk)])
    else:
        loss_on_grid = vmap(summed_loss, in_dims=(0, None, None))

    axis = np.linspace(-span, span, points)
    alphas, betas = (grid.ravel() for grid in np.meshgrid(axis, axis, indexing="ij"))
    losses = np.empty(len(alphas))
    starts = range(0, len(alphas), grid_chunk)
    with torch.no_grad():
        for start in tqdm(starts, desc="loss landscape", disable=not progress):
            a = torch.as_tensor(alphas[start : start + grid_chunk], dtype=torch.float32, device=device)
            b = torch.as_tensor(betas[start : start + grid_chunk], dtype=torch.float32, device=device)
            moved = {name: _combine(optimum[name], delta[name], eta[name], a, b) for name in names}
            total = torch.zeros(len(a), dtype=torch.float64, device=device)
            for first in range(0, len(inputs), batch_size):
                batch = inputs[first : first + batch_size].to(device)
                target = labels[first : first + batch_size].to(device)
                total += loss_on_grid(moved, batch, target).double()
            losses[start : start + len(a)] = (total / len(inputs)).cpu().numpy()
    return pd.DataFrame({"alpha": alphas, "beta": betas, "loss": losses})


def landscape_surface(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``(alpha, beta, loss)`` meshes of a :func:`loss_landscape` frame, shaped ``(points, points)`` for plotting."""
    _check_frame(frame)
    table = frame.pivot(index="alpha", columns="beta", values="loss").sort_index().sort_index(axis=1)
    alpha, beta = np.meshgrid(table.index.to_numpy(), table.columns.to_numpy(), indexing="ij")
    return alpha, beta, table.to_numpy()


def landscape_summary(frame: pd.DataFrame) -> dict[str, float]:
    """Numbers that describe a landscape's shape around the optimum (the grid must contain α = β = 0).

    - ``loss_at_optimum``: f(0, 0); ``mean_loss``, ``max_loss`` over the grid;
    - ``convex_share``: the share of interior grid points whose finite-difference Hessian is positive
      semi-definite, i.e. whose smaller eigenvalue is not below float32 noise (1 for a convex bowl);
    - ``near_optimum_rise_share``: (mean f over the 8 grid neighbours of the optimum − f(0, 0)) /
      (mean f over the grid − f(0, 0)): the share of the landscape's average rise reached one grid step
      away. It is small for a smooth bowl and near 1 for a kink at the optimum with a flat surface around.
    """
    alpha, beta, loss = landscape_surface(frame)
    axis_a, axis_b = alpha[:, 0], beta[0, :]
    centre = [np.flatnonzero(np.isclose(axis, 0.0, atol=1e-9)) for axis in (axis_a, axis_b)]
    if any(len(index) != 1 for index in centre) or len(axis_a) < 3 or len(axis_b) < 3:
        raise ValueError(
            "the landscape grid must contain α = β = 0 and at least 3 points per axis: use an odd `points`"
        )
    i, j = int(centre[0][0]), int(centre[1][0])
    if i in (0, len(axis_a) - 1) or j in (0, len(axis_b) - 1):
        raise ValueError("the optimum α = β = 0 must lie inside the grid, not on its edge")
    # Finite differences on the (possibly unequal) uniform steps of each axis.
    step_a, step_b = np.diff(axis_a).mean(), np.diff(axis_b).mean()
    f_aa = (loss[2:, 1:-1] - 2 * loss[1:-1, 1:-1] + loss[:-2, 1:-1]) / step_a**2
    f_bb = (loss[1:-1, 2:] - 2 * loss[1:-1, 1:-1] + loss[1:-1, :-2]) / step_b**2
    f_ab = (loss[2:, 2:] - loss[2:, :-2] - loss[:-2, 2:] + loss[:-2, :-2]) / (4 * step_a * step_b)
    smallest_curvature = (f_aa + f_bb) / 2 - np.sqrt(((f_aa - f_bb) / 2) ** 2 + f_ab**2)
    # Float32 losses carry rounding noise of about 1e-6 relative; curvature within it counts as flat, not concave.
    tolerance = 1e-6 * float(np.abs(loss).max()) / min(step_a, step_b) ** 2
    convex = smallest_curvature >= -tolerance
    at_optimum = float(loss[i, j])
    neighbours = loss[i - 1 : i + 2, j - 1 : j + 2]
    near = (neighbours.sum() - at_optimum) / 8
    mean = float(loss.mean())
    rise = mean - at_optimum
    return {
        "loss_at_optimum": at_optimum,
        "mean_loss": mean,
        "max_loss": float(loss.max()),
        "convex_share": float(convex.mean()),
        "near_optimum_rise_share": float((near - at_optimum) / rise) if rise != 0 else float("nan"),
    }


def _combine(
    optimum: torch.Tensor, delta: torch.Tensor, eta: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor
) -> torch.Tensor:
    """θ* + αδ + βη for each of the chunk's (α, β): shape ``(chunk, *θ*.shape)``."""
    shape = (-1,) + (1,) * optimum.dim()
    return optimum + alpha.view(shape) * delta + beta.view(shape) * eta


def _check_frame(frame: pd.DataFrame) -> None:
    missing = {"alpha", "beta", "loss"} - set(frame.columns)
    if missing:
        raise ValueError(f"expected a loss_landscape frame with columns alpha, beta, loss; missing {sorted(missing)}")
