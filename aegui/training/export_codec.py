# SPDX-License-Identifier: MIT
"""Turn a codec training checkpoint into shipped weights and a manifest entry.

Export rounds the hyper-decoder to integers and tabulates the hyper-latent prior
and the Gaussian scale table as integer counts. Everything goes into
``pretrained/codec-<architecture>-<sha8>.safetensors``. When given an evaluation
folder, export also codes every image at every quality and records the measured
bpp and PSNR in the manifest.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aegui.core.entropy import TableSet, gaussian_tables, quantize_pmf
from aegui.core.intnet import IntegerHyperDecoder
from aegui.core.intsynth import ExactSynthesis, stages_to_tensors
from aegui.core.models.hyperprior import (
    LOG_SCALE_OFFSET,
    LOG_SCALE_STEP,
    LOG_SCALE_UNIT,
    SCALE_LEVELS,
    LogisticMixturePrior,
    MeanScaleHyperprior,
)
from aegui.training.codec import DEFAULT_SCALES
from aegui.training.loop import load_checkpoint
from aegui.training.manifest import (
    link_earlier_run,
    read_manifest,
    run_record,
    save_exported,
    training_command,
    update_manifest,
)

logger = logging.getLogger(__name__)

Z_SEARCH = 512  # hyper-latent values searched for the table supports
TAIL_MASS = 1e-7


def prior_tables(prior: LogisticMixturePrior, tail: float = TAIL_MASS) -> TableSet:
    """Tabulate each channel of the hyper-latent prior over its likely values."""
    values = torch.arange(-Z_SEARCH, Z_SEARCH + 1, dtype=torch.float64)
    channels = prior.logits.shape[0]
    with torch.no_grad():
        grid = values.view(1, 1, 1, -1).expand(1, channels, 1, -1).float()
        upper = prior.cdf(grid + 0.5)[0, :, 0].double().numpy()
        lower = prior.cdf(grid - 0.5)[0, :, 0].double().numpy()
    tables, minima = [], []
    for c in range(channels):
        inside = np.flatnonzero((upper[c] > tail / 2) & (lower[c] < 1 - tail / 2))
        first, last = int(inside[0]), int(inside[-1])
        if last == first:
            # Constriction cannot build a model of one symbol, so a channel that
            # has collapsed onto one value also gets the value next to it.
            if last + 1 < len(values):
                last += 1
            else:
                first -= 1
        pmf = upper[c, first : last + 1] - lower[c, first : last + 1]
        pmf[0] += lower[c, first]  # fold the tails into the end bins
        pmf[-1] += 1.0 - upper[c, last]
        tables.append(quantize_pmf(pmf))
        minima.append(int(values[first]))
    return TableSet.from_tables(tables, minima)


def scale_table() -> np.ndarray:
    """Return the Gaussian scales that the scale indices stand for."""
    steps = LOG_SCALE_OFFSET + LOG_SCALE_STEP * np.arange(SCALE_LEVELS)
    return np.exp(steps / LOG_SCALE_UNIT)


def calibration_latents(
    model: MeanScaleHyperprior, data: Path | None
) -> list[torch.Tensor]:
    """Return decoder inputs that set the integer synthesis's activation ranges.

    Up to six training photos (or, without them, smooth random images) are
    coded at the lowest, middle and highest quality, cropped to 256x256.
    """
    from aegui.training.data import IMAGE_SUFFIXES

    images: list[np.ndarray] = []
    if data is not None and data.is_dir():
        paths = sorted(
            p for p in data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )[:6]
        from PIL import Image

        images = [np.asarray(Image.open(p).convert("RGB"))[:256, :256] for p in paths]
    if not images:
        rng = np.random.default_rng(0)
        grid = np.linspace(0, 6.28, 128)
        base = np.sin(
            grid[:, None, None] * rng.uniform(1, 4, 3)[None, None, :]
            + grid[None, :, None]
        )
        images = [
            np.clip(127 + 100 * base + rng.normal(0, 8, base.shape), 0, 255).astype(
                np.uint8
            )
        ]
    latents = []
    with torch.no_grad():
        for image in images:
            height, width = (image.shape[0] // 64) * 64, (image.shape[1] // 64) * 64
            x = (
                torch.from_numpy(image[:height, :width].copy())
                .permute(2, 0, 1)[None]
                .float()
                / 255
            )
            for level in sorted({0, model.levels // 2, model.levels - 1}):
                gain, inv_gain = model.gains(torch.tensor([level]))
                latents.append(torch.round(model.g_a(x) * gain) * inv_gain)
    return latents


def export_tensors(
    model: MeanScaleHyperprior, data: Path | None = None
) -> tuple[dict[str, np.ndarray], int, int]:
    """Return every tensor the shipped file stores, and the integer layer counts."""
    tensors = {
        f"model.{k}": v.detach().float().numpy() for k, v in model.state_dict().items()
    }
    synthesis = ExactSynthesis.from_float(model.g_s, calibration_latents(model, data))
    tensors.update(stages_to_tensors(synthesis))
    hyper = IntegerHyperDecoder.from_float(
        model.h_s, out_fraction=int(math.log2(LOG_SCALE_UNIT))
    )
    for index, layer in enumerate(hyper.layers):
        tensors[f"hyper.{index}.weight"] = layer.weight.astype(np.int64)
        tensors[f"hyper.{index}.bias"] = layer.bias.astype(np.int64)
        tensors[f"hyper.{index}.config"] = np.array(
            [
                layer.in_fraction,
                layer.weight_fraction,
                layer.out_fraction,
                layer.relu,
                layer.shuffle,
            ],
            dtype=np.int64,
        )
    for prefix, tables in (
        ("z_tables", prior_tables(model.z_prior)),
        ("y_tables", gaussian_tables(scale_table(), TAIL_MASS)),
    ):
        tensors[f"{prefix}.counts"] = tables.counts
        tensors[f"{prefix}.offsets"] = tables.offsets
        tensors[f"{prefix}.lengths"] = tables.lengths
        tensors[f"{prefix}.minima"] = tables.minima
    return tensors, len(hyper.layers), len(synthesis.stages)


def evaluate(codec: Any, folder: Path) -> dict[str, list[float]]:
    """Code every image in ``folder`` at every quality; return mean bpp and PSNR."""
    from PIL import Image

    from aegui.core.metrics import psnr

    paths = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"}
    )
    results: dict[str, list[float]] = {"quality": [], "bpp": [], "psnr-rgb": []}
    images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    for quality in codec.qualities:
        bpps, psnrs = [], []
        for image in images:
            data = codec.compress(image, quality)
            decoded = codec.decompress(data)
            bpps.append(8 * len(data) / (image.shape[0] * image.shape[1]))
            psnrs.append(psnr(image, decoded))
        results["quality"].append(quality)
        results["bpp"].append(float(np.mean(bpps)))
        results["psnr-rgb"].append(float(np.mean(psnrs)))
        logger.info(
            "quality %d: %.3f bpp, %.2f dB",
            quality,
            results["bpp"][-1],
            results["psnr-rgb"][-1],
        )
    return results


def training_record(saved: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Return the manifest's training record of a codec checkpoint.

    A run started with ``--init`` from the weights that ``previous`` (the
    manifest entry being replaced) describes records that run under
    ``initialized_from`` and counts its steps and hours in the totals.
    """
    config = saved["config"]
    record: dict[str, Any] = {
        **run_record(saved),
        "smooth_fraction": config.get("smooth_fraction", 0.0),
        "scales": config.get("scales", list(DEFAULT_SCALES)),
        "loss": "bpp + lambda * 255^2 * MSE, lambda drawn per sample from 'lambdas'",
        "command": training_command("compression", config),
    }
    return link_earlier_run(record, saved, previous, "lambdas")


