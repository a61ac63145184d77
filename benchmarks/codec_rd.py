# SPDX-License-Identifier: MIT
r"""Measure rate-distortion curves of aegui, JPEG, WebP and AVIF on Kodak.

For every image and quality setting the script encodes and decodes in memory
and records the compressed size, bpp, RGB PSNR, MS-SSIM and the encode and
decode times. It writes one CompressAI-style JSON file per codec plus a
per-image file, prints a table per codec and the BD-rates of aegui (or the
``--bd-codec``) against the other codecs and the published reference curves,
and plots the curves::

    python benchmarks/codec_rd.py
    python benchmarks/codec_rd.py --images 2 --codecs jpeg,webp \\
        --qualities jpeg=10,50,90 webp=10,50,90

Times include the conversion between the numpy array and the codec's image
object, so Pillow codecs and aegui are timed from array to bytes and back.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import io
import json
import logging
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, features

# Running the file as a script puts only benchmarks/ on sys.path, so add the
# repository root to import aegui without installing it.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from aegui.core.metrics import bjontegaard_rate, ms_ssim, psnr  # noqa: E402

logger = logging.getLogger("codec_rd")

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "datasets" / "kodak24"
DEFAULT_ANCHORS = REPO_ROOT.parent / "shared" / "anchors" / "kodak"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
DEFAULT_PLOT = REPO_ROOT / "docs" / "rd-kodak.png"
IMAGE_SUFFIXES = (".png", ".bmp", ".ppm", ".tif", ".tiff")

CODEC_KEYS = ("jpeg", "webp", "avif", "aegui")
DEFAULT_QUALITIES = {
    "jpeg": tuple(range(5, 100, 5)),
    "webp": tuple(range(5, 100, 5)),
    # With libaom 3.14 at speed 6, kodim01 and kodim23 took 0.08-0.13 bpp at
    # quality 10 and 1.7-3.2 bpp at quality 90, which brackets the plotted range.
    "avif": tuple(range(10, 100, 10)),
}
AVIF_SPEED = 6
PLOT_MAX_BPP = 2.0

Encoder = Callable[[np.ndarray, int], bytes]
Decoder = Callable[[bytes], np.ndarray]


class BenchmarkError(Exception):
    """A failure that stops the benchmark with a message for the user."""


@dataclasses.dataclass(frozen=True)
class CodecUnderTest:
    """One codec to benchmark: its names, quality settings and coding functions."""

    key: str
    name: str
    description: str
    qualities: tuple[int, ...]
    encode: Encoder
    decode: Decoder
    extra_meta: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RDCurve:
    """Mean bpp, PSNR and MS-SSIM per quality point of one codec."""

    name: str
    bpp: list[float]
    psnr: list[float]
    ms_ssim: list[float] | None
    measured: bool


# Pillow codecs


def encode_with_pillow(rgb: np.ndarray, format_name: str, **options: Any) -> bytes:
    """Encode an RGB array with a Pillow image plugin, in memory."""
    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format=format_name, **options)
    return buffer.getvalue()


def decode_with_pillow(data: bytes) -> np.ndarray:
    """Decode any Pillow-readable image to a uint8 RGB array."""
    with Image.open(io.BytesIO(data)) as image:
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)


def make_jpeg_codec(qualities: Sequence[int]) -> CodecUnderTest:
    """Return Pillow's JPEG encoder with Huffman table optimization."""
    turbo = features.version_feature("libjpeg_turbo")
    return CodecUnderTest(
        key="jpeg",
        name="JPEG",
        description=(
            f"JPEG, Pillow {Image.__version__}, libjpeg-turbo {turbo}, "
            "optimize=True, default 4:2:0 chroma subsampling"
        ),
        qualities=tuple(qualities),
        encode=lambda rgb, q: encode_with_pillow(rgb, "JPEG", quality=q, optimize=True),
        decode=decode_with_pillow,
    )


