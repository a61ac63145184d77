# SPDX-License-Identifier: MIT
"""The stylizer as the tasks use it: style statistics, strength, color, tiling.

``StyleTransfer`` wraps a trained ``Stylizer``. A photo larger than one tile
is processed in two tiled passes, so memory stays bounded. The first pass
encodes each tile and adds its relu4 features to per-channel sums, which give
the whole photo's content statistics. The second pass encodes each tile again,
applies AdaIN with those statistics and decodes it. Tiles overlap by a halo
wider than the network's receptive field, so the stitched result equals one
whole-image pass up to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from aegui.core.models.stylizer import (
    ENCODER_RADIUS,
    EPSILON,
    RECEPTIVE_RADIUS,
    STRIDE,
    Stylizer,
    mean_std,
    pad_to_stride,
    style_code,
)
from aegui.core.precision import bfloat16_copy
from aegui.core.tiling import run_tiled, tile_ranges

# Tiles of 768 pixels square plus a halo on each side, rounded up to a
# multiple of STRIDE so that tiles stay on the pooling grid. A 768x512 photo
# then runs whole, in one pass, which took 2.0 s against 4.6 s in 512-pixel
# tiles (width 32, 2 threads of a shared AMD EPYC). Peak memory for one tile
# is about 0.5 GB at width 32, an estimate scaled from 0.72 GB measured for a
# whole 1024x1024 pass.
TILE_PIXELS = 768
HALO_PIXELS = -(-max(RECEPTIVE_RADIUS, ENCODER_RADIUS) // STRIDE) * STRIDE

# Color matching: covariances get this many squared levels (0..255 scale) added
# to every variance, so flat images stay well conditioned, and no direction of
# RGB space is stretched more than MAX_COLOR_GAIN times.
COLOR_FLOOR = 1.0
MAX_COLOR_GAIN = 3.0

# ITU-R BT.601 luma weights, as in JPEG's YCbCr.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


def check_strength(strength: float) -> None:
    """Raise ValueError unless ``strength`` is a number from 0 to 1."""
    if not math.isfinite(strength) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"Invalid strength {strength!r}: use a number from 0 to 1")


@dataclass(frozen=True)
class StyleStatistics:
    """Statistics of a style image that the stylizer applies to a photo.

    ``mean`` and ``std`` are the channel statistics of its relu4 features,
    shaped (1, C, 1, 1). ``code`` is its ``style_code`` (1, D), for networks
    with style modulation. ``color_mean`` (3,) and ``color_covariance`` (3, 3)
    are the moments of its RGB pixels on the 0..255 scale, for ``match_colors``.
    ``monochrome`` is True for a gray style image, whose result is made gray too.
    """

    mean: torch.Tensor
    std: torch.Tensor
    code: torch.Tensor | None = None
    color_mean: np.ndarray | None = None
    color_covariance: np.ndarray | None = None
    monochrome: bool = False


# A style image is taken as gray when its channels differ by at most this many
# levels (0..255) at 99 % of its pixels, which lets JPEG chroma noise pass.
MONOCHROME_SPREAD = 6


def is_monochrome(rgb: np.ndarray) -> bool:
    """Return whether uint8 RGB (H, W, 3) is gray: nearly equal channels at 99 % of pixels."""
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    return bool(np.percentile(spread, 99) <= MONOCHROME_SPREAD)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Return the BT.601 luma (H, W) of float RGB (H, W, 3)."""
    return rgb @ LUMA_WEIGHTS


