# SPDX-License-Identifier: MIT
r"""Draw a contact sheet of Kodak photos across the style presets.

Each photo is stylized at its full resolution with the shipped stylizer
(strength 1), and only then reduced to the sheet's tile size, so the sheet
shows what a full-size result looks like instead of a small result scaled up.
Rows are photos, the first column is the photo itself and the other columns
are the presets in name order::

    python benchmarks/contact_sheet.py
    python benchmarks/contact_sheet.py --photos kodim23 --out /tmp/sheet.png
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

# Running the file as a script puts only benchmarks/ on sys.path, so add the
# repository root to import aegui without installing it.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from aegui.core.styles import load_style, preset_paths  # noqa: E402
from aegui.core.zoo import load_stylizer  # noqa: E402

logger = logging.getLogger("contact_sheet")

KODAK = REPO_ROOT.parent / "shared" / "datasets" / "kodak24"
DEFAULT_PHOTOS = ("kodim03", "kodim05", "kodim15", "kodim23")
DEFAULT_OUT = REPO_ROOT / "docs" / "style-contact-sheet.png"
LABEL_HEIGHT = 18
GAP = 6


def setup_args() -> argparse.ArgumentParser:
    """Return the script's argument parser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--photos", nargs="+", default=list(DEFAULT_PHOTOS),
        help="Kodak image names (kodimNN) or image paths",
    )  # fmt: skip
    parser.add_argument(
        "--tile", type=int, default=256, help="long side of each sheet tile in pixels"
    )
    parser.add_argument("--weights", type=Path, default=None, help="stylizer weights")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def photo_path(name: str) -> Path:
    """Return the file of a Kodak name such as ``kodim23`` or of a path."""
    path = Path(name)
    return path if path.suffix else KODAK / f"{name}.png"


def reduce(pixels: np.ndarray, side: int) -> Image.Image:
    """Return ``pixels`` reduced (never enlarged) to ``side`` on the long side."""
    image = Image.fromarray(pixels)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def main(argv: list[str] | None = None) -> int:
    """Stylize every photo with every preset and write the sheet."""
    args = setup_args().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    stylizer = load_stylizer(args.weights)
    presets = preset_paths()
    statistics = {
        name: stylizer.style_statistics(load_style(path))
        for name, path in presets.items()
    }
    columns = ["photo", *presets]
    rows: list[tuple[str, list[Image.Image]]] = []
    for name in args.photos:
        with Image.open(photo_path(name)) as image:
            photo = np.asarray(image.convert("RGB"))
        tiles = [reduce(photo, args.tile)]
        for preset, style in statistics.items():
            logger.info("Stylizing %s with %s", name, preset)
            result = stylizer.stylize(photo, style, 1.0)
            pixels = np.clip(np.rint(result), 0, 255).astype(np.uint8)
            tiles.append(reduce(pixels, args.tile))
        rows.append((Path(name).stem, tiles))

    # Rows are as tall as their tallest tile, so landscape rows leave no gap.
    heights = [
        max(tile.height for tile in tiles) + LABEL_HEIGHT + GAP for _, tiles in rows
    ]
    sheet = Image.new(
        "RGB", (GAP + len(columns) * (args.tile + GAP), GAP + sum(heights)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    top = GAP
    for (stem, tiles), height in zip(rows, heights, strict=True):
        for column, (label, tile) in enumerate(zip(columns, tiles, strict=True)):
            left = GAP + column * (args.tile + GAP)
            draw.text((left + 2, top + 2), f"{stem} · {label}", fill="black")
            sheet.paste(tile, (left, top + LABEL_HEIGHT))
        top += height

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    logger.info("Wrote %s (%dx%d)", args.out, sheet.width, sheet.height)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
