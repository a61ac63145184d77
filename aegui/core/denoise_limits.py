# SPDX-License-Identifier: MIT
"""The denoiser's option limits, shared by the command line, the window and the model.

This module imports nothing heavy, so the command line can build its parser
and the window its option widgets without loading torch.
"""

from __future__ import annotations

import math

# Strength scales the noise level given to the network: 1 is the estimated level.
MAX_STRENGTH = 4.0
# Copies of the photo that are denoised and averaged (see denoising.TRANSFORMS).
PASSES = (1, 2, 4, 8)


def check_passes(passes: int) -> None:
    """Raise ValueError unless ``passes`` is one of ``PASSES``."""
    if passes not in PASSES:
        allowed = ", ".join(map(str, PASSES[:-1])) + f" or {PASSES[-1]}"
        raise ValueError(f"Invalid passes {passes!r}: use {allowed}")


def check_strength(strength: float | None) -> None:
    """Raise ValueError unless ``strength`` is None (automatic) or in 0..MAX_STRENGTH."""
    if strength is None:
        return
    if not math.isfinite(strength) or not 0.0 <= strength <= MAX_STRENGTH:
        raise ValueError(
            f"Invalid strength {strength!r}: use 'auto' or a number from 0 to {MAX_STRENGTH:g}"
        )