def color_moments(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean (3,) and covariance (3, 3) of RGB pixels (H, W, 3), in float64."""
    pixels = np.ascontiguousarray(rgb, dtype=np.float64).reshape(-1, 3)
    count = max(len(pixels), 1)
    mean = pixels.sum(0) / count
    # In float64 the second moment minus the squared mean stays accurate to
    # about 1e-3 of a level squared even at 100 million pixels, far below
    # COLOR_FLOOR.
    return mean, pixels.T @ pixels / count - np.outer(mean, mean)


def _symmetric_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """Return ``matrix ** power`` for a symmetric matrix, eigenvalues floored at COLOR_FLOOR."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.clip(values, COLOR_FLOOR, None) ** power) @ vectors.T


def match_colors(
    result: np.ndarray, style_mean: np.ndarray, style_covariance: np.ndarray
) -> np.ndarray:
    """Return ``result`` with its RGB mean and covariance moved to the style's.

    The map is the affine one that moves a Gaussian with the result's moments
    onto one with the style's while moving every color the least (the
    Monge-Kantorovich solution for two Gaussians):
    ``T = C_r^-1/2 (C_r^1/2 C_s C_r^1/2)^1/2 C_r^-1/2``. Its gains are capped at
    ``MAX_COLOR_GAIN``, so that a nearly flat result is not blown up into noise.
    """
    mean, covariance = color_moments(result)
    floor = COLOR_FLOOR * np.eye(3)
    root = _symmetric_power(covariance + floor, 0.5)
    inverse_root = _symmetric_power(covariance + floor, -0.5)
    middle = _symmetric_power(root @ (style_covariance + floor) @ root, 0.5)
    transform = inverse_root @ middle @ inverse_root
    values, vectors = np.linalg.eigh((transform + transform.T) / 2)
    transform = (vectors * np.clip(values, 0.0, MAX_COLOR_GAIN)) @ vectors.T
    offset = (style_mean - transform @ mean).astype(np.float32)
    flat = np.ascontiguousarray(result, dtype=np.float32).reshape(-1, 3)
    return (flat @ transform.T.astype(np.float32) + offset).reshape(result.shape)


def keep_photo_color(stylized: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Return the stylized luma with the photo's chroma (float RGB on 0..255).

    In YCbCr, replacing Y while keeping Cb and Cr adds the same amount to all
    three RGB channels, so this is ``photo + (Y_stylized - Y_photo)``.
    """
    photo = photo.astype(np.float32)
    shift = luma(stylized.astype(np.float32)) - luma(photo)
    return photo + shift[:, :, None]


class StyleTransfer:
    """A trained stylizer with its id and the tile layout it runs in."""

    def __init__(
        self,
        model: Stylizer,
        model_id: str,
        digest: bytes = b"",
        tile: int = TILE_PIXELS,
        halo: int = HALO_PIXELS,
        bfloat16: bool = False,
    ) -> None:
        if tile % STRIDE or halo % STRIDE:
            raise ValueError(
                f"Tile {tile} and halo {halo} must be multiples of {STRIDE}"
            )
        if halo < max(RECEPTIVE_RADIUS, ENCODER_RADIUS):
            raise ValueError(
                f"Halo {halo} is narrower than the receptive radius {RECEPTIVE_RADIUS}"
            )
        # Channels-last tensors make oneDNN's convolutions about 40 % faster
        # here (768x512 photo, width 16, one thread).
        self.model = model.eval().to(memory_format=torch.channels_last)
        self.model_id = model_id
        self.digest = digest
        self.tile = tile
        self.halo = halo
        # A bfloat16 copy of the network runs the style pass about twice as fast
        # as float32 on CPUs with native bfloat16, and changes pixels by under
        # one level on average (aegui.core.precision).
        self.bfloat16 = bfloat16
        self._bfloat16_model: Stylizer | None = None

    def network(self) -> Stylizer:
        """Return the network that ``stylize`` runs: the model or its bfloat16 copy."""
        if not self.bfloat16:
            return self.model
        if self._bfloat16_model is None:
            self._bfloat16_model = bfloat16_copy(self.model)
        return self._bfloat16_model

    def style_statistics(self, style: np.ndarray) -> StyleStatistics:
        """Return the statistics of a style image, uint8 RGB (H, W, 3)."""
        x = to_tensor(style)
        network = self.network()
        with torch.inference_mode():
            features = network.encoder(
                pad_to_stride(x.contiguous(memory_format=torch.channels_last))
            )
            code = None if network.modulation is None else style_code(features)
        mean, std = mean_std(features[-1].float())
        color_mean, color_covariance = color_moments(style)
        return StyleStatistics(
            mean, std, code, color_mean, color_covariance, is_monochrome(style)
        )

    def content_statistics(
        self, x: torch.Tensor, cancelled: Cancelled | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the relu4 channel mean and std of ``x`` (1, 3, H, W), tile by tile.

        The statistics cover the ceil(H/8) x ceil(W/8) cells of the padded
        image, the same cells a whole-image pass averages over.
        """
        _, _, height, width = x.shape
        total = torch.zeros((), dtype=torch.float64)
        squares = torch.zeros((), dtype=torch.float64)
        count = 0
        encoder = self.network().encoder
        with torch.inference_mode():
            for top, bottom in tile_ranges(height, self.tile, STRIDE):
                for left, right in tile_ranges(width, self.tile, STRIDE):
                    if cancelled is not None and cancelled():
                        raise InterruptedError("Cancelled between tiles")
                    in_top, in_left = max(0, top - self.halo), max(0, left - self.halo)
                    in_bottom = min(height, bottom + self.halo)
                    in_right = min(width, right + self.halo)
                    region = x[:, :, in_top:in_bottom, in_left:in_right]
                    features = encoder.bottleneck(
                        pad_to_stride(
                            region.contiguous(memory_format=torch.channels_last)
                        )
                    )
                    row0 = (top - in_top) // STRIDE
                    col0 = (left - in_left) // STRIDE
                    rows = -(-bottom // STRIDE) - top // STRIDE
                    cols = -(-right // STRIDE) - left // STRIDE
                    kept = features[0, :, row0 : row0 + rows, col0 : col0 + cols]
                    kept = kept.double().flatten(1)
                    if total.dim() == 0:
                        total = torch.zeros(kept.shape[0], dtype=torch.float64)
                        squares = torch.zeros_like(total)
                    total += kept.sum(1)
                    squares += kept.pow(2).sum(1)
                    count += kept.shape[1]
        mean = total / count
        variance = (squares / count - mean.pow(2)).clamp_min(0.0)
        std = (variance + EPSILON).sqrt()
        return mean.float()[None, :, None, None], std.float()[None, :, None, None]

    def stylize(
        self,
        pixels: np.ndarray,
        style: StyleStatistics,
        strength: float = 1.0,
        *,
        preserve_color: bool = False,
        color_match: bool = False,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> np.ndarray:
        """Return the stylized (H, W, 3) float32 image on the 0..255 scale, unclipped.

        ``pixels`` is uint8 or float RGB (H, W, 3) on 0..255. ``strength`` moves
        the photo's features that far towards the style's statistics, and the
        decoded result that far from the photo, so 0 returns the photo. With
        ``color_match`` the decoder's output first takes the style's RGB mean
        and covariance (``match_colors``). With ``preserve_color`` the result
        keeps the photo's chroma and takes only the stylized luma, and no
        colors are matched.
        """
        check_strength(strength)
        x = to_tensor(pixels)
        _, _, height, width = x.shape
        whole = height <= self.tile and width <= self.tile
        content_mean = content_std = None
        if not whole and strength != 0.0:
            content_mean, content_std = self.content_statistics(x, cancelled)
        network = self.network()
        with torch.inference_mode():
            y = run_tiled(
                lambda tile: network(
                    tile.contiguous(memory_format=torch.channels_last),
                    style.mean,
                    style.std,
                    strength,
                    content_mean,
                    content_std,
                    style.code,
                ),
                x,
                scale=Fraction(1),
                tile=self.tile,
                halo=self.halo,
                step=STRIDE,
                cancelled=cancelled,
                progress=progress,
            )
        result = y[0].permute(1, 2, 0).float().mul(255.0).numpy()
        if (
            color_match
            and not preserve_color
            and style.color_mean is not None
            and style.color_covariance is not None
        ):
            result = match_colors(result, style.color_mean, style.color_covariance)
        if style.monochrome and not preserve_color:
            # The decoder adds color fringes even for a gray painting, which
            # brings no color of its own, so the result keeps only its luma.
            result = np.repeat(luma(result)[:, :, None], 3, axis=2)
        if strength < 1.0:
            # The decoder redraws a photo only roughly (about 22 dB for the
            # shipped model), so the result also moves from the photo itself:
            # strength 0 returns the photo, and 1 the decoder's full output.
            original = np.asarray(pixels, dtype=np.float32)
            result = original + np.float32(strength) * (result - original)
        if preserve_color:
            result = keep_photo_color(result, np.asarray(pixels))
        return result


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """Return (H, W, 3) pixels on 0..255 as a float (1, 3, H, W) tensor on 0..1."""
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))
    return x.permute(2, 0, 1).unsqueeze(0).div(255.0)
