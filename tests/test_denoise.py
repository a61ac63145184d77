# SPDX-License-Identifier: MIT
"""The denoiser: network, noise estimate, corruptions, tiling, task, CLI, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aegui.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from aegui.core.denoising import HALO_PIXELS, MAX_STRENGTH, TRANSFORMS, Denoiser
from aegui.core.errors import ImageReadError, ModelError, OutputExistsError
from aegui.core.models.denoiser import (
    RECEPTIVE_RADIUS,
    STRIDE,
    DenoiseUNet,
    parameter_count,
)
from aegui.core.noise import estimate_noise_sigma, haar_diagonal
from aegui.core.tasks import denoise_file
from aegui.core.weights import sha256_file
from aegui.core.zoo import has_model, load_denoiser, read_manifest
from aegui.training import corruptions
from tests.conftest import natural_image


def smooth_image(width: int, height: int) -> np.ndarray:
    """Return a float (H, W, 3) image on 0..255 with almost no fine detail."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = [128 + 80 * np.sin(0.03 * x + c) * np.cos(0.02 * y) for c in range(3)]
    return np.stack(channels, axis=2)


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(natural_image(70, 50, seed=1)).save(folder / "a.png")
    Image.fromarray(natural_image(50, 70, seed=2)).save(folder / "sub" / "b.jpg")
    alpha = np.tile(np.arange(30, dtype=np.uint8) * 8, (30, 1))
    rgba = np.dstack([natural_image(30, 30, seed=3), alpha])
    Image.fromarray(rgba, "RGBA").save(folder / "c.png")
    Image.fromarray(natural_image(40, 36, seed=4)[:, :, 0], "L").save(folder / "d.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


# The network


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (37, 41), (64, 48)])
def test_unet_keeps_input_size(height: int, width: int) -> None:
    model = DenoiseUNet(width=4).eval()
    with torch.inference_mode():
        output = model(torch.rand(2, 3, height, width), 25.0)
    assert output.shape == (2, 3, height, width)


def test_unet_accepts_level_forms() -> None:
    torch.manual_seed(0)
    model = DenoiseUNet(width=4).eval()
    y = torch.rand(2, 3, 16, 20)
    with torch.inference_mode():
        from_number = model(y, 25.0)
        from_vector = model(y, torch.tensor([25.0, 25.0]))
        from_map = model(y, torch.full((2, 1, 16, 20), 25.0))
        other_level = model(y, 50.0)
    assert torch.equal(from_number, from_vector)
    assert torch.equal(from_number, from_map)
    assert not torch.equal(from_number, other_level)


def test_unconditioned_unet_ignores_level() -> None:
    model = DenoiseUNet(width=4, conditioned=False).eval()
    y = torch.rand(1, 3, 16, 16)
    with torch.inference_mode():
        assert torch.equal(model(y, 5.0), model(y, 50.0))


def test_unet_output_is_residual() -> None:
    model = DenoiseUNet(width=4).eval()
    for parameter in model.tail.parameters():
        torch.nn.init.zeros_(parameter)
    y = torch.rand(1, 3, 24, 24) * 1.4 - 0.2  # unclipped values pass through
    with torch.inference_mode():
        assert torch.equal(model(y, 10.0), y)


def test_unet_default_parameter_count() -> None:
    count = parameter_count(DenoiseUNet())
    assert 500_000 <= count <= 2_000_000


def test_receptive_radius_matches_gradient() -> None:
    torch.manual_seed(0)
    model = DenoiseUNet(width=4)
    for parameter in model.parameters():
        parameter.data.abs_()  # positive weights keep every ReLU open
    reach = 0
    for centre in range(44, 44 + STRIDE):
        x = torch.rand(1, 3, 92, 92, requires_grad=True)
        model(x, 25.0)[0, :, centre, centre].sum().backward()
        rows, cols = torch.nonzero(x.grad[0].abs().sum(0), as_tuple=True)
        reach = max(
            reach,
            *(
                abs(v - centre)
                for v in (rows.min(), rows.max(), cols.min(), cols.max())
            ),
        )
    assert reach == RECEPTIVE_RADIUS
    assert HALO_PIXELS >= RECEPTIVE_RADIUS
    assert HALO_PIXELS % STRIDE == 0


