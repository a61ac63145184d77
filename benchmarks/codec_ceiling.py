# SPDX-License-Identifier: MIT
r"""Measure how much of the shipped codec's error is rounding and how much the transforms.

For each photo and quality level, the float synthesis transform ``g_s``
decodes the latents of the shipped encoder in several ways, and the script
reports RGB PSNR for each:

* ``unrounded``: ``y_s`` as ``g_a`` gives it, never quantized. This is what
  the transforms reach at that level with the encoder's own latents and no
  rounding error at all.
* ``rounded``: the symbols that ``aegui compress`` codes. The float ``g_s``
  gives the same PSNR as the exact integer one to about 0.001 dB.
* ``offset S``: each non-zero symbol decoded ``S`` times the mean gap between
  the unrounded residuals and their symbols, in the direction of that gap.
  The gaps are measured per scale-table index and symbol magnitude on
  training photos (every tenth BSDS400 photo by default). ``S = 1`` puts each
  latent at the mean of its quantization bin, which is the smallest error in
  latent space. Only a decoder would change: this is the trial of
  reconstruction offsets.

bpp counts the coded bytes of ``z`` and ``y``, without the container header.
Results go to ``benchmarks/results/codec-ceiling.json``::

    python benchmarks/codec_ceiling.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import codec_run_meta, start_run  # noqa: E402

from aegui.core.codec import ImageCodec, load_codec  # noqa: E402
from aegui.core.metrics import psnr  # noqa: E402
from aegui.core.models.hyperprior import SCALE_LEVELS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "codec-ceiling.json"
# Symbol magnitudes 1, 2, 3 and 4 or more each get their own gap.
MAGNITUDE_CLASSES = 4
# Gaps measured on fewer latents than this are taken as 0.
MIN_COUNT = 200

logger = logging.getLogger("codec_ceiling")


def read_rgb(path: Path) -> np.ndarray:
    """Return the photo at ``path`` as a uint8 H x W x 3 array."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def magnitude_class(symbols: np.ndarray) -> np.ndarray:
    """Return 0 for magnitude 1, 1 for 2, ... up to the last class, for non-zero symbols."""
    return np.minimum(np.abs(symbols), MAGNITUDE_CLASSES).astype(np.int64) - 1


def measure_gaps(codec: ImageCodec, photos: list[Path]) -> np.ndarray:
    """Return the mean of ``|residual| - |symbol|`` per scale index and magnitude class.

    Averaged over every quality level and over the non-zero symbols of
    ``photos``. Negative values mean that the residuals lie nearer the mean
    than their symbols.
    """
    sums = np.zeros((SCALE_LEVELS, MAGNITUDE_CLASSES))
    counts = np.zeros((SCALE_LEVELS, MAGNITUDE_CLASSES))
    for path in photos:
        rgb = read_rgb(path)
        for quality in codec.qualities:
            _, residual, _, index = codec._analyse(rgb, quality)
            symbols = np.rint(residual)
            coded = symbols != 0
            cells = (index[coded].astype(np.int64), magnitude_class(symbols[coded]))
            np.add.at(sums, cells, np.abs(residual[coded]) - np.abs(symbols[coded]))
            np.add.at(counts, cells, 1)
        logger.info("gaps measured on %s", path.name)
    return np.where(counts >= MIN_COUNT, sums / np.maximum(counts, 1), 0.0)


@torch.inference_mode()
def decode_float(
    codec: ImageCodec, y_hat_s: np.ndarray, quality: int, shape: tuple[int, ...]
) -> np.ndarray:
    """Run the float ``g_s`` on the scaled latents and return the uint8 image."""
    _, inv_gain = codec.model.gains(torch.tensor([quality - 1]))
    latents = torch.from_numpy(y_hat_s).float()[None] * inv_gain
    pixels = codec.model.g_s(latents).clamp(0, 1)[0, :, : shape[0], : shape[1]]
    return np.rint(pixels.permute(1, 2, 0).numpy() * 255).astype(np.uint8)


def measure_photo(
    codec: ImageCodec,
    rgb: np.ndarray,
    quality: int,
    gaps: np.ndarray,
    strengths: list[float],
) -> dict[str, float]:
    """Return bpp and the PSNR of each way of decoding one photo at one level."""
    z_hat, residual, mean, index = codec._analyse(rgb, quality)
    bound = codec.y_tables.maxima.astype(np.int64)[index]
    symbols = np.clip(np.rint(residual), -bound, bound)
    height, width = rgb.shape[:2]
    latents = codec.code_symbols(
        z_hat, symbols.astype(np.int32), index, width, height, quality
    )

    def score(y_hat_s: np.ndarray) -> float:
        return psnr(rgb, decode_float(codec, y_hat_s, quality, rgb.shape))

    row = {
        "bpp": 8 * (len(latents.z_stream) + len(latents.y_stream)) / (height * width),
        "unrounded": score(mean + residual),
        "rounded": score(mean + symbols),
    }
    coded = symbols != 0
    gap = np.zeros_like(residual)
    gap[coded] = gaps[index[coded].astype(np.int64), magnitude_class(symbols[coded])]
    gap *= np.sign(symbols)
    for strength in strengths:
        row[f"offset {strength:g}"] = score(mean + symbols + strength * gap)
    return row


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Return the mean of every measure per quality level."""
    measures = [key for key in rows[0] if key not in ("image", "quality")]
    summary = []
    for quality in sorted({row["quality"] for row in rows}):
        chosen = [row for row in rows if row["quality"] == quality]
        means = {key: float(np.mean([row[key] for row in chosen])) for key in measures}
        summary.append({"quality": quality, **means})
    return summary


def main(argv: list[str] | None = None) -> None:
    """Measure the gaps, decode every photo each way and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATASETS / "kodak24")
    parser.add_argument("--images", type=int, default=0,
                        help="use only the first N photos (default: all)")  # fmt: skip
    parser.add_argument("--gap-data", type=Path, default=DATASETS / "bsds400")
    parser.add_argument("--gap-every", type=int, default=10,
                        help="measure the gaps on every Nth photo of --gap-data")  # fmt: skip
    parser.add_argument("--strengths", default="1,0.5,-0.5")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    start_run(args.threads)
    for folder in (args.data, args.gap_data):
        if not folder.is_dir():
            parser.error(f"{folder}: no such folder")
    photos = sorted(args.data.glob("*.png"))[: args.images or None]
    gap_photos = sorted(args.gap_data.glob("*.jpg"))[:: args.gap_every]
    if not photos or not gap_photos:
        parser.error("no photos found in --data (.png) or --gap-data (.jpg)")
    strengths = [float(value) for value in args.strengths.split(",") if value]

    codec = load_codec()
    gaps = measure_gaps(codec, gap_photos)
    rows = []
    for path in photos:
        rgb = read_rgb(path)
        for quality in codec.qualities:
            row = measure_photo(codec, rgb, quality, gaps, strengths)
            rows.append({"image": path.stem, "quality": quality, **row})
            logger.info("%s", json.dumps(rows[-1]))

    report = {
        "name": "codec-ceiling",
        "meta": {
            **codec_run_meta("codec_ceiling.py", argv, codec),
            "gap_photos": len(gap_photos),
        },
        "gaps": gaps.round(4).tolist(),
        "summary": summarise(rows),
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    logger.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
