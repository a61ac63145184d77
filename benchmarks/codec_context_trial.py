# SPDX-License-Identifier: MIT
r"""Try a checkerboard context model on the frozen latents of the shipped codec.

A checkerboard context model (He et al. 2021, arXiv:2103.15306) codes the
anchor latents (row + column even) with the hyperprior's mean and scale, then
refines the mean and scale of the other half from the anchors' symbols. This
trial keeps the codec's transforms and hyperprior as shipped and trains only
the context model, which a file format could add without changing any
decoded pixel of an anchor. It runs three steps:

1. Analyse every ``--every``-th BSDS400 photo at 0.75 of its size (as the
   codec trains) at every quality level, keeping ``y - mean`` and the scale
   indices.
2. Train the model on random 16x16 crops of those latent grids for rate
   alone, with uniform noise in place of rounding.
3. Count the bits of the non-anchor latents, rounded, under Gaussian bins,
   with and without the model, on the training photos, on other BSDS400
   photos and on Kodak, at qualities 2, 6 and 10.

Two shapes of model: ``conv`` (three 3x3 convolutions with ``--hidden``
channels) and ``depthwise`` (a 5x5 convolution per channel on the anchors,
then three 1x1 convolutions). Results go to
``benchmarks/results/codec-context-trial.json``, one entry per run::

    python benchmarks/codec_context_trial.py --threads 2 --model conv --hidden 192
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import codec_run_meta, start_run  # noqa: E402

from aegui.core.codec import ImageCodec, load_codec  # noqa: E402
from aegui.core.models.hyperprior import SCALE_LEVELS  # noqa: E402
from aegui.core.refine import scale_from_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "codec-context-trial.json"
CROP = 16  # latents per crop side
TRAIN_SCALE = 0.75
QUALITIES = (2, 6, 10)
WARMUP_STEPS = 300

logger = logging.getLogger("codec_context_trial")

Grid = tuple[np.ndarray, np.ndarray]  # residual (M, rows, columns), scale index


def anchor_mask(rows: int, columns: int) -> torch.Tensor:
    """Return a (1, 1, rows, columns) mask that is 1 where row + column is even."""
    row = torch.arange(rows)[:, None]
    column = torch.arange(columns)[None, :]
    return ((row + column) % 2 == 0).float()[None, None]


def gaussian_bits(offset: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Return the bits of the unit bin centred ``offset`` from the mean of N(0, scale)."""
    normal = torch.distributions.Normal(0.0, 1.0)
    mass = normal.cdf((offset + 0.5) / scale) - normal.cdf((offset - 0.5) / scale)
    return -torch.log2(mass.clamp_min(1e-9))