def make_webp_codec(qualities: Sequence[int]) -> CodecUnderTest:
    """Return Pillow's lossy WebP encoder at its slowest, best method."""
    return CodecUnderTest(
        key="webp",
        name="WebP",
        description=(
            f"WebP, Pillow {Image.__version__}, libwebp {features.version('webp')}, "
            "lossy, method=6"
        ),
        qualities=tuple(qualities),
        encode=lambda rgb, q: encode_with_pillow(rgb, "WEBP", quality=q, method=6),
        decode=decode_with_pillow,
    )


def make_avif_codec(qualities: Sequence[int], threads: int | None) -> CodecUnderTest:
    """Return Pillow's AVIF encoder at speed 6 and 4:2:0 chroma subsampling.

    Raises:
        BenchmarkError: If this Pillow build has no AVIF support.
    """
    if not features.check("avif"):
        raise BenchmarkError(
            f"Pillow {Image.__version__} was built without AVIF support; install "
            "a Pillow build with libavif, or run without avif in --codecs"
        )
    from PIL import AvifImagePlugin

    options: dict[str, Any] = {"speed": AVIF_SPEED, "subsampling": "4:2:0"}
    if threads is not None:
        options["max_threads"] = threads
    threads_text = str(threads) if threads is not None else "Pillow default"
    return CodecUnderTest(
        key="avif",
        name="AVIF",
        description=(
            f"AVIF, Pillow {Image.__version__}, libavif {features.version('avif')}, "
            f"encoder aom {AvifImagePlugin.get_codec_version('aom')}, "
            f"speed={AVIF_SPEED}, 4:2:0, max_threads={threads_text}"
        ),
        qualities=tuple(qualities),
        encode=lambda rgb, q: encode_with_pillow(rgb, "AVIF", quality=q, **options),
        decode=decode_with_pillow,
    )


# aegui codec


def make_aegui_codec(
    qualities: Sequence[int] | None, refine_steps: int = 0
) -> CodecUnderTest:
    """Load the shipped aegui model and return it as a codec under test.

    Raises:
        BenchmarkError: If ``aegui.core.codec`` cannot be imported or a requested
            quality is not one that the model offers.
    """
    try:
        from aegui.core.codec import load_codec
    except ImportError as error:
        raise BenchmarkError(
            f"cannot benchmark aegui because importing aegui.core.codec failed "
            f"({error}); run with --codecs jpeg,webp,avif to skip it"
        ) from error

    start = time.perf_counter()
    codec = load_codec()
    load_time = time.perf_counter() - start
    logger.info("loaded the aegui model in %.2f s", load_time)

    available = tuple(int(q) for q in codec.qualities)
    chosen = tuple(qualities) if qualities is not None else available
    invalid = [q for q in chosen if q not in available]
    if invalid:
        raise BenchmarkError(
            f"aegui qualities {invalid} are not available; the model offers "
            f"{list(available)}"
        )
    description = f"aegui learned codec, torch {torch.__version__}, CPU"
    if refine_steps:
        description += f", {refine_steps} refinement steps"
        if codec.refine_in_bfloat16:
            description += " in bfloat16"
    return CodecUnderTest(
        key="aegui",
        name="aegui",
        description=description,
        qualities=chosen,
        encode=lambda rgb, quality: codec.compress(rgb, quality, refine_steps),
        decode=codec.decompress,
        extra_meta={
            "model_load_time": load_time,
            "refine_steps": refine_steps,
            "refine_bfloat16": bool(refine_steps) and codec.refine_in_bfloat16,
        },
    )


# Measurement


