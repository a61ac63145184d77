# SPDX-License-Identifier: MIT
"""The Denoise operation in the window: offered once its model exists, strength controls."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtWidgets import QCheckBox, QComboBox, QSlider

from aegui.app.jobs import JobStatus
from aegui.app.operations import DENOISE, available_operations
from aegui.app.settings import AppSettings
from aegui.qt.main_window import MainWindow

from .conftest import TIMEOUT_MS, wait_idle, write_photo


def denoise_window(qtbot, settings: AppSettings, conflicts) -> MainWindow:
    window = MainWindow(settings, resolve_conflict=conflicts)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.queue.model_id is not None, timeout=TIMEOUT_MS)
    return window


def operation_keys(window: MainWindow) -> list[str]:
    combo = window.options.operation
    return [combo.itemData(index) for index in range(combo.count())]


def test_denoise_hidden_without_model(qtbot, window) -> None:
    assert "denoise" not in operation_keys(window)
    assert "strength" not in window.options.option_boxes
    assert DENOISE not in available_operations()


def test_denoise_offered_with_model(qtbot, tiny_denoiser, settings, conflicts) -> None:
    window = denoise_window(qtbot, settings, conflicts)

    assert operation_keys(window) == ["compress", "decompress", "denoise"]
    # The options of other operations are hidden in the tool bar, which also
    # disables them.
    window.options.set_operation("denoise")
    auto = window.options.option_boxes["strength_auto"]
    slider = window.options.option_boxes["strength"]
    assert isinstance(auto, QCheckBox)
    assert isinstance(slider, QSlider)
    assert auto.isChecked()
    assert not slider.isEnabled()
    assert window.options.option_values() == {
        "quality": 6,
        "refine": 0,
        "strength_auto": 1,
        "strength": 100,
        "passes": 1,
    }

    window.options.set_option("strength_auto", 0)
    assert slider.isEnabled()
    window.options.set_option("strength", 150)
    assert window.options.option_values()["strength"] == 150

    passes = window.options.option_boxes["passes"]
    assert isinstance(passes, QComboBox)
    assert [passes.itemData(i) for i in range(passes.count())] == [1, 2, 4, 8]
    window.options.set_option("passes", 8)
    assert window.options.option_values()["passes"] == 8
    window.options.set_option("passes", 3)  # not a choice: left as it was
    assert window.options.option_values()["passes"] == 8


def test_denoise_jobs_run_with_strength(
    qtbot, tiny_denoiser, settings, conflicts, tmp_path: Path
) -> None:
    window = denoise_window(qtbot, settings, conflicts)
    window.options.set_operation("denoise")
    auto_photo = write_photo(tmp_path / "auto" / "photo.png", 64, 48)
    strong_photo = write_photo(tmp_path / "strong" / "photo.png", 64, 48)

    window.add_paths([auto_photo])
    window.options.set_option("strength_auto", 0)
    window.options.set_option("strength", 200)
    window.add_paths([strong_photo])
    four_photo = write_photo(tmp_path / "four" / "photo.png", 64, 48)
    window.options.set_option("passes", 4)
    window.add_paths([four_photo])
    wait_idle(qtbot, window)

    auto_job, strong_job, four_job = window.queue.jobs
    assert four_job.status is JobStatus.DONE, four_job.error
    assert four_job.description == "Denoise · strength 200% · 4 passes"
    for job in (auto_job, strong_job):
        assert job.status is JobStatus.DONE, job.error
        assert job.operation.key == "denoise"
        assert job.output == job.source.parent / "aegui-out" / "photo.png"
        with Image.open(job.output) as image:
            assert image.size == (64, 48)
    assert auto_job.description == "Denoise · auto"
    assert strong_job.description == "Denoise · strength 200%"
    assert auto_job.result.noise_level is not None
    assert strong_job.result.noise_level == 2 * auto_job.result.noise_level
