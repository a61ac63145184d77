# SPDX-License-Identifier: MIT
"""Measure codec speed on 768x512 photos and peak memory on a 6000x4000 photo.

Speed: model loading is timed once, then every photo is encoded and decoded in
memory (file I/O excluded) after one warm-up run, and the medians are reported.
Memory: ``aegui compress`` and ``aegui decompress`` run as child processes on a
synthetic 6000x4000 photo, and their peak resident set size comes from wait4.

Usage: python benchmarks/codec_speed_memory.py [--data DIR] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import cpu_name
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "kodak24"


def measure_speed(
    folder: Path, images: int, quality: int, threads: int
) -> dict[str, object]:
    """Time model loading and per-photo encode and decode."""
    import torch

    from aegui.core.memory import keep_freed_memory
    from aegui.core.zoo import load_codec

    torch.set_num_threads(threads)
    keep_freed_memory()  # as the aegui command does at start-up
    started = time.perf_counter()
    codec = load_codec()
    load_seconds = time.perf_counter() - started

    paths = sorted(folder.glob("*.png"))[:images]
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    codec.decompress(codec.compress(photos[0], quality))  # warm-up
    encode, decode = [], []
    for photo in photos:
        started = time.perf_counter()
        data = codec.compress(photo, quality)
        encode.append(time.perf_counter() - started)
        started = time.perf_counter()
        codec.decompress(data)
        decode.append(time.perf_counter() - started)
    return {
        "images": [p.name for p in paths],
        "quality": quality,
        "model_load_seconds": round(load_seconds, 3),
        "encode_seconds_median": round(statistics.median(encode), 3),
        "decode_seconds_median": round(statistics.median(decode), 3),
        "encode_seconds_max": round(max(encode), 3),
        "decode_seconds_max": round(max(decode), 3),
    }


def make_large_photo(
    path: Path, source: Path, width: int = 6000, height: int = 4000
) -> None:
    """Upscale a photo to ``width`` x ``height`` and add grain so it is not flat."""
    image = (
        Image.open(source)
        .convert("RGB")
        .resize((width, height), Image.Resampling.BICUBIC)
    )
    pixels = np.asarray(image).astype(np.int16)
    grain = np.random.default_rng(0).integers(-6, 7, size=pixels.shape, dtype=np.int16)
    Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8)).save(path)


def run_measured(command: list[str]) -> tuple[float, float, int]:
    """Run a command; return its wall seconds, peak RSS in MiB and exit status."""
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure_memory(source: Path, quality: int, threads: int) -> dict[str, object]:
    """Compress and decompress a 6000x4000 photo in child processes."""
    aegui = [sys.executable, "-m", "aegui", "--threads", str(threads)]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        photo = folder / "large.png"
        make_large_photo(photo, source)
        compress = run_measured(
            [
                *aegui,
                "compress",
                str(photo),
                "-o",
                str(folder / "aez"),
                "-q",
                str(quality),
            ]
        )
        decompress = run_measured(
            [
                *aegui,
                "decompress",
                str(folder / "aez" / "large.aez"),
                "-o",
                str(folder / "png"),
            ]
        )
        size = (folder / "aez" / "large.aez").stat().st_size if compress[2] == 0 else 0
    return {
        "size": "6000x4000",
        "quality": quality,
        "compress_seconds": round(compress[0], 1),
        "compress_peak_rss_mib": round(compress[1]),
        "compress_status": compress[2],
        "decompress_seconds": round(decompress[0], 1),
        "decompress_peak_rss_mib": round(decompress[1]),
        "decompress_status": decompress[2],
        "aez_bytes": size,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of 768x512 PNG photos"
    )
    parser.add_argument("--images", type=int, default=24, help="photos to time")
    parser.add_argument("--quality", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--skip-memory", action="store_true", help="skip the 6000x4000 run"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results" / "codec-speed-memory.json",
    )
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"data folder {args.data} not found; pass --data")

    result: dict[str, object] = {
        "meta": {
            "machine": f"{cpu_name()}, {os.cpu_count()} cores",
            "threads": args.threads,
            "date": time.strftime("%Y-%m-%d"),
            "command": " ".join(
                [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]
            ),
        },
        "speed": measure_speed(args.data, args.images, args.quality, args.threads),
    }
    print(json.dumps(result["speed"], indent=2))  # noqa: T201
    if not args.skip_memory:
        source = sorted(args.data.glob("*.png"))[0]
        result["memory"] = measure_memory(source, args.quality, args.threads)
        print(json.dumps(result["memory"], indent=2))  # noqa: T201
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
