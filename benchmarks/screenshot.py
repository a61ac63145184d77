# SPDX-License-Identifier: MIT
r"""Save a screenshot of the window comparing a processed sample photo.

The script runs one operation (compress by default) on the sample photos in a
temporary folder, selects the first finished row so the before/after viewer
shows it with the divider in the middle, and saves the window to
``docs/screenshot.png``. For ``--operation denoise`` the photos first get white
Gaussian noise of sigma 25. Run it under a virtual X server so fonts and styles
match a desktop::

    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/screenshot.py
    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/screenshot.py \
        --operation stylize --style starry_night -o docs/screenshot-stylize.png

Settings are kept in the temporary folder, so the user's own are untouched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QTimer

from aegui.app.jobs import JobStatus
from aegui.app.operations import QUALITY
from aegui.app.settings import AppSettings
from aegui.core.styles import preset_paths
from aegui.qt.main import create_application
from aegui.qt.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_responsiveness import SAMPLES, show, wait_for  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "docs" / "screenshot.png"
TIMEOUT_S = 600.0
SETTLE_MS = 500  # time for the last repaint after the view is set up


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="PNG file to write"
    )
    parser.add_argument(
        "--size",
        default="1280x800",
        help="window size in pixels, WIDTHxHEIGHT (default 1280x800)",
    )
    parser.add_argument(
        "-q",
        "--quality",
        type=int,
        default=QUALITY.default,
        help=f"quality level, {QUALITY.minimum} to {QUALITY.maximum} "
        f"(default {QUALITY.default}, as in the window)",
    )
    parser.add_argument(
        "--operation",
        choices=["compress", "denoise", "stylize"],
        default="compress",
        help="operation to run on the samples (default compress)",
    )
    parser.add_argument(
        "--noise", type=float, default=25.0, help="sigma of the noise added for denoise"
    )
    parser.add_argument(
        "--style",
        default=None,
        help="preset for stylize (default: the first preset, as in the window)",
    )
    return parser.parse_args(argv)


def add_noise(source: Path, target: Path, sigma: float) -> None:
    """Write ``source`` with white Gaussian noise of ``sigma`` (0..255) as a PNG."""
    with Image.open(source) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    noise = np.random.default_rng(0).normal(0.0, sigma, pixels.shape)
    noisy = np.clip(np.rint(pixels + noise), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(target)


def settle(milliseconds: int) -> None:
    """Run the event loop for ``milliseconds`` so pending paints happen."""
    elapsed = []
    QTimer.singleShot(milliseconds, lambda: elapsed.append(True))
    wait_for(lambda: bool(elapsed), milliseconds / 1000 + 10)


def main(argv: list[str] | None = None) -> int:
    """Run a small batch, open its first result in the viewer and save the window."""
    args = parse_args(argv)
    width, height = (int(part) for part in args.size.lower().split("x"))
    samples = sorted(SAMPLES.glob("*.png"))
    if not samples:
        raise SystemExit(f"screenshot: no sample photos found in {SAMPLES}")

    create_application()
    with tempfile.TemporaryDirectory(prefix="aegui-shot-") as folder:
        scratch = Path(folder)
        photos = []
        for sample in samples:
            photos.append(scratch / sample.name)
            if args.operation == "denoise":
                add_noise(sample, photos[-1], args.noise)
            else:
                shutil.copyfile(sample, photos[-1])
        settings = AppSettings.from_file(scratch / "settings.ini")
        window = MainWindow(settings)
        window.resize(width, height)
        window.move(0, 0)
        window.show()
        window.options.set_option("quality", args.quality)
        if args.style is not None:
            presets = list(preset_paths())
            if args.style not in presets:
                window.close()
                raise SystemExit(
                    f"screenshot: unknown preset {args.style!r}; "
                    f"choose one of {', '.join(presets)}"
                )
            window.options.set_option("style", presets.index(args.style))
        if args.operation != "compress":
            window.options.set_operation(args.operation)
            if window.options.current_operation() != args.operation:
                window.close()
                raise SystemExit(
                    f"screenshot: the window does not offer {args.operation}; "
                    "is its model in pretrained/manifest.json?"
                )
        wait_for(lambda: window.queue.model_id is not None, TIMEOUT_S)

        jobs = window.add_paths(photos)
        wait_for(lambda: all(job.status.is_final for job in jobs), TIMEOUT_S)
        failed = [job for job in jobs if job.status is not JobStatus.DONE]
        if failed:
            window.close()
            reasons = "; ".join(f"{job.source.name}: {job.error}" for job in failed)
            raise SystemExit(f"screenshot: batch failed: {reasons}")

        window.select_job(jobs[0].id)
        wait_for(lambda: window.compare.view.has_images, TIMEOUT_S)
        window.compare.view.fit()
        window.compare.view.set_split(0.5)
        settle(SETTLE_MS)

        args.output.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(args.output)):
            window.close()
            raise SystemExit(f"screenshot: failed to write {args.output}")
        window.close()
    show(f"wrote {args.output} ({width}x{height}, codec {window.queue.model_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
