# SPDX-License-Identifier: MIT
"""Style transfer: network, AdaIN, tiling, color, styles, task, CLI, export, training."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

from aegui.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from aegui.core.errors import ImageReadError, ModelError, OutputExistsError
from aegui.core.models.stylizer import (
    ENCODER_RADIUS,
    RECEPTIVE_RADIUS,
    STRIDE,
    Stylizer,
    adain,
    code_size,
    config_widths,
    mean_std,
    pad_to_stride,
    parameter_count,
    reflect_pad_one,
    style_code,
    widths_label,
)
from aegui.core.styles import (
    STYLE_SIDE,
    StyleError,
    load_style,
    preset_paths,
    resolve_style,
)
from aegui.core.stylizing import (
    HALO_PIXELS,
    MAX_COLOR_GAIN,
    StyleTransfer,
    color_moments,
    luma,
    match_colors,
    to_tensor,
)
from aegui.core.tasks import stylize_file
from aegui.core.weights import sha256_file
from aegui.core.zoo import has_model, load_stylizer, read_manifest
from tests.conftest import natural_image

PRESETS = ["composition_vii", "starry_night", "the_scream", "udnie", "wave"]


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


@pytest.fixture
def style_file(tmp_path: Path) -> Path:
    path = tmp_path / "my-style.png"
    Image.fromarray(natural_image(64, 48, seed=9)).save(path)
    return path


def decoder_reconstruction(model: Stylizer, pixels: np.ndarray) -> np.ndarray:
    """Return decoder(encoder(photo)) on 0..255, computed without StyleTransfer."""
    x = to_tensor(pixels)
    height, width = pixels.shape[:2]
    with torch.inference_mode():
        y = model.decoder(model.encoder.bottleneck(pad_to_stride(x)))
    return y[0, :, :height, :width].permute(1, 2, 0).numpy() * 255


# The network


@pytest.mark.parametrize(
    ("height", "width"), [(1, 1), (3, 500), (3, 5), (37, 41), (64, 48)]
)
def test_stylizer_keeps_input_size(height: int, width: int) -> None:
    model = Stylizer(width=2).eval()
    style_mean, style_std = torch.zeros(1, 16, 1, 1), torch.ones(1, 16, 1, 1)
    with torch.inference_mode():
        output = model(torch.rand(2, 3, height, width), style_mean, style_std)
    assert output.shape == (2, 3, height, width)


def test_encoder_layer_shapes() -> None:
    features = Stylizer(width=2).encoder(torch.rand(1, 3, 32, 48))
    shapes = [tuple(f.shape) for f in features]
    assert shapes == [(1, 2, 32, 48), (1, 4, 16, 24), (1, 8, 8, 12), (1, 16, 4, 6)]


def test_widths_given_per_stage() -> None:
    model = Stylizer(width=(2, 3, 8, 16))
    features = model.encoder(torch.rand(1, 3, 32, 48))
    assert [f.shape[1] for f in features] == [2, 3, 8, 16]
    assert model.config() == {"architecture": "adain-vgg4", "widths": [2, 3, 8, 16]}
    assert model.decoder(features[-1]).shape == (1, 3, 32, 48)


@pytest.mark.parametrize("width", [0, (2, 4, 8), (2, 0, 8, 16)])
def test_invalid_widths_raise(width) -> None:
    with pytest.raises(ValueError, match="Invalid width"):
        Stylizer(width=width)


def test_saved_widths_and_labels() -> None:
    assert config_widths({"width": 16}) == (16, 32, 64, 128)
    assert config_widths({"widths": [8, 16, 64, 128]}) == (8, 16, 64, 128)
    assert widths_label((16, 32, 64, 128)) == "w16"
    assert widths_label((8, 16, 64, 128)) == "w8-16-64-128"


def test_fresh_modulation_changes_nothing() -> None:
    torch.manual_seed(0)
    model = Stylizer(width=2, modulated=True).eval()
    assert model.config()["architecture"] == "adain-film-vgg4"
    assert model.modulation is not None
    features = model.encoder(torch.rand(2, 3, 32, 40))
    code = style_code(features)
    assert code.shape == (2, code_size(model.widths))
    films = model.modulation(code)
    assert [f.shape[2] for f in films] == model.decoder.modulated_channels()
    with torch.inference_mode():
        plain = model.decoder(features[-1])
        assert torch.equal(model.decoder(features[-1], films), plain)
        torch.nn.init.normal_(model.modulation.out.weight)
        assert not torch.equal(
            model.decoder(features[-1], model.modulation(code)), plain
        )
        # Strength 0 scales the gains and biases to nothing.
        assert torch.equal(
            model.decoder(features[-1], model.modulation(code, 0.0)), plain
        )


def test_modulated_stylizer_needs_code() -> None:
    model = Stylizer(width=2, modulated=True).eval()
    style_mean, style_std = torch.zeros(1, 16, 1, 1), torch.ones(1, 16, 1, 1)
    with pytest.raises(ValueError, match="Missing style code"):
        model(torch.rand(1, 3, 16, 16), style_mean, style_std)


def test_style_code_reads_correlations() -> None:
    torch.manual_seed(0)
    base = torch.randn(1, 1, 50)
    features = [torch.cat([base, 2 * base + 1, -base], dim=1).reshape(1, 3, 5, 10)]
    code = style_code(features)
    # Means, log stds, then the correlations of channel pairs 0-1, 0-2 and 1-2.
    assert code.shape == (1, 3 + 3 + 3)
    assert torch.allclose(code[0, 6:], torch.tensor([1.0, -1.0, -1.0]), atol=1e-4)
    assert torch.allclose(
        code[0, 3:6].exp() ** 2, features[0].flatten(2).var(2, False)[0], rtol=1e-3
    )


def test_adain_sets_style_statistics() -> None:
    torch.manual_seed(0)
    content = torch.randn(1, 8, 10, 12) * 3 + 1
    style_mean, style_std = torch.randn(1, 8, 1, 1), torch.rand(1, 8, 1, 1) + 0.5
    mean, std = mean_std(adain(content, style_mean, style_std))
    assert torch.allclose(mean, style_mean, atol=1e-5)
    assert torch.allclose(std, style_std, atol=1e-3)


def test_default_parameter_count() -> None:
    model = Stylizer()
    assert model.widths == (8, 16, 64, 128)
    assert parameter_count(model.encoder) == 124_360
    assert parameter_count(model.decoder) == 124_235
    assert parameter_count(Stylizer(16)) == 291_747


def receptive_reach(network, cell: int) -> int:
    """Return how far beyond a ``cell``-pixel block the gradient of one output reaches."""
    torch.manual_seed(0)
    reach = 0
    for centre in range(96, 96 + STRIDE, cell):
        x = torch.rand(1, 3, 200, 200, requires_grad=True)
        output = network(x)
        index = centre // cell
        output[0, :, index, index].sum().backward()
        rows, cols = torch.nonzero(x.grad[0].abs().sum(0), as_tuple=True)
        first, last = index * cell, index * cell + cell - 1
        reach = max(
            reach,
            int(first - rows.min()),
            int(rows.max() - last),
            int(first - cols.min()),
            int(cols.max() - last),
        )
    return reach


def test_receptive_radii_match_gradient() -> None:
    model = Stylizer(width=2)
    for parameter in model.parameters():
        parameter.data.abs_()  # positive weights keep every ReLU open
    encoder_reach = receptive_reach(model.encoder.bottleneck, STRIDE)
    full_reach = receptive_reach(
        lambda x: model.decoder(model.encoder.bottleneck(x)), 1
    )
    assert encoder_reach == ENCODER_RADIUS
    assert full_reach == RECEPTIVE_RADIUS
    assert HALO_PIXELS >= RECEPTIVE_RADIUS
    assert HALO_PIXELS % STRIDE == 0


# Strength, tiling and color


def test_strength_zero_is_the_photo(tiny_stylizer) -> None:
    pixels = natural_image(61, 45, seed=6)
    style = tiny_stylizer.style_statistics(load_style("wave"))
    result = tiny_stylizer.stylize(pixels, style, 0.0)
    assert np.array_equal(result, pixels.astype(np.float32))


def test_strength_one_is_decoder_output(tiny_stylizer) -> None:
    pixels = natural_image(61, 45, seed=6)
    style = tiny_stylizer.style_statistics(load_style("wave"))
    half = tiny_stylizer.stylize(pixels, style, 0.5)
    assert np.abs(half - pixels).max() > 1.0
    # At strength 1 nothing is mixed back, so a photo-free style still differs.
    full = tiny_stylizer.stylize(pixels, style, 1.0)
    assert np.abs(full - half).max() > 1.0


def test_strength_changes_result(tiny_stylizer) -> None:
    pixels = natural_image(61, 45, seed=6)
    style = tiny_stylizer.style_statistics(load_style("wave"))
    none = tiny_stylizer.stylize(pixels, style, 0.0)
    half = tiny_stylizer.stylize(pixels, style, 0.5)
    full = tiny_stylizer.stylize(pixels, style, 1.0)
    assert np.abs(full - none).max() > 1.0
    assert np.abs(half - none).mean() < np.abs(full - none).mean()


def test_styles_give_different_results(tiny_stylizer) -> None:
    pixels = natural_image(48, 40, seed=6)
    wave = tiny_stylizer.style_statistics(load_style("wave"))
    scream = tiny_stylizer.style_statistics(load_style("the_scream"))
    assert not np.array_equal(
        tiny_stylizer.stylize(pixels, wave), tiny_stylizer.stylize(pixels, scream)
    )


def test_one_tile_equals_direct_call(tiny_stylizer) -> None:
    pixels = natural_image(61, 45, seed=6)
    style = tiny_stylizer.style_statistics(load_style("udnie"))
    with torch.inference_mode():
        direct = tiny_stylizer.model(
            to_tensor(pixels), style.mean, style.std, 1.0, code=style.code
        )
    tiled = tiny_stylizer.stylize(pixels, style, 1.0, color_match=False)
    assert np.array_equal(tiled, direct[0].permute(1, 2, 0).numpy() * 255)


def test_tiles_match_whole_image(tiny_stylizer) -> None:
    pixels = natural_image(150, 130, seed=7)
    style = tiny_stylizer.style_statistics(load_style("starry_night"))
    whole = tiny_stylizer.stylize(pixels, style, 1.0)
    tiled_stylizer = StyleTransfer(tiny_stylizer.model, "tiled", tile=64)
    steps: list[float] = []
    tiled = tiled_stylizer.stylize(pixels, style, 1.0, progress=steps.append)
    assert len(steps) == 3 * 3
    assert whole.std() > 1.0  # the comparison is not between two flat images
    assert np.abs(tiled - whole).max() < 1e-2  # float rounding, on 0..255


def test_tiled_content_statistics_match_whole(tiny_stylizer) -> None:
    x = to_tensor(natural_image(150, 101, seed=8))
    with torch.inference_mode():
        whole_mean, whole_std = mean_std(
            tiny_stylizer.model.encoder.bottleneck(pad_to_stride(x))
        )
    tiled_stylizer = StyleTransfer(tiny_stylizer.model, "tiled", tile=48)
    mean, std = tiled_stylizer.content_statistics(x)
    assert torch.allclose(mean, whole_mean, rtol=1e-4, atol=1e-6)
    assert torch.allclose(std, whole_std, rtol=1e-4, atol=1e-6)


def test_stylizer_rejects_bad_tiles(tiny_stylizer) -> None:
    with pytest.raises(ValueError, match="multiples of 8"):
        StyleTransfer(tiny_stylizer.model, "x", tile=60)
    with pytest.raises(ValueError, match="narrower than the receptive radius"):
        StyleTransfer(tiny_stylizer.model, "x", halo=16)


def test_match_colors_moves_moments_to_the_style() -> None:
    rng = np.random.default_rng(3)
    result = rng.normal(120.0, 20.0, (40, 30, 3)).astype(np.float32)
    style = natural_image(50, 40, seed=4).astype(np.float32)
    style[:, :, 0] = 0.5 * style[:, :, 0] + 100.0  # a reddish, tinted palette
    style_mean, style_covariance = color_moments(style)
    matched = match_colors(result, style_mean, style_covariance)
    mean, covariance = color_moments(matched)
    assert np.allclose(mean, style_mean, atol=1e-2)
    # The floor added to both covariances moves them by about one level squared.
    assert np.allclose(covariance, style_covariance, rtol=0.01, atol=2.0)


def test_match_colors_leaves_a_flat_image_flat() -> None:
    flat = np.full((16, 16, 3), 90.0, dtype=np.float32)
    flat[0, 0] += 0.5  # one pixel half a level off
    style_mean, style_covariance = color_moments(natural_image(32, 32, seed=5))
    matched = match_colors(flat, style_mean, style_covariance)
    assert np.isfinite(matched).all()
    # The odd pixel moves at most MAX_COLOR_GAIN times its distance, 0.5 * sqrt(3).
    assert np.ptp(matched, axis=(0, 1)).max() <= MAX_COLOR_GAIN * 0.87
    assert np.allclose(matched.mean((0, 1)), style_mean, atol=1e-2)


def test_stylize_takes_the_style_colors(tiny_stylizer) -> None:
    pixels = natural_image(64, 48, seed=11)
    style = tiny_stylizer.style_statistics(load_style("the_scream"))
    matched = tiny_stylizer.stylize(pixels, style, color_match=True)
    plain = tiny_stylizer.stylize(pixels, style)
    distance = np.abs(matched.mean((0, 1)) - style.color_mean).max()
    assert distance < 1e-2
    assert np.abs(plain.mean((0, 1)) - style.color_mean).max() > 1.0
    unchanged = tiny_stylizer.stylize(pixels, style, 0.0, color_match=True)
    assert np.array_equal(unchanged, pixels)


def test_gray_style_gives_gray_result(tiny_stylizer) -> None:
    pixels = natural_image(48, 40, seed=4)
    gray = np.repeat(luma(load_style("wave").astype(np.float32))[:, :, None], 3, 2)
    style = tiny_stylizer.style_statistics(np.rint(gray).astype(np.uint8))
    assert style.monochrome
    result = tiny_stylizer.stylize(pixels, style, 1.0)
    assert np.array_equal(result[:, :, 0], result[:, :, 1])
    assert np.array_equal(result[:, :, 0], result[:, :, 2])
    colored = tiny_stylizer.style_statistics(load_style("wave"))
    assert not colored.monochrome


def test_preserve_color_keeps_chroma(tiny_stylizer) -> None:
    pixels = natural_image(64, 48, seed=10)
    style = tiny_stylizer.style_statistics(load_style("the_scream"))
    # Colors are not matched to the style when the photo's are kept.
    plain = tiny_stylizer.stylize(pixels, style, color_match=False)
    kept = tiny_stylizer.stylize(pixels, style, preserve_color=True)
    photo = pixels.astype(np.float32)
    chroma_photo = photo - luma(photo)[:, :, None]
    assert np.allclose(kept - luma(kept)[:, :, None], chroma_photo, atol=1e-3)
    assert np.allclose(luma(kept), luma(plain), atol=1e-3)


# The file task


def mean_chroma(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        ycbcr = np.asarray(image.convert("RGB").convert("YCbCr"), dtype=np.float64)
    return ycbcr[:, :, 1:].mean(axis=(0, 1))


def test_preserve_color_file_keeps_mean_color(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    stylize_file(photo_file, tmp_path / "kept.png", style="wave", preserve_color=True)
    stylize_file(photo_file, tmp_path / "plain.png", style="wave")
    photo_chroma = mean_chroma(photo_file)
    # Within 3 of 255 on Cb and Cr; clipping to 0..255 causes the difference.
    assert np.abs(mean_chroma(tmp_path / "kept.png") - photo_chroma).max() < 3.0
    assert np.abs(mean_chroma(tmp_path / "plain.png") - photo_chroma).max() > 3.0


def test_strength_zero_file_is_the_photo(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    stylize_file(photo_file, tmp_path / "out.png", style="wave", strength=0.0)
    with Image.open(tmp_path / "out.png") as image, Image.open(photo_file) as photo:
        assert np.array_equal(np.asarray(image), np.asarray(photo.convert("RGB")))


def test_tiled_file_matches_whole_file(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    stylize_file(photo_file, tmp_path / "whole.png", style="udnie")
    tiled_stylizer = StyleTransfer(tiny_stylizer.model, "tiled", tile=40)
    stylize_file(
        photo_file, tmp_path / "tiled.png", style="udnie", model=tiled_stylizer
    )
    difference = np.abs(
        np.asarray(Image.open(tmp_path / "whole.png"), dtype=np.int16)
        - np.asarray(Image.open(tmp_path / "tiled.png"), dtype=np.int16)
    )
    assert difference.max() <= 1


@pytest.mark.parametrize("size", [(1, 1), (500, 3), (3, 500), (33, 17)])
def test_stylize_odd_sizes(
    tiny_stylizer, tmp_path: Path, size: tuple[int, int]
) -> None:
    source = tmp_path / "odd.png"
    Image.fromarray(natural_image(*size, seed=11)).save(source)
    result = stylize_file(source, tmp_path / "out.png", style="wave")
    assert (result.width, result.height) == size
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == size
        assert image.mode == "RGB"


def test_stylize_keeps_alpha(tiny_stylizer, photo_folder: Path, tmp_path: Path) -> None:
    source = photo_folder / "c.png"
    stylize_file(source, tmp_path / "c.png", style="udnie")
    with Image.open(source) as before, Image.open(tmp_path / "c.png") as after:
        assert after.mode == "RGBA"
        assert after.size == before.size
        assert np.array_equal(np.asarray(after)[:, :, 3], np.asarray(before)[:, :, 3])


@pytest.mark.parametrize(
    ("mode", "preserve_color", "expected"),
    [("L", False, "RGB"), ("LA", False, "RGBA"), ("L", True, "L"), ("LA", True, "LA")],
)
def test_stylize_grayscale_modes(
    tiny_stylizer, tmp_path: Path, mode: str, preserve_color: bool, expected: str
) -> None:
    gray = natural_image(40, 36, seed=8)[:, :, 0]
    bands = [gray] if mode == "L" else [gray, np.full_like(gray, 200)]
    source = tmp_path / f"gray-{mode}.png"
    Image.fromarray(np.dstack(bands).squeeze(), mode).save(source)
    stylize_file(
        source, tmp_path / "out.png", style="wave", preserve_color=preserve_color
    )
    with Image.open(tmp_path / "out.png") as after:
        assert after.mode == expected
        assert after.size == (40, 36)
        if mode == "LA":
            assert np.array_equal(np.asarray(after)[:, :, -1], np.full_like(gray, 200))


def test_style_from_image_file(
    tiny_stylizer, photo_file: Path, style_file: Path, tmp_path: Path
) -> None:
    stylize_file(photo_file, tmp_path / "file.png", style=style_file)
    stylize_file(photo_file, tmp_path / "preset.png", style="wave")
    assert (tmp_path / "file.png").read_bytes() != (
        tmp_path / "preset.png"
    ).read_bytes()


def test_preset_over_same_named_file_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.fromarray(natural_image(64, 64)).save(tmp_path / "wave", format="PNG")
    assert resolve_style("wave") == preset_paths()["wave"]
    assert "For the file of that name, give ./wave" in caplog.text
    assert resolve_style("./wave") == Path("wave")


def test_unknown_preset_lists_presets(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(StyleError) as error:
        stylize_file(photo_file, tmp_path / "out.png", style="mona_lisa")
    message = str(error.value)
    assert "unknown style 'mona_lisa'" in message
    for name in PRESETS:
        assert name in message
    assert not (tmp_path / "out.png").exists()


def test_folder_as_style_is_named_a_folder(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "paintings"
    folder.mkdir()
    with pytest.raises(StyleError, match="a folder, not an image file"):
        stylize_file(photo_file, tmp_path / "out.png", style=folder)
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("kind", ["text", "truncated", "tiny", "flat", "transparent"])
def test_broken_style_image_is_named(
    tiny_stylizer, photo_file: Path, style_file: Path, tmp_path: Path, kind: str
) -> None:
    broken = tmp_path / f"broken-{kind}.png"
    if kind == "text":
        broken.write_text("this is not an image")
    elif kind == "tiny":
        Image.fromarray(natural_image(31, 40)).save(broken)
    elif kind == "flat":
        Image.new("RGB", (64, 48), (200, 30, 30)).save(broken)
    elif kind == "transparent":
        # The alpha is ignored, which leaves one flat color.
        Image.new("RGBA", (64, 48), (200, 30, 30, 0)).save(broken)
    else:
        broken.write_bytes(style_file.read_bytes()[:200])
    with pytest.raises(StyleError) as error:
        stylize_file(photo_file, tmp_path / "out.png", style=broken)
    message = str(error.value)
    assert message.startswith(f"invalid style image: {broken}: ")
    assert message.count(str(broken)) == 1
    assert not (tmp_path / "out.png").exists()


def test_presets_are_shipped() -> None:
    presets = preset_paths()
    assert list(presets) == PRESETS
    for path in presets.values():
        with Image.open(path) as image:
            assert max(image.size) <= 1024
    credits = (presets["wave"].parent / "CREDITS.md").read_text()
    for name in PRESETS:
        assert f"`{name}`" in credits


def test_flat_style_is_named_flat(tmp_path: Path) -> None:
    flat = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(flat)
    with pytest.raises(StyleError, match="nearly one flat color, with too little"):
        load_style(flat)


@pytest.mark.parametrize(("noise", "usable"), [(4, False), (20, True)])
def test_style_needs_some_texture(tmp_path: Path, noise: int, usable: bool) -> None:
    # Noise of +-4 levels on one blue looks flat and gave a nearly plain result.
    rng = np.random.default_rng(0)
    pixels = np.array([40, 80, 200]) + rng.integers(-noise, noise + 1, (48, 64, 3))
    path = tmp_path / f"noise{noise}.png"
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path)
    if usable:
        assert load_style(path).shape == (48, 64, 3)
    else:
        with pytest.raises(StyleError, match="nearly one flat color"):
            load_style(path)


def test_missing_style_file_is_named_missing(tmp_path: Path) -> None:
    missing = tmp_path / "gone.png"
    with pytest.raises(StyleError, match=f"style image not found: {missing}"):
        load_style(missing)


def test_load_style_downscales() -> None:
    style = load_style("the_scream")
    assert max(style.shape[:2]) == STYLE_SIDE
    assert style.dtype == np.uint8


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan")])
def test_invalid_strength_raises(
    tiny_stylizer, photo_file: Path, tmp_path: Path, strength: float
) -> None:
    with pytest.raises(ValueError, match="Invalid strength"):
        stylize_file(photo_file, tmp_path / "out.png", style="wave", strength=strength)
    assert not (tmp_path / "out.png").exists()


def test_stylize_never_overwrites(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out.png"
    output.write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        stylize_file(photo_file, output, style="wave")
    assert output.read_bytes() == b"keep"
    stylize_file(photo_file, output, style="wave", overwrite=True)
    assert output.read_bytes().startswith(b"\x89PNG")


def test_cancelled_stylize_writes_nothing(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(InterruptedError):
        stylize_file(
            photo_file, tmp_path / "out.png", style="wave", cancelled=lambda: True
        )
    assert not (tmp_path / "out.png").exists()
    assert list(tmp_path.glob(".aegui-*")) == []


def test_broken_inputs_raise_read_error(
    tiny_stylizer, photo_file: Path, tmp_path: Path
) -> None:
    text = tmp_path / "text.png"
    text.write_text("this is not an image")
    Image.open(photo_file).convert("RGB").save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 3])
    for source in (text, cut, tmp_path / "gone.png"):
        with pytest.raises(ImageReadError, match=source.name):
            stylize_file(source, tmp_path / "out.png", style="wave")
    assert not (tmp_path / "out.png").exists()


# Command line


def test_cli_stylize_folder(
    tiny_stylizer, photo_folder: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    status = main(["stylize", str(photo_folder), "--style", "wave", "-o", str(out)])
    assert status == EXIT_OK
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["a.png", "c.png", "d.png", "sub/b.png"]
    assert Image.open(out / "sub" / "b.png").size == (50, 70)
    assert Image.open(out / "d.png").mode == "RGB"
    assert Image.open(out / "c.png").mode == "RGBA"
    assert "a.png" in capsys.readouterr().out


def test_cli_options_change_output(
    tiny_stylizer, photo_file: Path, style_file: Path, tmp_path: Path
) -> None:
    runs = {
        "default": ["--style", "wave"],
        "half": ["--style", "wave", "--strength", "0.5"],
        "color": ["--style", "wave", "--preserve-color"],
        "file": ["--style", str(style_file)],
    }
    outputs = {}
    for name, options in runs.items():
        out = tmp_path / name
        assert main(["stylize", str(photo_file), "-o", str(out), *options]) == EXIT_OK
        outputs[name] = (out / "photo.png").read_bytes()
    assert len(set(outputs.values())) == len(runs)


def test_cli_list_styles(capsys) -> None:
    assert main(["stylize", "--list-styles"]) == EXIT_OK
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == PRESETS


def test_cli_list_styles_takes_no_inputs(photo_file: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["stylize", "--list-styles", str(photo_file)])
    assert exit_info.value.code == EXIT_USAGE


def test_cli_unknown_style_is_usage_error(
    tiny_stylizer, photo_file: Path, tmp_path: Path, capsys
) -> None:
    status = main(
        ["stylize", str(photo_file), "--style", "nope", "-o", str(tmp_path / "o")]
    )
    assert status == EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown style 'nope'" in err
    assert "starry_night" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "arguments",
    [
        ["--style", "wave"],  # no -o
        ["-o", "OUT"],  # no --style
        ["--style", "wave", "-o", "OUT", "--strength", "2"],
        ["--style", "wave", "-o", "OUT", "--strength", "strong"],
    ],
)
def test_cli_bad_arguments_are_usage_errors(
    photo_file: Path, tmp_path: Path, arguments: list[str]
) -> None:
    arguments = [str(tmp_path / "out") if a == "OUT" else a for a in arguments]
    with pytest.raises(SystemExit) as exit_info:
        main(["stylize", str(photo_file), *arguments])
    assert exit_info.value.code == EXIT_USAGE


def test_cli_broken_inputs_fail_batch(
    tiny_stylizer, photo_folder: Path, tmp_path: Path, capsys
) -> None:
    (photo_folder / "text.png").write_text("this is not an image")
    out = tmp_path / "out"
    status = main(
        ["stylize", str(photo_folder), str(tmp_path / "gone.png"),
         "--style", "wave", "-o", str(out)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == EXIT_FAILED
    assert (out / "a.png").exists()
    assert not (out / "text.png").exists()
    assert "text.png: not an image file" in err
    assert "gone.png: no such file or folder" in err


def test_cli_overwrite_needs_force(
    tiny_stylizer, photo_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    base = ["stylize", str(photo_file), "-o", str(out)]
    assert main([*base, "--style", "wave"]) == EXIT_OK
    first = (out / "photo.png").read_bytes()
    assert main([*base, "--style", "udnie"]) == EXIT_FAILED
    assert (out / "photo.png").read_bytes() == first
    assert "already exists" in capsys.readouterr().err
    assert main([*base, "--style", "udnie", "--force"]) == EXIT_OK
    assert (out / "photo.png").read_bytes() != first


def test_cli_without_model_fails(
    tiny_pretrained: Path, photo_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("AEGUI_PRETRAINED", str(tiny_pretrained))
    status = main(["stylize", str(photo_file), "--style", "wave", "-o", str(tmp_path)])
    assert status == EXIT_FAILED
    assert "No pretrained model for 'stylize'" in capsys.readouterr().err


# Export, manifest and loading


def test_export_writes_manifest_entry(tiny_stylize_pretrained: Path) -> None:
    entry = read_manifest(tiny_stylize_pretrained)["models"]["stylize"]
    weights = tiny_stylize_pretrained / entry["file"]
    name = f"stylize-adain-film-vgg4-{entry['sha256'][:8]}.safetensors"
    assert weights.name == name
    assert sha256_file(weights) == entry["sha256"]
    assert entry["architecture"] == "adain-film-vgg4"
    assert entry["widths"] == [4, 8, 16, 32]
    assert entry["parameters"] == parameter_count(Stylizer(width=4, modulated=True))
    assert entry["training"]["decoder_steps"] == 0
    assert "codec" in read_manifest(tiny_stylize_pretrained)["models"]
    assert has_model("stylize", tiny_stylize_pretrained)


def test_load_stylizer_checks_hash(
    tiny_stylize_pretrained: Path, tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "pretrained"
    shutil.copytree(tiny_stylize_pretrained, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["models"]["stylize"]["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("AEGUI_PRETRAINED", str(folder))
    with pytest.raises(ModelError, match="corrupted or replaced"):
        load_stylizer()


def test_export_rejects_encoder_stage(tmp_path: Path) -> None:
    from aegui.training.export_stylize import export
    from aegui.training.loop import RunState, save_checkpoint

    model = Stylizer(width=2)
    config = {"architecture": "adain-vgg4", "stage": "encoder", "width": 2,
              "crop": 32, "batch": 1, "lr": 1e-4, "data": "random"}  # fmt: skip
    checkpoint = tmp_path / "encoder.pt"
    optimizer = torch.optim.Adam(model.parameters())
    save_checkpoint(checkpoint, config, model, optimizer, RunState())
    with pytest.raises(ValueError, match="export the checkpoint of --stage decoder"):
        export(checkpoint, tmp_path / "pretrained")


# Training


@pytest.fixture
def training_data(tmp_path: Path) -> tuple[Path, Path]:
    photos, styles = tmp_path / "photos", tmp_path / "styles"
    photos.mkdir()
    styles.mkdir()
    for seed in range(2):
        Image.fromarray(natural_image(64, 48, seed=seed)).save(photos / f"{seed}.png")
        Image.fromarray(natural_image(50, 40, seed=seed + 5)).save(
            styles / f"{seed}.jpg"
        )
    return photos, styles


def test_training_stages_and_resume(
    training_data: tuple[Path, Path], tmp_path: Path
) -> None:
    from aegui.training.export_stylize import export
    from aegui.training.loop import load_checkpoint
    from aegui.training.stylize import main as train_main

    photos, styles = training_data
    run = tmp_path / "run"
    args = ["--data", str(photos), "--styles", str(styles), "--out", str(run),
            "--width", "2,3,8,16", "--crop", "24", "--batch", "2", "--threads", "1"]  # fmt: skip
    train_main(["--stage", "encoder", *args, "--steps", "2"])
    encoder = load_checkpoint(run / "encoder" / "checkpoint.pt")
    assert encoder["step"] == 2
    narrower = [*args[:-6], "--width", "2", *args[-4:]]
    with pytest.raises(ValueError, match="contains widths 2,3,8,16"):
        train_main(["--stage", "decoder", *narrower, "--steps", "2"])
    train_main(["--stage", "decoder", *args, "--steps", "2"])
    train_main(["--stage", "decoder", *args, "--steps", "3", "--textures", "1"])
    decoder = load_checkpoint(run / "decoder" / "checkpoint.pt")
    assert decoder["step"] == 3
    assert decoder["config"]["encoder_steps"] == 2
    for name, value in encoder["state_dict"].items():
        if name.startswith("encoder."):
            assert torch.equal(decoder["state_dict"][name], value), name
    path = export(run / "decoder" / "checkpoint.pt", tmp_path / "pretrained")
    stylizer = load_stylizer(path)
    assert stylizer.model.widths == (2, 3, 8, 16)
    assert stylizer.model_id == "aegui-stylize-adain-vgg4-w2-3-8-16"


def test_decoder_stage_from_shipped_weights(
    training_data: tuple[Path, Path], tmp_path: Path
) -> None:
    from aegui.training.export_stylize import export
    from aegui.training.loop import load_checkpoint
    from aegui.training.stylize import main as train_main

    photos, styles = training_data
    common = ["--data", str(photos), "--styles", str(styles), "--width", "2,3,8,16",
              "--crop", "24", "--batch", "2", "--threads", "1"]  # fmt: skip
    first = tmp_path / "first"
    train_main(["--stage", "encoder", *common, "--out", str(first), "--steps", "2"])
    train_main(["--stage", "decoder", *common, "--out", str(first), "--steps", "2"])
    pretrained = tmp_path / "pretrained"
    shipped = export(first / "decoder" / "checkpoint.pt", pretrained)
    with pytest.raises(ValueError, match="contains widths 2,3,8,16"):
        train_main(["--stage", "decoder", *common[:4], "--width", "2",
                    "--out", str(tmp_path / "bad"), "--init", str(shipped)])  # fmt: skip
    # The plain network's weights still load and run, without a style code.
    plain = load_stylizer(shipped)
    plain_style = plain.style_statistics(load_style("wave"))
    assert plain.model.modulation is None
    assert plain_style.code is None
    assert plain.stylize(natural_image(20, 16), plain_style).shape == (16, 20, 3)
    modulated_run = tmp_path / "modulated"
    train_main(["--stage", "decoder", *common, "--out", str(modulated_run),
                "--steps", "2", "--init", str(shipped), "--modulate", "--bf16"])  # fmt: skip
    modulated = load_checkpoint(modulated_run / "decoder" / "checkpoint.pt")
    assert modulated["config"]["architecture"] == "adain-film-vgg4"
    assert modulated["config"]["bf16"] is True
    assert torch.equal(
        modulated["state_dict"]["encoder.enc1.0.conv.weight"],
        plain.model.state_dict()["encoder.enc1.0.conv.weight"],
    )
    path = export(modulated_run / "decoder" / "checkpoint.pt", tmp_path / "other")
    assert load_stylizer(path).model.modulation is not None
    runs = {}
    for weight in ("0", "10"):
        out = tmp_path / f"texture{weight}"
        train_main(["--stage", "decoder", *common, "--out", str(out), "--steps", "3",
                    "--init", str(shipped), "--texture-weight", weight,
                    "--texture-channels", "4"])  # fmt: skip
        runs[weight] = load_checkpoint(out / "decoder" / "checkpoint.pt")
    decoder = runs["10"]
    assert decoder["step"] == 3
    assert decoder["config"]["encoder_steps"] == 2
    # Same start, crops and seed, so only the texture term can make the runs differ.
    assert not torch.equal(
        decoder["state_dict"]["decoder.dec1.2.conv.weight"],
        runs["0"]["state_dict"]["decoder.dec1.2.conv.weight"],
    )
    shipped_state = load_stylizer(shipped).model.state_dict()
    for name, value in shipped_state.items():
        if name.startswith("encoder."):
            assert torch.equal(decoder["state_dict"][name], value), name
    export(tmp_path / "texture10" / "decoder" / "checkpoint.pt", pretrained)
    training = read_manifest(pretrained)["models"]["stylize"]["training"]
    assert training["texture_weight"] == 10
    assert training["initialized_from"]["file"] == shipped.name
    assert training["total_decoder_steps"] == 5
    assert f"--init pretrained/{shipped.name}" in training["command"]


def test_texture_loss_tells_stripes_apart() -> None:
    from aegui.training.stylize import TextureFeatures, texture_loss

    features = TextureFeatures(channels=8)
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")

    def stripes(phase: torch.Tensor) -> torch.Tensor:
        wave = 0.5 + 0.4 * torch.sin(phase / 3.0)
        return wave.expand(1, 3, 64, 64).contiguous()

    horizontal = features(stripes(y))
    assert texture_loss(horizontal, horizontal) == 0
    shifted = texture_loss(features(stripes(y + 5.0)), horizontal)
    turned = texture_loss(features(stripes(x)), horizontal)
    assert shifted < turned / 10


def test_decoder_stage_needs_encoder(
    training_data: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    photos, styles = training_data
    status = main(["train", "stylize", "--stage", "decoder", "--data", str(photos),
                   "--styles", str(styles), "--out", str(tmp_path / "run")])  # fmt: skip
    assert status == EXIT_FAILED
    assert "run --stage encoder with the same --out first" in capsys.readouterr().err


def test_procedural_texture_range() -> None:
    from aegui.training.stylize import procedural_texture

    rng = np.random.default_rng(0)
    for _ in range(5):
        texture = procedural_texture(rng, 32)
        assert texture.shape == (32, 32, 3)
        assert texture.dtype == np.float32
        assert 0.0 <= texture.min()
        assert texture.max() <= 1.0
        assert texture.std() > 0.0


def test_cli_train_rejects_benchmark_set(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "train",
                "stylize",
                "--stage",
                "encoder",
                "--data",
                str(tmp_path / "kodak24"),
            ]
        )
    assert exit_info.value.code == EXIT_USAGE


# Layering


def test_operation_check_leaves_torch_unloaded(tiny_stylize_pretrained: Path) -> None:
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
        env={**os.environ, "AEGUI_PRETRAINED": str(tiny_stylize_pretrained)},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['compress', 'decompress', 'stylize'] False"


def test_bfloat16_result_is_close(tiny_stylizer) -> None:
    pixels = natural_image(64, 48, seed=3)
    style = tiny_stylizer.style_statistics(load_style("wave"))
    exact = tiny_stylizer.stylize(pixels, style, 1.0)
    fast = StyleTransfer(tiny_stylizer.model, "fast", bfloat16=True)
    result = fast.stylize(pixels, style, 1.0)
    assert result.dtype == np.float32
    assert np.abs(result - exact).mean() < 3.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(("height", "width"), [(2, 2), (5, 9), (16, 3)])
def test_reflect_pad_matches_torch(
    dtype: torch.dtype, channels_last: bool, height: int, width: int
) -> None:
    x = torch.randn(2, 5, height, width).to(dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    padded = reflect_pad_one(x)
    assert torch.equal(padded, F.pad(x, (1, 1, 1, 1), mode="reflect"))
    assert padded.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_bfloat16_copy_leaves_model_float(tiny_stylizer) -> None:
    fast = StyleTransfer(tiny_stylizer.model, "fast", bfloat16=True)
    pixels = natural_image(40, 24, seed=5)
    style = fast.style_statistics(load_style("udnie"))
    result = fast.stylize(pixels, style, 0.7)
    assert fast.network().encoder.enc1[0].conv.weight.dtype == torch.bfloat16
    assert fast.model.encoder.enc1[0].conv.weight.dtype == torch.float32
    assert style.mean.dtype == torch.float32
    assert result.dtype == np.float32
