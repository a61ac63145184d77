# SPDX-License-Identifier: MIT
"""Tests for PSNR, MS-SSIM and BD-rate in aegui.core.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aegui.core.metrics import bjontegaard_rate, ms_ssim, ms_ssim_min_size, psnr

# Rates in bpp and PSNR in dB shaped like a real codec curve on Kodak.
CURVE_BPP = [0.12, 0.25, 0.45, 0.75, 1.15, 1.7]
CURVE_PSNR = [27.1, 29.3, 31.4, 33.6, 35.7, 37.8]


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Return a random uint8 RGB image with some spatial structure."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(height // 8 + 1, width // 8 + 1, 3))
    image = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:height, :width]
    noise = rng.normal(0, 10, size=image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def test_psnr_identical_is_inf() -> None:
    image = smooth_image(32, 48)
    assert psnr(image, image.copy()) == math.inf


def test_psnr_known_mse() -> None:
    a = np.full((16, 16, 3), 100, dtype=np.uint8)
    b = a.copy()
    # Every value differs by 5 on one channel and by 0 on the other two, so the
    # MSE over all pixels and channels is 25 / 3.
    b[..., 1] += 5
    expected = 10 * math.log10(255**2 / (25 / 3))
    assert psnr(a, b) == pytest.approx(expected, abs=1e-9)


def test_psnr_uint8_does_not_wrap() -> None:
    a = np.zeros((4, 4, 3), dtype=np.uint8)
    b = np.full((4, 4, 3), 255, dtype=np.uint8)
    assert psnr(a, b) == pytest.approx(0.0, abs=1e-9)


def test_psnr_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))


def test_ms_ssim_identical_is_one() -> None:
    image = smooth_image(192, 176)
    assert ms_ssim(image, image.copy()) == pytest.approx(1.0, abs=1e-12)


def test_ms_ssim_decreases_with_noise() -> None:
    image = smooth_image(192, 192)
    rng = np.random.default_rng(1)
    scores = []
    for sigma in (2.0, 8.0, 32.0):
        noisy = np.clip(image + rng.normal(0, sigma, image.shape), 0, 255)
        scores.append(ms_ssim(image, noisy.astype(np.uint8)))
    assert 0.0 < scores[2] < scores[1] < scores[0] < 1.0


def test_ms_ssim_odd_size_at_minimum() -> None:
    size = ms_ssim_min_size()
    image = smooth_image(size, size + 3)
    noisy = image.copy()
    noisy[::7, ::5] = 0
    score = ms_ssim(image, noisy)
    assert size == 161
    assert 0.0 < score < 1.0


def test_ms_ssim_too_small_raises() -> None:
    image = smooth_image(160, 300)
    with pytest.raises(ValueError, match="too small for 5-scale"):
        ms_ssim(image, image)


def test_ms_ssim_fewer_scales_for_small_image() -> None:
    image = smooth_image(48, 64)
    assert ms_ssim_min_size(3) == 41
    assert ms_ssim(image, image, weights=(0.2, 0.3, 0.5)) == pytest.approx(1.0)


def test_bd_rate_same_curve_is_zero() -> None:
    result = bjontegaard_rate(CURVE_BPP, CURVE_PSNR, CURVE_BPP, CURVE_PSNR)
    assert result == pytest.approx(0.0, abs=1e-9)


def test_bd_rate_halved_rates_is_minus_50() -> None:
    halved = [rate / 2 for rate in CURVE_BPP]
    result = bjontegaard_rate(CURVE_BPP, CURVE_PSNR, halved, CURVE_PSNR)
    assert result == pytest.approx(-50.0, abs=1e-6)


def test_bd_rate_doubled_rates_is_plus_100() -> None:
    doubled = [rate * 2 for rate in CURVE_BPP]
    result = bjontegaard_rate(CURVE_BPP, CURVE_PSNR, doubled, CURVE_PSNR)
    assert result == pytest.approx(100.0, abs=1e-6)


def test_bd_rate_uses_shared_interval() -> None:
    # The tested curve covers only the upper part of the anchor's PSNR range,
    # and its points lie elsewhere on the same rate-halved curve.
    poly = np.polynomial.Polynomial.fit(CURVE_PSNR, np.log(CURVE_BPP), deg=3)
    psnr_b = [31.0, 32.5, 34.0, 36.0, 39.0]
    rate_b = [math.exp(poly(value)) / 2 for value in psnr_b]
    result = bjontegaard_rate(CURVE_BPP, CURVE_PSNR, rate_b, psnr_b)
    assert result == pytest.approx(-50.0, abs=0.5)


def test_bd_rate_point_order_does_not_matter() -> None:
    order = [3, 0, 5, 1, 4, 2]
    rates = [CURVE_BPP[i] for i in order]
    values = [CURVE_PSNR[i] for i in order]
    result = bjontegaard_rate(CURVE_BPP, CURVE_PSNR, rates, values)
    assert result == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("rates", "values", "message"),
    [
        ([0.1, 0.2, 0.4], [28.0, 30.0, 32.0], "needs >= 4"),
        ([0.1, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0], "3 distortion values"),
        ([0.0, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0, 34.0], "finite and > 0"),
        ([0.1, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0, math.inf], "must be finite"),
        ([0.1, 0.2, 0.4, 0.8], [40.0, 41.0, 42.0, 43.0], "share no quality"),
    ],
)
def test_bd_rate_invalid_curve_raises(
    rates: list[float], values: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        bjontegaard_rate(CURVE_BPP, CURVE_PSNR, rates, values)
