# SPDX-License-Identifier: MIT
r"""Measure denoising PSNR and speed of aegui, CBM3D and OpenCV NL-means on CBSD68.

Gaussian protocol: white Gaussian noise of standard deviation 15, 25 and 50 (0..255
scale) is added to each clean image without clipping. aegui and CBM3D get that
unclipped float image; OpenCV's ``fastNlMeansDenoisingColored`` accepts only 8-bit
input, so it gets the noisy image clipped and rounded. Every result is clipped to
0..255 before the RGB PSNR is computed. The noise of image ``i`` at ``sigma`` comes
from a generator seeded with ``(seed, sigma, i)``, so it does not depend on how many
images run.

aegui runs blind, with the noise level estimated from each image (the ``auto``
strength), again blind with 8 averaged passes as ``aegui-8`` (``--passes 8``),
and as ``aegui-sigma``, given the true sigma. CBM3D is always
given the true sigma. It is slow (22 s for one 481x321 image in a test run on a
busy 2-core AMD EPYC), so it runs on the first ``--bm3d-images`` images only, and
the table also shows the other methods' means on that subset.

Impulse and JPEG protocol: 10 % salt-and-pepper noise (each channel apart) and JPEG
re-encoding at quality 10 (Pillow), compared with a 3x3 median filter per channel.

Results go to ``benchmarks/results/denoise-cbsd68.json`` and a table is printed::

    python benchmarks/denoise_cbsd68.py
    python benchmarks/denoise_cbsd68.py --images 2 --bm3d-images 1 --out /tmp/d.json
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import logging
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
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
from aegui.core.metrics import psnr  # noqa: E402
from aegui.core.precision import native_bfloat16  # noqa: E402
from aegui.training.corruptions import jpeg_artefacts, salt_and_pepper  # noqa: E402

logger = logging.getLogger("denoise_cbsd68")

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "datasets" / "cbsd68"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "denoise-cbsd68.json"
IMAGE_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")
SIGMAS = (15, 25, 50)
# OpenCV NL-means filter strength (h = hColor) per sigma: the best of a grid of
# 0.3 to 1.1 times sigma on 4 BSDS500 training photos (never on CBSD68), with
# templateWindowSize 7 and searchWindowSize 21.
NLMEANS_H = {15: 9.0, 25: 15.0, 50: 25.0}
NLMEANS_TEMPLATE = 7
NLMEANS_SEARCH = 21
IMPULSE_DENSITY = 0.1
JPEG_QUALITY = 10
METHOD_KEYS = ("aegui", "aegui-4", "aegui-8", "aegui-sigma", "cbm3d", "nlmeans")
PASSES_BEST = 8  # passes of the "aegui-8" method (denoise --passes 8)
PASSES_MIDDLE = 4  # passes of the "aegui-4" method

Denoise = Callable[[np.ndarray, float], np.ndarray]


class BenchmarkError(Exception):
    """A failure that stops the benchmark with a message for the user."""


# Methods. Each takes the noisy (H, W, 3) float image on 0..255 and the true
# sigma, and returns the result on 0..255 (clipped later).


def make_aegui(known_sigma: bool, passes: int = 1) -> Denoise:
    """Return the shipped aegui denoiser, blind or given the true sigma."""
    from aegui.core.errors import ModelError
    from aegui.core.zoo import load_denoiser

    try:
        denoiser = load_denoiser()
    except ModelError as error:
        raise BenchmarkError(
            f"cannot load the aegui denoiser: {error}; export one with "
            "'aegui export denoise' or pass --pretrained"
        ) from None

    def run(noisy: np.ndarray, sigma: float) -> np.ndarray:
        level = sigma if known_sigma else denoiser.noise_level(noisy)[1]
        return denoiser.denoise(noisy, level, passes=passes)

    return run


def make_cbm3d() -> Denoise:
    """Return CBM3D from the ``bm3d`` package, given the true sigma."""
    try:
        import bm3d
    except ImportError as error:
        raise BenchmarkError(
            f"cannot import bm3d ({error}); run 'pip install bm3d' or leave cbm3d "
            "out of --methods"
        ) from None

    def run(noisy: np.ndarray, sigma: float) -> np.ndarray:
        return np.asarray(bm3d.bm3d_rgb(noisy / 255.0, sigma / 255.0)) * 255.0

    return run


def make_nlmeans(threads: int | None) -> Denoise:
    """Return OpenCV's colour NL-means with the ``NLMEANS_H`` strength for sigma."""
    try:
        import cv2
    except ImportError as error:
        raise BenchmarkError(
            f"cannot import cv2 ({error}); run 'pip install opencv-python-headless' "
            "or leave nlmeans out of --methods"
        ) from None
    if threads is not None:
        cv2.setNumThreads(threads)

    def run(noisy: np.ndarray, sigma: float) -> np.ndarray:
        h = NLMEANS_H.get(int(sigma))
        if h is None:
            raise BenchmarkError(
                f"no NL-means strength for sigma {sigma}; add it to NLMEANS_H"
            )
        bgr = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)[:, :, ::-1].copy()
        result = cv2.fastNlMeansDenoisingColored(
            bgr, None, h, h, NLMEANS_TEMPLATE, NLMEANS_SEARCH
        )
        return result[:, :, ::-1].astype(np.float32)

    return run


