# SPDX-License-Identifier: MIT
"""Write exported weights into ``pretrained/`` and record them in its manifest."""

from __future__ import annotations

import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aegui.core.weights import save_weights
from aegui.core.zoo import MANIFEST

logger = logging.getLogger(__name__)


def save_exported(
    out_dir: Path,
    task: str,
    architecture: str,
    tensors: dict[str, np.ndarray],
    metadata: dict[str, Any],
) -> tuple[Path, str]:
    """Save weights as ``TASK-ARCHITECTURE-DIGEST.safetensors`` and return path and sha256.

    The name carries the first hex digits of the file's sha256, so exports of
    different weights never replace each other's files.
    """
    temporary = out_dir / f"{task}-export.safetensors"
    sha256 = save_weights(temporary, tensors, metadata)
    path = out_dir / f"{task}-{architecture}-{sha256[:8]}.safetensors"
    temporary.replace(path)
    logger.info("Wrote %s", path)
    return path, sha256


def machine() -> str:
    """Describe the machine and thread count, for the manifest's training record."""
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def run_record(saved: dict[str, Any]) -> dict[str, Any]:
    """Return the training record fields that every task shares, from a checkpoint."""
    config = saved["config"]
    return {
        "data": Path(config["data"]).name,
        "steps": saved["step"],
        "wall_time_hours": round(saved["seconds"] / 3600, 2),
        "crop": config["crop"],
        "batch": config["batch"],
        "lr": config["lr"],
        "bf16_autocast": config.get("bf16", False),
        "machine": machine(),
    }


def training_command(task: str, config: dict[str, Any]) -> str:
    """Return the ``aegui train`` command line of a run, as the manifest records it."""
    command = f"aegui train {task} --data {config['data']} --hours H"
    if config.get("bf16"):
        command += " --bf16"
    if config.get("scales"):
        command += " --scales " + ",".join(f"{scale:g}" for scale in config["scales"])
    if config.get("init"):
        command += f" --lr {config['lr']:g} --init pretrained/{config['init']}"
    return command


def link_earlier_run(
    record: dict[str, Any],
    saved: dict[str, Any],
    previous: dict[str, Any],
    *fields: str,
) -> dict[str, Any]:
    """Return ``record`` with the run that ``--init`` started from, if it is known.

    ``previous`` is the manifest entry being replaced. When the checkpoint's
    run started from that entry's file, its training record goes under
    ``initialized_from`` (with the entry's ``fields``), and the steps and hours
    of both runs add up to ``total_steps`` and ``total_wall_time_hours``.
    """
    init = saved["config"].get("init")
    earlier = previous.get("training", {})
    if not init or previous.get("file") != init or not earlier:
        return record
    record["initialized_from"] = {
        "file": init,
        **{field: previous.get(field) for field in fields},
        **earlier,
    }
    record["total_steps"] = saved["step"] + earlier.get("total_steps", earlier["steps"])
    record["total_wall_time_hours"] = round(
        record["wall_time_hours"]
        + earlier.get("total_wall_time_hours", earlier["wall_time_hours"]),
        2,
    )
    return record


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """Return the manifest in ``out_dir``, or an empty one when there is none."""
    manifest_path = out_dir / MANIFEST
    if not manifest_path.exists():
        return {"models": {}}
    return json.loads(manifest_path.read_text())


def update_manifest(out_dir: Path, task: str, entry: dict[str, Any]) -> None:
    """Set the manifest entry of ``task`` and delete the weights it replaces."""
    manifest_path = out_dir / MANIFEST
    manifest = read_manifest(out_dir)
    old = manifest["models"].get(task, {}).get("file")
    manifest["models"][task] = entry
    # Written through a temporary file, so a reader never sees half a manifest.
    temporary = manifest_path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, manifest_path)
    if old and old != entry["file"] and (out_dir / old).exists():
        (out_dir / old).unlink()
        logger.info("Removed the previous weights %s", old)
