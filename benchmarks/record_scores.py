# SPDX-License-Identifier: MIT
"""Copy measured scores from benchmarks/results into pretrained/manifest.json.

The manifest records what each shipped model scores. This script takes those
numbers from the benchmark JSON files, so the manifest and docs/benchmarks.md
show the same run. A model whose results are missing keeps its entry as it is::

    python benchmarks/record_scores.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def read(path: Path) -> dict[str, Any] | None:
    """Return the parsed JSON file, or None if it does not exist."""
    return json.loads(path.read_text()) if path.exists() else None


def codec_scores(results: Path) -> dict[str, Any] | None:
    """Return the codec's Kodak curve from ``aegui.json``."""
    data = read(results / "aegui.json")
    if data is None:
        return None
    curve = data["results"]
    return {
        "dataset": f"kodak24 ({len(data['meta'].get('images', [])) or 24} images)",
        "command": data["meta"].get("command", "python benchmarks/codec_rd.py"),
        **{key: curve[key] for key in ("quality", "bpp", "psnr-rgb", "ms-ssim-rgb")},
    }


def denoise_scores(results: Path) -> dict[str, Any] | None:
    """Return the denoiser's blind CBSD68 PSNR per condition."""
    data = read(results / "denoise-cbsd68.json")
    if data is None:
        return None
    psnr = {
        condition: round(entry["aegui"]["psnr-rgb"], 3)
        for condition, entry in data["results"].items()
        if "aegui" in entry
    }
    return {
        "dataset": f"cbsd68 ({len(data['meta']['images'])} images)",
        "command": data["meta"]["command"],
        "psnr-rgb": psnr,
        "seconds_per_image": round(
            data["results"]["gaussian-25"]["aegui"]["seconds_per_image"], 3
        ),
    }


def stylize_scores(results: Path) -> dict[str, Any] | None:
    """Return the stylizer's speed and mean scores over the presets."""
    data = read(results / "stylize-speed.json")
    if data is None or "aegui" not in data["results"]:
        return None
    row = data["results"]["aegui"]
    keys = (
        "median-seconds",
        "edge-correlation",
        "content-distance",
        "style-distance",
        "texture-distance",
        "histogram-distance",
    )
    return {
        "photo": data["meta"]["photo"],
        "styles": data["meta"]["styles"],
        "command": data["meta"]["command"],
        **{key: row[key] for key in keys},
    }


def main(argv: list[str] | None = None) -> int:
    """Update the manifest's evaluation entries."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--pretrained", type=Path, default=REPO / "pretrained")
    args = parser.parse_args(argv)
    path = args.pretrained / "manifest.json"
    manifest = json.loads(path.read_text())
    for task, scores in (
        ("codec", codec_scores(args.results)),
        ("denoise", denoise_scores(args.results)),
        ("stylize", stylize_scores(args.results)),
    ):
        if scores is not None and task in manifest["models"]:
            manifest["models"][task]["evaluation"] = scores
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
