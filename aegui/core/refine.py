# SPDX-License-Identifier: MIT
"""Choose the coded latents by gradient descent on the rate-distortion loss.

The encoder network ``g_a`` predicts the latents in one pass, and rounding them
gives the symbols that ``aegui compress`` codes by default. Refinement starts
there and takes Adam steps on ``bpp + lambda * 255^2 * MSE`` for this one
photo, through the float synthesis transform and the Gaussian rates of the
coding tables, then rounds. While it runs, the rounding is relaxed with
stochastic Gumbel annealing (Yang, Bamler and Mandt, 2020, arXiv:2006.04240):
each latent moves towards the integer below or above at random, more and more
surely the nearer integer as the temperature falls.

Only the encoder changes. The file contains ordinary symbols coded with the usual
tables and decodes exactly as any other, on every machine. That leaves the
steps free to run ``g_s`` in bfloat16 on CPUs that have it natively.

The photo is refined in tiles of latents, one after the other, so memory stays
bounded: each tile uses a halo of neighbouring latents held at their current
rounded values, and its loss counts the pixels it covers and a ring around them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from aegui.core.container import Y_SCALE
from aegui.core.models.hyperprior import (
    LOG_SCALE_OFFSET,
    LOG_SCALE_STEP,
    LOG_SCALE_UNIT,
)
from aegui.core.precision import bfloat16_copy
from aegui.core.progress import part_progress

# Latents per tile side, the halo of fixed latents around a tile and the ring
# of neighbouring latents whose pixels count in its loss. A 40-latent tile with
# its halo is a 768-pixel square for g_s.
TILE_LATENTS = 40
HALO_LATENTS = 4
RING_LATENTS = 2
# In quantization steps: 0.05 lost 0.34 dB on kodim05 at quality 6 in 30 steps.
LEARNING_RATE = 0.02
START_TEMPERATURE = 0.5
END_TEMPERATURE = START_TEMPERATURE * math.exp(-4.0)
SEED = 0

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


def balanced_ranges(size: int, tile: int) -> list[tuple[int, int]]:
    """Split ``[0, size)`` into the fewest ranges of at most ``tile``, of near-equal length."""
    count = max(1, -(-size // tile))
    edges = [round(i * size / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def gaussian_bits(residual: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Return the total bits of ``residual`` under N(0, sigma) on unit bins."""
    normal = torch.distributions.Normal(0.0, 1.0)
    magnitude = residual.abs()
    mass = normal.cdf((0.5 - magnitude) / sigma) - normal.cdf(
        (-0.5 - magnitude) / sigma
    )
    return -torch.log2(mass.clamp_min(1e-9)).sum()


def round_annealed(
    residual: torch.Tensor, temperature: float, generator: torch.Generator
) -> torch.Tensor:
    """Round ``residual`` softly and at random, favouring the nearer integer."""
    floor = torch.floor(residual.detach())
    down = (residual - floor).clamp(1e-4, 1 - 1e-4)
    up = (floor + 1 - residual).clamp(1e-4, 1 - 1e-4)
    logits = torch.stack([-torch.atanh(down), -torch.atanh(up)], -1) / temperature
    uniform = torch.rand(logits.shape, generator=generator).clamp(1e-9, 1 - 1e-9)
    gumbel = -torch.log(-torch.log(uniform))
    weights = torch.softmax((logits + gumbel) / temperature, -1)
    return floor + weights[..., 1]


def scale_from_index(index: np.ndarray) -> torch.Tensor:
    """Return the Gaussian scale of each scale-table index."""
    log_scale = (
        LOG_SCALE_OFFSET + LOG_SCALE_STEP * index.astype(np.float32)
    ) / LOG_SCALE_UNIT
    return torch.exp(torch.from_numpy(log_scale))


