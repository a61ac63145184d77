# SPDX-License-Identifier: MIT
"""The shipped codec: manifest, hash, and a real round trip on Kodak photos."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from aegui.core.metrics import psnr
from aegui.core.precision import native_bfloat16
from aegui.core.weights import sha256_file
from tests.conftest import KODAK, REPO

MANIFEST = REPO / "pretrained" / "manifest.json"

pytestmark = [
    pytest.mark.pretrained,
    pytest.mark.skipif(
        not MANIFEST.exists(), reason="no shipped weights in pretrained/"
    ),
]


@pytest.fixture(scope="module")
def shipped_codec():  # type: ignore[no-untyped-def]
    from aegui.core.zoo import load_codec

    return load_codec(
        REPO
        / "pretrained"
        / json.loads(MANIFEST.read_text())["models"]["codec"]["file"]
    )


def test_manifest_hash_matches_file():
    entry = json.loads(MANIFEST.read_text())["models"]["codec"]
    assert sha256_file(REPO / "pretrained" / entry["file"]) == entry["sha256"]
    assert entry["training"]["data"] == "bsds400"
    assert entry["levels"] == len(entry["lambdas"])


def test_shipped_codec_round_trip(shipped_codec):
    image = np.asarray(
        Image.open(REPO / "assets" / "samples" / "parrots.png").convert("RGB")
    )
    crop = image[:192, :256]
    data = shipped_codec.compress(crop, 4)
    assert np.array_equal(
        shipped_codec.decompress(data),
        shipped_codec.decode(shipped_codec.encode(crop, 4)),
    )
    assert psnr(crop, shipped_codec.decompress(data)) > 25


def test_shipped_codec_thread_invariant(shipped_codec):
    image = np.asarray(
        Image.open(REPO / "assets" / "samples" / "motorbikes.png").convert("RGB")
    )
    crop = image[100:260, 200:400]
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        data = shipped_codec.compress(crop, 6)
        two = shipped_codec.decompress(data)
        torch.set_num_threads(1)
        one = shipped_codec.decompress(data)
    finally:
        torch.set_num_threads(previous)
    assert np.array_equal(one, two)


@pytest.mark.slow
@pytest.mark.skipif(
    not KODAK.is_dir(), reason="Kodak photos not found in ../shared/datasets"
)
def test_rate_and_quality_grow_with_level(shipped_codec):
    image = np.asarray(Image.open(KODAK / "kodim19.png").convert("RGB"))
    bpps, psnrs = [], []
    for quality in shipped_codec.qualities:
        data = shipped_codec.compress(image, quality)
        bpps.append(8 * len(data) / (image.shape[0] * image.shape[1]))
        psnrs.append(psnr(image, shipped_codec.decompress(data)))
    assert all(b1 < b2 for b1, b2 in zip(bpps, bpps[1:], strict=False))
    assert all(p1 < p2 for p1, p2 in zip(psnrs, psnrs[1:], strict=False))
    assert bpps[0] < 0.3
    assert bpps[-1] > 0.8


def rd_cost(codec, image: np.ndarray, quality: int, refine_steps: int) -> float:  # type: ignore[no-untyped-def]
    """Return bpp + lambda * 255^2 * MSE of ``image`` coded at ``quality``."""
    latents = codec.encode(image, quality, refine_steps=refine_steps)
    decoded = codec.decode(latents).astype(np.float64)
    bits = 8 * (len(latents.z_stream) + len(latents.y_stream))
    mse = np.mean((decoded - image) ** 2) / 255**2
    lmbda = codec.lambdas[quality - 1]
    return bits / (image.shape[0] * image.shape[1]) + lmbda * 255**2 * mse


@pytest.mark.parametrize("bfloat16", [False, True])
@pytest.mark.parametrize("quality", [6, 9])
def test_refinement_lowers_rate_distortion_cost(
    shipped_codec, monkeypatch, quality, bfloat16
):
    if bfloat16 and not native_bfloat16():
        pytest.skip("this CPU emulates bfloat16, so refinement does not use it")
    monkeypatch.setattr(shipped_codec, "refine_in_bfloat16", bfloat16)
    image = np.asarray(
        Image.open(REPO / "assets" / "samples" / "parrots.png").convert("RGB")
    )
    crop = image[:128, :160]
    plain = rd_cost(shipped_codec, crop, quality, 0)
    refined = rd_cost(shipped_codec, crop, quality, 20)
    assert refined < plain


def test_readme_names_shipped_weights() -> None:
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    # Model files are named KIND-ARCHITECTURE-DIGEST, such as codec-msh-gain-1a2b3c4d.
    named = re.findall(r"pretrained/([a-z]+-[\w.-]+-[0-9a-f]{8}\.safetensors)", readme)
    assert named, "the README gives no command that starts from shipped weights"
    for name in named:
        assert (REPO / "pretrained" / name).is_file(), name
