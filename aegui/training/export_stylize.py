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
    MODULATED_ARCHITECTURE,
    STRIDE,
    Stylizer,
    config_widths,
    parameter_count,
    widths_label,
)
from aegui.training.loop import load_checkpoint
from aegui.training.manifest import (
    machine,
    read_manifest,
    save_exported,
    update_manifest,
)

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
    model = Stylizer(widths, modulated=config["architecture"] == MODULATED_ARCHITECTURE)
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
        "modulation_parameters": (
            0 if model.modulation is None else parameter_count(model.modulation)
        ),
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
            "texture_weight": config.get("texture_weight", 0.0),
            "texture_channels": config.get("texture_channels"),
            "bf16_autocast": bool(config.get("bf16", False)),
            "machine": machine(),
            "command": "aegui train stylize --stage encoder|decoder --data ../shared/datasets/bsds400 "
            "--styles assets/styles --hours ...",
        },
        "exported": datetime.date.today().isoformat(),
    }
    previous = read_manifest(out_dir)["models"].get("stylize", {})
    link_earlier_decoder(entry["training"], config, saved, previous)
    update_manifest(out_dir, "stylize", entry)
    return path


def link_earlier_decoder(
    record: dict[str, Any],
    config: dict[str, Any],
    saved: dict[str, Any],
    previous: dict[str, Any],
) -> None:
    """Record the shipped run that ``--init`` started from, and the total steps.

    ``previous`` is the manifest entry being replaced; it is linked only when
    the run started from its file.
    """
    init = config.get("init")
    earlier = previous.get("training", {})
    if not init or previous.get("file") != init or not earlier:
        return
    record["command"] = (
        "aegui train stylize --stage decoder --data ../shared/datasets/bsds400 "
        f"--styles assets/styles --init pretrained/{init} --lr {config['lr']:g} "
        f"--texture-weight {config.get('texture_weight', 0.0):g} "
        f"--texture-channels {config.get('texture_channels')}"
        + (" --modulate" if config["architecture"] == MODULATED_ARCHITECTURE else "")
        + (" --bf16" if config.get("bf16") else "")
        + " --hours H"
    )
    record["initialized_from"] = {"file": init, **earlier}
    record["total_decoder_steps"] = saved["step"] + earlier.get(
        "total_decoder_steps", earlier["decoder_steps"]
    )
    record["total_decoder_wall_time_hours"] = round(
        record["decoder_wall_time_hours"]
        + earlier.get(
            "total_decoder_wall_time_hours", earlier["decoder_wall_time_hours"]
        ),
        2,
    )


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
