# SPDX-License-Identifier: MIT
r"""Measure how long the window's event loop stalls while a batch compresses.

The script opens the real main window (offscreen unless QT_QPA_PLATFORM sets
another platform), queues N copies of some photos for compression and records
the time between ticks of a 10 ms QTimer on the GUI thread. A gap much longer
than 10 ms means the GUI thread could not handle events for that long. Gaps
during start-up (first paint, model load) are reported apart from those
during the batch::

    python benchmarks/gui_responsiveness.py                 # 50 sample copies
    python benchmarks/gui_responsiveness.py -n 200 ~/photos/*.jpg
    AEGUI_PRETRAINED=/tmp/exp/tinypre python benchmarks/gui_responsiveness.py -n 3

Results go to ``benchmarks/results/gui-responsiveness.json``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import itertools
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from aegui.app.jobs import ConflictChoice, JobStatus, Resolution
from aegui.app.settings import AppSettings
from aegui.core.memory import keep_freed_memory
from aegui.qt.main import create_application
from aegui.qt.main_window import MainWindow

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "assets" / "samples"
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "gui-responsiveness.json"
HEARTBEAT_MS = 10
MODEL_TIMEOUT_S = 600.0


class Heartbeat:
    """A GUI-thread QTimer that records the seconds between its ticks."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        """Start recording, dropping earlier gaps."""
        self.gaps = []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        """Stop recording and return the gaps in seconds."""
        self._timer.stop()
        return self.gaps

    def _beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


def wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    """Run the event loop until ``condition()`` is true; raise TimeoutError after ``timeout_s``.

    This runs a QEventLoop with a polling timer instead of calling
    ``processEvents()`` in a loop: with PySide6 6.12 on Python 3.11 such a
    loop crashed with "none_dealloc" while a worker thread imported torch.
    """
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(check)
    poll.start()
    if not condition():
        loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError(f"Condition not met within {timeout_s:.0f} s")


def stall_summary(gaps: list[float]) -> dict[str, float | int]:
    """Return max, p99 and mean of heartbeat gaps in milliseconds."""
    if not gaps:
        return {"max": 0.0, "p99": 0.0, "mean": 0.0, "ticks": 0}
    values = np.asarray(gaps) * 1000
    return {
        "max": round(float(values.max()), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "mean": round(float(values.mean()), 2),
        "ticks": len(gaps),
    }


def copy_inputs(sources: list[Path], count: int, folder: Path) -> list[Path]:
    """Copy ``sources`` round-robin into ``folder`` until there are ``count`` files."""
    copies = []
    for index, source in zip(range(count), itertools.cycle(sources)):
        target = folder / f"photo-{index:04d}{source.suffix.lower()}"
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


def open_window(scratch: Path) -> tuple[MainWindow, dict[str, Any]]:
    """Show a window with private settings and wait until its model is loaded."""
    settings = AppSettings.from_file(scratch / "settings.ini")
    settings.output_dir = scratch / "out"
    window = MainWindow(
        settings,
        resolve_conflict=lambda output, source: ConflictChoice(Resolution.OVERWRITE),
    )
    window.resize(1280, 800)
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    window.show()
    queue = window.queue
    wait_for(
        lambda: queue.model_id is not None or queue.model_error is not None,
        MODEL_TIMEOUT_S,
    )
    startup = {
        "seconds": round(time.perf_counter() - started, 3),
        "stall_ms": stall_summary(heartbeat.stop()),
    }
    if queue.model_error is not None:
        window.close()
        raise SystemExit(
            f"gui_responsiveness: failed to load the model: {queue.model_error}"
        )
    return window, startup


def run_batch(
    window: MainWindow,
    photos: list[Path],
    quality: int,
    timeout_s: float,
) -> dict[str, Any]:
    """Queue ``photos`` for compression and measure stalls until all jobs end."""
    window.options.set_operation("compress")
    window.options.set_option("quality", quality)
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    jobs = window.add_paths(photos)
    wait_for(lambda: all(job.status.is_final for job in jobs), timeout_s)
    seconds = time.perf_counter() - started
    gaps = heartbeat.stop()
    done = [job for job in jobs if job.status is JobStatus.DONE]
    failed = [
        f"{job.source.name}: {job.error}"
        for job in jobs
        if job.status is JobStatus.FAILED
    ]
    return {
        "n": len(jobs),
        "done": len(done),
        "failed": failed,
        "total_seconds": round(seconds, 3),
        "seconds_per_photo": round(seconds / max(1, len(jobs)), 3),
        "stall_ms": stall_summary(gaps),
    }


def machine() -> dict[str, Any]:
    """Return what the numbers depend on: CPU, cores, load and library versions."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2)
        if hasattr(os, "getloadavg")
        else None,
        "python": platform.python_version(),
        "qt_platform": QApplication.platformName(),
    }
    for package in ("PySide6-Essentials", "torch"):
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = None
    return info


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse and check the command line; exit with status 2 on invalid input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "photos",
        nargs="*",
        type=Path,
        help="photos to copy (default: assets/samples/*.png)",
    )
    parser.add_argument(
        "-n",
        "--count",
        type=int,
        default=50,
        help="number of photos to queue (default 50)",
    )
    parser.add_argument(
        "-q", "--quality", type=int, default=4, help="quality level, 1 to 8 (default 4)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="seconds to wait for the batch to finish (default 3600)",
    )
    args = parser.parse_args(argv)

    args.photos = args.photos or sorted(SAMPLES.glob("*.png"))
    if not args.photos:
        parser.error(f"no photos given and none found in {SAMPLES}")
    missing = [str(path) for path in args.photos if not path.is_file()]
    if missing:
        parser.error(f"photos not found: {', '.join(missing)}")
    if args.count < 1:
        parser.error(f"invalid count {args.count}: use 1 or more")
    return args


def show(text: str) -> None:
    """Print a result line for the person running the benchmark."""
    print(text)  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the JSON file; return the exit status."""
    args = parse_args(argv)
    # Read when the QApplication is created, so setting it here is early enough.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    keep_freed_memory()  # as the aegui command does at start-up
    create_application()
    with tempfile.TemporaryDirectory(prefix="aegui-bench-") as folder:
        scratch = Path(folder)
        photos = copy_inputs(args.photos, args.count, scratch)
        window, startup = open_window(scratch)
        try:
            batch = run_batch(window, photos, args.quality, args.timeout)
        finally:
            window.close()
        model_id = window.queue.model_id
        device = window.device_label.text().removeprefix("Device: ")

    report = {
        "name": "gui-responsiveness",
        "description": (
            f"Gaps between {HEARTBEAT_MS} ms QTimer ticks on the GUI thread while the "
            "main window compresses a batch; batch.stall_ms.max is the longest "
            "event-loop stall."
        ),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": shlex.join([sys.executable, *sys.argv]),
        "model_id": model_id,
        "device": device,
        "quality": args.quality,
        "inputs": [str(path) for path in args.photos],
        "heartbeat_ms": HEARTBEAT_MS,
        "startup": startup,
        "batch": batch,
        "machine": machine(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    stalls = batch["stall_ms"]
    show(
        f"{batch['done']}/{batch['n']} photos in {batch['total_seconds']:.1f} s; "
        f"event-loop stall max {stalls['max']:.1f} ms, p99 {stalls['p99']:.1f} ms, "
        f"mean {stalls['mean']:.1f} ms; "
        f"start-up (first paint, model load) max {startup['stall_ms']['max']:.1f} ms"
    )
    for failure in batch["failed"]:
        show(f"failed: {failure}")
    show(f"wrote {args.output}")
    return 1 if batch["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
