# SPDX-License-Identifier: MIT
"""Resumable training loop shared by the models: schedule, checkpoints, logging."""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from aegui.argtypes import above_zero, thread_count

logger = logging.getLogger(__name__)


@dataclass
class Schedule:
    """Cosine learning-rate decay over whichever budget runs out first.

    Training progress is ``max(step / max_steps, seconds / max_seconds)``, so a run
    given a wall-clock budget still finishes its decay before the budget ends.
    """

    lr: float
    max_steps: int
    max_seconds: float = math.inf
    warmup_steps: int = 500
    final_fraction: float = 0.05

    def progress(self, step: int, seconds: float) -> float:
        """Return the fraction of the budget used, from 0 to 1."""
        return min(1.0, max(step / self.max_steps, seconds / self.max_seconds))

    def learning_rate(self, step: int, seconds: float) -> float:
        """Return the learning rate at this point of the run."""
        warmup = min(1.0, (step + 1) / self.warmup_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * self.progress(step, seconds)))
        return (
            self.lr
            * warmup
            * (self.final_fraction + (1.0 - self.final_fraction) * cosine)
        )


@dataclass
class RunState:
    """Training progress stored in a checkpoint besides the module and optimizer states."""

    step: int = 0
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)


def add_run_options(parser: argparse.ArgumentParser, bf16_help: str | None) -> None:
    """Add the budget, thread and seed options that every training command takes.

    ``--bf16`` is added with ``bf16_help`` as its help, unless that is None.
    """
    parser.add_argument(
        "--steps", type=above_zero(int), default=1_000_000, help="maximum steps"
    )
    parser.add_argument(
        "--hours", type=above_zero(float), default=math.inf,
        help="wall-clock budget in hours",
    )  # fmt: skip
    parser.add_argument(
        "--threads",
        type=training_threads,
        default=0,
        help="torch threads, 0 for all cores",
    )
    if bf16_help is not None:
        parser.add_argument(
            "--bf16",
            action="store_true",
            help=f"{bf16_help}; faster only on CPUs with AVX512-BF16 or AMX",
        )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights and crops"
    )


def training_threads(text: str) -> int:
    """Parse a thread count for training, where 0 means all cores."""
    if text.strip() == "0":
        return 0
    return thread_count(text)


def add_init_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--init``, which starts a new run from exported weights."""
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from these shipped weights (.safetensors) when no checkpoint exists",
    )


def load_init_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Return the model state dict and the metadata of exported weights."""
    from aegui.core.weights import load_weights, state_dict_from

    tensors, metadata, _ = load_weights(path)
    return state_dict_from(tensors, "model."), metadata


def save_checkpoint(
    path: Path,
    config: dict[str, Any],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: RunState,
) -> None:
    """Write a training checkpoint atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "config": config,
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": state.step,
        "seconds": state.seconds,
        "history": state.history,
    }
    temporary = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)


def run_training(
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: Schedule,
    step_fn: Callable[[int], dict[str, float]],
    checkpoint: Path,
    config: dict[str, Any],
    state: RunState,
    log_every: int = 100,
    checkpoint_seconds: float = 300.0,
) -> RunState:
    """Call ``step_fn(step)`` until the schedule is spent, checkpointing as it goes.

    ``step_fn`` runs one optimisation step and returns scalar metrics, which are
    averaged over ``log_every`` steps, logged and kept in ``state.history``.
    """
    totals: dict[str, float] = {}
    count = 0
    last_save = time.monotonic()
    started = time.monotonic() - state.seconds
    while schedule.progress(state.step, state.seconds) < 1.0:
        lr = schedule.learning_rate(state.step, state.seconds)
        for group in optimizer.param_groups:
            group["lr"] = lr
        metrics = step_fn(state.step)
        state.step += 1
        state.seconds = time.monotonic() - started
        for key, value in metrics.items():
            totals[key] = totals.get(key, 0.0) + value
        count += 1

        if state.step % log_every == 0:
            means = {key: value / count for key, value in totals.items()}
            entry = {
                "step": float(state.step),
                "seconds": state.seconds,
                "lr": lr,
                **means,
            }
            state.history.append(entry)
            shown = " ".join(f"{key}={value:.4g}" for key, value in means.items())
            logger.info(
                "step %d  %.0fs  lr=%.2e  %s", state.step, state.seconds, lr, shown
            )
            totals, count = {}, 0
        if time.monotonic() - last_save > checkpoint_seconds:
            save_checkpoint(checkpoint, config, model, optimizer, state)
            last_save = time.monotonic()

    save_checkpoint(checkpoint, config, model, optimizer, state)
    logger.info("Training finished at step %d after %.0f s", state.step, state.seconds)
    return state
