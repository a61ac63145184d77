# SPDX-License-Identifier: MIT
"""The benchmark page renders each section from its JSON results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_write_page():
    spec = importlib.util.spec_from_file_location(
        "write_page", REPO / "benchmarks" / "write_page.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def method(psnr: float, seconds: float, images: int = 3) -> dict[str, float]:
    return {"psnr-rgb": psnr, "seconds_per_image": seconds, "images": images}


def test_denoise_and_stylize_sections(tmp_path: Path) -> None:
    denoise = {
        "meta": {
            "machine": {"cpu": "Test CPU", "cores": 2},
            "torch_threads": 2,
            "images": ["a.png", "b.png", "c.png"],
            "bm3d_images": 1,
            "seed": 0,
            "date": "2026-12-04T10:00:00+00:00",
            "command": "python benchmarks/denoise_cbsd68.py",
        },
        "results": {
            "gaussian-25": {
                "noisy": method(20.6, 0.0),
                "aegui": method(30.1, 0.5),
                "aegui-4": method(30.15, 2.0),
                "aegui-8": method(30.2, 4.0),
                "aegui-sigma": method(30.3, 0.5),
                "cbm3d": method(30.4, 20.0, 1),
                "nlmeans": method(28.0, 0.4),
                "subset": {
                    "aegui": 29.9,
                    "aegui-4": 29.95,
                    "aegui-8": 30.0,
                    "cbm3d": 30.4,
                },
            },
            "salt-and-pepper-10": {
                "noisy": method(15.0, 0.0),
                "aegui": method(27.5, 0.5),
                "median3x3": method(26.2, 0.05),
            },
        },
    }
    stylize = {
        "meta": {
            "photo": "kodim23.png",
            "size": "768x512",
            "styles": ["wave.jpg"],
            "threads": 2,
            "scores-model": "test-model",
            "machine": "Test CPU, 2 cores",
            "date": "2026-12-04",
            "command": "python benchmarks/stylize_speed.py",
        },
        "results": {
            "aegui": {
                "version": "test-model",
                "median-seconds": 0.3,
                "edge-correlation": 0.5,
                "content-distance": 0.1,
                "style-distance": 0.01,
                "texture-distance": 0.15,
                "histogram-distance": 0.2,
            },
            # Results written before the texture measure existed lack it.
            "older": {
                "version": "0.1",
                "median-seconds": 0.4,
                "edge-correlation": 0.6,
                "content-distance": 0.2,
                "style-distance": 0.02,
                "histogram-distance": 0.3,
            },
        },
    }
    (tmp_path / "denoise-cbsd68.json").write_text(json.dumps(denoise))
    (tmp_path / "stylize-speed.json").write_text(json.dumps(stylize))
    page = tmp_path / "page.md"

    load_write_page().main(["--results", str(tmp_path), "--out", str(page)])

    text = page.read_text()
    assert "## Denoising: CBSD68" in text
    assert (
        "| 25 | 20.60 | 30.10 | 30.15 | 30.20 | 30.30 | 28.00 | 29.90 | 29.95 | 30.00 "
        "| 30.40 | 30.71 | 31.23 |" in text
    )
    assert "| aegui, 4 passes on subset |" in text
    assert "| 25 | 20.0 | 0.50 | 40x | 2.00 | 10x | 4.00 | 5x | 0.40 |" in text
    assert "| salt-and-pepper-10 | 15.00 | 27.50 | 26.20 | 0.50 |" in text
    assert "## Style transfer: speed and scores" in text
    assert (
        "| aegui test-model | 0.300 | 0.500 | 0.1000 | 0.01000 | 0.1500 | 0.200 |"
        in text
    )
    assert "| older 0.1 | 0.400 | 0.600 | 0.2000 | 0.02000 | - | 0.300 |" in text
    assert "## Compression" not in text


def test_trials_section(tmp_path: Path) -> None:
    trials = {
        "meta": {
            "machine": {"cpu": "Test CPU", "cores": 2},
            "date": "2026-12-05T23:00:00+00:00",
            "command": "python benchmarks/codec_quantizer_trials.py",
        },
        "summary": {
            "refine 30": {
                "bpp_change_percent": -1.92,
                "psnr_change_db": 0.115,
                "encode_seconds": 32.0,
            }
        },
        "results": [
            {"image": "kodim23", "quality": 9, "trial": "round"},
            {"image": "kodim05", "quality": 2, "trial": "round"},
        ],
    }
    (tmp_path / "codec-quantizer-trials.json").write_text(json.dumps(trials))
    page = tmp_path / "page.md"
    load_write_page().main(["--results", str(tmp_path), "--out", str(page)])
    text = page.read_text()
    assert "## Compression: choosing the coded symbols" in text
    assert "kodim05, kodim23 at qualities 2, 9" in text
    assert "| refine 30 | -1.9 % | +0.12 dB | 32.0 |" in text


def test_ceiling_section(tmp_path: Path) -> None:
    row = {"bpp": 0.5, "unrounded": 34.0, "rounded": 30.0, "offset 1": 29.5}
    ceiling = {
        "meta": {
            "machine": {"cpu": "Test CPU", "cores": 2},
            "torch_threads": 2,
            "weights_sha256": "1f65d0b2" + "0" * 56,
            "gap_photos": 40,
            "date": "2026-12-06T10:00:00+00:00",
            "command": "python benchmarks/codec_ceiling.py",
        },
        "summary": [{"quality": 4, **row}],
        "results": [
            {"image": "kodim01", "quality": 4, **row},
            {"image": "kodim02", "quality": 4, **row},
        ],
    }
    (tmp_path / "codec-ceiling.json").write_text(json.dumps(ceiling))
    page = tmp_path / "page.md"
    load_write_page().main(["--results", str(tmp_path), "--out", str(page)])
    text = page.read_text()
    assert "## Compression: rounding against the transforms" in text
    assert "measured on 40 BSDS400 photos. Means over 2 Kodak photos" in text
    assert "| quality | bpp | never rounded | rounded | offset 1 |" in text
    assert "| 4 | 0.500 | 34.00 | 30.00 | 29.50 |" in text


def test_context_trial_section(tmp_path: Path) -> None:
    run = {
        "meta": {
            "machine": {"cpu": "Test CPU", "cores": 2},
            "torch_threads": 2,
            "weights_sha256": "1f65d0b2" + "0" * 56,
            "date": "2026-12-06T11:00:00+00:00",
        },
        "model": "conv",
        "hidden": 64,
        "parameters": 405952,
        "steps": 1500,
        "training_crop_saving_percent": 3.19,
        "photos_measured": {"Kodak": 8},
        "non_anchor_saving_percent": {"Kodak": {"2": 1.79, "6": -0.7, "10": -3.81}},
    }
    trial = {"name": "codec-context-trial", "runs": [run]}
    (tmp_path / "codec-context-trial.json").write_text(json.dumps(trial))
    page = tmp_path / "page.md"
    load_write_page().main(["--results", str(tmp_path), "--out", str(page)])
    text = page.read_text()
    assert "## Compression: a context model on the frozen latents" in text
    assert "| conv 64 | 405,952 | training crops, last 250 of 1500 steps |" in text
    assert "| conv 64 |  | 8 Kodak | +1.8 | -0.7 | -3.8 |" in text
