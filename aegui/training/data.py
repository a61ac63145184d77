# SPDX-License-Identifier: MIT
"""Training images held in memory and sampled as random crops."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def load_training_images(
    folder: Path, scales: tuple[float, ...] = (1.0,), min_side: int = 0
) -> list[np.ndarray]:
    """Load every image under ``folder`` as uint8 HWC RGB, once per scale.

    Downscaled copies (Lanczos) add finer detail per pixel and soften the JPEG
    artefacts of the source photos. Images whose shorter side would fall below
    ``min_side`` at some scale are skipped at that scale.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"Training data folder {folder} not found")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"No training images found in {folder}")
    images = []
    for path in paths:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        for scale in scales:
            size = (round(rgb.width * scale), round(rgb.height * scale))
            if min(size) < min_side:
                continue
            scaled = rgb if scale == 1.0 else rgb.resize(size, Image.Resampling.LANCZOS)
            images.append(np.asarray(scaled, dtype=np.uint8))
    logger.info(
        "Loaded %d training images (%d files) from %s", len(images), len(paths), folder
    )
    return images


class RandomCrops:
    """Draw batches of random square crops with random flips and transposes.

    A ``smooth_fraction`` of the crops is replaced by a smooth image made from
    the crop: its colors reduced to a grid of 1x1 to 4x4 cells and scaled back
    up. Photos contain few such areas (clear skies, walls, screenshots), and a
    codec not trained on them decodes flat color with blotches.
    """

    def __init__(
        self,
        images: list[np.ndarray],
        crop: int,
        seed: int = 0,
        smooth_fraction: float = 0.0,
    ) -> None:
        self.images = [im for im in images if min(im.shape[:2]) >= crop]
        if not self.images:
            raise ValueError(f"No training image is at least {crop}x{crop} pixels")
        if not 0.0 <= smooth_fraction <= 1.0:
            raise ValueError(f"smooth_fraction must be in 0..1, got {smooth_fraction}")
        self.crop = crop
        self.smooth_fraction = smooth_fraction
        self.rng = np.random.default_rng(seed)

    def crop_one(self) -> np.ndarray:
        """Return one augmented HWC uint8 crop."""
        image = self.images[self.rng.integers(len(self.images))]
        height, width = image.shape[:2]
        top = self.rng.integers(height - self.crop + 1)
        left = self.rng.integers(width - self.crop + 1)
        patch = image[top : top + self.crop, left : left + self.crop]
        if self.rng.random() < 0.5:
            patch = patch[:, ::-1]
        if self.rng.random() < 0.5:
            patch = patch.transpose(1, 0, 2)
        if self.smooth_fraction and self.rng.random() < self.smooth_fraction:
            patch = smooth_version(patch, int(self.rng.integers(1, 5)))
        return patch

    def batch(self, size: int) -> torch.Tensor:
        """Return a float NCHW batch in 0..1."""
        stacked = np.stack([self.crop_one() for _ in range(size)])
        return torch.from_numpy(stacked).permute(0, 3, 1, 2).float().div_(255.0)


def smooth_version(patch: np.ndarray, cells: int) -> np.ndarray:
    """Return ``patch`` reduced to ``cells`` x ``cells`` mean colors and scaled back up.

    One cell gives a flat color; more cells give gentle gradients between them.
    """
    size = patch.shape[1], patch.shape[0]
    small = Image.fromarray(np.ascontiguousarray(patch)).resize(
        (cells, cells), Image.Resampling.BOX
    )
    return np.asarray(small.resize(size, Image.Resampling.BILINEAR))
