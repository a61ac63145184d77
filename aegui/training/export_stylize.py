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
import logging
from pathlib import Path
from typing import Any

from aegui.core.models.stylizer import (
    STRIDE,
    Stylizer,
    config_widths,
    parameter_count,
    widths_label,
)
from aegui.training.loop import load_checkpoint
from aegui.training.manifest import machine, save_exported, update_manifest

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
    widths = config_widths(config)
    model = Stylizer(widths)
    model.load_state_dict(saved["state_dict"])
    model.eval()

    tensors = {
        f"model.{k}": v.detach().float().numpy() for k, v in model.state_dict().items()
    }
    model_id = f"aegui-stylize-{config['architecture']}-{widths_label(widths)}"
    metadata = {
        "kind": "stylize",
        "model_id": model_id,
        "architecture": config["architecture"],
        "widths": list(widths),
        "parameters": parameter_count(model),
        "encoder_parameters": parameter_count(model.encoder),
        "decoder_parameters": parameter_count(model.decoder),
        "input": f"float RGB 0..1 NCHW, any size (padded to multiples of {STRIDE})",
    }
    path, sha256 = save_exported(
        out_dir, "stylize", config["architecture"], tensors, metadata
    )
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
            "machine": machine(),
            "command": "aegui train stylize --stage encoder|decoder --data ../shared/datasets/bsds400 "
            "--styles assets/styles --hours ...",
        },
        "exported": datetime.date.today().isoformat(),
    }
    update_manifest(out_dir, "stylize", entry)
    return path


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
