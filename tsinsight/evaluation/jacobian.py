"""The auto-encoder's average Jacobian over a set of inputs and its singular-value spectrum (Fig. 5, Section 6.3).

TSInsight's sparsity term is claimed to make its auto-encoder a contraction of the input space: most
singular values of its Jacobian, averaged over the test set, lie near zero, unlike those of Palacio et
al.'s decoder-only fine-tuning. This module computes that average Jacobian with ``torch.func`` (a
``jacrev`` per input, ``vmap``-ed over a batch of inputs, batches summed), its singular values, and the
numbers that state the contraction: the share of singular values below a tenth of the largest and the
effective rank.

A model maps ``(batch, *input_shape)`` to ``(batch, *output_shape)``; the Jacobian of one input is the
``(output_size, input_size)`` matrix of the flattened output with respect to the flattened input, so
for a ``(channels, length)`` series the auto-encoder's Jacobian is ``(C·L) × (C·L)``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn
from torch.func import jacrev, vmap
from tqdm import tqdm

from tsinsight.checks import check_inputs
from tsinsight.training import resolve_device

# Budgets, in float32 values, that bound the memory of one vmapped batch: the per-sample Jacobians it
# returns (2**25 ≈ 128 MiB) and the activations of the vector-Jacobian products jacrev runs at once, one
# per output entry and input (2**27 ≈ 512 MiB). Short inputs (10×50) go in large batches; long ones
# (1×750: one Jacobian alone has 562 500 entries) in small batches or chunks of output entries.
_JACOBIAN_BUDGET = 2**25
_ACTIVATION_BUDGET = 2**27


def average_jacobian(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    *,
    batch_size: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The Jacobian of ``model`` at each input of ``x``, averaged over ``x``: an ``(output_size, input_size)`` array.

    ``x`` is ``(n, *input_shape)``. The model is evaluated in eval mode on a private copy (the caller's
    model is left untouched) on ``device`` (``None``: CUDA when available, else CPU). ``batch_size``
    inputs are differentiated at once (``None``: as many as fit a 128 MiB budget of Jacobian entries);
    the sum is accumulated in float64.
    """
    inputs = _as_tensor(x)
    if inputs.dim() < 2 or len(inputs) == 0:
        raise ValueError(f"x must be a non-empty batch shaped (n, *input_shape), got shape {tuple(inputs.shape)}")
    check_inputs(x, model=model, model_name="model", ndim=None)
    device = resolve_device(device)
    model = copy.deepcopy(model).to(device).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)

    input_size = math.prod(inputs.shape[1:])
    output_size, activation_size = _forward_sizes(model, inputs[:1].to(device))
    per_vjp = max(activation_size, input_size)  # values kept per (input, output entry) pair
    if batch_size is None:
        batch_size = max(
            1, min(_JACOBIAN_BUDGET // (output_size * input_size), _ACTIVATION_BUDGET // (output_size * per_vjp))
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    # jacrev runs one vector-Jacobian product per output entry; chunking them bounds the activations kept.
    chunk_size = max(1, min(output_size, _ACTIVATION_BUDGET // (batch_size * per_vjp)))

    def flat_output(sample: torch.Tensor) -> torch.Tensor:
        return model(sample.unsqueeze(0)).reshape(-1)

    per_sample = vmap(jacrev(flat_output, chunk_size=chunk_size))
    total = torch.zeros(output_size, input_size, dtype=torch.float64, device=device)
    starts = range(0, len(inputs), batch_size)
    for start in tqdm(starts, desc="Jacobian", disable=not progress):
        batch = inputs[start : start + batch_size].to(device)
        jacobians = per_sample(batch)  # (batch, output_size, *input_shape)
        total += jacobians.reshape(len(batch), output_size, input_size).sum(dim=0, dtype=torch.float64)
    return (total / len(inputs)).cpu().numpy()


def singular_values(matrix: np.ndarray | torch.Tensor) -> np.ndarray:
    """The singular values of ``matrix`` in descending order (``torch.linalg.svdvals`` in float64)."""
    tensor = torch.as_tensor(np.asarray(matrix), dtype=torch.float64)
    if tensor.dim() != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {tuple(tensor.shape)}")
    return torch.linalg.svdvals(tensor).numpy()


def jacobian_spectrum(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    *,
    batch_size: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The singular values (descending) of ``model``'s Jacobian averaged over ``x`` (Fig. 5's histogram data)."""
    return singular_values(average_jacobian(model, x, batch_size=batch_size, device=device, progress=progress))


def effective_rank(values: np.ndarray) -> float:
    """The effective rank of a matrix with singular values ``values`` (Roy & Vetterli 2007).

    With p_k = σ_k / Σ σ_j, the effective rank is exp(−Σ p_k log p_k): the exponential of the Shannon
    entropy of the normalised spectrum. It is 1 for a rank-one matrix and n for n equal singular
    values (O. Roy and M. Vetterli, "The effective rank: a measure of effective dimensionality",
    EUSIPCO 2007).
    """
    values = _check_spectrum(values)
    total = values.sum()
    if total == 0:
        return 0.0
    p = values[values > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def spectrum_summary(values: np.ndarray, *, relative_threshold: float = 0.1) -> dict[str, float]:
    """The numbers that state a spectrum's contraction.

    ``share_below`` is the share of singular values below ``relative_threshold`` × the largest;
    ``effective_rank`` (:func:`effective_rank`) and its share of the dimension ``effective_rank_share``;
    ``largest``, ``smallest`` and ``n`` (the number of singular values).
    """
    values = _check_spectrum(values)
    if not 0 < relative_threshold < 1:
        raise ValueError(f"relative_threshold must lie in (0, 1), got {relative_threshold!r}")
    largest = float(values.max())
    rank = effective_rank(values)
    return {
        "n": int(values.size),
        "largest": largest,
        "smallest": float(values.min()),
        "share_below": float((values < relative_threshold * largest).mean()),
        "effective_rank": rank,
        "effective_rank_share": rank / values.size,
    }


def _forward_sizes(model: nn.Module, sample: torch.Tensor) -> tuple[int, int]:
    """The output size of ``model`` on one input and the number of values its leaf modules produce on the way."""
    produced = []

    def count(module: nn.Module, args: tuple, output: object) -> None:
        outputs = output if isinstance(output, tuple) else (output,)
        produced.append(sum(value.numel() for value in outputs if isinstance(value, torch.Tensor)))

    leaves = [module for module in model.modules() if not list(module.children())]
    handles = [module.register_forward_hook(count) for module in leaves]
    try:
        with torch.no_grad():
            output = model(sample)
    finally:
        for handle in handles:
            handle.remove()
    return output.numel(), max(1, sum(produced))


def _check_spectrum(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"expected a non-empty 1-D array of singular values, got shape {values.shape}")
    if (values < 0).any() or not np.isfinite(values).all():
        raise ValueError("singular values must be finite and non-negative")
    return values


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    return x.detach().float() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), dtype=torch.float32)
