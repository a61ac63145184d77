# SPDX-License-Identifier: MIT
"""Turn a denoiser training checkpoint into shipped weights and a manifest entry.

Export writes the network's float32 weights to
``pretrained/denoise-<architecture>-<sha8>.safetensors`` and records them as the
``denoise`` entry of ``pretrained/manifest.json``, next to the entries of the
other models. Given an evaluation folder, it adds white Gaussian noise at sigma
15, 25 and 50 to every image (fixed seed, noise not clipped), denoises with the
automatic strength, clips the result to 0..255 and records the mean RGB PSNR.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from aegui.core.metrics import psnr
from aegui.core.models.denoiser import DenoiseUNet, parameter_count
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

EVAL_SIGMAS = (15, 25, 50)
EVAL_SEED = 0
EVAL_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def evaluate(
    denoiser: Any, folder: Path, sigmas: tuple[int, ...] = EVAL_SIGMAS
) -> dict[str, Any]:
    """Return the mean PSNR of blind denoising on ``folder`` at each sigma."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in EVAL_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"No evaluation images found in {folder}")
    images = []
    for path in paths:
        with Image.open(path) as image:
            images.append(np.asarray(image.convert("RGB")))
    results: dict[str, Any] = {"sigma": list(sigmas), "psnr-rgb": [], "psnr-noisy": []}
    for sigma in sigmas:
        rng = np.random.default_rng(EVAL_SEED)
        scores, noisy_scores = [], []
        for clean in images:
            noisy = clean.astype(np.float32) + rng.normal(
                0.0, sigma, clean.shape
            ).astype(np.float32)
            _, level = denoiser.noise_level(noisy)
            denoised = np.clip(denoiser.denoise(noisy, level), 0.0, 255.0)
            scores.append(psnr(clean, denoised))
            noisy_scores.append(psnr(clean, np.clip(noisy, 0.0, 255.0)))
        results["psnr-rgb"].append(round(float(np.mean(scores)), 3))
        results["psnr-noisy"].append(round(float(np.mean(noisy_scores)), 3))
        logger.info(
            "sigma %d: %.2f dB (noisy input %.2f dB)",
            sigma,
            results["psnr-rgb"][-1],
            results["psnr-noisy"][-1],
        )
    results["images"] = len(images)
    results["seed"] = EVAL_SEED
    return results


def export(checkpoint: Path, out_dir: Path, eval_dir: Path | None) -> Path:
    """Export ``checkpoint`` into ``out_dir`` and update its manifest."""
    from aegui.core.zoo import load_denoiser

    saved = load_checkpoint(checkpoint)
    config = saved["config"]
    model = DenoiseUNet(config["width"], config["conditioned"])
    model.load_state_dict(saved["state_dict"])
    model.eval()

    tensors = {
        f"model.{k}": v.detach().float().numpy() for k, v in model.state_dict().items()
    }
    model_id = f"aegui-denoise-{config['architecture']}-w{config['width']}"
    metadata = {
        "kind": "denoise",
        "model_id": model_id,
        "architecture": config["architecture"],
        "width": config["width"],
        "conditioned": config["conditioned"],
        "parameters": parameter_count(model),
        "input": "float RGB 0..1 NCHW plus a sigma/255 map; any size",
    }
    path, sha256 = save_exported(
        out_dir, "denoise", config["architecture"], tensors, metadata
    )

    training = {
        **run_record(saved),
        "loss": config["loss"],
        "corruptions": "Gaussian, Poisson-Gaussian, salt-and-pepper, knock-out, JPEG, mixtures",
        "command": training_command("denoise", config),
    }
    previous = read_manifest(out_dir).get("models", {}).get("denoise", {})
    entry: dict[str, Any] = {
        "file": path.name,
        "sha256": sha256,
        **metadata,
        "training": link_earlier_run(training, saved, previous),
        "exported": datetime.date.today().isoformat(),
    }
    if eval_dir is not None:
        denoiser = load_denoiser(path)
        started = time.perf_counter()
        entry["evaluation"] = {
            "dataset": eval_dir.name,
            "noise": "white Gaussian, not clipped; output clipped to 0..255; automatic strength",
            **evaluate(denoiser, eval_dir),
        }
        entry["evaluation"]["seconds"] = round(time.perf_counter() - started, 1)

    update_manifest(out_dir, "denoise", entry)
    return path


def main(argv: list[str] | None = None) -> None:
    """Export a denoiser checkpoint from the command line."""
    parser = argparse.ArgumentParser(prog="aegui-export-denoise", description=__doc__)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=Path("pretrained"))
    parser.add_argument(
        "--eval", type=Path, default=None, help="folder to measure PSNR on"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    export(args.checkpoint, args.out, args.eval)


if __name__ == "__main__":
    main()