# Noise estimate


@pytest.mark.parametrize("sigma", [5, 15, 25, 50])
def test_estimate_gaussian_sigma_within_15_percent(sigma: float) -> None:
    rng = np.random.default_rng(sigma)
    clean = smooth_image(320, 256)
    noisy = clean + rng.normal(0, sigma, clean.shape)
    assert estimate_noise_sigma(noisy) == pytest.approx(sigma, rel=0.15)


def test_estimate_on_uint8_and_gray() -> None:
    rng = np.random.default_rng(1)
    clean = smooth_image(200, 160)
    noisy = np.clip(np.rint(clean + rng.normal(0, 15, clean.shape)), 0, 255).astype(
        np.uint8
    )
    assert estimate_noise_sigma(noisy) == pytest.approx(15, rel=0.15)
    assert estimate_noise_sigma(noisy[:, :, 1]) == pytest.approx(15, rel=0.15)


def test_estimate_of_clean_and_tiny_images() -> None:
    assert estimate_noise_sigma(smooth_image(64, 64)) < 0.5
    assert estimate_noise_sigma(np.zeros((1, 1, 3))) == 0.0
    assert estimate_noise_sigma(np.zeros((0, 5, 3))) == 0.0


def test_haar_diagonal_of_block() -> None:
    block = np.array([[1.0, 2.0, 9.0], [3.0, 8.0, 9.0]])
    assert haar_diagonal(block).tolist() == [[(1 - 2 - 3 + 8) / 2]]


# Corruptions


@pytest.fixture
def clean_crop() -> np.ndarray:
    return natural_image(64, 48, seed=5).astype(np.float32) / 255.0


def check_corruption(result: corruptions.Corruption, clean: np.ndarray) -> None:
    assert result.image.shape == clean.shape
    assert result.image.dtype == np.float32
    assert result.level_map.shape == clean.shape[:2]
    assert result.level_map.dtype == np.float32
    assert np.all(result.level_map == result.level)
    assert result.level >= 0.0


def test_gaussian_noise_level_is_sigma(clean_crop: np.ndarray, monkeypatch) -> None:
    monkeypatch.setattr(corruptions, "QUANTIZE_PROBABILITY", 0.0)
    result = corruptions.gaussian_noise(
        clean_crop, np.random.default_rng(0), sigma=25.0
    )
    check_corruption(result, clean_crop)
    assert result.level == 25.0
    assert np.std((result.image - clean_crop) * 255) == pytest.approx(25.0, rel=0.05)
    assert result.image.min() < 0.0 or result.image.max() > 1.0  # left unclipped


def test_gaussian_noise_quantized(clean_crop: np.ndarray, monkeypatch) -> None:
    monkeypatch.setattr(corruptions, "QUANTIZE_PROBABILITY", 1.0)
    result = corruptions.gaussian_noise(
        clean_crop, np.random.default_rng(0), sigma=40.0
    )
    check_corruption(result, clean_crop)
    assert result.image.min() >= 0.0
    assert result.image.max() <= 1.0
    assert np.allclose(result.image * 255, np.round(result.image * 255), atol=1e-4)


