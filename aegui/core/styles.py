# SPDX-License-Identifier: MIT
"""Style images: the bundled presets and user-chosen files, read for the stylizer.

A style is named either by a preset (the file stem of an image in
``assets/styles``, such as ``starry_night``) or by the path of any image file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from aegui.core.errors import AeguiError, ImageReadError
from aegui.core.imageio import IMAGE_SUFFIXES, load_image
from aegui.paths import data_dir

logger = logging.getLogger(__name__)

# Long side, in pixels, that style images are reduced to before their feature
# statistics are computed. It matches the size of the window's preview and
# keeps the style pass cheap. The value was chosen, not tuned.
STYLE_SIDE = 512
# A style smaller than this on a side gives the stylizer fewer than 4x4 cells
# of features to take statistics from: a 1x1 style only tints the photo.
MIN_STYLE_SIDE = 32
# A style whose color channels all vary less than this (standard deviation in
# 0..255 levels) is nearly one flat color. Its features have almost no spread,
# so at full strength the photo is lost: a blue image with noise of +-4 levels
# (spread 2.6) gave a nearly plain blue result.
MIN_STYLE_SPREAD = 6.0


# Names shown in the window for the shipped presets: a short title, and the
# painting, artist and year (assets/styles/CREDITS.md has the sources).
PRESET_TITLES = {
    "composition_vii": ("Composition VII", "Composition VII, Wassily Kandinsky, 1913"),
    "starry_night": ("Starry Night", "The Starry Night, Vincent van Gogh, 1889"),
    "the_scream": ("The Scream", "The Scream, Edvard Munch, 1893"),
    "udnie": ("Udnie", "Udnie, Francis Picabia, 1913"),
    "wave": ("Great Wave", "The Great Wave off Kanagawa, Katsushika Hokusai, c. 1831"),
}


def preset_title(name: str) -> tuple[str, str]:
    """Return the short and the full title of preset ``name``.

    A preset without an entry in PRESET_TITLES, such as an image added to the
    presets folder, is shown by its file stem with spaces for underscores.
    """
    if name in PRESET_TITLES:
        return PRESET_TITLES[name]
    words = name.replace("_", " ")
    return words, words


class StyleError(AeguiError):
    """A style is neither a known preset nor a readable image file."""


def styles_dir() -> Path:
    """Return the folder of preset style images, ``assets/styles``."""
    return data_dir("assets") / "styles"


def preset_paths(folder: Path | None = None) -> dict[str, Path]:
    """Return the preset images by name (file stem), sorted by name."""
    folder = folder or styles_dir()
    if not folder.is_dir():
        return {}
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    return {path.stem: path for path in sorted(files)}


def resolve_style(style: str | Path, folder: Path | None = None) -> Path:
    """Return the image file of a preset name or a path.

    A preset name wins over a file of the same name in the working folder,
    with a warning that says how to choose the file. Raises StyleError that
    lists the presets when ``style`` is neither.
    """
    presets = preset_paths(folder)
    text = str(style)
    if text in presets:
        if Path(text).is_file():
            logger.warning(
                "Style %r names the preset. For the file of that name, give ./%s",
                text,
                text,
            )
        return presets[text]
    path = Path(style).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise StyleError(
            f"invalid style {text!r}: a folder, not an image file; give one painting "
            f"or a preset (presets: {describe_presets(presets)})"
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise StyleError(f"style image not found: {path}")
    raise StyleError(
        f"unknown style {text!r}: not a preset and no such image file "
        f"(presets: {describe_presets(presets)})"
    )


def load_style(
    style: str | Path, side: int = STYLE_SIDE, *, log_warnings: bool = True
) -> np.ndarray:
    """Return the style image as uint8 RGB (H, W, 3), long side at most ``side``.

    Alpha is dropped and grayscale becomes three equal channels. Raises
    StyleError naming the style when it is unknown, unreadable, corrupted,
    smaller than ``MIN_STYLE_SIDE`` on a side or nearly one flat color.
    Conversion warnings (16-bit samples, extra frames) are logged unless
    ``log_warnings`` is False.
    """
    path = resolve_style(style)
    try:
        image = load_image(path, log_warnings=log_warnings)
    except ImageReadError as error:
        raise StyleError(f"invalid style image: {error}") from None
    if min(image.width, image.height) < MIN_STYLE_SIDE:
        raise StyleError(
            f"invalid style image: {path}: {image.width}x{image.height} is too small; "
            f"use one at least {MIN_STYLE_SIDE} pixels on each side"
        )
    rgb = image.rgb
    long_side = max(rgb.shape[:2])
    if long_side > side:
        scale = side / long_side
        size = (
            max(1, round(rgb.shape[1] * scale)),
            max(1, round(rgb.shape[0] * scale)),
        )
        reduced = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS)
        rgb = np.asarray(reduced)
    # Checked on the reduced copy, which is small.
    if rgb.reshape(-1, 3).std(axis=0).max() < MIN_STYLE_SPREAD:
        raise StyleError(
            f"invalid style image: {path}: nearly one flat color, with too little "
            "texture to transfer; choose a painting or a photo with some detail"
        )
    return np.ascontiguousarray(rgb)


def describe_presets(presets: dict[str, Path]) -> str:
    """Return the preset names as a comma-separated list, or 'none'."""
    return ", ".join(presets) or "none"