def refine_residual(
    synthesis: nn.Module,
    residual: np.ndarray,
    mean: np.ndarray,
    index: np.ndarray,
    inv_gain: torch.Tensor,
    image: np.ndarray,
    lmbda: float,
    steps: int,
    *,
    bfloat16: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> None:
    """Refine ``residual`` (``y_s - mean``, M x R x C, float64) in place.

    Args:
        synthesis: the float ``g_s``, which maps ``y_hat_s * inv_gain`` to pixels.
        mean: the exact means of ``y_s``, as the decoder computes them.
        index: the scale-table index of every latent.
        inv_gain: the inverse gain of the quality level, shaped (1, M, 1, 1).
        image: the uint8 H x W x 3 photo, without padding.
        lmbda: the level's rate-distortion trade-off, for 0..1 pixel values.
        steps: Adam steps per tile.
        bfloat16: run ``g_s`` in bfloat16 during the steps, which is faster on
            CPUs with native bfloat16. Each tile's final choice between the
            refined and the plainly rounded symbols still uses float32.
        progress: called with the fraction of the work done.
        cancelled: polled every step; when it returns true, InterruptedError is raised.

    The caller rounds the result as usual. The random rounding is seeded, so
    the same input gives the same result with the same machine, torch version
    and thread count.
    """
    if steps <= 0:
        return
    problem = _RefinementInputs(
        synthesis, bfloat16_copy(synthesis) if bfloat16 else None,
        residual, mean, index, inv_gain, image, lmbda, steps,
        torch.Generator().manual_seed(SEED),
    )  # fmt: skip
    _, rows, columns = residual.shape
    tiles = [
        (row_range, column_range)
        for row_range in balanced_ranges(rows, TILE_LATENTS)
        for column_range in balanced_ranges(columns, TILE_LATENTS)
    ]
    for number, (row_range, column_range) in enumerate(tiles):
        tile_progress = part_progress(
            progress, number / len(tiles), (number + 1) / len(tiles)
        )
        _refine_tile(problem, row_range, column_range, tile_progress, cancelled)


@dataclass
class _RefinementInputs:
    """Inputs shared by every tile of one refinement (see ``refine_residual``)."""

    synthesis: nn.Module
    fast_synthesis: nn.Module | None  # a bfloat16 copy for the steps, if any
    residual: np.ndarray
    mean: np.ndarray
    index: np.ndarray
    inv_gain: torch.Tensor
    image: np.ndarray
    lmbda: float
    steps: int
    generator: torch.Generator


def _refine_tile(
    problem: _RefinementInputs,
    row_range: tuple[int, int],
    column_range: tuple[int, int],
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> None:
    """Refine the latents of one tile, with its halo held at rounded values."""
    synthesis, residual, mean, index = (
        problem.synthesis, problem.residual, problem.mean, problem.index,
    )  # fmt: skip
    inv_gain, image, lmbda, steps = (
        problem.inv_gain, problem.image, problem.lmbda, problem.steps,
    )  # fmt: skip
    _, rows, columns = residual.shape
    height, width = image.shape[:2]
    (top, bottom), (left, right) = row_range, column_range
    window_top, window_left = max(0, top - HALO_LATENTS), max(0, left - HALO_LATENTS)
    window_bottom = min(rows, bottom + HALO_LATENTS)
    window_right = min(columns, right + HALO_LATENTS)
    window = (
        slice(None),
        slice(window_top, window_bottom),
        slice(window_left, window_right),
    )
    centre = (slice(None), slice(top, bottom), slice(left, right))
    inner = (
        slice(None),
        slice(None),
        slice(top - window_top, bottom - window_top),
        slice(left - window_left, right - window_left),
    )

    # The pixels whose error counts: the tile's own and a ring around them,
    # inside the photo, in the coordinates of the window's output.
    pixel_top = max(0, top - RING_LATENTS) * Y_SCALE
    pixel_left = max(0, left - RING_LATENTS) * Y_SCALE
    pixel_bottom = min(height, min(rows, bottom + RING_LATENTS) * Y_SCALE)
    pixel_right = min(width, min(columns, right + RING_LATENTS) * Y_SCALE)
    if pixel_bottom <= pixel_top or pixel_right <= pixel_left:
        if progress is not None:
            progress(1.0)
        return
    # A copy, because the photo's array may be read-only.
    target = torch.tensor(image[pixel_top:pixel_bottom, pixel_left:pixel_right])
    target = target.permute(2, 0, 1)[None].float() / 255
    crop = (
        slice(None),
        slice(None),
        slice(
            pixel_top - window_top * Y_SCALE,
            pixel_bottom - window_top * Y_SCALE,
        ),
        slice(
            pixel_left - window_left * Y_SCALE,
            pixel_right - window_left * Y_SCALE,
        ),
    )
    pixels = target.shape[2] * target.shape[3]

    context = torch.from_numpy(np.rint(residual[window])).float()[None]
    mean_window = torch.from_numpy(mean[window]).float()[None]
    sigma = scale_from_index(index[centre])[None]

    def compute_loss(symbols: torch.Tensor, fast: bool = False) -> torch.Tensor:
        full = context.clone()
        full[inner] = symbols
        scaled = (full + mean_window) * inv_gain
        if fast and problem.fast_synthesis is not None:
            x_hat = problem.fast_synthesis(scaled.bfloat16()).float()
        else:
            x_hat = synthesis(scaled)
        x_hat = x_hat[crop].clamp(0, 1)
        squared_error = (x_hat - target).pow(2).sum() / 3
        return (lmbda * 255**2 * squared_error + gaussian_bits(symbols, sigma)) / pixels

    start = torch.from_numpy(residual[centre]).float()[None]
    latents = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([latents], lr=LEARNING_RATE)
    for step in range(steps):
        if cancelled is not None and cancelled():
            raise InterruptedError("Cancelled")
        fraction = step / max(steps - 1, 1)
        temperature = (
            START_TEMPERATURE * (END_TEMPERATURE / START_TEMPERATURE) ** fraction
        )
        loss = compute_loss(
            round_annealed(latents, temperature, problem.generator), fast=True
        )
        # Only the latents need a gradient, not the weights of g_s.
        (latents.grad,) = torch.autograd.grad(loss, latents)
        optimizer.step()
        if progress is not None:
            progress((step + 1) / steps)

    # The annealed loss is not the loss of the rounded result, which can end up
    # worse than plain rounding (it did at quality 2 on kodim05), so the tile
    # keeps whichever rounds to the lower loss.
    refined = latents.detach()
    with torch.no_grad():
        if compute_loss(torch.round(refined)) < compute_loss(torch.round(start)):
            residual[centre] = refined[0].double().numpy()
