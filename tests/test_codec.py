# SPDX-License-Identifier: MIT
"""Round trips and bit-exact decoding of the learned codec (tiny random weights)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

import aegui.core.codec as codec_module
import aegui.core.refine as refine_module
from aegui.core.entropy import TableSet, decode_symbols, encode_symbols, quantize_pmf
from aegui.core.intnet import IntegerHyperDecoder
from aegui.core.models.hyperprior import (
    DEFAULT_LAMBDAS,
    LogisticMixturePrior,
    MeanScaleHyperprior,
    resample_gains,
)
from aegui.core.models.layers import GDN
from aegui.training.export_codec import Z_SEARCH, prior_tables
from tests.conftest import natural_image


def test_compress_bytes_round_trip(tiny_codec):
    image = natural_image(100, 70)
    data = tiny_codec.compress(image, 3)
    decoded = tiny_codec.decompress(data)
    assert decoded.shape == image.shape
    assert decoded.dtype == np.uint8
    assert np.array_equal(decoded, tiny_codec.decode(tiny_codec.encode(image, 3)))


@pytest.mark.parametrize("size", [(1, 1), (1, 37), (65, 1), (64, 64), (129, 67)])
def test_odd_sizes_round_trip(tiny_codec, size):
    width, height = size
    image = natural_image(width, height, seed=width + height)
    decoded = tiny_codec.decompress(tiny_codec.compress(image, 5))
    assert decoded.shape == (height, width, 3)


def test_decode_identical_across_thread_counts(tiny_codec):
    image = natural_image(160, 96, seed=3)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        latents = tiny_codec.encode(image, 4)
        encoder_side = tiny_codec.decode(latents)
        torch.set_num_threads(1)
        first = tiny_codec.decode(latents)
        second = tiny_codec.decode(latents)
    finally:
        torch.set_num_threads(previous)
    assert np.array_equal(first, encoder_side)
    assert np.array_equal(first, second)


def test_decode_in_another_process_is_identical(tiny_codec, tiny_pretrained, tmp_path):
    image = natural_image(96, 64, seed=4)
    torch.set_num_threads(2)
    data = tiny_codec.compress(image, 6)
    expected = tiny_codec.decompress(data)
    (tmp_path / "image.aez").write_bytes(data)
    script = (
        "import sys, numpy as np, torch\n"
        "torch.set_num_threads(1)\n"
        "from aegui.core.zoo import load_codec\n"
        "codec = load_codec()\n"
        "out = codec.decompress(open(sys.argv[1], 'rb').read())\n"
        "np.save(sys.argv[2], out)\n"
    )
    env = {"AEGUI_PRETRAINED": str(tiny_pretrained), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "image.aez"),
            str(tmp_path / "out.npy"),
        ],
        check=True,
        env=env,
        timeout=120,
    )
    assert np.array_equal(np.load(tmp_path / "out.npy"), expected)


def test_tiled_coding_matches_whole_image(tiny_codec, monkeypatch):
    image = natural_image(150, 100, seed=5)
    whole_latents = tiny_codec.encode(image, 4)
    whole = tiny_codec.decode(whole_latents)
    monkeypatch.setattr(codec_module, "TILE_PIXELS", 64)
    monkeypatch.setattr(codec_module, "SYNTHESIS_TILE_PIXELS", 64)
    tiled_latents = tiny_codec.encode(image, 4)
    tiled = tiny_codec.decode(whole_latents)
    assert tiled_latents == whole_latents
    assert np.array_equal(tiled, whole)


def test_encode_rejects_bad_quality(tiny_codec):
    image = natural_image(16, 16)
    with pytest.raises(ValueError, match="Invalid quality 0"):
        tiny_codec.encode(image, 0)
    with pytest.raises(ValueError, match="Invalid quality 11"):
        tiny_codec.encode(image, 11)


def test_encode_honours_cancel(tiny_codec, monkeypatch):
    monkeypatch.setattr(codec_module, "TILE_PIXELS", 64)
    with pytest.raises(InterruptedError):
        tiny_codec.encode(natural_image(200, 200), 4, cancelled=lambda: True)


@pytest.mark.parametrize("bfloat16", [False, True])
def test_refined_coding_repeats_and_decodes(tiny_codec, monkeypatch, bfloat16):
    # Small tiles, so the image spans several of them.
    monkeypatch.setattr(refine_module, "TILE_LATENTS", 2)
    monkeypatch.setattr(tiny_codec, "refine_in_bfloat16", bfloat16)
    image = natural_image(70, 50)
    reports: list[float] = []
    first = tiny_codec.encode(image, 6, refine_steps=3, progress=reports.append)
    second = tiny_codec.encode(image, 6, refine_steps=3)
    assert first == second
    assert reports == sorted(reports)
    assert reports[-1] == 1.0
    # Refinement reports after every step of each of the 3x3 tiles.
    assert len([r for r in reports if 0.1 < r < 0.95]) == 3 * 9 - 1
    assert tiny_codec.decode(first).shape == image.shape


def test_refinement_falls_back_to_rounding(tiny_codec, monkeypatch):
    # Steps this large scatter the latents, so every tile keeps plain rounding.
    monkeypatch.setattr(refine_module, "LEARNING_RATE", 50.0)
    image = natural_image(70, 50)
    assert tiny_codec.encode(image, 6, refine_steps=3) == tiny_codec.encode(image, 6)


def test_refinement_rejects_negative_steps(tiny_codec):
    with pytest.raises(ValueError, match="Invalid number of refinement steps -1"):
        tiny_codec.encode(natural_image(16, 16), 4, refine_steps=-1)


def test_refinement_honours_cancel(tiny_codec):
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(InterruptedError):
        tiny_codec.encode(
            natural_image(64, 64), 4, refine_steps=50, cancelled=cancelled
        )
    assert len(calls) < 10  # stopped within a few of its 50 steps


def test_balanced_ranges_cover_the_grid():
    assert refine_module.balanced_ranges(33, 40) == [(0, 33)]
    assert refine_module.balanced_ranges(49, 40) == [(0, 24), (24, 49)]
    assert refine_module.balanced_ranges(1, 40) == [(0, 1)]


def test_integer_hyper_decoder_is_thread_invariant(tiny_codec):
    rng = np.random.default_rng(0)
    z = rng.integers(-20, 20, size=(tiny_codec.model.hyper_channels, 5, 7))
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = tiny_codec.hyper_decoder(z)
        torch.set_num_threads(2)
        double = tiny_codec.hyper_decoder(z)
    finally:
        torch.set_num_threads(previous)
    assert np.array_equal(single, double)
    assert single.dtype == np.int64


def test_integer_hyper_decoder_tracks_float(tiny_codec):
    rng = np.random.default_rng(1)
    z = rng.integers(-3, 4, size=(tiny_codec.model.hyper_channels, 4, 4))
    integer = tiny_codec.hyper_decoder(z) / 256.0
    with torch.no_grad():
        reference = tiny_codec.model.h_s(torch.from_numpy(z).float()[None])[0].numpy()
    assert np.abs(integer - reference).max() < 0.05


def test_integer_hyper_decoder_rejects_huge_input(tiny_codec):
    z = np.full((tiny_codec.model.hyper_channels, 2, 2), 1 << 20)
    with pytest.raises(ValueError, match="beyond"):
        tiny_codec.hyper_decoder(z)


def test_from_float_rejects_transposed_convolution():
    h_s = torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 4, 3))
    with pytest.raises(TypeError):
        IntegerHyperDecoder.from_float(h_s, out_fraction=8)


@pytest.mark.parametrize("inverse", [False, True])
def test_gdn_without_autograd_matches_autograd(inverse: bool) -> None:
    torch.manual_seed(0)
    layer = GDN(8, inverse=inverse)
    with torch.no_grad():
        layer.gamma_root.add_(0.1 * torch.rand(8, 8))
    x = torch.randn(1, 8, 17, 19)
    expected = layer(x)
    with torch.inference_mode():
        result = layer(x)
    assert expected.requires_grad
    assert torch.equal(result, expected)


def test_quantize_pmf_sums_to_total():
    counts = quantize_pmf(np.array([0.5, 0.25, 1e-12, 0.25]))
    assert counts.sum() == 1 << 16
    assert counts.min() >= 1


def test_entropy_coding_round_trip():
    tables = TableSet.from_tables(
        [quantize_pmf(np.array([0.7, 0.2, 0.1])), quantize_pmf(np.ones(9))], [0, -4]
    )
    rng = np.random.default_rng(2)
    index = rng.integers(0, 2, size=(3, 5, 6))
    symbols = np.where(
        index == 0, rng.integers(0, 3, index.shape), rng.integers(-4, 5, index.shape)
    )
    data = encode_symbols(symbols, index, tables)
    assert np.array_equal(decode_symbols(data, index, tables), symbols)


def test_entropy_coding_rejects_out_of_range_symbol():
    tables = TableSet.from_tables([quantize_pmf(np.ones(3))], [0])
    with pytest.raises(ValueError, match="outside the support"):
        encode_symbols(np.array([3]), np.array([0]), tables)


def test_one_entry_tables_are_rejected():
    tables = TableSet.from_tables(
        [quantize_pmf(np.ones(3)), quantize_pmf(np.ones(1))], [0, 0]
    )
    with pytest.raises(ValueError, match="fewer than two entries"):
        tables.validate()


@pytest.mark.parametrize("value", [0, Z_SEARCH])
def test_collapsed_prior_channel_still_codes(value):
    # A channel whose mass sits on one value, as training can leave an unused
    # hyper-latent channel, must still give a table that constriction accepts.
    prior = LogisticMixturePrior(2)
    with torch.no_grad():
        prior.log_scales[1].fill_(-12.0)
        prior.means[1].fill_(float(value))
    tables = prior_tables(prior)
    tables.validate()
    symbols = np.array([value, value, 1, -1, value])
    index = np.array([1, 1, 0, 0, 1])
    assert np.array_equal(
        decode_symbols(encode_symbols(symbols, index, tables), index, tables), symbols
    )


def test_shipped_tables_are_valid(tiny_codec):
    tiny_codec.z_tables.validate()
    tiny_codec.y_tables.validate()
    assert np.all(tiny_codec.y_tables.minima == -tiny_codec.y_tables.maxima)


def test_model_file_has_no_pickle(tiny_pretrained: Path):
    for path in tiny_pretrained.glob("*.safetensors"):
        assert b"torch._utils" not in path.read_bytes()


def test_subpixel_rewrite_matches_transposed_conv():
    from torch.nn import functional as F

    from aegui.core.intsynth import transposed_to_subpixel
    from aegui.core.models.layers import conv_up

    torch.manual_seed(0)
    deconv = conv_up(6, 5).double()
    x = torch.randn(1, 6, 7, 9, dtype=torch.float64)
    weight, bias = transposed_to_subpixel(deconv)
    rewritten = F.pixel_shuffle(
        F.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias), padding=1), 2
    )
    with torch.no_grad():
        reference = deconv(x)
    assert torch.allclose(rewritten, reference, atol=1e-12)


def test_exact_synthesis_tracks_float(tiny_codec):
    image = natural_image(128, 64, seed=6)
    latents = tiny_codec.encode(image, 5)
    exact = tiny_codec.decode(latents).astype(int)
    level = torch.tensor([4])
    gain, inv_gain = tiny_codec.model.gains(level)
    # The float pipeline on the same padded image: 144x80 with the margin, so
    # y has 5x9 cells, extended to 8x12 for h_a.
    width, height = codec_module.padded_size(128, 64)
    padded = np.pad(image, ((0, height - 64), (0, width - 128), (0, 0)), mode="edge")
    x = torch.from_numpy(padded).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y_s = tiny_codec.model.g_a(x) * gain
        extended = F.pad(y_s, (0, 3, 0, 3), mode="replicate")
        mean, _ = tiny_codec._hyper_decode(
            np.rint(tiny_codec.model.h_a(extended)[0].double().numpy()).astype(
                np.int64
            ),
            (5, 9),
        )
        y_hat = torch.from_numpy(
            np.rint(y_s[0].double().numpy() - mean) + mean
        ).float()[None]
        reference = (
            tiny_codec.model.g_s(y_hat * inv_gain)
            .clamp(0, 1)[0, :, :64, :128]
            .permute(1, 2, 0)
            .numpy()
            * 255
        )
    assert (width, height) == (144, 80)
    assert np.abs(exact - reference).mean() < 1.0


def test_exact_upsample_equals_integer_transposed_convolution():
    from aegui.core.intsynth import (
        _exact_upsample,
        subpixel_to_matrix,
        transposed_to_subpixel,
    )

    rng = np.random.default_rng(7)
    x = rng.integers(-(1 << 18), 1 << 18, size=(20, 9, 11))
    kernel = rng.integers(-(1 << 14), 1 << 14, size=(20, 8, 5, 5))  # (in, out, 5, 5)
    bias = rng.integers(-(1 << 30), 1 << 30, size=8)
    # Integer transposed convolution: stride 2, padding 2, output padding 1.
    full = np.zeros((8, 2 * 9 + 3, 2 * 11 + 3), dtype=np.int64)
    for ky in range(5):
        for kx in range(5):
            full[:, ky : ky + 18 : 2, kx : kx + 22 : 2] += np.einsum(
                "co,chw->ohw", kernel[:, :, ky, kx], x
            )
    expected = full[:, 2:20, 2:24] + bias[:, None, None]

    deconv = torch.nn.ConvTranspose2d(
        20, 8, 5, stride=2, padding=2, output_padding=1
    ).double()
    with torch.no_grad():
        deconv.weight.copy_(torch.from_numpy(kernel.astype(np.float64)))
        deconv.bias.copy_(torch.from_numpy(bias.astype(np.float64)))
    subpixel, subpixel_bias = transposed_to_subpixel(deconv)
    matrix = subpixel_to_matrix(np.rint(subpixel).astype(np.int64))
    # Small bands force the overlap-add across band edges.
    from aegui.core import intsynth

    saved = intsynth.CHUNK_ELEMENTS
    for chunk in (saved, 8 * 25 * 11 * 2):
        intsynth.CHUNK_ELEMENTS = chunk
        try:
            result = _exact_upsample(
                torch.from_numpy(x.astype(np.float64)),
                matrix,
                torch.from_numpy(np.rint(subpixel_bias[::4])),
            )
        finally:
            intsynth.CHUNK_ELEMENTS = saved
        assert np.array_equal(result.numpy().astype(np.int64), expected)


def test_synthesis_honours_cancel_between_stages(tiny_codec):
    latents = torch.zeros(1, tiny_codec.model.M, 2, 2)
    polls = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) == 2  # stop before the second of four stages

    with pytest.raises(InterruptedError):
        tiny_codec.synthesis(latents, cancelled)
    assert len(polls) == 2


def test_resample_gains_keeps_known_levels() -> None:
    log_gains = torch.tensor([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]])
    resampled = resample_gains(log_gains, [0.001, 0.002, 0.004], [0.0005, 0.002, 0.008])
    assert torch.allclose(resampled[1], log_gains[1])
    assert torch.allclose(resampled[0], torch.tensor([-1.0, -1.0]))
    assert torch.allclose(resampled[2], torch.tensor([3.0, 7.0]))


def test_training_init_resamples_gains(tmp_path: Path) -> None:
    from aegui.cli import EXIT_OK, main
    from aegui.training.export_codec import export
    from aegui.training.loop import RunState, load_checkpoint, save_checkpoint

    old_lambdas = [DEFAULT_LAMBDAS[2], DEFAULT_LAMBDAS[5], DEFAULT_LAMBDAS[8]]
    model = MeanScaleHyperprior(N=8, M=12, hyper_channels=8, levels=len(old_lambdas))
    config = {
        "architecture": "msh-gain", "N": 8, "M": 12, "hyper_channels": 8,
        "lambdas": old_lambdas, "crop": 64, "batch": 1, "lr": 1e-4, "data": "random",
    }  # fmt: skip
    save_checkpoint(
        tmp_path / "old.pt",
        config,
        model,
        torch.optim.Adam(model.parameters()),
        RunState(5, 36.0),
    )
    weights = export(tmp_path / "old.pt", tmp_path / "old", None)
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(2):
        Image.fromarray(natural_image(96, 96, seed=seed)).save(photos / f"{seed}.png")

    status = main([
        "--threads", "1", "train", "compression", "--data", str(photos),
        "--out", str(tmp_path / "run"), "--N", "8", "--M", "12", "--hyper-channels", "8",
        "--crop", "64", "--batch", "1", "--steps", "1", "--init", str(weights),
        "--scales", "1,0.7",
    ])  # fmt: skip

    assert status == EXIT_OK
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert trained["config"]["lambdas"] == list(DEFAULT_LAMBDAS)
    assert trained["config"]["scales"] == [1.0, 0.7]
    assert trained["state_dict"]["log_gain"].shape == (len(DEFAULT_LAMBDAS), 12)

    # Exported over the weights it started from, the run records them.
    export(tmp_path / "run" / "checkpoint.pt", tmp_path / "old", None)
    manifest = json.loads((tmp_path / "old" / "manifest.json").read_text())
    training = manifest["models"]["codec"]["training"]
    assert training["initialized_from"]["file"] == weights.name
    assert training["initialized_from"]["steps"] == 5
    assert training["initialized_from"]["lambdas"] == old_lambdas
    assert training["total_steps"] == 6
    assert training["scales"] == [1.0, 0.7]
    assert f"--init pretrained/{weights.name}" in training["command"]
    assert not weights.exists()


def test_smooth_crops_are_flat_or_gentle() -> None:
    from aegui.training.data import RandomCrops, smooth_version

    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
    flat = smooth_version(photo[:64, :64], 1)
    assert flat.shape == (64, 64, 3)
    assert (flat == flat[0, 0]).all()
    assert np.allclose(flat[0, 0], photo[:64, :64].reshape(-1, 3).mean(0), atol=1)
    gentle = smooth_version(photo[:64, :64], 3).astype(int)
    assert np.abs(np.diff(gentle, axis=0)).max() <= 16
    assert np.abs(np.diff(gentle, axis=1)).max() <= 16

    every = RandomCrops([photo], 64, seed=0, smooth_fraction=1.0).batch(4)
    never = RandomCrops([photo], 64, seed=0, smooth_fraction=0.0).batch(4)
    steps = (every[:, :, 1:] - every[:, :, :-1]).abs().amax()
    assert steps <= 16 / 255
    assert (never[:, :, 1:] - never[:, :, :-1]).abs().amax() > 0.5
    with pytest.raises(ValueError, match="smooth_fraction"):
        RandomCrops([photo], 64, smooth_fraction=1.5)


def test_empty_latent_stream_is_named(tiny_codec):
    import dataclasses

    from aegui.core.container import pack_image
    from aegui.core.errors import AezFormatError

    latents = tiny_codec.encode(natural_image(32, 32), 2)
    data = pack_image(tiny_codec, dataclasses.replace(latents, y_stream=b""))
    with pytest.raises(AezFormatError, match=r"latent \(y\) stream \(empty stream"):
        tiny_codec.decompress(data)


def test_damaged_hyper_latent_stream_is_named(tiny_codec):
    import dataclasses

    from aegui.core.container import pack_image
    from aegui.core.errors import AezFormatError

    latents = tiny_codec.encode(natural_image(64, 64), 2)
    damaged = bytes([latents.z_stream[0] ^ 0x5A]) + latents.z_stream[1:]
    data = pack_image(tiny_codec, dataclasses.replace(latents, z_stream=damaged))
    with pytest.raises(AezFormatError, match=r"hyper-latent \(z\) stream"):
        tiny_codec.decompress(data)


def test_symbols_left_undecoded_are_rejected():
    tables = TableSet.from_tables([quantize_pmf(np.full(16, 1 / 16))], [0])
    index = np.zeros(8, dtype=np.int64)
    data = encode_symbols(np.arange(8), index, tables)
    assert list(decode_symbols(data, index, tables)) == list(range(8))
    with pytest.raises(ValueError, match="data left over after the last symbol"):
        decode_symbols(data, index[:2], tables)


def test_version_one_file_still_decodes(tiny_codec, monkeypatch):
    import dataclasses

    from aegui.core.container import latent_grids, pack_image, unpack

    def version_one_grids(width, height, version=1):
        return latent_grids(width, height, 1)

    image = natural_image(100, 70, seed=3)
    with monkeypatch.context() as patch:
        # The encoder of format version 1: no margin, multiples of 64 pixels.
        patch.setattr(codec_module, "latent_grids", version_one_grids)
        latents = dataclasses.replace(tiny_codec.encode(image, 4), version=1)
        expected = tiny_codec.decode(latents)
    data = pack_image(tiny_codec, latents)
    header, _ = unpack(data)
    assert header.version == 1
    assert header.y_shape[1:] == (8, 8)
    assert np.array_equal(tiny_codec.decompress(data), expected)


def test_training_command_names_scales() -> None:
    from aegui.training.manifest import training_command

    config = {"data": "bsds400", "bf16": True, "scales": [0.75, 0.6],
              "lr": 2e-4, "init": "codec.safetensors"}  # fmt: skip
    assert training_command("compression", config) == (
        "aegui train compression --data bsds400 --hours H --bf16 --scales 0.75,0.6 "
        "--lr 0.0002 --init pretrained/codec.safetensors"
    )
    assert "--scales" not in training_command("denoise", {"data": "bsds400"})
