# SPDX-License-Identifier: MIT
"""Shared fixtures: a tiny random-weight codec, sample photos, data-set paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aegui.core.models.hyperprior import DEFAULT_LAMBDAS, MeanScaleHyperprior

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
KODAK = SHARED / "datasets" / "kodak24"


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pretrained folder holding a small random-weight codec and its manifest."""
    from aegui.training.export_codec import export
    from aegui.training.loop import RunState, save_checkpoint

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("pretrained")
    model = MeanScaleHyperprior(
        N=16, M=24, hyper_channels=16, levels=len(DEFAULT_LAMBDAS)
    )
    config = {
        "architecture": "msh-gain",
        "N": 16,
        "M": 24,
        "hyper_channels": 16,
        "lambdas": list(DEFAULT_LAMBDAS),
        "crop": 64,
        "batch": 1,
        "lr": 1e-4,
        "data": "random",
    }
    checkpoint = folder / "tiny.pt"
    save_checkpoint(
        checkpoint, config, model, torch.optim.Adam(model.parameters()), RunState()
    )
    export(checkpoint, folder, None)
    checkpoint.unlink()
    return folder


@pytest.fixture
def tiny_codec(tiny_pretrained: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The tiny codec, also installed as the default model for the CLI and tasks."""
    from aegui.core.zoo import load_codec

    monkeypatch.setenv("AEGUI_PRETRAINED", str(tiny_pretrained))
    return load_codec()


@pytest.fixture(scope="session")
def tiny_denoise_pretrained(
    tiny_pretrained: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of ``tiny_pretrained`` that also contains a small random-weight denoiser."""
    import shutil

    from aegui.core.models.denoiser import ARCHITECTURE, DenoiseUNet
    from aegui.training.export_denoise import export
    from aegui.training.loop import RunState, save_checkpoint

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("pretrained-denoise")
    shutil.copytree(tiny_pretrained, folder, dirs_exist_ok=True)
    model = DenoiseUNet(width=4)
    config = {
        "architecture": ARCHITECTURE,
        "width": 4,
        "conditioned": True,
        "crop": 64,
        "batch": 1,
        "lr": 1e-4,
        "loss": "l1",
        "data": "random",
    }
    checkpoint = folder / "tiny-denoise.pt"
    save_checkpoint(
        checkpoint, config, model, torch.optim.Adam(model.parameters()), RunState()
    )
    export(checkpoint, folder, None)
    checkpoint.unlink()
    return folder


@pytest.fixture
def tiny_denoiser(tiny_denoise_pretrained: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The tiny denoiser, also installed (with the tiny codec) as the default models."""
    from aegui.core.zoo import load_denoiser

    monkeypatch.setenv("AEGUI_PRETRAINED", str(tiny_denoise_pretrained))
    denoiser = load_denoiser()
    denoiser.bfloat16 = False  # the tests compare float32 results exactly
    return denoiser


@pytest.fixture(scope="session")
def tiny_stylize_pretrained(
    tiny_pretrained: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of ``tiny_pretrained`` that also contains a small random-weight stylizer."""
    import shutil

    from aegui.core.models.stylizer import MODULATED_ARCHITECTURE, Stylizer
    from aegui.training.export_stylize import export
    from aegui.training.loop import RunState, save_checkpoint

    torch.manual_seed(2)
    folder = tmp_path_factory.mktemp("pretrained-stylize")
    shutil.copytree(tiny_pretrained, folder, dirs_exist_ok=True)
    model = Stylizer(width=4, modulated=True)
    # With PyTorch's default initialization, most ReLUs of so narrow a network
    # stay closed and the output is flat. He initialization and positive biases
    # give an output that depends on the photo and the style.
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            torch.nn.init.uniform_(module.bias, 0.0, 0.1)
    # The modulation starts at zero, where it would change nothing.
    assert model.modulation is not None
    torch.nn.init.normal_(model.modulation.out.weight, std=0.05)
    config = {
        "architecture": MODULATED_ARCHITECTURE,
        "stage": "decoder",
        "width": 4,
        "crop": 64,
        "batch": 1,
        "lr": 1e-4,
        "data": "random",
        "styles": "random",
    }
    checkpoint = folder / "tiny-stylize.pt"
    save_checkpoint(
        checkpoint,
        config,
        model,
        torch.optim.Adam(model.decoder.parameters()),
        RunState(),
    )
    export(checkpoint, folder, None)
    checkpoint.unlink()
    return folder


@pytest.fixture
def tiny_stylizer(tiny_stylize_pretrained: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The tiny stylizer, also installed (with the tiny codec) as the default models."""
    from aegui.core.zoo import load_stylizer

    monkeypatch.setenv("AEGUI_PRETRAINED", str(tiny_stylize_pretrained))
    stylizer = load_stylizer()
    stylizer.bfloat16 = False  # the tests compare float32 results exactly
    return stylizer


def natural_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Return a smooth, photo-like uint8 RGB test image."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.01, 0.08, 2).tolist() + [rng.uniform(0, 6.28)]
        channels.append(127 + 90 * np.sin(fx * x + phase) * np.cos(fy * y))
    image = np.stack(channels, axis=2) + rng.normal(0, 6, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    """A 96x80 PNG photo-like image."""
    path = tmp_path / "photo.png"
    Image.fromarray(natural_image(96, 80)).save(path)
    return path
