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
