# SPDX-License-Identifier: MIT
"""Pretrained models: where they are, what the manifest records, how to build them.

Importing this module does not load torch (the loaders import it), so the
window can check which models exist while it starts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from aegui.core.entropy import TableSet
from aegui.core.errors import ModelError
from aegui.paths import data_dir

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_cache: dict[tuple[str, Path], Any] = {}
_cache_lock = threading.Lock()


def pretrained_dir() -> Path:
    """Return the folder of shipped weights.

    ``AEGUI_PRETRAINED`` overrides it; otherwise it is ``pretrained/`` beside
    the package or its installed copy (``aegui.paths.data_dir``).
    """
    override = os.environ.get("AEGUI_PRETRAINED")
    if override:
        return Path(override)
    return data_dir("pretrained")


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """Return the parsed manifest of the pretrained folder."""
    path = (folder or pretrained_dir()) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if os.environ.get("AEGUI_PRETRAINED"):
            hint = "AEGUI_PRETRAINED must name a folder that contains manifest.json"
        else:
            hint = "set AEGUI_PRETRAINED to the folder of the weights"
        raise ModelError(f"Model manifest {path} not found; {hint}") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"Model manifest {path} is unreadable: {error}") from None


def has_model(task: str, folder: Path | None = None) -> bool:
    """Return whether the manifest lists a model for ``task`` (False if it is unreadable)."""
    try:
        return task in read_manifest(folder).get("models", {})
    except ModelError:
        return False


def model_entry(task: str, folder: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """Return the weights path and manifest entry of the model for ``task``."""
    folder = folder or pretrained_dir()
    models = read_manifest(folder).get("models", {})
    if task not in models:
        known = ", ".join(sorted(models)) or "none"
        raise ModelError(f"No pretrained model for {task!r} (available: {known})")
    entry = models[task]
    return folder / entry["file"], entry


def table_set(tensors: dict[str, np.ndarray], prefix: str) -> TableSet:
    """Rebuild a TableSet stored under ``prefix`` and check it."""
    try:
        tables = TableSet(
            counts=tensors[f"{prefix}.counts"].astype(np.int32),
            offsets=tensors[f"{prefix}.offsets"].astype(np.int64),
            lengths=tensors[f"{prefix}.lengths"].astype(np.int64),
            minima=tensors[f"{prefix}.minima"].astype(np.int64),
        )
        tables.validate()
    except (KeyError, ValueError) as error:
        raise ModelError(f"Invalid probability tables {prefix!r}: {error}") from None
    return tables


def _load(
    task: str,
    noun: str,
    path: Path | None,
    build: Callable[[Path, dict[str, np.ndarray], dict[str, Any], bytes], Any],
) -> Any:
    """Load the model for ``task`` once per weights file.

    ``path`` overrides the manifest (whose sha256 is checked otherwise).
    ``build(path, tensors, meta, digest)`` turns the checked weights into the
    object that runs them, and ``noun`` names the model in errors.
    """
    from aegui.core.weights import load_weights

    expected = None
    if path is None:
        path, entry = model_entry(task)
        expected = entry.get("sha256")
    key = (task, path.resolve())
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    tensors, meta, sha256 = load_weights(path, expected)
    if meta.get("kind") != task:
        raise ModelError(f"{path} does not contain {noun} weights")
    built = build(path, tensors, meta, bytes.fromhex(sha256)[:8])
    logger.debug("Loaded %s %s from %s", noun, meta.get("model_id"), path)
    with _cache_lock:
        return _cache.setdefault(key, built)


def _fill(model: Any, tensors: dict[str, np.ndarray], path: Path) -> None:
    """Load the ``model.`` tensors into ``model``, or raise ModelError."""
    from aegui.core.weights import state_dict_from

    try:
        model.load_state_dict(state_dict_from(tensors, "model."))
    except RuntimeError as error:
        raise ModelError(f"{path}: weights do not fit the model: {error}") from None


def _check_architecture(
    meta: dict[str, Any], known: str, noun: str, path: Path
) -> None:
    """Raise ModelError unless the weights are for the ``known`` architecture."""
    if meta.get("architecture") != known:
        raise ModelError(
            f"{path}: unknown {noun} architecture {meta.get('architecture')!r} "
            f"(this version of aegui knows {known!r})"
        )


def load_codec(path: Path | None = None) -> Any:
    """Load the image codec (cached per file); ``path`` overrides the manifest."""
    return _load("codec", "codec", path, _build_codec)


def _build_codec(
    path: Path, tensors: dict[str, np.ndarray], meta: dict[str, Any], digest: bytes
) -> Any:
    from aegui.core.codec import ImageCodec
    from aegui.core.intnet import IntegerHyperDecoder, IntegerLayer
    from aegui.core.intsynth import stages_from_tensors
    from aegui.core.models.hyperprior import MeanScaleHyperprior

    model = MeanScaleHyperprior(
        meta["N"], meta["M"], meta["hyper_channels"], meta["levels"]
    )
    _fill(model, tensors, path)
    layers = []
    for index in range(meta["hyper_layers"]):
        config = tensors[f"hyper.{index}.config"].tolist()
        layers.append(
            IntegerLayer(
                weight=tensors[f"hyper.{index}.weight"].astype(np.int64),
                bias=tensors[f"hyper.{index}.bias"].astype(np.int64),
                in_fraction=config[0],
                weight_fraction=config[1],
                out_fraction=config[2],
                relu=bool(config[3]),
                shuffle=config[4],
            )
        )
    try:
        synthesis = stages_from_tensors(tensors, meta["synthesis_stages"])
    except KeyError as error:
        raise ModelError(f"{path}: exact synthesis tensors missing ({error})") from None
    return ImageCodec(
        model,
        IntegerHyperDecoder(layers),
        table_set(tensors, "z_tables"),
        table_set(tensors, "y_tables"),
        model_id=meta["model_id"],
        digest=digest,
        synthesis=synthesis,
        lambdas=meta.get("lambdas"),
    )


def load_denoiser(path: Path | None = None) -> Any:
    """Load the denoiser (cached per file); ``path`` overrides the manifest."""
    return _load("denoise", "denoiser", path, _build_denoiser)


def _build_denoiser(
    path: Path, tensors: dict[str, np.ndarray], meta: dict[str, Any], digest: bytes
) -> Any:
    from aegui.core.denoising import Denoiser
    from aegui.core.models.denoiser import ARCHITECTURE, DenoiseUNet
    from aegui.core.precision import native_bfloat16

    _check_architecture(meta, ARCHITECTURE, "denoiser", path)
    model = DenoiseUNet(meta["width"], meta["conditioned"])
    _fill(model, tensors, path)
    return Denoiser(model, meta["model_id"], digest=digest, bfloat16=native_bfloat16())


def load_stylizer(path: Path | None = None) -> Any:
    """Load the style transfer model (cached per file); ``path`` overrides the manifest."""
    return _load("stylize", "style transfer", path, _build_stylizer)


def _build_stylizer(
    path: Path, tensors: dict[str, np.ndarray], meta: dict[str, Any], digest: bytes
) -> Any:
    from aegui.core.models.stylizer import (
        ARCHITECTURE,
        MODULATED_ARCHITECTURE,
        Stylizer,
        config_widths,
    )
    from aegui.core.precision import native_bfloat16
    from aegui.core.stylizing import StyleTransfer

    modulated = meta.get("architecture") == MODULATED_ARCHITECTURE
    if not modulated:
        _check_architecture(meta, ARCHITECTURE, "stylizer", path)
    model = Stylizer(config_widths(meta), modulated=modulated)
    _fill(model, tensors, path)
    return StyleTransfer(
        model, meta["model_id"], digest=digest, bfloat16=native_bfloat16()
    )