def test_gaussian_sigma_drawn_in_range(clean_crop: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    levels = [corruptions.gaussian_noise(clean_crop, rng).level for _ in range(50)]
    assert min(levels) >= 0.0
    assert max(levels) <= corruptions.MAX_GAUSSIAN_SIGMA
    assert max(levels) - min(levels) > 25.0


def test_poisson_gaussian_level_is_rms_std(clean_crop: np.ndarray, monkeypatch) -> None:
    monkeypatch.setattr(corruptions, "QUANTIZE_PROBABILITY", 0.0)
    rng = np.random.default_rng(0)
    result = corruptions.poisson_gaussian_noise(
        clean_crop, rng, peak=50.0, read_sigma=5.0
    )
    check_corruption(result, clean_crop)
    rms = float(np.sqrt(np.mean(((result.image - clean_crop) * 255) ** 2)))
    assert result.level == pytest.approx(rms, rel=0.1)


def test_poisson_noise_grows_with_brightness(monkeypatch) -> None:
    monkeypatch.setattr(corruptions, "QUANTIZE_PROBABILITY", 0.0)
    ramp = np.repeat(
        np.linspace(0.0, 1.0, 64, dtype=np.float32)[None, :, None], 48, axis=0
    )
    ramp = np.repeat(ramp, 3, axis=2)
    result = corruptions.poisson_gaussian_noise(
        ramp, np.random.default_rng(0), peak=50.0, read_sigma=0.0
    )
    noise = result.image - ramp
    assert noise[:, :16].std() < noise[:, -16:].std()


def test_salt_and_pepper_sets_extremes(clean_crop: np.ndarray) -> None:
    result = corruptions.salt_and_pepper(
        clean_crop, np.random.default_rng(0), density=0.1
    )
    check_corruption(result, clean_crop)
    changed = result.image != clean_crop
    assert changed.mean() == pytest.approx(0.1, abs=0.02)
    assert set(np.unique(result.image[changed]).tolist()) <= {0.0, 1.0}
    assert result.level == pytest.approx(estimate_noise_sigma(result.image * 255))


def test_knock_out_replaces_whole_pixels(clean_crop: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    for _ in range(4):  # both the black and the random-colour variant
        result = corruptions.knock_out(clean_crop, rng, fraction=0.2)
        check_corruption(result, clean_crop)
        changed = np.any(result.image != clean_crop, axis=2)
        assert changed.mean() == pytest.approx(0.2, abs=0.03)
        assert np.array_equal(result.image[~changed], clean_crop[~changed])


def test_jpeg_artefacts_depend_on_quality(clean_crop: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    low = corruptions.jpeg_artefacts(clean_crop, rng, quality=10)
    high = corruptions.jpeg_artefacts(clean_crop, rng, quality=60)
    check_corruption(low, clean_crop)
    check_corruption(high, clean_crop)
    low_error = np.abs(low.image - clean_crop).mean()
    high_error = np.abs(high.image - clean_crop).mean()
    assert 0.0 < high_error < low_error


def test_mixture_combines_two_kinds(clean_crop: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(20):
        result = corruptions.mixture(clean_crop, rng)
        check_corruption(result, clean_crop)
        kinds.add(result.kind)
    assert all("+" in kind for kind in kinds)
    assert len(kinds) >= 4


def test_corrupt_draws_every_kind(clean_crop: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    small = clean_crop[:16, :16]
    kinds = {corruptions.corrupt(small, rng).kind.split("+")[-1] for _ in range(200)}
    assert {
        "gaussian",
        "poisson-gaussian",
        "salt-and-pepper",
        "knock-out",
        "jpeg",
    } <= kinds


# Tiling


def test_one_tile_equals_direct_call(tiny_denoiser) -> None:
    pixels = natural_image(61, 45, seed=6)
    direct = tiny_denoiser.model(
        torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255, 12.0
    )
    tiled = tiny_denoiser.denoise(pixels, 12.0)
    assert np.array_equal(tiled, direct[0].permute(1, 2, 0).detach().numpy() * 255)


def test_tiles_match_whole_image(tiny_denoiser) -> None:
    pixels = natural_image(90, 70, seed=7)
    whole = tiny_denoiser.denoise(pixels, 20.0)
    tiled_denoiser = Denoiser(tiny_denoiser.model, "tiled", tile=32)
    steps = []
    tiled = tiled_denoiser.denoise(pixels, 20.0, progress=steps.append)
    assert len(steps) == 3 * 3
    assert np.abs(tiled - whole).max() <= 1.0  # 1/255 of the 0..1 range
    # Float rounding only: a halo of 16 instead of 32 already differs by 1e-3.
    assert np.abs(tiled - whole).max() < 1e-4


@pytest.mark.parametrize("passes", [2, 4, 8])
def test_passes_average_turned_copies(tiny_denoiser, passes: int) -> None:
    pixels = natural_image(45, 37, seed=9)
    expected = np.zeros((37, 45, 3), dtype=np.float64)
    for turns, mirrored in TRANSFORMS[:passes]:
        copy = pixels[:, ::-1] if mirrored else pixels
        copy = np.rot90(copy, turns)
        result = tiny_denoiser.denoise(np.ascontiguousarray(copy), 12.0)
        result = np.rot90(result, -turns)
        expected += result[:, ::-1] if mirrored else result
    steps: list[float] = []
    averaged = tiny_denoiser.denoise(pixels, 12.0, passes=passes, progress=steps.append)
    assert np.abs(averaged - expected / passes).max() < 1e-3
    assert np.abs(averaged - tiny_denoiser.denoise(pixels, 12.0)).max() > 1e-3
    assert steps == sorted(steps)
    assert steps[-1] == pytest.approx(1.0)


def test_tiled_passes_match_whole_image(tiny_denoiser) -> None:
    pixels = natural_image(90, 70, seed=7)
    whole = tiny_denoiser.denoise(pixels, 20.0, passes=8)
    tiled_denoiser = Denoiser(tiny_denoiser.model, "tiled", tile=32)
    tiled = tiled_denoiser.denoise(pixels, 20.0, passes=8)
    assert np.abs(tiled - whole).max() < 1e-4


def test_bfloat16_copy_is_close_and_leaves_model_float(tiny_denoiser) -> None:
    pixels = natural_image(53, 41, seed=4)
    exact = tiny_denoiser.denoise(pixels, 25.0, passes=2)
    fast = Denoiser(tiny_denoiser.model, "fast", bfloat16=True)
    result = fast.denoise(pixels, 25.0, passes=2)
    assert fast.network().tail.weight.dtype == torch.bfloat16
    assert fast.model.tail.weight.dtype == torch.float32
    assert result.dtype == np.float32
    assert np.abs(result - exact).mean() < 1.0


def test_bfloat16_network_keeps_float32_result() -> None:
    torch.manual_seed(0)
    model = DenoiseUNet(width=4).to(torch.bfloat16)
    y = torch.rand(1, 3, 16, 16)
    with torch.inference_mode():
        output = model(y, 10.0)
    assert output.dtype == torch.float32
    # Subtracted in bfloat16, the result would keep only 8 bits of mantissa
    # (steps of 1/256 near 1, a whole level of an 8-bit image).
    rounded = output.to(torch.bfloat16).float()
    assert (output != rounded).float().mean() > 0.5


@pytest.mark.parametrize("passes", [0, 3, 16])
def test_invalid_passes_raise(tiny_denoiser, passes: int) -> None:
    with pytest.raises(ValueError, match="Invalid passes"):
        tiny_denoiser.denoise(natural_image(8, 8), 10.0, passes=passes)


def test_tiled_file_matches_whole_file(
    tiny_denoiser, photo_file: Path, tmp_path: Path
) -> None:
    whole = denoise_file(photo_file, tmp_path / "whole.png", model=tiny_denoiser)
    tiled_denoiser = Denoiser(tiny_denoiser.model, "tiled", tile=32)
    tiled = denoise_file(photo_file, tmp_path / "tiled.png", model=tiled_denoiser)
    assert whole.noise_level == tiled.noise_level
    difference = np.abs(
        np.asarray(Image.open(tmp_path / "whole.png"), dtype=np.int16)
        - np.asarray(Image.open(tmp_path / "tiled.png"), dtype=np.int16)
    )
    assert difference.max() <= 1


def test_denoiser_rejects_misaligned_tiles(tiny_denoiser) -> None:
    with pytest.raises(ValueError, match="multiples of 4"):
        Denoiser(tiny_denoiser.model, "x", tile=30)


# The file task


def test_denoise_keeps_alpha(tiny_denoiser, photo_folder: Path, tmp_path: Path) -> None:
    source = photo_folder / "c.png"
    denoise_file(source, tmp_path / "c.png")
    with Image.open(source) as before, Image.open(tmp_path / "c.png") as after:
        assert after.mode == "RGBA"
        assert after.size == before.size
        assert np.array_equal(np.asarray(after)[:, :, 3], np.asarray(before)[:, :, 3])


@pytest.mark.parametrize("mode", ["L", "LA"])
def test_denoise_keeps_grayscale(tiny_denoiser, tmp_path: Path, mode: str) -> None:
    gray = natural_image(40, 36, seed=8)[:, :, 0]
    bands = [gray] if mode == "L" else [gray, np.full_like(gray, 200)]
    source = tmp_path / f"gray-{mode}.png"
    Image.fromarray(np.dstack(bands).squeeze(), mode).save(source)
    denoise_file(source, tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as after:
        assert after.mode == mode
        assert after.size == (40, 36)


@pytest.mark.parametrize(("width", "height"), [(3, 2), (16, 16), (31, 90)])
def test_tiny_image_denoised_at_level_zero(
    tiny_denoiser, tmp_path: Path, width: int, height: int
) -> None:
    source = tmp_path / "tiny.png"
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[..., 2] = 255
    pixels[0, 0] = 0
    Image.fromarray(pixels).save(source)
    result = denoise_file(source, tmp_path / "out.png", strength=2.0)
    assert result.noise_level == 0.0
    assert any("too small to measure its noise" in note for note in result.warnings)


def test_image_of_minimum_side_is_measured(tiny_denoiser, tmp_path: Path) -> None:
    source = tmp_path / "small.png"
    Image.fromarray(natural_image(32, 32, seed=2)).save(source)
    result = denoise_file(source, tmp_path / "out.png")
    assert result.noise_level > 0
    assert result.warnings == []


def test_strength_scales_estimate(
    tiny_denoiser, photo_file: Path, tmp_path: Path
) -> None:
    auto = denoise_file(photo_file, tmp_path / "auto.png")
    one = denoise_file(photo_file, tmp_path / "one.png", strength=1.0)
    double = denoise_file(photo_file, tmp_path / "double.png", strength=2.0)
    off = denoise_file(photo_file, tmp_path / "off.png", strength=0.0)
    half = denoise_file(photo_file, tmp_path / "half.png", strength=0.5)
    assert auto.noise_level is not None and auto.noise_level > 0
    assert one.noise_level == auto.noise_level
    assert double.noise_level == pytest.approx(2 * auto.noise_level)
    assert half.noise_level == auto.noise_level
    assert off.noise_level == auto.noise_level
    original = np.asarray(Image.open(photo_file).convert("RGB"), dtype=np.int16)
    unchanged = np.asarray(
        Image.open(tmp_path / "off.png").convert("RGB"), dtype=np.int16
    )
    full = np.asarray(Image.open(tmp_path / "one.png").convert("RGB"), dtype=np.int16)
    mixed = np.asarray(Image.open(tmp_path / "half.png").convert("RGB"), dtype=np.int16)
    assert np.array_equal(unchanged, original)
    inside = (full > 0) & (full < 255)  # where clipping did not change the full result
    assert np.abs(mixed - (original + full) / 2)[inside].max() <= 1.0
    assert (tmp_path / "auto.png").read_bytes() == (tmp_path / "one.png").read_bytes()
    assert (tmp_path / "auto.png").read_bytes() != (
        tmp_path / "double.png"
    ).read_bytes()


@pytest.mark.parametrize("strength", [-0.5, MAX_STRENGTH + 0.1, float("nan")])
def test_invalid_strength_raises(
    tiny_denoiser, photo_file: Path, tmp_path: Path, strength: float
) -> None:
    with pytest.raises(ValueError, match="Invalid strength"):
        denoise_file(photo_file, tmp_path / "out.png", strength=strength)
    assert not (tmp_path / "out.png").exists()


def test_denoise_never_overwrites(
    tiny_denoiser, photo_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out.png"
    output.write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        denoise_file(photo_file, output)
    assert output.read_bytes() == b"keep"
    denoise_file(photo_file, output, overwrite=True)
    assert output.read_bytes().startswith(b"\x89PNG")


def test_cancelled_denoise_writes_nothing(
    tiny_denoiser, photo_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(InterruptedError):
        denoise_file(photo_file, tmp_path / "out.png", cancelled=lambda: True)
    assert not (tmp_path / "out.png").exists()
    assert list(tmp_path.glob(".aegui-*")) == []


def test_broken_inputs_raise_read_error(
    tiny_denoiser, photo_file: Path, tmp_path: Path
) -> None:
    text = tmp_path / "text.png"
    text.write_text("this is not an image")
    Image.open(photo_file).convert("RGB").save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 3])
    for source in (text, cut):
        with pytest.raises(ImageReadError, match=source.name):
            denoise_file(source, tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


# Command line


def test_cli_denoise_folder(
    tiny_denoiser, photo_folder: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    assert main(["denoise", str(photo_folder), "-o", str(out)]) == EXIT_OK
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["a.png", "c.png", "d.png", "sub/b.png"]
    assert Image.open(out / "sub" / "b.png").size == (50, 70)
    assert Image.open(out / "d.png").mode == "L"
    assert Image.open(out / "c.png").mode == "RGBA"
    printed = capsys.readouterr().out
    assert "sigma" in printed
    assert "a.png" in printed


def test_cli_passes_option(tiny_denoiser, photo_file: Path, tmp_path: Path) -> None:
    assert main(["denoise", str(photo_file), "-o", str(tmp_path / "single")]) == EXIT_OK
    command = ["denoise", str(photo_file), "-o", str(tmp_path / "averaged")]
    assert main([*command, "--passes", "4"]) == EXIT_OK
    single = np.asarray(
        Image.open(tmp_path / "single" / photo_file.name), dtype=np.int16
    )
    averaged = np.asarray(
        Image.open(tmp_path / "averaged" / photo_file.name), dtype=np.int16
    )
    assert single.shape == averaged.shape
    assert np.abs(single - averaged).max() > 0
    with pytest.raises(SystemExit) as stop:
        main([*command, "--passes", "3"])
    assert stop.value.code == EXIT_USAGE


def test_cli_strength_option(tiny_denoiser, photo_file: Path, tmp_path: Path) -> None:
    assert (
        main(
            [
                "denoise",
                str(photo_file),
                "-o",
                str(tmp_path / "a"),
                "--strength",
                "auto",
            ]
        )
        == EXIT_OK
    )
    assert (
        main(
            ["denoise", str(photo_file), "-o", str(tmp_path / "b"), "--strength", "1.5"]
        )
        == EXIT_OK
    )
    auto = (tmp_path / "a" / "photo.png").read_bytes()
    assert auto != (tmp_path / "b" / "photo.png").read_bytes()


@pytest.mark.parametrize("strength", ["-1", "4.5", "strong", "nan"])
def test_cli_bad_strength_is_usage_error(
    tiny_denoiser, photo_file: Path, tmp_path: Path, strength: str, capsys
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", str(photo_file), "-o", str(tmp_path), "--strength", strength])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid strength" in capsys.readouterr().err


def test_cli_missing_output_is_usage_error(photo_file: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", str(photo_file)])
    assert exit_info.value.code == EXIT_USAGE


def test_cli_broken_inputs_fail_batch(
    tiny_denoiser, photo_folder: Path, tmp_path: Path, capsys
) -> None:
    (photo_folder / "text.png").write_text("this is not an image")
    data = (photo_folder / "sub" / "b.jpg").read_bytes()
    (photo_folder / "cut.jpg").write_bytes(data[: len(data) // 3])
    out = tmp_path / "out"
    status = main(
        ["denoise", str(photo_folder), str(tmp_path / "gone.png"), "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert status == EXIT_FAILED
    assert (out / "a.png").exists()
    assert not (out / "text.png").exists()
    assert not (out / "cut.png").exists()
    assert "text.png: not an image file" in err
    assert "cut.jpg: corrupted or truncated image" in err
    assert "gone.png: no such file or folder" in err
    assert "3 of 7 inputs failed" in err


def test_cli_overwrite_needs_force(
    tiny_denoiser, photo_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    assert main(["denoise", str(photo_file), "-o", str(out), "-s", "0.5"]) == EXIT_OK
    first = (out / "photo.png").read_bytes()
    assert main(["denoise", str(photo_file), "-o", str(out), "-s", "3"]) == EXIT_FAILED
    assert (out / "photo.png").read_bytes() == first
    assert "already exists" in capsys.readouterr().err
    assert (
        main(["denoise", str(photo_file), "-o", str(out), "-s", "3", "--force"])
        == EXIT_OK
    )
    assert (out / "photo.png").read_bytes() != first


def test_cli_without_model_fails(
    photo_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("AEGUI_PRETRAINED", str(tmp_path / "empty"))
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", str(photo_file), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == EXIT_FAILED
    assert "manifest.json not found" in capsys.readouterr().err


# Export, manifest and loading


def test_export_writes_manifest_entry(tiny_denoise_pretrained: Path) -> None:
    entry = read_manifest(tiny_denoise_pretrained)["models"]["denoise"]
    weights = tiny_denoise_pretrained / entry["file"]
    assert weights.name == f"denoise-unet3-{entry['sha256'][:8]}.safetensors"
    assert sha256_file(weights) == entry["sha256"]
    assert entry["architecture"] == "unet3"
    assert entry["width"] == 4
    assert entry["conditioned"] is True
    assert entry["parameters"] == parameter_count(DenoiseUNet(width=4))
    assert entry["training"]["steps"] == 0
    assert "codec" in read_manifest(tiny_denoise_pretrained)["models"]
    assert has_model("denoise", tiny_denoise_pretrained)


def test_load_denoiser_checks_hash(
    tiny_denoise_pretrained: Path, tmp_path: Path, monkeypatch
) -> None:
    import shutil

    folder = tmp_path / "pretrained"
    shutil.copytree(tiny_denoise_pretrained, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["models"]["denoise"]["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("AEGUI_PRETRAINED", str(folder))
    with pytest.raises(ModelError, match="corrupted or replaced"):
        load_denoiser()


def test_load_denoiser_without_entry(tiny_pretrained: Path, monkeypatch) -> None:
    monkeypatch.setenv("AEGUI_PRETRAINED", str(tiny_pretrained))
    assert not has_model("denoise")
    with pytest.raises(ModelError, match="No pretrained model for 'denoise'"):
        load_denoiser()


def test_export_with_evaluation_replaces_old_file(tmp_path: Path) -> None:
    from aegui.training.export_denoise import export
    from aegui.training.loop import RunState, save_checkpoint

    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    for seed in range(2):
        Image.fromarray(natural_image(40, 32, seed=seed)).save(eval_dir / f"{seed}.png")
    out = tmp_path / "pretrained"
    config = {"architecture": "unet3", "width": 4, "conditioned": True, "crop": 32,
              "batch": 1, "lr": 1e-4, "loss": "l1", "data": "random"}  # fmt: skip
    paths = []
    for seed in range(2):
        torch.manual_seed(seed)
        model = DenoiseUNet(width=4)
        checkpoint = tmp_path / f"{seed}.pt"
        save_checkpoint(
            checkpoint,
            config,
            model,
            torch.optim.Adam(model.parameters()),
            RunState(7, 60.0),
        )
        paths.append(export(checkpoint, out, eval_dir))
    assert not paths[0].exists()
    assert paths[1].exists()
    entry = read_manifest(out)["models"]["denoise"]
    assert entry["file"] == paths[1].name
    assert entry["training"]["steps"] == 7
    evaluation = entry["evaluation"]
    assert evaluation["sigma"] == [15, 25, 50]
    assert len(evaluation["psnr-rgb"]) == 3
    assert evaluation["images"] == 2
    assert evaluation["psnr-noisy"][0] > evaluation["psnr-noisy"][2]


# Training


def test_training_smoke_and_resume(tmp_path: Path) -> None:
    from aegui.training.denoise import main as train_main
    from aegui.training.loop import load_checkpoint

    data = tmp_path / "data"
    data.mkdir()
    for seed in range(2):
        Image.fromarray(natural_image(64, 48, seed=seed)).save(data / f"{seed}.png")
    args = ["--data", str(data), "--out", str(tmp_path / "run"), "--width", "4",
            "--crop", "24", "--batch", "2", "--threads", "1"]  # fmt: skip
    train_main([*args, "--steps", "3"])
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["step"] == 3
    train_main([*args, "--steps", "5", "--loss", "mse", "--bf16"])
    saved = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert saved["step"] == 5
    assert saved["config"]["architecture"] == "unet3"


def test_training_init_from_export(tmp_path: Path) -> None:
    from aegui.training.denoise import main as train_main
    from aegui.training.export_denoise import export
    from aegui.training.loop import load_checkpoint

    data = tmp_path / "data"
    data.mkdir()
    for seed in range(2):
        Image.fromarray(natural_image(64, 48, seed=seed)).save(data / f"{seed}.png")
    args = ["--data", str(data), "--width", "4", "--crop", "24", "--batch", "2",
            "--threads", "1", "--steps", "2"]  # fmt: skip
    train_main([*args, "--out", str(tmp_path / "first")])
    weights = export(tmp_path / "first" / "checkpoint.pt", tmp_path / "shipped", None)

    train_main([*args, "--out", str(tmp_path / "second"), "--init", str(weights)])
    second = load_checkpoint(tmp_path / "second" / "checkpoint.pt")
    assert second["config"]["init"] == weights.name

    # Exported over the weights it started from, the run records them.
    export(tmp_path / "second" / "checkpoint.pt", tmp_path / "shipped", None)
    manifest = json.loads((tmp_path / "shipped" / "manifest.json").read_text())
    training = manifest["models"]["denoise"]["training"]
    assert training["initialized_from"]["file"] == weights.name
    assert training["initialized_from"]["steps"] == 2
    assert training["total_steps"] == 4
    assert f"--init pretrained/{weights.name}" in training["command"]


def test_training_init_rejects_other_width(tmp_path: Path) -> None:
    from aegui.training.denoise import main as train_main
    from aegui.training.export_denoise import export

    data = tmp_path / "data"
    data.mkdir()
    Image.fromarray(natural_image(64, 48, seed=0)).save(data / "0.png")
    args = ["--data", str(data), "--crop", "24", "--batch", "1", "--threads", "1",
            "--steps", "1"]  # fmt: skip
    train_main([*args, "--width", "4", "--out", str(tmp_path / "first")])
    weights = export(tmp_path / "first" / "checkpoint.pt", tmp_path / "shipped", None)

    with pytest.raises(ValueError, match="width 4, expected unet3 of width 8"):
        train_main(
            [
                *args,
                "--width",
                "8",
                "--out",
                str(tmp_path / "b"),
                "--init",
                str(weights),
            ]
        )


def test_training_rejects_benchmark_sets(tmp_path: Path) -> None:
    from aegui.training.denoise import check_training_data

    with pytest.raises(ValueError, match="cbsd68 is a benchmark set"):
        check_training_data(tmp_path / "datasets" / "cbsd68")
    check_training_data(tmp_path / "datasets" / "bsds400")


def test_cli_train_rejects_benchmark_set(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "denoise", "--data", str(tmp_path / "kodak24")])
    assert exit_info.value.code == EXIT_USAGE


# Layering


def test_operation_check_leaves_torch_unloaded(tiny_denoise_pretrained: Path) -> None:
    code = (
        "import sys\n"
        "from aegui.app.operations import available_operations\n"
        "print([op.key for op in available_operations()], 'torch' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "AEGUI_PRETRAINED": str(tiny_denoise_pretrained)},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['compress', 'decompress', 'denoise'] False"