def load_images(data_dir: Path, count: int | None) -> list[tuple[str, np.ndarray]]:
    """Load the first ``count`` images of ``data_dir`` (sorted by name) as RGB.

    Raises:
        BenchmarkError: If the folder is missing or contains no images.
    """
    if not data_dir.is_dir():
        raise BenchmarkError(
            f"dataset folder not found: {data_dir}; pass --data with a folder of "
            "PNG images such as the 24 Kodak photos"
        )
    paths = sorted(p for p in data_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise BenchmarkError(
            f"no images with suffix {', '.join(IMAGE_SUFFIXES)} in {data_dir}"
        )
    if count is not None:
        paths = paths[:count]

    images = []
    for path in paths:
        with Image.open(path) as image:
            images.append((path.name, np.asarray(image.convert("RGB"))))
    return images


def measure_point(
    codec: CodecUnderTest, source: str, rgb: np.ndarray, quality: int
) -> dict[str, Any]:
    """Encode and decode one image at one quality and return its measurements."""
    start = time.perf_counter()
    data = codec.encode(rgb, quality)
    encoding_time = time.perf_counter() - start

    start = time.perf_counter()
    decoded = codec.decode(data)
    decoding_time = time.perf_counter() - start

    if decoded.shape != rgb.shape or decoded.dtype != np.uint8:
        raise BenchmarkError(
            f"{codec.name} decoded {source} at quality {quality} to "
            f"{decoded.dtype} {decoded.shape}, expected uint8 {rgb.shape}"
        )
    height, width = rgb.shape[:2]
    return {
        "source": source,
        "quality": quality,
        "width": width,
        "height": height,
        "bytes": len(data),
        "bpp": 8 * len(data) / (width * height),
        "psnr-rgb": psnr(rgb, decoded),
        "ms-ssim-rgb": ms_ssim(rgb, decoded),
        "encoding_time": encoding_time,
        "decoding_time": decoding_time,
    }


def run_codec(
    codec: CodecUnderTest, images: Sequence[tuple[str, np.ndarray]]
) -> list[dict[str, Any]]:
    """Measure every image at every quality of ``codec``."""
    records = []
    for source, rgb in images:
        start = time.perf_counter()
        for quality in codec.qualities:
            records.append(measure_point(codec, source, rgb, quality))
        logger.info(
            "%s: %s done in %.1f s", codec.name, source, time.perf_counter() - start
        )
    return records


def warm_up(codec: CodecUnderTest, rgb: np.ndarray) -> None:
    """Run one untimed encode and decode so that lazy set-up is not timed."""
    codec.decode(codec.encode(rgb, codec.qualities[0]))


def summarize(
    records: Sequence[dict[str, Any]], qualities: Sequence[int]
) -> dict[str, list[Any]]:
    """Average per-image records into one CompressAI-style value per quality.

    bpp, PSNR and MS-SSIM are the mean over images of the per-image values, as
    in CompressAI's results. Times get both the mean and the median.
    """
    results: dict[str, list[Any]] = {"quality": list(qualities)}
    mean_keys = ("bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time")
    for key in mean_keys:
        results[key] = []
    for key in ("encoding_time", "decoding_time"):
        results[f"{key}_median"] = []

    for quality in qualities:
        rows = [r for r in records if r["quality"] == quality]
        for key in mean_keys:
            results[key].append(statistics.fmean(r[key] for r in rows))
        for key in ("encoding_time", "decoding_time"):
            results[f"{key}_median"].append(statistics.median(r[key] for r in rows))
    return results


# Output files


def read_cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's name."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def read_aegui_version() -> str:
    """Return aegui's version, its git commit when it has no release version."""
    try:
        return importlib.metadata.version("aegui")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"git {commit}"


def build_meta(data_dir: Path, sources: Sequence[str]) -> dict[str, Any]:
    """Describe the run: software, machine, threads, dataset and command line."""
    return {
        "aegui_version": read_aegui_version(),
        "machine": {"cpu": read_cpu_model(), "cores": os.cpu_count()},
        "torch_threads": torch.get_num_threads(),
        "dataset": data_dir.name,
        "images": list(sources),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
    }


def replace_non_finite(value: Any) -> Any:
    """Replace inf and NaN by None, recursively, because JSON has no such values."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: replace_non_finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_non_finite(v) for v in value]
    return value


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write ``content`` as indented JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(replace_non_finite(content), indent=2, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    logger.info("wrote %s", path)


def write_codec_results(
    out_dir: Path,
    codec: CodecUnderTest,
    meta: dict[str, Any],
    records: list[dict[str, Any]],
    results: dict[str, list[Any]],
) -> None:
    """Write ``<key>.json`` with the means and ``<key>-per-image.json``."""
    codec_meta = {**meta, **codec.extra_meta}
    header = {"name": codec.name, "description": codec.description, "meta": codec_meta}
    write_json(out_dir / f"{codec.key}.json", {**header, "results": results})
    write_json(out_dir / f"{codec.key}-per-image.json", {**header, "results": records})


def format_codec_table(name: str, results: dict[str, list[Any]]) -> str:
    """Format one row per quality with the mean metrics and median times."""
    lines = [
        "",
        name,
        f"{'quality':>7} {'bpp':>7} {'PSNR dB':>8} {'MS-SSIM':>8} {'MS-SSIM dB':>10} "
        f"{'enc ms':>8} {'dec ms':>8}",
    ]
    for i, quality in enumerate(results["quality"]):
        ms_ssim_value = results["ms-ssim-rgb"][i]
        lines.append(
            f"{quality:>7} {results['bpp'][i]:>7.4f} {results['psnr-rgb'][i]:>8.3f} "
            f"{ms_ssim_value:>8.5f} {ms_ssim_db(ms_ssim_value):>10.3f} "
            f"{1000 * results['encoding_time_median'][i]:>8.1f} "
            f"{1000 * results['decoding_time_median'][i]:>8.1f}"
        )
    lines.append("bpp, PSNR and MS-SSIM are means over images, times are medians")
    return "\n".join(lines)


def write_report(text: str) -> None:
    """Print a result table to standard output, which is this CLI's output."""
    print(text)  # noqa: T201


def ms_ssim_db(value: float) -> float:
    """Convert MS-SSIM to decibels, ``-10 * log10(1 - value)``."""
    if value >= 1.0:
        return math.inf
    return -10.0 * math.log10(1.0 - value)


# BD-rates and reference curves


def load_anchor_curves(anchor_dir: Path) -> list[RDCurve]:
    """Read published RD curves in CompressAI's JSON shape from ``anchor_dir``."""
    if not anchor_dir.is_dir():
        logger.warning("reference curve folder not found, skipping: %s", anchor_dir)
        return []
    curves = []
    for path in sorted(anchor_dir.glob("*.json")):
        content = json.loads(path.read_text(encoding="utf-8"))
        results = content.get("results", {})
        if "bpp" not in results or "psnr-rgb" not in results:
            logger.warning("skipping %s: it has no bpp or psnr-rgb results", path)
            continue
        curves.append(
            RDCurve(
                name=content.get("name", path.stem),
                bpp=results["bpp"],
                psnr=results["psnr-rgb"],
                ms_ssim=results.get("ms-ssim-rgb"),
                measured=False,
            )
        )
    return curves


def compute_bd_rates(
    test: RDCurve, references: Sequence[RDCurve]
) -> list[dict[str, Any]]:
    """Compute the PSNR BD-rate of ``test`` against each reference curve.

    A reference that the cubic fit cannot handle (fewer than 4 points, or no
    shared PSNR interval) gets ``None`` and the reason instead of a value.
    """
    rows = []
    for reference in references:
        row: dict[str, Any] = {
            "reference": reference.name,
            "source": "this run" if reference.measured else "published",
        }
        try:
            row["bd_rate_percent"] = bjontegaard_rate(
                reference.bpp, reference.psnr, test.bpp, test.psnr
            )
        except ValueError as error:
            row["bd_rate_percent"] = None
            row["error"] = str(error)
        rows.append(row)
    return rows


def format_bd_table(test_name: str, rows: Sequence[dict[str, Any]]) -> str:
    """Format one BD-rate, or the reason it is missing, per reference curve."""
    lines = [
        "",
        f"BD-rate of {test_name} (PSNR RGB, cubic fit; negative = fewer bits)",
    ]
    for row in rows:
        label = f"{row['reference']} ({row['source']})"
        value = row["bd_rate_percent"]
        text = f"{value:+8.2f} %" if value is not None else f"n/a: {row['error']}"
        lines.append(f"  vs {label:<40} {text}")
    return "\n".join(lines)


# Plot


def plot_rd_curves(
    measured: Sequence[RDCurve], anchors: Sequence[RDCurve], path: Path
) -> None:
    """Draw PSNR and MS-SSIM (dB) against bpp, measured solid, anchors dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # tab10 alone repeats after 10 curves, and a run can draw 13 or more.
    colors = [*plt.get_cmap("tab10").colors, *plt.get_cmap("Dark2").colors]
    figure, (psnr_axes, ms_ssim_axes) = plt.subplots(1, 2, figsize=(13, 5.5))
    for index, curve in enumerate([*measured, *anchors]):
        style = {
            "linestyle": "-" if curve.measured else "--",
            "marker": "o" if curve.measured else None,
            "linewidth": 2.0 if curve.measured else 1.2,
            "markersize": 3,
            "color": colors[index % len(colors)],
            "label": curve.name if curve.measured else f"{curve.name} (published)",
        }
        psnr_axes.plot(curve.bpp, curve.psnr, **style)
        if curve.ms_ssim is not None:
            ms_ssim_db_values = [ms_ssim_db(v) for v in curve.ms_ssim]
            ms_ssim_axes.plot(curve.bpp, ms_ssim_db_values, **style)

    for axes, ylabel in ((psnr_axes, "PSNR RGB (dB)"), (ms_ssim_axes, "MS-SSIM (dB)")):
        axes.set_xlim(0.0, PLOT_MAX_BPP)
        axes.set_xlabel("bits per pixel")
        axes.set_ylabel(ylabel)
        axes.grid(True, alpha=0.3)
        fit_y_limits(axes)
    psnr_axes.legend(fontsize=8, loc="lower right")
    figure.suptitle("Rate-distortion on Kodak")
    figure.tight_layout()

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    logger.info("wrote %s", path)


def fit_y_limits(axes: Any) -> None:
    """Fit the y range to the points inside the x range, with a small margin."""
    x_max = axes.get_xlim()[1]
    visible = [
        y
        for line in axes.get_lines()
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        if x <= x_max and math.isfinite(y)
    ]
    if visible:
        margin = 0.03 * (max(visible) - min(visible)) + 0.1
        axes.set_ylim(min(visible) - margin, max(visible) + margin)


# Command line


def parse_qualities(entries: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Parse ``CODEC=Q1,Q2,...`` entries into a quality list per codec key.

    Raises:
        BenchmarkError: If an entry is malformed or names an unknown codec.
    """
    parsed = {}
    for entry in entries:
        key, separator, values = entry.partition("=")
        if not separator or key not in CODEC_KEYS:
            raise BenchmarkError(
                f"invalid --qualities entry {entry!r}; expected CODEC=Q1,Q2,... "
                f"with CODEC one of {', '.join(CODEC_KEYS)}"
            )
        try:
            chosen = tuple(int(v) for v in values.split(","))
        except ValueError as error:
            raise BenchmarkError(
                f"invalid --qualities entry {entry!r}: qualities must be integers"
            ) from error
        if key != "aegui" and not all(0 <= q <= 100 for q in chosen):
            raise BenchmarkError(
                f"invalid --qualities entry {entry!r}: Pillow qualities are 0..100"
            )
        parsed[key] = chosen
    return parsed


def parse_codec_keys(text: str) -> list[str]:
    """Split the ``--codecs`` value into codec keys and check each one."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    unknown = [key for key in keys if key not in CODEC_KEYS]
    if unknown or not keys:
        raise BenchmarkError(
            f"invalid --codecs {text!r}; choose from {', '.join(CODEC_KEYS)}"
        )
    return keys


def setup_args() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of test images"
    )
    parser.add_argument(
        "--anchors",
        type=Path,
        default=DEFAULT_ANCHORS,
        help="folder of published RD curves as CompressAI JSON files",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder for the JSON results"
    )
    parser.add_argument(
        "--plot", type=Path, default=DEFAULT_PLOT, help="PNG file for the RD plot"
    )

    parser.add_argument(
        "--images", type=int, help="use only the first N images (default: all)"
    )
    parser.add_argument(
        "--codecs",
        default=",".join(CODEC_KEYS),
        help=f"comma-separated codecs to run (default: {','.join(CODEC_KEYS)})",
    )
    parser.add_argument(
        "--qualities",
        nargs="+",
        default=[],
        metavar="CODEC=Q1,Q2,...",
        help="quality settings per codec, e.g. jpeg=10,50,90 aegui=1,4,8 "
        "(default: JPEG and WebP 5..95 step 5, AVIF 10..90 step 10, all of aegui)",
    )

    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads and AVIF encoder threads (default: library defaults)",
    )
    parser.add_argument(
        "--refine",
        type=int,
        default=0,
        metavar="STEPS",
        help="refinement steps for aegui, as in 'aegui compress --refine' (default 0)",
    )
    parser.add_argument(
        "--bd-codec",
        default="aegui",
        choices=CODEC_KEYS,
        help="codec whose BD-rates are reported (default: aegui)",
    )
    return parser


def make_codecs(
    keys: Sequence[str],
    qualities: dict[str, tuple[int, ...]],
    threads: int | None,
    refine_steps: int = 0,
) -> list[CodecUnderTest]:
    """Create the codecs named by ``keys``, each with its qualities."""
    codecs = []
    for key in keys:
        if key == "jpeg":
            codecs.append(make_jpeg_codec(qualities.get(key, DEFAULT_QUALITIES[key])))
        elif key == "webp":
            codecs.append(make_webp_codec(qualities.get(key, DEFAULT_QUALITIES[key])))
        elif key == "avif":
            chosen = qualities.get(key, DEFAULT_QUALITIES[key])
            codecs.append(make_avif_codec(chosen, threads))
        else:
            codecs.append(make_aegui_codec(qualities.get(key), refine_steps))
    return codecs


def report_bd_rates(
    bd_key: str,
    curves: dict[str, RDCurve],
    anchors: Sequence[RDCurve],
    out_dir: Path,
    meta: dict[str, Any],
) -> None:
    """Print and save the BD-rates of one measured codec against all others."""
    if bd_key not in curves:
        logger.info("no BD-rates: %s was not measured in this run", bd_key)
        return
    test = curves[bd_key]
    references = [curve for key, curve in curves.items() if key != bd_key]
    rows = compute_bd_rates(test, [*references, *anchors])
    write_report(format_bd_table(test.name, rows))
    summary = {
        "test_codec": test.name,
        "metric": "psnr-rgb",
        "method": "Bjontegaard cubic polynomial fit of ln(bpp) against PSNR",
        "meta": meta,
        "bd_rate": rows,
    }
    write_json(out_dir / "summary.json", summary)


def run_benchmark(args: argparse.Namespace) -> None:
    """Measure all codecs, then write the results, BD-rates and plot.

    Raises:
        BenchmarkError: On an invalid option, missing data or a failed codec.
    """
    if args.images is not None and args.images < 1:
        raise BenchmarkError(f"invalid --images {args.images}; expected N >= 1")
    if args.threads is not None and args.threads < 1:
        raise BenchmarkError(f"invalid --threads {args.threads}; expected N >= 1")
    keys = parse_codec_keys(args.codecs)
    qualities = parse_qualities(args.qualities)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    images = load_images(args.data, args.images)
    if args.refine < 0:
        raise BenchmarkError(f"Invalid --refine {args.refine}: use 0 or more steps")
    codecs = make_codecs(keys, qualities, args.threads, args.refine)
    meta = build_meta(args.data, [source for source, _ in images])

    curves: dict[str, RDCurve] = {}
    for codec in codecs:
        logger.info("measuring %s at qualities %s", codec.name, list(codec.qualities))
        if codec.key == "aegui":
            warm_up(codec, images[0][1])
        records = run_codec(codec, images)
        results = summarize(records, codec.qualities)
        write_codec_results(args.out, codec, meta, records, results)
        write_report(format_codec_table(codec.name, results))
        curves[codec.key] = RDCurve(
            codec.name,
            results["bpp"],
            results["psnr-rgb"],
            results["ms-ssim-rgb"],
            True,
        )

    anchors = load_anchor_curves(args.anchors)
    report_bd_rates(args.bd_codec, curves, anchors, args.out, meta)
    plot_rd_curves(list(curves.values()), anchors, args.plot)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark with command-line arguments ``argv``.

    Returns:
        The exit code: 0 on success, 2 on an invalid option or a failed codec.
    """
    # Progress of this script at INFO, other libraries only from WARNING.
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
