# SPDX-License-Identifier: MIT
"""The denoiser as the tasks use it: strength, tiling and array conversion.

``Denoiser`` wraps a trained ``DenoiseUNet``. The noise level the network is
conditioned on is estimated once per photo (``aegui.core.noise``) and scaled by
the user's strength, so every tile of a photo gets the same level.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
import torch

from aegui.core.denoise_limits import (  # noqa: F401 - also imported from here
    MAX_STRENGTH,
    PASSES,
    check_passes,
    check_strength,
)
from aegui.core.models.denoiser import RECEPTIVE_RADIUS, STRIDE, DenoiseUNet
from aegui.core.noise import estimate_noise_sigma
from aegui.core.precision import bfloat16_copy
from aegui.core.progress import part_progress
from aegui.core.tiling import run_tiled

# Tiles of 512 pixels square plus a halo on each side. The halo is the
# receptive radius rounded up to a multiple of STRIDE, so tiles stay on the
# downsampling grid and the stitched result equals a whole-image pass.
TILE_PIXELS = 512
HALO_PIXELS = -(-RECEPTIVE_RADIUS // STRIDE) * STRIDE
# Below this many pixels on a side the noise estimate rests on too few wavelet
# coefficients and mostly reads edges: a clean 2x3 image read 192 and a clean
# 16x16 thumbnail 10.8. Such images are denoised at level 0.
MIN_ESTIMATE_SIDE = 32

# Geometric copies for ``passes``: (quarter turns, mirrored first). Two passes
# use the photo and its mirror image, four add the upside-down mirror and the
# half turn, and eight add the quarter turns of both.
TRANSFORMS = (
    (0, False), (0, True), (2, True), (2, False),
    (1, False), (1, True), (3, False), (3, True),
)  # fmt: skip

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


def noise_measurable(pixels: np.ndarray) -> bool:
    """Return whether an (H, W, ...) image is large enough for a noise estimate."""
    return min(pixels.shape[:2]) >= MIN_ESTIMATE_SIDE


class Denoiser:
    """A trained denoising network with its id and the tile layout it runs in."""

    def __init__(
        self,
        model: DenoiseUNet,
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
        # oneDNN runs these convolutions faster on channels-last tensors
        # (about 12 % for a 481x321 photo on one thread).
        self.model = model.eval().to(memory_format=torch.channels_last)
        self.model_id = model_id
        self.digest = digest
        self.tile = tile
        self.halo = halo
        # On CPUs with native bfloat16 a converted copy runs each pass about
        # twice as fast and costs about 0.01 dB (see NOTE in ``network``).
        self.bfloat16 = bfloat16
        self._bfloat16_model: DenoiseUNet | None = None

    def network(self) -> DenoiseUNet:
        """Return the network that ``denoise`` runs: the model or its bfloat16 copy.

        NOTE: one pass over 6 CBSD68 images lost 0.013, 0.008 and 0.006 dB at
        sigma 15, 25 and 50 in bfloat16 (autocast, true sigma, AMD EPYC).
        """
        if not self.bfloat16:
            return self.model
        if self._bfloat16_model is None:
            self._bfloat16_model = bfloat16_copy(self.model)
        return self._bfloat16_model

    def noise_level(
        self, pixels: np.ndarray, strength: float | None = None
    ) -> tuple[float, float]:
        """Return the estimated noise sigma of ``pixels`` and the level to denoise at.

        ``pixels`` is (H, W, 3) on the 0..255 scale. The level is the estimate
        times ``strength`` when it is above 1, and the estimate itself
        otherwise (None means 1). ``blend`` handles strengths below 1. An
        image smaller than ``MIN_ESTIMATE_SIDE`` on a side gets estimate 0.
        """
        check_strength(strength)
        if not noise_measurable(pixels):
            return 0.0, 0.0
        estimate = estimate_noise_sigma(pixels)
        factor = 1.0 if strength is None else max(strength, 1.0)
        return estimate, estimate * factor

    @staticmethod
    def blend(
        pixels: np.ndarray, denoised: np.ndarray, strength: float | None
    ) -> np.ndarray:
        """Mix ``denoised`` back with ``pixels`` for a strength below 1.

        The network removes much of the noise even when conditioned on level 0,
        so a strength below 1 moves the result that far from the input towards
        the denoised image instead: 0 returns the input unchanged.
        """
        if strength is None or strength >= 1.0:
            return denoised
        original = np.asarray(pixels, dtype=np.float32)
        return original + np.float32(strength) * (denoised - original)

    def denoise(
        self,
        pixels: np.ndarray,
        level: float,
        *,
        passes: int = 1,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> np.ndarray:
        """Return the denoised (H, W, 3) float32 image on the 0..255 scale, unclipped.

        ``pixels`` is (H, W, 3), uint8 or float on the 0..255 scale; float
        values outside 0..255 (unclipped noise) are passed on as they are.
        ``level`` is the noise sigma (0..255 scale) the network is conditioned on.
        With ``passes`` of 2, 4 or 8 the network also denoises mirrored and
        turned copies (``TRANSFORMS``), and the results, turned back, are
        averaged: slower, and a little cleaner because each copy's errors differ.
        """
        check_passes(passes)
        x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))
        x = x.permute(2, 0, 1).unsqueeze(0).div(255.0)
        with torch.inference_mode():
            total = self._denoise_copy(x, level, 0, passes, progress, cancelled)
            for index in range(1, passes):
                total.add_(
                    self._denoise_copy(x, level, index, passes, progress, cancelled)
                )
            if passes > 1:
                total.div_(passes)
        return total[0].permute(1, 2, 0).mul(255.0).numpy()

    def _denoise_copy(
        self,
        x: torch.Tensor,
        level: float,
        index: int,
        passes: int,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> torch.Tensor:
        """Denoise copy ``index`` of ``TRANSFORMS`` of ``x`` and turn it back."""
        turns, mirrored = TRANSFORMS[index]
        copy = torch.flip(x, [3]) if mirrored else x
        copy = torch.rot90(copy, turns, [2, 3]) if turns else copy
        network = self.network()
        y = run_tiled(
            lambda tile: network(
                tile.contiguous(memory_format=torch.channels_last), level
            ),
            copy,
            scale=Fraction(1),
            tile=self.tile,
            halo=self.halo,
            step=STRIDE,
            cancelled=cancelled,
            progress=part_progress(progress, index / passes, (index + 1) / passes),
        )
        y = torch.rot90(y, -turns, [2, 3]) if turns else y
        return torch.flip(y, [3]) if mirrored else y
