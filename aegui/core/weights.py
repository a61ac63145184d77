# SPDX-License-Identifier: MIT
"""Shipped weights: safetensors files read without unpickling, checked by SHA-256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load as load_numpy
from safetensors.numpy import save as save_numpy

from aegui.core.errors import ModelError


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(
    path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, Any]
) -> str:
    """Write tensors and JSON metadata as safetensors; return the file's SHA-256."""
    data = save_numpy(
        {name: np.ascontiguousarray(value) for name, value in tensors.items()},
        metadata={"aegui": json.dumps(metadata, sort_keys=True)},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return hashlib.sha256(data).hexdigest()


def load_weights(
    path: Path, expected_sha256: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any], str]:
    """Read a safetensors file; return its tensors, metadata and SHA-256.

    Raises ModelError when the file is missing, malformed or has another hash.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelError(
            f"Cannot read model weights {path}: {error.strerror}"
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and sha256 != expected_sha256:
        raise ModelError(
            f"Model weights {path} are corrupted or replaced: SHA-256 {sha256[:12]}..., "
            f"expected {expected_sha256[:12]}...; restore the file from the repository"
        )
    try:
        tensors = load_numpy(data)
        # The safetensors header is an 8-byte little-endian length, then JSON.
        header_size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_size])
        metadata = json.loads(header.get("__metadata__", {}).get("aegui", "{}"))
    except (SafetensorError, ValueError, json.JSONDecodeError) as error:
        raise ModelError(
            f"Model weights {path} are not a valid safetensors file: {error}"
        ) from None
    return tensors, metadata, sha256


def state_dict_from(
    tensors: dict[str, np.ndarray], prefix: str
) -> dict[str, torch.Tensor]:
    """Return the tensors under ``prefix`` as a torch state dict."""
    return {
        name[len(prefix) :]: torch.from_numpy(value.copy())
        for name, value in tensors.items()
        if name.startswith(prefix)
    }
