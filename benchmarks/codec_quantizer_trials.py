# SPDX-License-Identifier: MIT
r"""Try other ways of choosing the coded symbols of ``y`` with the shipped codec.

The shipped encoder rounds ``y_s - mean`` to the nearest integer. Two
alternatives change only the encoder: the decoder, and with it every file's
exactness, stays as it is, because the symbols are coded with the same
tables. Each trial codes the photo, decodes it with the shipped exact decoder,
and reports bpp (all coded bytes, without the container header) and RGB PSNR.

* ``round``: what ``aegui compress`` does by default.
* ``deadzone D``: rounds magnitudes down when their fraction is below
  ``0.5 + D``, a dead zone around the mean as in classical rate-distortion
  optimised quantization.
* ``refine N``: ``aegui compress --refine N``, N gradient steps per tile on
  the rate-distortion loss (``aegui.core.refine``), then rounding. ``z`` stays
  as the encoder chose it. On CPUs with native bfloat16, ``g_s`` runs in
  bfloat16 during the steps, as in ``aegui compress``.
* ``refine-float32 N``: the same in float32 throughout, to compare.

For each trial the summary gives the mean change in bpp (percent) and PSNR
(dB) against ``round`` over the photos and levels. Results go to
``benchmarks/results/codec-quantizer-trials.json``::

    python benchmarks/codec_quantizer_trials.py --threads 2 \
        --images kodim05,kodim15,kodim23 --qualities 2,6,9
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import codec_run_meta, start_run  # noqa: E402

from aegui.core.codec import ImageCodec, Latents, load_codec  # noqa: E402
from aegui.core.metrics import psnr  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "kodak24"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "codec-quantizer-trials.json"

logger = logging.getLogger("codec_quantizer_trials")


def round_with_deadzone(
    residual: torch.Tensor, deadzone: float, bound: torch.Tensor
) -> np.ndarray:
    """Round ``residual`` with a dead zone of ``deadzone`` and clip it to the tables."""
    magnitude = torch.floor(residual.abs() + 0.5 - deadzone).clamp_min(0)
    symbols = torch.sign(residual) * magnitude
    return symbols[0].clamp(-bound, bound).numpy().astype(np.int32)


def deadzone_latents(
    codec: ImageCodec, rgb: np.ndarray, quality: int, deadzone: float
) -> Latents:
    """Code ``rgb`` as the shipped encoder does, but with a dead zone in the rounding."""
    z_hat, residual, _, index = codec._analyse(rgb, quality)
    bound = torch.from_numpy(codec.y_tables.maxima.astype(np.float32)[index])
    symbols = round_with_deadzone(torch.from_numpy(residual)[None], deadzone, bound)
    height, width = rgb.shape[:2]
    return codec.code_symbols(z_hat, symbols, index, width, height, quality)


def run_trial(
    codec: ImageCodec, rgb: np.ndarray, quality: int, trial: tuple[str, float]
) -> dict[str, float]:
    """Code ``rgb`` one way, decode it exactly and return bpp, PSNR and seconds."""
    kind, value = trial
    started = time.perf_counter()
    if kind == "deadzone":
        latents = deadzone_latents(codec, rgb, quality, value)
    elif kind == "refine-float32":
        default = codec.refine_in_bfloat16
        codec.refine_in_bfloat16 = False
        try:
            latents = codec.encode(rgb, quality, refine_steps=int(value))
        finally:
            codec.refine_in_bfloat16 = default
    else:
        refine_steps = int(value) if kind == "refine" else 0
        latents = codec.encode(rgb, quality, refine_steps=refine_steps)
    seconds = time.perf_counter() - started
    decoded = codec.decode(latents)
    bits = 8 * (len(latents.z_stream) + len(latents.y_stream))
    return {
        "bpp": bits / (rgb.shape[0] * rgb.shape[1]),
        "psnr": psnr(rgb, decoded),
        "encode_seconds": seconds,
    }


def trial_name(trial: tuple[str, float]) -> str:
    """Return a label such as ``round``, ``deadzone 0.05`` or ``refine 30``."""
    kind, value = trial
    if kind == "round":
        return kind
    return f"{kind} {value if kind == 'deadzone' else int(value):g}"


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Return each trial's mean change in bpp (%) and PSNR (dB) against ``round``."""
    baseline = {(r["image"], r["quality"]): r for r in rows if r["trial"] == "round"}
    summary: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r["trial"] for r in rows if r["trial"] != "round"):
        changes = [
            (
                100 * (r["bpp"] / baseline[r["image"], r["quality"]]["bpp"] - 1),
                r["psnr"] - baseline[r["image"], r["quality"]]["psnr"],
                r["encode_seconds"],
            )
            for r in rows
            if r["trial"] == name
        ]
        summary[name] = {
            "bpp_change_percent": float(np.mean([c[0] for c in changes])),
            "psnr_change_db": float(np.mean([c[1] for c in changes])),
            "encode_seconds": float(np.mean([c[2] for c in changes])),
        }
    return summary


def main(argv: list[str] | None = None) -> None:
    """Run the trials and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--images", default="kodim05,kodim15,kodim23",
                        help="comma-separated photo names in --data, without .png")  # fmt: skip
    parser.add_argument("--qualities", default="2,6,9")
    parser.add_argument("--deadzones", default="0.05,0.1")
    parser.add_argument("--refine-steps", default="30")
    parser.add_argument("--float32-refine-steps", default="",
                        help="refinement steps to run in float32 as well")  # fmt: skip
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    start_run(args.threads)
    if not args.data.is_dir():
        parser.error(f"{args.data}: no such folder (the Kodak photos are needed)")
    codec = load_codec()
    trials: list[tuple[str, float]] = [("round", 0.0)]
    trials += [("deadzone", float(v)) for v in args.deadzones.split(",") if v]
    trials += [("refine", float(v)) for v in args.refine_steps.split(",") if v]
    trials += [
        ("refine-float32", float(v)) for v in args.float32_refine_steps.split(",") if v
    ]
    torch.manual_seed(0)
    rows = []
    for name in args.images.split(","):
        rgb = np.asarray(Image.open(args.data / f"{name}.png").convert("RGB"))
        for quality in (int(q) for q in args.qualities.split(",")):
            for trial in trials:
                result = run_trial(codec, rgb, quality, trial)
                row = {"image": name, "quality": quality, "trial": trial_name(trial)}
                rows.append({**row, **result})
                logger.info("%s", json.dumps(rows[-1]))
    report = {
        "name": "codec-quantizer-trials",
        "meta": {
            **codec_run_meta("codec_quantizer_trials.py", argv, codec),
            "refine_bfloat16": codec.refine_in_bfloat16,
        },
        "summary": summarise(rows),
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    logger.info("wrote %s: %s", args.out, json.dumps(report["summary"]))


if __name__ == "__main__":
    main()
