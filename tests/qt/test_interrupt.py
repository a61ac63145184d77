# SPDX-License-Identifier: MIT
"""Ctrl-C in the terminal closes the window like its close button."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 120


@pytest.mark.slow
def test_sigint_closes_window(tiny_pretrained: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "AEGUI_PRETRAINED": str(tiny_pretrained),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "aegui", "-v"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        # The window logs the loaded codec once its event loop runs.
        lines = []
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if "loaded" in line or not line:
                break
        assert any("loaded" in line for line in lines), "".join(lines)

        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=30)
        rest = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert status == 0
    assert "Traceback" not in rest