class ContextModel(nn.Module):
    """A small network that predicts a mean shift and a scale for every latent."""

    def __init__(self, channels: int, shape: str, hidden: int) -> None:
        super().__init__()
        self.channels = channels
        inputs = 2 * channels
        if shape == "conv":
            self.anchors: nn.Module = nn.Identity()
            layers = [
                nn.Conv2d(inputs, hidden, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(hidden, hidden, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(hidden, inputs, 3, padding=1),
            ]
        else:
            self.anchors = nn.Conv2d(channels, channels, 5, padding=2, groups=channels)
            layers = [
                nn.Conv2d(inputs, hidden, 1),
                nn.ReLU(),
                nn.Conv2d(hidden, hidden, 1),
                nn.ReLU(),
                nn.Conv2d(hidden, inputs, 1),
            ]
        self.net = nn.Sequential(*layers)
        # Starting at zero, the model begins as the plain hyperprior.
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(
        self, anchor_symbols: torch.Tensor, index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the mean shift and the scale of every latent."""
        scaled_index = (index.float() - SCALE_LEVELS / 2) / (SCALE_LEVELS / 4)
        features = torch.cat([self.anchors(anchor_symbols), scaled_index], dim=1)
        output = self.net(features)
        log_scales = scale_from_index(np.arange(SCALE_LEVELS)).log()
        log_scale = log_scales[index] + output[:, self.channels :]
        scale = log_scale.clamp(float(log_scales[0]), float(log_scales[-1])).exp()
        return output[:, : self.channels], scale


def read_photo(path: Path, scale: float) -> np.ndarray:
    """Return the photo at ``path`` as uint8 RGB, resized by ``scale``."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if scale != 1.0:
        size = (round(rgb.width * scale), round(rgb.height * scale))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(rgb)


def analyse(codec: ImageCodec, rgb: np.ndarray, qualities: Any) -> list[Grid]:
    """Return the residual and scale index grid of ``rgb`` at each quality."""
    grids = []
    for quality in qualities:
        _, residual, _, index = codec._analyse(rgb, quality)
        grids.append((residual.astype(np.float32), index.astype(np.int64)))
    return grids


def random_crops(
    grids: list[Grid], count: int, random: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``count`` crops of random grids, with top + left even."""
    residuals, indices = [], []
    while len(residuals) < count:
        residual, index = grids[random.integers(len(grids))]
        rows, columns = residual.shape[1:]
        if min(rows, columns) < CROP:
            continue
        top = int(random.integers(rows - CROP + 1)) // 2 * 2
        left = int(random.integers(columns - CROP + 1)) // 2 * 2
        window = (slice(None), slice(top, top + CROP), slice(left, left + CROP))
        residuals.append(torch.from_numpy(residual[window]))
        indices.append(torch.from_numpy(index[window]))
    return torch.stack(residuals), torch.stack(indices)


def train(
    model: ContextModel, grids: list[Grid], steps: int, lr: float, seed: int
) -> float:
    """Train ``model`` and return its saving on the last 250 steps' crops (percent)."""
    random = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    others = 1.0 - anchor_mask(CROP, CROP)
    recent: list[tuple[float, float]] = []
    for step in range(steps):
        warmup = min(1.0, (step + 1) / WARMUP_STEPS)
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / steps))
        for group in optimizer.param_groups:
            group["lr"] = lr * warmup * (0.05 + 0.95 * cosine)
        residual, index = random_crops(grids, 16, random)
        noisy = residual + torch.rand_like(residual) - 0.5
        shift, scale = model(torch.round(residual) * (1.0 - others), index)
        after = (gaussian_bits(noisy - shift, scale) * others).sum()
        with torch.no_grad():
            table_scale = scale_from_index(index.numpy())
            before = (gaussian_bits(noisy, table_scale) * others).sum()
        optimizer.zero_grad(set_to_none=True)
        (after / others.sum() / len(residual)).backward()
        optimizer.step()
        recent = [*recent[-249:], (after.item(), before.item())]
        if (step + 1) % 250 == 0:
            logger.info("step %d: saving %.2f %%", step + 1, saving(recent))
    return saving(recent)


def saving(pairs: list[tuple[float, float]]) -> float:
    """Return the percent of bits saved, from (with model, without) pairs."""
    after, before = np.sum(pairs, axis=0)
    return float(100.0 * (1.0 - after / before))


@torch.inference_mode()
def measure(model: ContextModel, grids: list[Grid]) -> float:
    """Return the percent of non-anchor bits the model saves on whole grids, rounded."""
    pairs = []
    for residual, index in grids:
        others = 1.0 - anchor_mask(*residual.shape[1:])
        residual_t = torch.from_numpy(residual)[None]
        index_t = torch.from_numpy(index)[None]
        symbols = torch.round(residual_t)
        shift, scale = model(symbols * (1.0 - others), index_t)
        after = gaussian_bits(torch.round(residual_t - shift), scale)
        before = gaussian_bits(symbols, scale_from_index(index))
        pairs.append(((after * others).sum().item(), (before * others).sum().item()))
    return saving(pairs)


def main(argv: list[str] | None = None) -> None:
    """Analyse, train, measure and add the run to the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["conv", "depthwise"], default="conv")
    parser.add_argument("--hidden", type=int, default=192)
    parser.add_argument("--every", type=int, default=3,
                        help="train on every Nth BSDS400 photo")  # fmt: skip
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    start_run(args.threads)
    torch.manual_seed(0)
    bsds = sorted((DATASETS / "bsds400").glob("*.jpg"))
    kodak = sorted((DATASETS / "kodak24").glob("*.png"))
    if not bsds or not kodak:
        parser.error(f"{DATASETS}: the BSDS400 and Kodak photos are needed")
    training = bsds[:: args.every][: args.photos]
    held_out = [path for path in bsds[1::50] if path not in training]
    codec = load_codec()

    grids: list[Grid] = []
    for number, path in enumerate(training, 1):
        grids += analyse(codec, read_photo(path, TRAIN_SCALE), codec.qualities)
        if number % 40 == 0:
            logger.info("analysed %d of %d training photos", number, len(training))
    model = ContextModel(codec.model.M, args.model, args.hidden)
    last_steps = train(model, grids, args.steps, args.lr, seed=0)

    tests = {
        "training photos": [read_photo(path, TRAIN_SCALE) for path in training[:8]],
        "other BSDS400 photos": [read_photo(path, TRAIN_SCALE) for path in held_out],
        "Kodak": [read_photo(path, 1.0) for path in kodak[::3]],
    }
    savings = {
        name: {
            str(quality): measure(
                model, [analyse(codec, rgb, [quality])[0] for rgb in photos]
            )
            for quality in QUALITIES
        }
        for name, photos in tests.items()
    }
    entry = {
        "meta": codec_run_meta("codec_context_trial.py", argv, codec),
        "model": args.model,
        "hidden": args.hidden,
        "parameters": sum(p.numel() for p in model.parameters()),
        "training_photos": len(training),
        "steps": args.steps,
        "training_crop_saving_percent": last_steps,
        "photos_measured": {name: len(photos) for name, photos in tests.items()},
        "non_anchor_saving_percent": savings,
    }
    runs = json.loads(args.out.read_text())["runs"] if args.out.exists() else []
    runs = [
        run
        for run in runs
        if (run["model"], run["hidden"]) != (args.model, args.hidden)
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"name": "codec-context-trial", "runs": [*runs, entry]}, indent=2)
        + "\n"
    )
    logger.info("wrote %s: %s", args.out, json.dumps(savings))


if __name__ == "__main__":
    main()
