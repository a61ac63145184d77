# SPDX-License-Identifier: MIT
"""Run a convolutional network over large inputs in overlapping tiles.

Each tile is extended by a halo on every side, run through the network, and only
its centre is kept. With a halo at least as wide as the network's receptive
field, the stitched output equals the output of one whole-image pass (up to
float rounding), so there are no seams, while memory stays bounded by the tile
size. The tile grid depends only on the input size, never on the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import torch


def tile_ranges(size: int, tile: int, step: int) -> list[tuple[int, int]]:
    """Split ``[0, size)`` into tiles of at most ``tile``, with edges on multiples of ``step``."""
    if tile % step:
        raise ValueError(f"Tile size {tile} is not a multiple of {step}")
    return [(start, min(size, start + tile)) for start in range(0, size, tile)]


def run_tiled(
    network: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    scale: Fraction,
    tile: int,
    halo: int,
    step: int = 1,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """Apply ``network`` to ``x`` (1, C, H, W) tile by tile.

    Args:
        network: maps an input of size (h, w) to an output of size (h, w) * scale.
        scale: output size over input size, e.g. ``Fraction(1, 16)`` for an encoder.
        tile: tile size in input pixels; inputs that fit in one tile run whole.
        halo: extra input pixels on each side of a tile, a multiple of ``step``.
        step: tile edges fall on multiples of this (the network's stride).
        cancelled: polled between tiles; when it returns true, InterruptedError
            is raised.
        progress: called with the fraction of tiles done.
    """
    _, _, height, width = x.shape
    if height <= tile and width <= tile:
        output = network(x)
        if progress is not None:
            progress(1.0)
        return output

    rows = tile_ranges(height, tile, step)
    columns = tile_ranges(width, tile, step)
    output: torch.Tensor | None = None
    done = 0
    for top, bottom in rows:
        for left, right in columns:
            if cancelled is not None and cancelled():
                raise InterruptedError("Cancelled between tiles")
            in_top, in_left = max(0, top - halo), max(0, left - halo)
            in_bottom, in_right = min(height, bottom + halo), min(width, right + halo)
            result = network(x[:, :, in_top:in_bottom, in_left:in_right])
            if output is None:
                out_h, out_w = int(height * scale), int(width * scale)
                output = result.new_empty(1, result.shape[1], out_h, out_w)
            crop_top = int((top - in_top) * scale)
            crop_left = int((left - in_left) * scale)
            out_rows = int((bottom - top) * scale)
            out_cols = int((right - left) * scale)
            output[
                :,
                :,
                int(top * scale) : int(bottom * scale),
                int(left * scale) : int(right * scale),
            ] = result[
                :, :, crop_top : crop_top + out_rows, crop_left : crop_left + out_cols
            ]
            done += 1
            if progress is not None:
                progress(done / (len(rows) * len(columns)))
    assert output is not None
    return output
