# SPDX-License-Identifier: MIT
"""Train the variable-rate hyperprior codec on rate + lambda * 255^2 * MSE."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import torch

from aegui.argtypes import above_zero
from aegui.core.models.hyperprior import (
    DEFAULT_LAMBDAS,
    DOWNSAMPLING,
    MeanScaleHyperprior,
    resample_gains,
)
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

# BSDS400's photos are JPEGs (481x321, chroma at half resolution), so each is
# also loaded at 3/4 size, where colour detail is finer relative to the pixels.
DEFAULT_SCALES = (1.0, 0.75)


def setup_args(parser: argparse.ArgumentParser) -> None:
    """Add the codec training options to ``parser``."""
    parser.add_argument(
        "--data", type=Path, required=True, help="folder of training photos"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("runs/codec"), help="run folder"
    )
    parser.add_argument("--N", type=int, default=96, help="hidden channels of g_a/g_s")
    parser.add_argument("--M", type=int, default=160, help="latent channels")
    parser.add_argument(
        "--hyper-channels",
        type=int,
        default=96,
        help="channels of the hyperprior h_a/h_s",
    )
    parser.add_argument(
        "--crop",
        type=crop_size,
        default=192,
        help=f"crop size in pixels, a multiple of {DOWNSAMPLING}",
    )
    parser.add_argument("--batch", type=int, default=8, help="crops per step")
    parser.add_argument(
        "--lr", type=float, default=2e-4, help="peak learning rate, decayed on a cosine"
    )
    add_run_options(parser, bf16_help="bfloat16 autocast for g_a/g_s")
    parser.add_argument(
        "--scales",
        type=scale_list,
        default=",".join(f"{scale:g}" for scale in DEFAULT_SCALES),
        metavar="S,S,...",
        help="sizes at which every photo is loaded, as fractions of its own size; "
        "smaller copies have full-resolution color and softer JPEG artefacts",
    )
    parser.add_argument(
        "--smooth-fraction",
        type=float,
        default=0.1,
        help="share of crops replaced by flat color or gentle gradients",
    )
    add_init_option(parser)


def crop_size(text: str) -> int:
    """Parse a crop size that the codec's total downsampling divides."""
    size = above_zero(int)(text)
    if size % DOWNSAMPLING:
        raise argparse.ArgumentTypeError(
            f"invalid crop {size}: choose a multiple of {DOWNSAMPLING}, "
            f"the codec's total downsampling"
        )
    return size


def scale_list(text: str) -> tuple[float, ...]:
    """Parse "1,0.75" into scales, each above 0 and at most 1."""
    try:
        scales = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid scales {text!r}") from None
    # "not in range" also catches NaN.
    if not all(0.0 < scale <= 1.0 for scale in scales):
        raise argparse.ArgumentTypeError(
            f"invalid scales {text!r}: choose numbers above 0 and at most 1"
        )
    return scales


def sample_bpp(likelihoods: dict[str, torch.Tensor], pixels: int) -> torch.Tensor:
    """Return bits per pixel for each sample of the batch."""
    bits = sum(-torch.log2(lik).flatten(1).sum(1) for lik in likelihoods.values())
    return bits / pixels


def train(args: argparse.Namespace) -> None:
    """Train (or resume) the codec described by ``args``."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    checkpoint = args.out / "checkpoint.pt"
    config: dict[str, Any] = {
        "architecture": "msh-gain",
        "N": args.N,
        "M": args.M,
        "hyper_channels": args.hyper_channels,
        "lambdas": list(DEFAULT_LAMBDAS),
        "crop": args.crop,
        "batch": args.batch,
        "lr": args.lr,
        "data": str(args.data),
        "bf16": bool(args.bf16),
        "init": args.init.name if args.init is not None else None,
        "smooth_fraction": args.smooth_fraction,
        "scales": list(args.scales),
    }
    model = MeanScaleHyperprior(
        args.N, args.M, args.hyper_channels, len(DEFAULT_LAMBDAS)
    )
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
        init_lambdas = list(metadata.get("lambdas", DEFAULT_LAMBDAS))
        if init_lambdas != list(DEFAULT_LAMBDAS):
            # Weights trained for other quality levels keep their transforms, and
            # their gain vectors are resampled to the current lambdas.
            for name in ("log_gain", "log_inv_gain"):
                state_dict[name] = resample_gains(
                    state_dict[name], init_lambdas, list(DEFAULT_LAMBDAS)
                )
            logger.info("Resampled gains from lambdas %s", init_lambdas)
        model.load_state_dict(state_dict)
        logger.info("Initialised from %s with a fresh optimizer", args.init)

    images = load_training_images(args.data, scales=args.scales, min_side=args.crop)
    crops = RandomCrops(
        images,
        args.crop,
        seed=args.seed + state.step,
        smooth_fraction=args.smooth_fraction,
    )
    lambdas = torch.tensor(DEFAULT_LAMBDAS)
    model = model.to(memory_format=torch.channels_last)

    def step(_: int) -> dict[str, float]:
        x = crops.batch(args.batch).contiguous(memory_format=torch.channels_last)
        level = torch.randint(len(DEFAULT_LAMBDAS), (args.batch,))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            out = model(x, level)
        x_hat = out["x_hat"].float()
        mse = (x_hat - x).pow(2).flatten(1).mean(1)
        bpp = sample_bpp(out["likelihoods"], x.shape[2] * x.shape[3])
        loss = (lambdas[level] * 255**2 * mse + bpp).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        psnr = -10 * torch.log10(mse.detach().clamp_min(1e-10))
        return {
            "loss": loss.item(),
            "bpp": bpp.mean().item(),
            "psnr": psnr.mean().item(),
        }

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
    """Run codec training from the command line."""
    parser = argparse.ArgumentParser(prog="aegui-train-codec", description=__doc__)
    setup_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)


if __name__ == "__main__":
    main()
