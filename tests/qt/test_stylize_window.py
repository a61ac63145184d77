# SPDX-License-Identifier: MIT
"""The Stylize operation in the window: style picker, options, jobs and previews."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFileDialog, QSlider

from aegui.app.jobs import JobStatus
from aegui.app.operations import STYLIZE, available_operations
from aegui.app.settings import AppSettings
from aegui.app.styles import (
    STYLE_CHOICES,
    StylePreviewer,
    StylePreviewRequest,
    style_problem,
)
from aegui.qt.main_window import MainWindow
from aegui.qt.style_picker import CHOOSE_IMAGE, StylePicker

from .conftest import TIMEOUT_MS, wait_idle, write_photo

PRESETS = ["composition_vii", "starry_night", "the_scream", "udnie", "wave"]
PRESET_LABELS = ["Composition VII", "Starry Night", "The Scream", "Udnie", "Great Wave"]


def stylize_window(qtbot, settings: AppSettings, conflicts) -> MainWindow:
    window = MainWindow(settings, resolve_conflict=conflicts)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.queue.model_id is not None, timeout=TIMEOUT_MS)
    return window


def operation_keys(window: MainWindow) -> list[str]:
    combo = window.options.operation
    return [combo.itemData(index) for index in range(combo.count())]


def test_stylize_hidden_without_model(qtbot, window) -> None:
    assert "stylize" not in operation_keys(window)
    assert window.options.style_picker is None
    assert STYLIZE not in available_operations()


def test_stylize_offered_with_model(qtbot, tiny_stylizer, settings, conflicts) -> None:
    window = stylize_window(qtbot, settings, conflicts)

    assert operation_keys(window) == ["compress", "decompress", "stylize"]
    picker = window.options.style_picker
    assert isinstance(picker, StylePicker)
    combo = picker.combo
    labels = [combo.itemText(row) for row in range(combo.count())]
    assert labels == [*PRESET_LABELS, "Choose image…"]
    assert combo.itemData(combo.count() - 1) == CHOOSE_IMAGE
    for row in range(len(PRESETS)):
        assert not combo.itemIcon(row).isNull()
    assert isinstance(window.options.option_boxes["style_strength"], QSlider)
    assert isinstance(window.options.option_boxes["preserve_color"], QCheckBox)
    values = window.options.option_values()
    assert values["style"] == 0
    assert values["style_strength"] == 100
    assert values["preserve_color"] == 0


def test_stylize_jobs_use_options(
    qtbot, tiny_stylizer, settings, conflicts, tmp_path: Path
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    window.options.set_operation("stylize")
    preset_photo = write_photo(tmp_path / "preset" / "photo.png", 64, 48)
    file_photo = write_photo(tmp_path / "file" / "photo.png", 64, 48, seed=1)
    style_image = write_photo(tmp_path / "my-style.png", 40, 40, seed=2)

    window.options.set_option("style", PRESETS.index("udnie"))
    window.options.set_option("style_strength", 50)
    window.options.set_option("preserve_color", 1)
    window.add_paths([preset_photo])
    picker = window.options.style_picker
    assert picker is not None
    index = picker.add_image(style_image)
    window.options.set_option("style_strength", 100)
    window.options.set_option("preserve_color", 0)
    window.add_paths([file_photo])
    wait_idle(qtbot, window)

    preset_job, file_job = window.queue.jobs
    for job in (preset_job, file_job):
        assert job.status is JobStatus.DONE, job.error
        assert job.operation.key == "stylize"
        assert job.output == job.source.parent / "aegui-out" / "photo.png"
        with Image.open(job.output) as image:
            assert image.size == (64, 48)
    assert preset_job.description == "Stylize · Udnie · strength 50% · photo colors"
    assert file_job.description == "Stylize · my-style.png · strength 100%"
    assert STYLE_CHOICES.path(index) == style_image
    assert picker.combo.itemText(picker.combo.count() - 2) == "my-style.png"


@pytest.mark.parametrize("style", ["udnie", "my-style.png"])
def test_stylize_settings_survive_restart(
    qtbot, tiny_stylizer, conflicts, tmp_path: Path, style: str
) -> None:
    store = AppSettings.from_file(tmp_path / "restart.ini")
    first = stylize_window(qtbot, store, conflicts)
    picker = first.options.style_picker
    assert picker is not None
    if style in PRESETS:
        picker.setValue(PRESETS.index(style))
    else:
        picker.add_image(write_photo(tmp_path / style, 40, 40, seed=2))
    first.options.set_option("style_strength", 40)
    first.options.set_option("preserve_color", 1)
    first.close()

    second = stylize_window(
        qtbot, AppSettings.from_file(tmp_path / "restart.ini"), conflicts
    )
    values = second.options.option_values()
    assert STYLE_CHOICES.path(values["style"]).name.startswith(style)
    assert values["style_strength"] == 40
    assert values["preserve_color"] == 1


def test_style_dialog_starts_in_last_style_folder(
    qtbot, tiny_stylizer, settings, conflicts, tmp_path: Path, monkeypatch
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    picker = window.options.style_picker
    assert picker is not None
    picker.add_image(write_photo(tmp_path / "paintings" / "mine.png", 40, 40, seed=2))
    starts: list[str] = []

    def cancel(*args: object) -> tuple[str, str]:
        starts.append(str(args[2]))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", cancel)
    picker.choose_image()

    assert starts == [str(tmp_path / "paintings")]
    assert STYLE_CHOICES.label(picker.value()) == "mine.png"


@pytest.mark.parametrize("kind", ["tiny", "flat", "text"])
def test_picker_rejects_unusable_style(
    qtbot, tiny_stylizer, settings, conflicts, tmp_path: Path, kind: str
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    picker = window.options.style_picker
    assert picker is not None
    picker.setValue(PRESETS.index("wave"))
    warnings: list[str] = []
    picker.warn = warnings.append
    bad = tmp_path / f"{kind}.png"
    if kind == "tiny":
        write_photo(bad, 20, 20)
    elif kind == "flat":
        Image.new("RGB", (64, 64), (220, 20, 20)).save(bad)
    else:
        bad.write_text("not an image")
    styles_before = len(STYLE_CHOICES)

    assert picker.add_image(bad) is None

    assert len(warnings) == 1
    assert warnings[0].startswith(f"invalid style image: {bad}")
    assert picker.value() == PRESETS.index("wave")
    assert picker.combo.currentData() == PRESETS.index("wave")
    assert len(STYLE_CHOICES) == styles_before


def test_preview_shows_reduced_pair(
    qtbot, tiny_stylizer, settings, conflicts, tmp_path: Path
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    photo = write_photo(tmp_path / "big.png", 700, 350)
    previewer = window.style_preview.previewer

    with qtbot.waitSignal(previewer.ready, timeout=TIMEOUT_MS) as blocker:
        window.style_preview.preview(photo)
    _, before, after = blocker.args
    assert before.shape == (256, 512, 3)
    assert after.shape == (256, 512, 3)
    assert window.compare.view.has_images
    assert "Stylize preview" in window.compare.title.text()
    assert not (tmp_path / "aegui-out").exists()


def test_preview_option_change_requests_again(
    qtbot, tiny_stylizer, settings, conflicts, tmp_path: Path
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    photo = write_photo(tmp_path / "photo.png", 64, 48)
    previewer = window.style_preview.previewer
    with qtbot.waitSignal(previewer.ready, timeout=TIMEOUT_MS):
        window.style_preview.preview(photo)

    with qtbot.waitSignal(previewer.ready, timeout=TIMEOUT_MS) as blocker:
        window.options.set_option("style_strength", 0)
    _, before, after = blocker.args
    assert before.shape == after.shape

    (job,) = window.add_paths([photo])
    wait_idle(qtbot, window)
    window.select_job(job.id)
    assert window.style_preview.source is None


def test_latest_preview_request_wins(qtbot, tiny_stylizer, tmp_path: Path) -> None:
    previewer = StylePreviewer()
    photo = write_photo(tmp_path / "photo.png", 300, 200)
    emitted: list[int] = []
    previewer.ready.connect(lambda token, before, after: emitted.append(token))
    styles = [STYLE_CHOICES.path(index) for index in range(3)]

    tokens = [
        previewer.request(StylePreviewRequest(photo, style, 1.0, False))
        for style in styles
    ]
    qtbot.waitUntil(lambda: len(emitted) > 0, timeout=TIMEOUT_MS)
    assert previewer.shutdown(TIMEOUT_MS)
    assert emitted == [tokens[-1]]
    assert previewer.current_token is None


def test_failed_preview_reports_reason(qtbot, tiny_stylizer, tmp_path: Path) -> None:
    previewer = StylePreviewer()
    broken = tmp_path / "broken.png"
    broken.write_text("this is not an image")
    request = StylePreviewRequest(broken, STYLE_CHOICES.path(0), 1.0, False)
    with qtbot.waitSignal(previewer.failed, timeout=TIMEOUT_MS) as blocker:
        previewer.request(request)
    assert "broken.png: not an image file" in blocker.args[1]
    assert previewer.shutdown(TIMEOUT_MS)


def test_options_bar_shows_chosen_operation(
    qtbot, tiny_stylizer, settings, conflicts
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    option_shown = window.options.option_shown

    window.options.set_operation("compress")
    assert option_shown("quality")
    assert not option_shown("style")
    assert not option_shown("style_strength")

    window.options.set_operation("stylize")
    assert not option_shown("quality")
    assert option_shown("style")
    assert option_shown("preserve_color")
    assert window.options.option_values()["quality"] == 6


def test_style_check_logs_no_conversion_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((20, 20), 30000, np.uint16)).save(deep)

    with caplog.at_level(logging.WARNING):
        problem = style_problem(deep)

    assert problem is not None
    assert "20x20 is too small" in problem
    assert "16-bit" not in caplog.text


def test_preview_of_opened_aez_uses_decoded_image(
    qtbot, tiny_codec, tiny_stylizer, settings, conflicts, tmp_path: Path
) -> None:
    from aegui.core.tasks import compress_file

    window = stylize_window(qtbot, settings, conflicts)
    aez = tmp_path / "photo.aez"
    compress_file(write_photo(tmp_path / "photo.png", 64, 48), aez, 3)
    (job,) = window.add_paths([aez])
    wait_idle(qtbot, window)
    assert job.status is JobStatus.DONE
    window.table.selectRow(0)

    assert window.style_preview.current_source() == job.output
    assert job.output.suffix == ".png"


def test_preview_dialog_starts_in_last_open_folder(
    qtbot, tiny_stylizer, settings, conflicts, tmp_path: Path, monkeypatch
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    settings.last_open_dir = tmp_path
    starts: list[str] = []
    filters: list[str] = []

    def cancel(*args: object) -> tuple[str, str]:
        starts.append(str(args[2]))
        filters.append(str(args[3]))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", cancel)
    window.style_preview.preview()

    assert starts == [str(tmp_path)]
    # Only images are offered, as in the style picker's own dialog.
    assert filters[0].startswith("Images (")
    assert "*.png" in filters[0]


def test_presets_show_painting_titles(
    qtbot, tiny_stylizer, settings, conflicts
) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    combo = window.options.style_picker.combo
    wave = combo.findData(PRESETS.index("wave"))

    assert combo.itemText(wave) == "Great Wave"
    assert combo.itemData(wave, Qt.ItemDataRole.ToolTipRole) == (
        "The Great Wave off Kanagawa, Katsushika Hokusai, c. 1831 (preset wave)"
    )


def test_window_fits_800_pixels_wide(qtbot, tiny_stylizer, settings, conflicts) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    for key in operation_keys(window):
        window.options.set_operation(key)

        # Option groups that do not fit move into the tool bar's extension.
        assert window.minimumSizeHint().width() <= 800, key


def test_options_row_keeps_height(qtbot, tiny_stylizer, settings, conflicts) -> None:
    window = stylize_window(qtbot, settings, conflicts)
    heights = {}
    for key in operation_keys(window):
        window.options.set_operation(key)
        heights[key] = window.options.sizeHint().height()

    assert len(set(heights.values())) == 1, heights
