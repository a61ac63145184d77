# SPDX-License-Identifier: MIT
"""Blind estimate of the noise level of a photo.

The estimator is the wavelet median rule of Donoho and Johnstone ("Ideal
spatial adaptation by wavelet shrinkage", Biometrika 81(3), 1994). In the
finest diagonal subband (HH) of an orthonormal wavelet transform, white
Gaussian noise of standard deviation sigma gives coefficients of the same
standard deviation, while a natural image gives mostly near-zero ones. So
``sigma ~ median(|HH|) / 0.6745``. Here the wavelet is the Haar wavelet, whose HH
coefficient of a 2x2 block ``[[a, b], [c, d]]`` is ``(a - b - c + d) / 2``, and the
coefficients of all colour channels are pooled.

Fine texture raises the estimate a little and clipping at 0 or 255 lowers it.
Impulse noise moves the median only through the fraction of coefficients that
it hits, so the estimate stays far below the noise's standard deviation.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

# Median of |N(0, 1)|: the 75th percentile of the standard normal, 0.6745.
MEDIAN_ABS_NORMAL = NormalDist().inv_cdf(0.75)


def haar_diagonal(image: np.ndarray) -> np.ndarray:
    """Return the finest Haar HH coefficients of an (H, W) or (H, W, C) image.

    An odd last row or column is left out. The result has shape
    (H // 2, W // 2) or (H // 2, W // 2, C).
    """
    values = np.asarray(image, dtype=np.float32)
    height, width = values.shape[0] // 2 * 2, values.shape[1] // 2 * 2
    values = values[:height, :width]
    top_left = values[0::2, 0::2]
    top_right = values[0::2, 1::2]
    bottom_left = values[1::2, 0::2]
    bottom_right = values[1::2, 1::2]
    return (top_left - top_right - bottom_left + bottom_right) / 2.0


def estimate_noise_sigma(rgb: np.ndarray) -> float:
    """Estimate the standard deviation of white noise in an image.

    Args:
        rgb: (H, W, 3) or (H, W) pixels on the 0..255 scale, uint8 or float;
            float values outside 0..255 are taken as they are.

    Returns:
        sigma on the 0..255 scale, or 0.0 for an image smaller than 2x2.
    """
    coefficients = haar_diagonal(rgb)
    if coefficients.size == 0:
        return 0.0
    return float(np.median(np.abs(coefficients)) / MEDIAN_ABS_NORMAL)