def export(checkpoint: Path, out_dir: Path, eval_dir: Path | None) -> Path:
    """Export ``checkpoint`` into ``out_dir`` and update its manifest."""
    from aegui.core.zoo import load_codec

    saved = load_checkpoint(checkpoint)
    config = saved["config"]
    levels = len(config["lambdas"])
    model = MeanScaleHyperprior(
        config["N"], config["M"], config["hyper_channels"], levels
    )
    model.load_state_dict(saved["state_dict"])
    model.eval()

    tensors, hyper_layers, synthesis_stages = export_tensors(
        model, Path(config["data"])
    )
    model_id = f"aegui-{config['architecture']}-n{config['N']}-m{config['M']}"
    metadata = {
        "kind": "codec",
        "model_id": model_id,
        "architecture": config["architecture"],
        "N": config["N"],
        "M": config["M"],
        "hyper_channels": config["hyper_channels"],
        "levels": levels,
        "lambdas": config["lambdas"],
        "hyper_layers": hyper_layers,
        "synthesis_stages": synthesis_stages,
    }
    path, sha256 = save_exported(
        out_dir, "codec", config["architecture"], tensors, metadata
    )

    previous = read_manifest(out_dir).get("models", {}).get("codec", {})
    entry: dict[str, Any] = {
        "file": path.name,
        "sha256": sha256,
        **metadata,
        "training": training_record(saved, previous),
        "exported": datetime.date.today().isoformat(),
    }
    if eval_dir is not None:
        codec = load_codec(path)
        started = time.perf_counter()
        entry["evaluation"] = {"dataset": eval_dir.name, **evaluate(codec, eval_dir)}
        entry["evaluation"]["seconds"] = round(time.perf_counter() - started, 1)

    update_manifest(out_dir, "codec", entry)
    return path


def main(argv: list[str] | None = None) -> None:
    """Export a codec checkpoint from the command line."""
    parser = argparse.ArgumentParser(prog="aegui-export-codec", description=__doc__)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=Path("pretrained"))
    parser.add_argument(
        "--eval", type=Path, default=None, help="folder to measure bpp/PSNR on"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    export(args.checkpoint, args.out, args.eval)


if __name__ == "__main__":
    main()
