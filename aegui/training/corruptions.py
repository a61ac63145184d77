# SPDX-License-Identifier: MIT
"""Random corruptions M(x) that the denoiser learns to undo.

Every function takes a clean float32 (H, W, 3) image on the 0..1 scale and a
numpy Generator. It returns a ``Corruption`` with the corrupted image and the
noise-level map that the model is conditioned on. The map is in standard
deviations on the 0..255 scale.

The map is constant over the image, because at inference time the level comes
from one estimate per photo (``aegui.core.noise.estimate_noise_sigma``). Its
value is:

- Gaussian noise: sigma.
- Poisson-Gaussian noise: the root mean square of the per-pixel standard
  deviation, ``255 * sqrt(mean(x) / peak + (read_sigma / 255)^2)``.
- Salt-and-pepper, knocked-out pixels, JPEG artefacts and mixtures: the level
  that ``estimate_noise_sigma`` reads on the corrupted image. This is the value
  the automatic strength feeds the model for such a photo, so training and use
  agree. A standard deviation would not: on a 481x321 BSDS500 photo, 10 %
  salt-and-pepper noise has an RMS of 46 while the estimator reads 2, and
  JPEG at quality 10 to 60 reads 0 to 3.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from aegui.core.noise import estimate_noise_sigma

MAX_GAUSSIAN_SIGMA = 55.0  # 0..255 scale
PEAK_RANGE = (15.0, 1000.0)  # photons at full scale, drawn log-uniformly
MAX_READ_SIGMA = 10.0  # 0..255 scale
MAX_IMPULSE_DENSITY = 0.3
JPEG_QUALITY_RANGE = (10, 60)
# Probability that additive noise is clipped to 0..1 and rounded to 8 bits, as
# in a saved file. Otherwise it stays unclipped float, as in the benchmarks.
QUANTIZE_PROBABILITY = 0.5


@dataclass
class Corruption:
    """A corrupted image and the noise level the model is conditioned on."""

    image: np.ndarray  # float32 (H, W, 3), 0..1 unless noise was left unclipped
    level_map: np.ndarray  # float32 (H, W), standard deviation on the 0..255 scale
    kind: str

    @property
    def level(self) -> float:
        """The level of the (constant) map."""
        return float(self.level_map.flat[0]) if self.level_map.size else 0.0


def constant_map(image: np.ndarray, level: float) -> np.ndarray:
    """Return an (H, W) float32 map of ``level`` the size of ``image``."""
    return np.full(image.shape[:2], level, dtype=np.float32)


def estimated_map(image: np.ndarray) -> np.ndarray:
    """Return a constant map of the level estimated on ``image`` (0..1 scale)."""
    return constant_map(image, estimate_noise_sigma(image * 255.0))


def maybe_quantize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Clip to 0..1 and round to 8-bit steps with ``QUANTIZE_PROBABILITY``."""
    if rng.random() < QUANTIZE_PROBABILITY:
        return np.round(np.clip(image, 0.0, 1.0) * 255.0) / 255.0
    return image


def gaussian_noise(
    clean: np.ndarray, rng: np.random.Generator, sigma: float | None = None
) -> Corruption:
    """Add white Gaussian noise; ``sigma`` (0..255 scale) defaults to U(0, 55)."""
    if sigma is None:
        sigma = float(rng.uniform(0.0, MAX_GAUSSIAN_SIGMA))
    noisy = clean + rng.normal(0.0, sigma / 255.0, clean.shape)
    image = maybe_quantize(noisy, rng).astype(np.float32)
    return Corruption(image, constant_map(clean, sigma), "gaussian")


def poisson_gaussian_noise(
    clean: np.ndarray,
    rng: np.random.Generator,
    peak: float | None = None,
    read_sigma: float | None = None,
) -> Corruption:
    """Add shot noise for ``peak`` photons at full scale, plus Gaussian read noise.

    A pixel of value ``x`` becomes ``Poisson(x * peak) / peak + N(0, read_sigma)``.
    """
    if peak is None:
        low, high = np.log(PEAK_RANGE[0]), np.log(PEAK_RANGE[1])
        peak = float(np.exp(rng.uniform(low, high)))
    if read_sigma is None:
        read_sigma = float(rng.uniform(0.0, MAX_READ_SIGMA))
    shot = rng.poisson(np.clip(clean, 0.0, 1.0) * peak) / peak
    noisy = shot + rng.normal(0.0, read_sigma / 255.0, clean.shape)
    image = maybe_quantize(noisy, rng).astype(np.float32)
    level = 255.0 * float(
        np.sqrt(np.mean(np.clip(clean, 0.0, 1.0)) / peak + (read_sigma / 255.0) ** 2)
    )
    return Corruption(image, constant_map(clean, level), "poisson-gaussian")


