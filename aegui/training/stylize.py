# SPDX-License-Identifier: MIT
"""Train the style transfer model in two stages.

``--stage encoder`` trains the VGG-like encoder together with a decoder as a
plain image autoencoder (L1 reconstruction of random photo crops), because no
pretrained loss network can be downloaded. Its checkpoint is
``OUT/encoder/checkpoint.pt``.

``--stage decoder`` freezes that encoder and trains the decoder, starting from
the stage-one decoder, with the AdaIN losses of Huang and Belongie (2017). The
content loss is the MSE between the re-encoded output's relu4 and the AdaIN
target. The style loss is the MSE between the channel means and standard
deviations of the output's and the style's relu1 to relu4. An
identity term (L1 between the photo and the decoder's reconstruction of its
own features) keeps strength 0 close to the photo. With ``--texture-weight``,
a second style term compares the channel correlations of a fixed random
filter bank's responses (see ``TextureFeatures``), which tell brush textures
apart better than the encoder's narrow first layers do. ``--modulate`` adds
the style modulation of the decoder (``StyleModulation``), trained with it.
``--init`` starts this stage from shipped weights instead of an encoder
checkpoint. Content crops come from
the photo folder; style crops come from the style folder, augmented with
random scale, crops, flips, color jitter and, optionally, procedural
textures. Its checkpoint is ``OUT/decoder/checkpoint.pt``, the one to export.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from aegui.core.models.stylizer import (
    ARCHITECTURES,
    DEFAULT_WIDTHS,
    Stylizer,
    Widths,
    adain,
    channel_moments,
    channel_widths,
    config_widths,
    mean_std,
    style_code,
)
from aegui.training.data import IMAGE_SUFFIXES, RandomCrops, load_training_images
from aegui.training.denoise import check_training_data
from aegui.training.loop import (
    RunState,
    Schedule,
    add_init_option,
    add_run_options,
    load_checkpoint,
    load_init_weights,
    run_training,
)
from aegui.training.manifest import read_manifest

logger = logging.getLogger(__name__)

STAGES = ("encoder", "decoder")


def setup_args(parser: argparse.ArgumentParser) -> None:
    """Add the style transfer training options to ``parser``."""
    parser.add_argument(
        "--stage", choices=STAGES, required=True,
        help="'encoder' trains the feature network as an autoencoder; "
        "'decoder' freezes it and trains the style decoder",
    )  # fmt: skip
    parser.add_argument(
        "--data", type=Path, required=True, help="folder of training photos"
    )
    parser.add_argument(
        "--styles", type=Path, default=None,
        help="folder of style images (required for --stage decoder)",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=Path("runs/stylize"),
        help="run folder; each stage writes STAGE/checkpoint.pt in it",
    )  # fmt: skip
    parser.add_argument(
        "--width", type=parse_widths, default=DEFAULT_WIDTHS,
        help="channels of the first encoder stage (doubled at each later one), "
        "or all four stages, comma-separated",
    )  # fmt: skip
    parser.add_argument("--crop", type=int, default=128, help="crop size in pixels")
    parser.add_argument("--batch", type=int, default=8, help="crops per step")
    parser.add_argument(
        "--lr", type=float, default=2e-4, help="peak learning rate, decayed on a cosine"
    )
    parser.add_argument(
        "--style-weight", type=float, default=25.0,
        help="weight of the style loss against the content loss (decoder stage)",
    )  # fmt: skip
    parser.add_argument(
        "--identity-weight", type=float, default=1.0,
        help="weight of the L1 reconstruction term (decoder stage)",
    )  # fmt: skip
    parser.add_argument(
        "--textures", type=float, default=0.25,
        help="fraction of style crops replaced by procedural textures (decoder stage)",
    )  # fmt: skip
    parser.add_argument(
        "--texture-weight", type=float, default=0.0,
        help="weight of the texture loss: channel correlations of a fixed random "
        "filter bank's responses (decoder stage; 0 turns it off)",
    )  # fmt: skip
    parser.add_argument(
        "--texture-channels", type=int, default=32,
        help="filters per kernel size and pyramid level of that filter bank",
    )  # fmt: skip
    parser.add_argument(
        "--modulate", action="store_true",
        help="also feed the style to every decoder convolution as a gain and a "
        "bias per channel (architecture adain-film-vgg4; decoder stage)",
    )  # fmt: skip
    add_init_option(parser)
    add_run_options(
        parser, bf16_help="bfloat16 autocast for the networks (decoder stage)"
    )


def parse_widths(text: str) -> Widths:
    """Return the stage widths given by ``--width``: "16" or "8,16,64,128"."""
    try:
        numbers = [int(part) for part in text.split(",")]
        return channel_widths(numbers[0] if len(numbers) == 1 else numbers)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid width {text!r}: expected one positive number "
            "or four, comma-separated"
        ) from None


class StyleCrops:
    """Augmented square crops of style images, mixed with procedural textures.

    Each crop comes from a style image rescaled so that its short side is
    between 1 and 3 times the crop size, then flipped at random and given a
    random brightness, contrast, saturation and hue rotation.
    """

    def __init__(
        self, folder: Path, crop: int, texture_fraction: float, seed: int
    ) -> None:
        paths = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not paths:
            raise FileNotFoundError(f"No style images found in {folder}")
        self.images = []
        for path in paths:
            with Image.open(path) as image:
                self.images.append(image.convert("RGB"))
        self.crop = crop
        self.texture_fraction = texture_fraction
        self.rng = np.random.default_rng(seed)
        logger.info("Loaded %d style images from %s", len(self.images), folder)

    def crop_one(self) -> np.ndarray:
        """Return one float32 (crop, crop, 3) style sample in 0..1."""
        if self.rng.random() < self.texture_fraction:
            return procedural_texture(self.rng, self.crop)
        image = self.images[self.rng.integers(len(self.images))]
        short = self.crop * self.rng.uniform(1.0, 3.0)
        scale = short / min(image.size)
        size = (
            max(self.crop, round(image.width * scale)),
            max(self.crop, round(image.height * scale)),
        )
        resized = np.asarray(image.resize(size, Image.Resampling.BILINEAR))
        top = self.rng.integers(size[1] - self.crop + 1)
        left = self.rng.integers(size[0] - self.crop + 1)
        patch = resized[top : top + self.crop, left : left + self.crop]
        if self.rng.random() < 0.5:
            patch = patch[:, ::-1]
        if self.rng.random() < 0.5:
            patch = patch[::-1]
        return color_jitter(patch.astype(np.float32) / 255.0, self.rng)

    def batch(self, size: int) -> torch.Tensor:
        """Return a float NCHW batch in 0..1."""
        stacked = np.stack([self.crop_one() for _ in range(size)])
        return torch.from_numpy(stacked).permute(0, 3, 1, 2).float()


def color_jitter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return ``rgb`` (float 0..1) with random brightness, contrast, saturation and hue."""
    gray = rgb.mean(axis=2, keepdims=True)
    rgb = gray + (rgb - gray) * rng.uniform(0.6, 1.4)  # saturation
    rgb = (rgb - rgb.mean()) * rng.uniform(0.8, 1.2) + rgb.mean()  # contrast
    rgb = rgb + rng.uniform(-0.1, 0.1)  # brightness
    # Hue: rotate the colors about the gray axis by a random angle.
    angle = rng.uniform(-0.5, 0.5)
    axis = np.ones(3) / math.sqrt(3.0)
    cross = np.array(
        [[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]
    )
    rotation = (
        math.cos(angle) * np.eye(3)
        + math.sin(angle) * cross
        + (1 - math.cos(angle)) * np.outer(axis, axis)
    )
    return np.clip(rgb @ rotation.T.astype(np.float32), 0.0, 1.0).astype(np.float32)


def procedural_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Return a random float32 (size, size, 3) texture in 0..1.

    The texture is a sum of oriented sine waves mapped through a random
    palette of four colors, plus random strokes, so the decoder is also trained on
    styles whose statistics differ from those of the few paintings.
    """
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field = np.zeros((size, size), dtype=np.float32)
    for _ in range(rng.integers(2, 6)):
        angle = rng.uniform(0, math.pi)
        frequency = rng.uniform(2.0, 40.0)
        phase = rng.uniform(0, 2 * math.pi)
        projection = x * math.cos(angle) + y * math.sin(angle)
        field += np.sin(2 * math.pi * frequency * projection + phase) * rng.uniform(
            0.3, 1.0
        )
    field = (field - field.min()) / max(float(np.ptp(field)), 1e-6)
    palette = rng.uniform(0.0, 1.0, (4, 3)).astype(np.float32)
    position = field * 3.0
    index = np.minimum(position.astype(np.int64), 2)
    fraction = (position - index)[:, :, None]
    texture = palette[index] * (1 - fraction) + palette[index + 1] * fraction
    for _ in range(rng.integers(0, 30)):
        top, left = rng.integers(0, size, 2)
        length = rng.integers(size // 16 + 1, size // 3 + 2)
        thickness = rng.integers(1, max(2, size // 32))
        color = rng.uniform(0.0, 1.0, 3).astype(np.float32)
        if rng.random() < 0.5:
            texture[top : top + thickness, left : left + length] = color
        else:
            texture[top : top + length, left : left + thickness] = color
    return np.ascontiguousarray(texture, dtype=np.float32)


class TextureFeatures(nn.Module):
    """A fixed bank of random filters on an image pyramid: a loss network for texture.

    Gram matrices of random convolution filters describe a texture well enough
    to synthesize it again ("Texture synthesis using shallow convolutional
    networks with random filters", Ustyuzhaninov, Brendel, Gatys and Bethge,
    2016, arXiv:1606.00021), so they replace the ImageNet VGG features that
    cannot be downloaded here. Each pyramid level (full, 1/2, 1/4 and 1/8 size,
    by 2x2 averaging) goes through ``channels`` filters of each kernel size,
    drawn from a normal distribution, scaled to unit norm and followed by a
    ReLU. The bank is never trained; ``seed`` fixes it.
    """

    def __init__(
        self,
        channels: int = 32,
        kernels: tuple[int, ...] = (3, 7),
        levels: int = 4,
        seed: int = 0,
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.levels = levels
        for kernel in kernels:
            weight = torch.randn(channels, 3, kernel, kernel, generator=generator)
            weight /= weight.flatten(1).norm(dim=1)[:, None, None, None]
            self.register_buffer(f"filters{kernel}", weight)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Return the ReLU responses of every filter size at every level."""
        features = []
        level = image - 0.5
        for _ in range(self.levels):
            for weight in self.buffers():
                padding = weight.shape[-1] // 2
                features.append(F.relu(F.conv2d(level, weight, padding=padding)))
            level = F.avg_pool2d(level, 2)
        return features


# Weight of the log standard deviations against the correlations in
# ``texture_loss``: correlations ignore how strong a texture is, and this
# term keeps its contrast.
TEXTURE_CONTRAST_WEIGHT = 0.1


def correlations(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the (N, C, C) channel correlations and the (N, C) log stds of ``features``."""
    _, variance, correlation = channel_moments(features, epsilon=1e-6)
    return correlation, 0.5 * variance.log()


def texture_loss(output: list[torch.Tensor], style: list[torch.Tensor]) -> torch.Tensor:
    """Return how far the texture statistics of ``output`` are from those of ``style``.

    For each feature map, the MSE between the channel correlation matrices
    plus ``TEXTURE_CONTRAST_WEIGHT`` times the MSE between log standard
    deviations. Plain Gram matrices of the responses were tried first. They
    are dominated by the responses' means, which AdaIN already matches, and by
    them an unmodulated decoder's output was ten times closer to a painting
    crop than another crop of the same painting was.
    """
    loss = output[0].new_zeros((), dtype=torch.float32)
    for out_features, style_features in zip(output, style, strict=True):
        out_corr, out_log_std = correlations(out_features)
        style_corr, style_log_std = correlations(style_features)
        loss = loss + F.mse_loss(out_corr, style_corr)
        loss = loss + TEXTURE_CONTRAST_WEIGHT * F.mse_loss(out_log_std, style_log_std)
    return loss


def style_loss(output: list[torch.Tensor], style: list[torch.Tensor]) -> torch.Tensor:
    """Return the sum over layers of the MSE of channel means and stds."""
    loss = output[0].new_zeros(())
    for out_features, style_features in zip(output, style, strict=True):
        out_mean, out_std = mean_std(out_features)
        style_mean, style_std = mean_std(style_features)
        loss = loss + F.mse_loss(out_mean, style_mean) + F.mse_loss(out_std, style_std)
    return loss


def resume(
    checkpoint: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer
) -> RunState:
    """Load ``checkpoint`` into the model and optimizer if it exists."""
    if not checkpoint.exists():
        return RunState()
    saved = load_checkpoint(checkpoint)
    model.load_state_dict(saved["state_dict"])
    optimizer.load_state_dict(saved["optimizer"])
    state = RunState(saved["step"], saved["seconds"], saved["history"])
    logger.info("Resumed %s at step %d (%.0f s)", checkpoint, state.step, state.seconds)
    return state


def train(args: argparse.Namespace) -> None:
    """Train (or resume) the stage of the style transfer model given by ``args``."""
    check_training_data(args.data)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = Stylizer(args.width, modulated=args.stage == "decoder" and args.modulate)
    config: dict[str, Any] = {
        "architecture": model.architecture,
        "stage": args.stage,
        "widths": list(args.width),
        "crop": args.crop,
        "batch": args.batch,
        "lr": args.lr,
        "data": str(args.data),
    }
    if args.stage == "encoder":
        train_encoder(args, model, config)
    else:
        train_decoder(args, model, config)


def train_encoder(
    args: argparse.Namespace, model: Stylizer, config: dict[str, Any]
) -> None:
    """Train encoder and decoder together to reconstruct photo crops."""
    checkpoint = args.out / "encoder" / "checkpoint.pt"
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    state = resume(checkpoint, model, optimizer)
    crops = photo_crops(args, state)

    def step(_: int) -> dict[str, float]:
        photos = crops.batch(args.batch)
        output = model.decoder(model.encoder.bottleneck(photos))
        loss = F.l1_loss(output, photos)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        mse = (output.detach().clamp(0.0, 1.0) - photos).pow(2).mean()
        return {"loss": loss.item(), "psnr": -10 * math.log10(max(mse.item(), 1e-10))}

    run_training(
        model=model,
        optimizer=optimizer,
        schedule=Schedule(args.lr, args.steps, args.hours * 3600.0),
        step_fn=step,
        checkpoint=checkpoint,
        config=config,
        state=state,
    )


def train_decoder(
    args: argparse.Namespace, model: Stylizer, config: dict[str, Any]
) -> None:
    """Freeze the stage-one encoder and train the decoder with the AdaIN losses."""
    if args.styles is None:
        raise ValueError(
            "Missing --styles: the decoder stage needs a folder of style images"
        )
    checkpoint = args.out / "decoder" / "checkpoint.pt"
    if args.init is not None and not checkpoint.exists():
        encoder_steps = start_from_weights(args.init, model, args.width)
    else:
        encoder_steps = load_encoder_stage(args.out, model, args.width)
    model.encoder.requires_grad_(False)
    model.encoder.eval()
    config.update(
        style_weight=args.style_weight,
        identity_weight=args.identity_weight,
        textures=args.textures,
        texture_weight=args.texture_weight,
        texture_channels=args.texture_channels,
        bf16=bool(args.bf16),
        styles=str(args.styles),
        encoder_steps=encoder_steps,
        init=args.init.name if args.init is not None else None,
    )
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trained, lr=args.lr)
    state = resume(checkpoint, model, optimizer)
    texture_features = TextureFeatures(args.texture_channels, seed=args.seed)
    crops = photo_crops(args, state)
    styles = StyleCrops(
        args.styles, args.crop, args.textures, args.seed + state.step + 2
    )

    def step(_: int) -> dict[str, float]:
        photos = crops.batch(args.batch)
        style_images = styles.batch(args.batch)
        # The networks run under autocast, and every loss is computed in float32.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            with torch.no_grad():
                content_features = model.encoder.bottleneck(photos).float()
                style_features = [f.float() for f in model.encoder(style_images)]
                style_mean, style_std = mean_std(style_features[-1])
                target = adain(content_features, style_mean, style_std)
                code = style_code(style_features)
            modulation = [] if model.modulation is None else model.modulation(code)
            output = model.decoder(target, modulation)
            output_features = [f.float() for f in model.encoder(output)]
            reconstruction = model.decoder(content_features)
            texture = output.new_zeros(())
            if args.texture_weight > 0:
                with torch.no_grad():
                    style_textures = [f.float() for f in texture_features(style_images)]
                output_textures = [f.float() for f in texture_features(output)]
                texture = texture_loss(output_textures, style_textures)
        content = F.mse_loss(output_features[-1], target)
        style = style_loss(output_features, style_features)
        identity = F.l1_loss(reconstruction, photos)
        loss = content + args.style_weight * style + args.identity_weight * identity
        loss = loss + args.texture_weight * texture
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        return {
            "loss": loss.item(),
            "content": content.item(),
            "style": style.item(),
            "identity": identity.item(),
            "texture": texture.item(),
        }

    run_training(
        model=model,
        optimizer=optimizer,
        schedule=Schedule(args.lr, args.steps, args.hours * 3600.0),
        step_fn=step,
        checkpoint=checkpoint,
        config=config,
        state=state,
    )


def load_encoder_stage(out: Path, model: Stylizer, widths: Widths) -> int:
    """Load the encoder stage's checkpoint into ``model``; return its step count."""
    encoder_checkpoint = out / "encoder" / "checkpoint.pt"
    if not encoder_checkpoint.exists():
        raise FileNotFoundError(
            f"Encoder checkpoint {encoder_checkpoint} not found; "
            "run --stage encoder with the same --out first, or pass --init"
        )
    encoder_state = load_checkpoint(encoder_checkpoint)
    check_widths(
        config_widths(encoder_state["config"]), widths, str(encoder_checkpoint)
    )
    # The encoder stage has no style modulation, so a modulated decoder starts without one.
    model.load_state_dict(encoder_state["state_dict"], strict=model.modulation is None)
    return int(encoder_state["step"])


def start_from_weights(path: Path, model: Stylizer, widths: Widths) -> int | None:
    """Load shipped weights (encoder and decoder) into ``model``.

    Returns the encoder's step count when the manifest beside the weights
    records it, else None.
    """
    state_dict, metadata = load_init_weights(path)
    if metadata.get("architecture") not in ARCHITECTURES:
        raise ValueError(
            f"Invalid --init {path}: it contains a {metadata.get('architecture')} "
            f"network, expected one of {', '.join(ARCHITECTURES)}"
        )
    check_widths(config_widths(metadata), widths, str(path))
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if unexpected or any(not key.startswith("modulation.") for key in missing):
        raise ValueError(
            f"Invalid --init {path}: its weights do not fit this network "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    logger.info("Initialised from %s with a fresh optimizer", path)
    entry = read_manifest(path.parent)["models"].get("stylize", {})
    if entry.get("file") == path.name:
        return entry.get("training", {}).get("encoder_steps")
    return None


def check_widths(found: Widths, expected: Widths, source: str) -> None:
    """Raise ValueError when ``--width`` differs from the widths in ``source``."""
    if found != expected:
        raise ValueError(
            f"Invalid --width {','.join(map(str, expected))}: {source} contains "
            f"widths {','.join(map(str, found))}"
        )


def photo_crops(args: argparse.Namespace, state: RunState) -> RandomCrops:
    """Return random photo crops; seeding with the step gives a resumed run new crops."""
    images = load_training_images(
        args.data, scales=(1.0, 0.75, 0.5), min_side=args.crop
    )
    return RandomCrops(images, args.crop, seed=args.seed + state.step)


def main(argv: list[str] | None = None) -> None:
    """Run style transfer training from the command line."""
    parser = argparse.ArgumentParser(prog="aegui-train-stylize", description=__doc__)
    setup_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)


if __name__ == "__main__":
    main()