def median_3x3(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """Return the 3x3 median of each channel (edges mirrored)."""
    from scipy.ndimage import median_filter

    return median_filter(noisy, size=(3, 3, 1), mode="mirror")


def describe_methods(threads: int | None) -> dict[str, str]:
    """Return one line per method with its package versions and settings."""
    versions = {}
    for package in ("bm3d", "opencv-python-headless", "scipy", "torch"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "aegui": "aegui denoiser, blind: noise level estimated per image (strength auto)",
        "aegui-4": f"aegui denoiser, blind, {PASSES_MIDDLE} mirrored and turned passes averaged",
        "aegui-8": f"aegui denoiser, blind, {PASSES_BEST} mirrored and turned passes averaged",
        "aegui-sigma": "aegui denoiser given the true sigma",
        "cbm3d": f"bm3d {versions['bm3d']} bm3d_rgb, profile 'np', given the true sigma",
        "nlmeans": (
            f"OpenCV {versions['opencv-python-headless']} fastNlMeansDenoisingColored, "
            f"8-bit clipped input, h = hColor = {NLMEANS_H} by sigma, "
            f"template {NLMEANS_TEMPLATE}, search {NLMEANS_SEARCH}, threads {threads or 'default'}"
        ),
        "median3x3": f"scipy {versions['scipy']} median_filter 3x3 per channel",
        "noisy": "the corrupted input itself, clipped to 0..255",
    }


# Measurement


def load_images(data_dir: Path, count: int | None) -> list[tuple[str, np.ndarray]]:
    """Load the first ``count`` images of ``data_dir`` (sorted by name) as RGB."""
    if not data_dir.is_dir():
        raise BenchmarkError(
            f"dataset folder not found: {data_dir}; pass --data with a folder of "
            "CBSD68 PNG images"
        )
    paths = sorted(p for p in data_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise BenchmarkError(
            f"no images with suffix {', '.join(IMAGE_SUFFIXES)} in {data_dir}"
        )
    images = []
    for path in paths[:count]:
        with Image.open(path) as image:
            images.append((path.name, np.asarray(image.convert("RGB"))))
    return images


def gaussian_noisy(clean: np.ndarray, sigma: int, index: int, seed: int) -> np.ndarray:
    """Return ``clean`` plus unclipped white Gaussian noise, as float32."""
    rng = np.random.default_rng([seed, sigma, index])
    return clean.astype(np.float32) + rng.normal(0.0, sigma, clean.shape).astype(
        np.float32
    )


def impulse_noisy(clean: np.ndarray, index: int, seed: int) -> np.ndarray:
    """Return ``clean`` with ``IMPULSE_DENSITY`` salt-and-pepper samples."""
    rng = np.random.default_rng([seed, 1000, index])
    return salt_and_pepper(clean / 255.0, rng, density=IMPULSE_DENSITY).image * 255.0


def jpeg_noisy(clean: np.ndarray, index: int, seed: int) -> np.ndarray:
    """Return ``clean`` after a JPEG round trip at ``JPEG_QUALITY``."""
    rng = np.random.default_rng([seed, 2000, index])
    return jpeg_artefacts(clean / 255.0, rng, quality=JPEG_QUALITY).image * 255.0


def measure(
    method: Denoise, clean: np.ndarray, noisy: np.ndarray, sigma: float
) -> tuple[float, float]:
    """Run one method; return the PSNR of its clipped result and the seconds taken."""
    started = time.perf_counter()
    result = method(noisy, sigma)
    seconds = time.perf_counter() - started
    return psnr(clean, np.clip(result, 0.0, 255.0)), seconds


def mean_of(records: list[dict[str, Any]], key: str, **match: Any) -> float | None:
    """Return the mean of ``key`` over the records that match every field given."""
    values = [r[key] for r in records if all(r[k] == v for k, v in match.items())]
    return float(np.mean(values)) if values else None


# Benchmark


def run_gaussian(
    images: list[tuple[str, np.ndarray]],
    methods: dict[str, Denoise],
    bm3d_images: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Run every method at every sigma; return one record per image and method."""
    records = []
    for sigma in SIGMAS:
        for index, (source, clean) in enumerate(images):
            noisy = gaussian_noisy(clean, sigma, index, seed)
            record = {
                "condition": f"gaussian-{sigma}",
                "source": source,
                "index": index,
            }
            records.append(
                {
                    **record,
                    "method": "noisy",
                    "psnr": psnr(clean, np.clip(noisy, 0, 255)),
                    "seconds": 0.0,
                }
            )
            for key, method in methods.items():
                if key == "cbm3d" and index >= bm3d_images:
                    continue
                score, seconds = measure(method, clean, noisy, sigma)
                records.append(
                    {**record, "method": key, "psnr": score, "seconds": seconds}
                )
            logger.info("sigma %d, %s done", sigma, source)
    return records


def run_impulse_and_jpeg(
    images: list[tuple[str, np.ndarray]],
    aegui: Denoise | None,
    seed: int,
) -> list[dict[str, Any]]:
    """Run aegui and the median filter on salt-and-pepper and JPEG inputs."""
    methods: dict[str, Denoise] = {"median3x3": median_3x3}
    if aegui is not None:
        methods = {"aegui": aegui, **methods}
    corruptions = {
        f"salt-and-pepper-{round(IMPULSE_DENSITY * 100)}": impulse_noisy,
        f"jpeg-q{JPEG_QUALITY}": jpeg_noisy,
    }
    records = []
    for condition, corrupt in corruptions.items():
        for index, (source, clean) in enumerate(images):
            noisy = corrupt(clean, index, seed)
            record = {"condition": condition, "source": source, "index": index}
            records.append(
                {
                    **record,
                    "method": "noisy",
                    "psnr": psnr(clean, np.clip(noisy, 0, 255)),
                    "seconds": 0.0,
                }
            )
            for key, method in methods.items():
                score, seconds = measure(method, clean, noisy, 0.0)
                records.append(
                    {**record, "method": key, "psnr": score, "seconds": seconds}
                )
        logger.info("%s done", condition)
    return records


def summarize(records: list[dict[str, Any]], bm3d_images: int) -> dict[str, Any]:
    """Return mean PSNR, seconds per image and image count per condition and method.

    ``subset`` repeats the means over the images that CBM3D ran on.
    """
    summary: dict[str, Any] = {}
    for condition in dict.fromkeys(r["condition"] for r in records):
        rows = [r for r in records if r["condition"] == condition]
        entry: dict[str, Any] = {}
        for method in dict.fromkeys(r["method"] for r in rows):
            count = sum(1 for r in rows if r["method"] == method)
            entry[method] = {
                "psnr-rgb": mean_of(rows, "psnr", method=method),
                "seconds_per_image": mean_of(rows, "seconds", method=method),
                "images": count,
            }
        if "cbm3d" in entry:
            subset = [r for r in rows if r["index"] < bm3d_images]
            entry["subset"] = {
                method: mean_of(subset, "psnr", method=method)
                for method in dict.fromkeys(r["method"] for r in subset)
            }
        summary[condition] = entry
    return summary


def format_table(summary: dict[str, Any]) -> str:
    """Return the summary as a text table, one row per condition and method."""
    lines = [
        f"{'condition':22s} {'method':12s} {'images':>6s} {'PSNR dB':>8s} {'s/image':>8s}"
    ]
    for condition, entry in summary.items():
        for method, values in entry.items():
            if method == "subset":
                continue
            lines.append(
                f"{condition:22s} {method:12s} {values['images']:6d} "
                f"{values['psnr-rgb']:8.2f} {values['seconds_per_image']:8.3f}"
            )
        if "subset" in entry:
            subset_means = ", ".join(f"{m} {v:.2f}" for m, v in entry["subset"].items())
            lines.append(f"{'':22s} on the CBM3D subset: {subset_means}")
    return "\n".join(lines)


def build_meta(args: argparse.Namespace, sources: Sequence[str]) -> dict[str, Any]:
    """Describe the run: software, machine, threads, dataset and command line."""
    return {
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
        },
        "torch_threads": torch.get_num_threads(),
        # aegui loads its denoiser in bfloat16 on CPUs that compute it natively.
        "aegui_bfloat16": native_bfloat16(),
        "dataset": args.data.name,
        "images": list(sources),
        "bm3d_images": min(args.bm3d_images, len(sources)),
        "seed": args.seed,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
    }


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole benchmark, write the JSON file and print the table."""
    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()  # as the aegui command does at start-up
    if args.pretrained is not None:
        os.environ["AEGUI_PRETRAINED"] = str(args.pretrained)
    images = load_images(args.data, args.images)

    makers: dict[str, Callable[[], Denoise]] = {
        "aegui": lambda: make_aegui(known_sigma=False),
        "aegui-4": lambda: make_aegui(known_sigma=False, passes=PASSES_MIDDLE),
        "aegui-8": lambda: make_aegui(known_sigma=False, passes=PASSES_BEST),
        "aegui-sigma": lambda: make_aegui(known_sigma=True),
        "cbm3d": make_cbm3d,
        "nlmeans": lambda: make_nlmeans(args.threads or None),
    }
    methods = {key: makers[key]() for key in args.methods}
    if "aegui" in methods:
        methods["aegui"](images[0][1].astype(np.float32), 0.0)  # warm-up, not timed

    records = run_gaussian(images, methods, args.bm3d_images, args.seed)
    records += run_impulse_and_jpeg(images, methods.get("aegui"), args.seed)
    summary = summarize(records, args.bm3d_images)
    descriptions = describe_methods(args.threads or None)
    content = {
        "name": "denoise-cbsd68",
        "description": (
            "Mean RGB PSNR of denoised CBSD68 images: white Gaussian noise at sigma "
            f"{', '.join(map(str, SIGMAS))} (not clipped, fixed seed), "
            f"{round(IMPULSE_DENSITY * 100)} % salt-and-pepper and JPEG quality {JPEG_QUALITY}; "
            "results clipped to 0..255"
        ),
        "meta": build_meta(args, [source for source, _ in images]),
        "methods": {
            key: descriptions[key]
            for key in dict.fromkeys(r["method"] for r in records)
        },
        "results": summary,
        "per_image": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.out)
    print(format_table(summary))  # noqa: T201 - the table is this script's output
    return content


def parse_methods(text: str) -> list[str]:
    """Parse a comma-separated list of method keys."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    unknown = [key for key in keys if key not in METHOD_KEYS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"invalid methods {text!r}: choose from {', '.join(METHOD_KEYS)}"
        )
    return keys


def setup_args() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="folder of clean CBSD68 PNG images",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=None,
        help="use only the first N images (default: all)",
    )
    parser.add_argument(
        "--bm3d-images",
        type=int,
        default=10,
        help="run CBM3D on the first N images (default 10)",
    )
    parser.add_argument(
        "--methods", type=parse_methods, default=list(METHOD_KEYS),
        help=f"comma-separated methods for the Gaussian protocol (default: {','.join(METHOD_KEYS)})",
    )  # fmt: skip
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch and OpenCV threads (0: library default)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise")
    parser.add_argument(
        "--pretrained",
        type=Path,
        default=None,
        help="folder of aegui weights and manifest.json",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="JSON file to write"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 on success, 2 on an invalid option or setup error."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logger.setLevel(logging.INFO)
    args = setup_args().parse_args(argv)
    try:
        run_benchmark(args)
    except BenchmarkError as error:
        logger.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