def salt_and_pepper(
    clean: np.ndarray, rng: np.random.Generator, density: float | None = None
) -> Corruption:
    """Set a ``density`` fraction of the samples (each channel apart) to 0 or 1."""
    if density is None:
        density = float(rng.uniform(0.01, MAX_IMPULSE_DENSITY))
    image = clean.astype(np.float32, copy=True)
    hit = rng.random(clean.shape) < density
    image[hit] = (rng.random(int(hit.sum())) < 0.5).astype(np.float32)
    return Corruption(image, estimated_map(image), "salt-and-pepper")


def knock_out(
    clean: np.ndarray, rng: np.random.Generator, fraction: float | None = None
) -> Corruption:
    """Replace a ``fraction`` of the pixels (all channels) by black or random colours."""
    if fraction is None:
        fraction = float(rng.uniform(0.01, MAX_IMPULSE_DENSITY))
    image = clean.astype(np.float32, copy=True)
    hit = rng.random(clean.shape[:2]) < fraction
    count = int(hit.sum())
    if rng.random() < 0.5:
        image[hit] = 0.0
    else:
        image[hit] = rng.random((count, 3)).astype(np.float32)
    return Corruption(image, estimated_map(image), "knock-out")


def jpeg_artefacts(
    clean: np.ndarray, rng: np.random.Generator, quality: int | None = None
) -> Corruption:
    """Re-encode as JPEG with Pillow at ``quality`` (default U{10..60})."""
    if quality is None:
        quality = int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))
    pixels = np.clip(np.round(clean * 255.0), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        image = np.asarray(decoded.convert("RGB"), dtype=np.float32) / 255.0
    return Corruption(image, estimated_map(image), "jpeg")


def mixture(clean: np.ndarray, rng: np.random.Generator) -> Corruption:
    """Add Gaussian or Poisson-Gaussian noise, then impulses or JPEG artefacts.

    The noise is kept weaker than alone (sigma up to 30) so that the second
    corruption still shows.
    """
    if rng.random() < 0.5:
        first = gaussian_noise(clean, rng, sigma=float(rng.uniform(0.0, 30.0)))
    else:
        first = poisson_gaussian_noise(
            clean, rng, peak=float(rng.uniform(60.0, 1000.0))
        )
    second = (salt_and_pepper, knock_out, jpeg_artefacts)[int(rng.integers(3))]
    if second is not jpeg_artefacts:
        return _with_kind(second(first.image, rng, 0.1 * rng.random()), first.kind)
    return _with_kind(second(np.clip(first.image, 0.0, 1.0), rng), first.kind)


def _with_kind(result: Corruption, first_kind: str) -> Corruption:
    result.kind = f"{first_kind}+{result.kind}"
    return result


# Relative frequencies of the corruptions drawn by ``corrupt``.
CORRUPTIONS: dict[
    str, tuple[float, Callable[[np.ndarray, np.random.Generator], Corruption]]
] = {
    "gaussian": (0.35, gaussian_noise),
    "poisson-gaussian": (0.15, poisson_gaussian_noise),
    "salt-and-pepper": (0.1, salt_and_pepper),
    "knock-out": (0.1, knock_out),
    "jpeg": (0.1, jpeg_artefacts),
    "mixture": (0.2, mixture),
}


def corrupt(clean: np.ndarray, rng: np.random.Generator) -> Corruption:
    """Apply one corruption drawn at random with the weights of ``CORRUPTIONS``."""
    weights = np.array([weight for weight, _ in CORRUPTIONS.values()])
    functions = [function for _, function in CORRUPTIONS.values()]
    index = int(rng.choice(len(functions), p=weights / weights.sum()))
    return functions[index](clean, rng)
