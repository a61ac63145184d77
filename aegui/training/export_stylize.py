# SPDX-License-Identifier: MIT
"""Turn a style transfer decoder checkpoint into shipped weights and a manifest entry.

Export writes the float32 weights of the frozen encoder and the trained
decoder to ``pretrained/stylize-<architecture>-<sha8>.safetensors`` and
records them as the ``stylize`` entry of ``pretrained/manifest.json``, next to
the entries of the other models.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

import torch

from aegui.core.models.stylizer import STRIDE, Stylizer, parameter_count
from aegui.core.weights import save_weights
from aegui.core.zoo import MANIFEST
from aegui.training.loop import load_checkpoint

logger = logging.getLogger(__name__)


def export(checkpoint: Path, out_dir: Path, eval_dir: Path | None = None) -> Path:
    """Export ``checkpoint`` into ``out_dir`` and update its manifest.

    ``eval_dir`` is accepted for the shared ``aegui export`` command but not
    used: style transfer has no reference output to score against, and
    ``benchmarks/stylize_speed.py`` measures content and style separately.
    """
    saved = load_checkpoint(checkpoint)
    config = saved["config"]
    if config.get("stage") != "decoder":
        raise ValueError(
            f"Invalid checkpoint {checkpoint}: it is from the {config.get('stage')!r} "
            "stage; export the checkpoint of --stage decoder"
        )
    model = Stylizer(config["width"])
    model.load_state_dict(saved["state_dict"])
    model.eval()

    tensors = {
        f"model.{k}": v.detach().float().numpy() for k, v in model.state_dict().items()
    }
    model_id = f"aegui-stylize-{config['architecture']}-w{config['width']}"
    metadata = {
        "kind": "stylize",
        "model_id": model_id,
        "architecture": config["architecture"],
        "width": config["width"],
        "parameters": parameter_count(model),
        "encoder_parameters": parameter_count(model.encoder),
        "decoder_parameters": parameter_count(model.decoder),
        "input": f"float RGB 0..1 NCHW, any size (padded to multiples of {STRIDE})",
    }
    temporary = out_dir / "stylize-export.safetensors"
    sha256 = save_weights(temporary, tensors, metadata)
    path = out_dir / f"stylize-{config['architecture']}-{sha256[:8]}.safetensors"
    temporary.replace(path)
    logger.info("Wrote %s", path)
    if eval_dir is not None:
        logger.warning("Ignored --eval %s: stylize exports are not evaluated", eval_dir)

    entry: dict[str, Any] = {
        "file": path.name,
        "sha256": sha256,
        **metadata,
        "training": {
            "data": Path(config["data"]).name,
            "styles": Path(config.get("styles", "")).name,
            "encoder_steps": config.get("encoder_steps"),
            "decoder_steps": saved["step"],
            "decoder_wall_time_hours": round(saved["seconds"] / 3600, 2),
            "crop": config["crop"],
            "batch": config["batch"],
            "lr": config["lr"],
            "style_weight": config.get("style_weight"),
            "identity_weight": config.get("identity_weight"),
            "textures": config.get("textures"),
            "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
            "command": "aegui train stylize --stage encoder|decoder --data ../shared/datasets/bsds400 "
            "--styles assets/styles --hours ...",
        },
        "exported": datetime.date.today().isoformat(),
    }
    update_manifest(out_dir, "stylize", entry)
    return path


def update_manifest(out_dir: Path, task: str, entry: dict[str, Any]) -> None:
    """Set the manifest entry of ``task`` and delete the weights it replaces."""
    manifest_path = out_dir / MANIFEST
    manifest = (
        json.loads(manifest_path.read_text())
        if manifest_path.exists()
        else {"models": {}}
    )
    old = manifest["models"].get(task, {}).get("file")
    manifest["models"][task] = entry
    # Written through a temporary file, so a reader never sees half a manifest.
    temporary_manifest = manifest_path.with_suffix(".json.tmp")
    temporary_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary_manifest, manifest_path)
    if old and old != entry["file"] and (out_dir / old).exists():
        (out_dir / old).unlink()
        logger.info("Removed the previous weights %s", old)


def main(argv: list[str] | None = None) -> None:
    """Export a style transfer checkpoint from the command line."""
    parser = argparse.ArgumentParser(prog="aegui-export-stylize", description=__doc__)
    parser.add_argument("checkpoint", type=Path, help="OUT/decoder/checkpoint.pt")
    parser.add_argument("--out", type=Path, default=Path("pretrained"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    export(args.checkpoint, args.out)


if __name__ == "__main__":
    main()
