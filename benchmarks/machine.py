# SPDX-License-Identifier: MIT
"""Describe the machine a benchmark ran on."""

from __future__ import annotations

import datetime
import logging
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any


def cpu_name() -> str:
    """Return the CPU model from /proc/cpuinfo, or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def codec_run_meta(script: str, argv: list[str] | None, codec: Any) -> dict[str, Any]:
    """Return the date, machine, threads, weights and command of a codec benchmark run.

    ``argv`` is what the script's ``main`` received, or None for the command line.
    """
    import torch

    arguments = sys.argv[1:] if argv is None else argv
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count()},
        "torch_threads": torch.get_num_threads(),
        "model": codec.model_id,
        "weights_sha256": codec.digest.hex(),
        "command": f"python benchmarks/{script} {shlex.join(arguments)}".rstrip(),
    }


def start_run(threads: int) -> None:
    """Log INFO lines as plain messages and use ``threads`` torch threads (0: all)."""
    import torch

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if threads:
        torch.set_num_threads(threads)
