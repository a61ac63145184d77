# SPDX-License-Identifier: MIT
"""Train the denoiser to rebuild clean crops from randomly corrupted copies.

Each sample is a random crop of a training photo, corrupted by one draw of
``aegui.training.corruptions.corrupt`` and paired with that corruption's
noise-level map. The loss is L1 (default) or MSE between the network's output
and the clean crop. Runs resume from ``OUT/checkpoint.pt``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from aegui.core.models.denoiser import ARCHITECTURE, DenoiseUNet
from aegui.training.corruptions import corrupt
from aegui.training.data import RandomCrops, load_training_images
from aegui.training.loop import (
    RunState,
    Schedule,
    add_init_option,
    add_run_options,
    load_checkpoint,
    load_init_weights,
    run_training,
)

logger = logging.getLogger(__name__)

# Benchmark sets that are never trained on. A --data path that names one of
# them is rejected.
BENCHMARK_SETS = ("cbsd68", "bsd68", "kodak", "mcmaster", "urban100", "set12")


def setup_args(parser: argparse.ArgumentParser) -> None:
    """Add the denoiser training options to ``parser``."""
    parser.add_argument(
        "--data", type=Path, required=True, help="folder of training photos"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("runs/denoise"), help="run folder"
    )
    parser.add_argument(
        "--width", type=int, default=32, help="channels at full resolution"
    )
    parser.add_argument("--crop", type=int, default=128, help="crop size in pixels")
    parser.add_argument("--batch", type=int, default=16, help="crops per step")
    parser.add_argument(
        "--lr", type=float, default=5e-4, help="peak learning rate, decayed on a cosine"
    )
    parser.add_argument(
        "--loss", choices=["l1", "mse"], default="l1", help="reconstruction loss"
    )
    add_run_options(parser, bf16_help="bfloat16 autocast for the network")
    add_init_option(parser)


def check_training_data(folder: Path) -> None:
    """Raise ValueError if ``folder`` looks like a benchmark set."""
    name = str(folder.resolve()).lower()
    for benchmark in BENCHMARK_SETS:
        if benchmark in name:
            raise ValueError(
                f"Invalid training data {folder}: {benchmark} is a benchmark set "
                "and is never trained on; use a training set such as BSDS400"
            )


class CorruptedCrops:
    """Batches of (corrupted, level map, clean) float NCHW tensors from random crops."""

    def __init__(self, crops: RandomCrops, seed: int) -> None:
        self.crops = crops
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``size`` samples: noisy (N, 3, H, W), level (N, 1, H, W), clean."""
        noisy, levels, clean = [], [], []
        for _ in range(size):
            crop = self.crops.crop_one().astype(np.float32) / 255.0
            corrupted = corrupt(crop, self.rng)
            noisy.append(corrupted.image)
            levels.append(corrupted.level_map)
            clean.append(crop)
        return (
            torch.from_numpy(np.stack(noisy)).permute(0, 3, 1, 2).float(),
            torch.from_numpy(np.stack(levels)).unsqueeze(1).float(),
            torch.from_numpy(np.stack(clean)).permute(0, 3, 1, 2).float(),
        )


def train(args: argparse.Namespace) -> None:
    """Train (or resume) the denoiser described by ``args``."""
    check_training_data(args.data)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    checkpoint = args.out / "checkpoint.pt"
    config: dict[str, Any] = {
        "architecture": ARCHITECTURE,
        "width": args.width,
        "conditioned": True,
        "crop": args.crop,
        "batch": args.batch,
        "lr": args.lr,
        "loss": args.loss,
        "data": str(args.data),
        "bf16": bool(args.bf16),
        "init": args.init.name if args.init is not None else None,
    }
    model = DenoiseUNet(args.width, conditioned=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    state = RunState()
    if checkpoint.exists():
        saved = load_checkpoint(checkpoint)
        model.load_state_dict(saved["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])
        state = RunState(saved["step"], saved["seconds"], saved["history"])
        logger.info(
            "Resumed %s at step %d (%.0f s)", checkpoint, state.step, state.seconds
        )
    elif args.init is not None:
        state_dict, metadata = load_init_weights(args.init)
        found = (metadata.get("architecture"), metadata.get("width"))
        if found != (ARCHITECTURE, args.width):
            raise ValueError(
                f"Invalid --init {args.init}: it contains a {found[0]} network of "
                f"width {found[1]}, expected {ARCHITECTURE} of width {args.width}"
            )
        model.load_state_dict(state_dict)
        logger.info("Initialised from %s with a fresh optimizer", args.init)

    images = load_training_images(
        args.data, scales=(1.0, 0.75, 0.5), min_side=args.crop
    )
    # Seeding with the step makes a resumed run draw new crops and corruptions.
    crops = RandomCrops(images, args.crop, seed=args.seed + state.step)
    samples = CorruptedCrops(crops, seed=args.seed + state.step + 1)
    model = model.to(memory_format=torch.channels_last)
    loss_fn = F.l1_loss if args.loss == "l1" else F.mse_loss

    def step(_: int) -> dict[str, float]:
        noisy, level, clean = samples.batch(args.batch)
        noisy = noisy.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            x_hat = model(noisy, level)
        x_hat = x_hat.float()
        loss = loss_fn(x_hat, clean)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        mse = (x_hat.detach().clamp(0.0, 1.0) - clean).pow(2).flatten(1).mean(1)
        psnr = -10 * torch.log10(mse.clamp_min(1e-10))
        return {"loss": loss.item(), "psnr": psnr.mean().item()}

    schedule = Schedule(args.lr, args.steps, args.hours * 3600.0)
    run_training(
        model=model,
        optimizer=optimizer,
        schedule=schedule,
        step_fn=step,
        checkpoint=checkpoint,
        config=config,
        state=state,
    )


def main(argv: list[str] | None = None) -> None:
    """Run denoiser training from the command line."""
    parser = argparse.ArgumentParser(prog="aegui-train-denoise", description=__doc__)
    setup_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)


if __name__ == "__main__":
    main()
