# SPDX-License-Identifier: MIT
"""Compress and decompress batches run to completion, and output conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from aegui.app.jobs import ConflictChoice, JobStatus, Resolution
from aegui.core.container import MAGIC
from aegui.core.tasks import compress_file
from aegui.qt.dialogs import ConflictDialog
from aegui.qt.job_table import Column, format_bpp, format_bytes
from aegui.qt.main_window import batch_label

from .conftest import rows_by_name, temporary_files, wait_idle, write_photos


def cell(window, row: int, column: Column, role=Qt.ItemDataRole.DisplayRole):
    return window.table_model.index(row, column).data(role)


def test_compress_batch_writes_aez_files(qtbot, window, tmp_path: Path) -> None:
    photos = write_photos(tmp_path, 3)
    window.options.set_option("quality", 6)

    window.add_paths(photos)
    wait_idle(qtbot, window)

    assert len(window.queue.jobs) == 3
    for row, (photo, job) in enumerate(zip(photos, window.queue.jobs, strict=True)):
        output = tmp_path / "aegui-out" / f"{photo.stem}.aez"
        assert job.status is JobStatus.DONE, job.error
        assert job.output == output
        assert output.read_bytes().startswith(MAGIC)
        assert job.result is not None
        assert job.result.quality == 6
        assert job.result.psnr is not None
        assert cell(window, row, Column.STATUS) == "Done"
        assert cell(window, row, Column.OPERATION) == "Compress · q6"
        assert cell(window, row, Column.BPP) == f"{job.result.bpp:.3f}"
        assert cell(window, row, Column.PSNR).endswith(" dB")
        assert cell(window, row, Column.AFTER).endswith("B")
        assert cell(window, row, Column.TIME).endswith(" s")
    assert window.overall_label.text() == "3 of 3 done"
    assert window.overall.value() == window.overall.maximum()
    assert temporary_files(tmp_path) == []


def test_compress_with_refinement(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    import aegui.core.codec as codec_module

    steps = []
    monkeypatch.setattr(
        codec_module, "refine_residual", lambda *args, **kwargs: steps.append(args[7])
    )
    refine = window.options.option_boxes["refine"]
    labels = [refine.itemText(i) for i in range(refine.count())]
    assert labels == ["Off", "30", "100"]
    window.options.set_option("refine", 30)

    window.add_paths(write_photos(tmp_path, 1))
    wait_idle(qtbot, window)

    (job,) = window.queue.jobs
    assert job.status is JobStatus.DONE, job.error
    assert job.options["refine"] == 30
    assert cell(window, 0, Column.OPERATION) == "Compress · q6 · refine 30"
    assert steps == [30]


def test_decompress_batch_writes_pngs(qtbot, window, tmp_path: Path) -> None:
    sources = write_photos(tmp_path / "photos", 2, width=64, height=48)
    packed = []
    for source in sources:
        target = tmp_path / "packed" / f"{source.stem}.aez"
        compress_file(source, target, 3)
        packed.append(target)

    window.add_paths([tmp_path / "packed"])
    wait_idle(qtbot, window)

    for source, job in zip(sources, window.queue.jobs, strict=True):
        assert job.operation.key == "decompress"
        assert job.status is JobStatus.DONE, job.error
        assert job.output == tmp_path / "packed" / "aegui-out" / f"{source.stem}.png"
        with Image.open(job.output) as image:
            assert image.size == (64, 48)
        assert job.result is not None
        assert job.result.psnr is None
    assert cell(window, 0, Column.PSNR) == ""


def test_output_folder_keeps_subfolders(qtbot, window, tmp_path: Path) -> None:
    album = tmp_path / "album"
    write_photos(album / "day1", 1)
    write_photos(album / "day2", 1)
    out = tmp_path / "results"
    window.options.set_output_dir(out)

    window.add_paths([album])
    wait_idle(qtbot, window)

    assert (out / "day1" / "photo-0.aez").is_file()
    assert (out / "day2" / "photo-0.aez").is_file()
    assert not (album / "day1" / "aegui-out").exists()


@pytest.mark.parametrize("resolution", list(Resolution))
def test_existing_output_follows_choice(
    qtbot, window, conflicts, tmp_path: Path, resolution: Resolution
) -> None:
    (photo,) = write_photos(tmp_path, 1)
    existing = tmp_path / "aegui-out" / "photo-0.aez"
    existing.parent.mkdir()
    existing.write_bytes(b"keep me")
    conflicts.choice = ConflictChoice(resolution)

    window.add_paths([photo])
    wait_idle(qtbot, window)

    assert conflicts.calls == [(existing, photo)]
    (job,) = window.queue.jobs
    renamed = tmp_path / "aegui-out" / "photo-0-1.aez"
    if resolution is Resolution.SKIP:
        assert job.status is JobStatus.SKIPPED
        assert existing.read_bytes() == b"keep me"
        assert not renamed.exists()
    elif resolution is Resolution.OVERWRITE:
        assert job.status is JobStatus.DONE
        assert existing.read_bytes().startswith(MAGIC)
    else:
        assert job.status is JobStatus.DONE
        assert job.output == renamed
        assert existing.read_bytes() == b"keep me"
        assert renamed.read_bytes().startswith(MAGIC)


def test_apply_to_all_asks_once(qtbot, window, conflicts, tmp_path: Path) -> None:
    photos = write_photos(tmp_path, 3)
    (tmp_path / "aegui-out").mkdir()
    for photo in photos:
        (tmp_path / "aegui-out" / f"{photo.stem}.aez").write_bytes(b"old")
    conflicts.choice = ConflictChoice(Resolution.RENAME, apply_to_all=True)

    window.add_paths(photos)
    wait_idle(qtbot, window)

    assert len(conflicts.calls) == 1
    names = sorted(job.output.name for job in window.queue.jobs)
    assert names == ["photo-0-1.aez", "photo-1-1.aez", "photo-2-1.aez"]


@pytest.mark.parametrize("resolution", list(Resolution))
def test_same_output_twice_gets_numbered_name(
    qtbot, window, conflicts, tmp_path: Path, resolution: Resolution
) -> None:
    (photo,) = write_photos(tmp_path, 1)
    twin = tmp_path / "photo-0.jpg"
    twin.write_bytes(photo.read_bytes())
    # Whatever the user would choose, two jobs of one queue never share an output.
    conflicts.choice = ConflictChoice(resolution)

    window.add_paths([photo, twin])
    wait_idle(qtbot, window)

    rows = rows_by_name(window)
    assert rows["photo-0.png"].output.name == "photo-0.aez"
    assert rows["photo-0.jpg"].output.name == "photo-0-1.aez"
    assert rows["photo-0.jpg"].status is JobStatus.DONE
    assert conflicts.calls == []
    assert (tmp_path / "aegui-out" / "photo-0.aez").exists()
    assert (tmp_path / "aegui-out" / "photo-0-1.aez").exists()


def test_conflict_dialog_returns_clicked_choice(qtbot, tmp_path: Path) -> None:
    dialog = ConflictDialog(tmp_path / "a.aez", tmp_path / "a.png")
    qtbot.addWidget(dialog)
    buttons = {button.text(): button for button in dialog.findChildren(QPushButton)}
    assert set(buttons) == {"&Overwrite", "&Skip", "&Rename to a-1.aez"}

    dialog.apply_to_all.setChecked(True)
    qtbot.mouseClick(buttons["&Rename to a-1.aez"], Qt.MouseButton.LeftButton)

    assert dialog.choice() == ConflictChoice(Resolution.RENAME, apply_to_all=True)
    assert dialog.result() == ConflictDialog.DialogCode.Accepted


def test_conflict_dialog_closed_means_skip(qtbot, tmp_path: Path) -> None:
    dialog = ConflictDialog(tmp_path / "a.aez", tmp_path / "a.png")
    qtbot.addWidget(dialog)

    dialog.reject()

    assert dialog.choice() == ConflictChoice(Resolution.SKIP)


def test_skipped_first_job_counts_in_batch(
    qtbot, window, conflicts, tmp_path: Path
) -> None:
    first, second = write_photos(tmp_path, 2)
    existing = tmp_path / "aegui-out" / "photo-0.aez"
    existing.parent.mkdir()
    existing.write_bytes(b"keep me")
    conflicts.choice = ConflictChoice(Resolution.SKIP)

    window.add_paths([first, second])
    wait_idle(qtbot, window)

    counts = window.queue.batch_counts()
    assert counts[JobStatus.SKIPPED] == 1
    assert counts[JobStatus.DONE] == 1
    assert window.overall_label.text() == "2 of 2 finished: 1 done, 1 skipped"


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, "No jobs"),
        ({JobStatus.DONE: 3}, "3 of 3 done"),
        ({JobStatus.DONE: 1, JobStatus.RUNNING: 1, JobStatus.QUEUED: 2}, "1 of 4 done"),
        (
            {JobStatus.DONE: 4, JobStatus.FAILED: 1, JobStatus.CANCELLED: 7},
            "12 of 12 finished: 4 done, 1 failed, 7 cancelled",
        ),
        (
            {JobStatus.SKIPPED: 2, JobStatus.QUEUED: 1},
            "2 of 3 finished: 0 done, 2 skipped",
        ),
    ],
)
def test_batch_label_counts_each_outcome(counts, expected) -> None:
    full = dict.fromkeys(JobStatus, 0) | counts
    assert batch_label(full) == expected


@pytest.mark.parametrize(
    ("bpp", "text"),
    [
        (0.1234, "0.123"),
        (9.9994, "9.999"),
        (9.9996, "10.0"),
        (12.34, "12.3"),
        (999.96, "1000"),
        (2432.4, "2432"),
    ],
)
def test_bpp_cell_stays_short(bpp: float, text: str) -> None:
    assert format_bpp(bpp) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (999, "999 B"),
        (1000, "1.0 kB"),
        (999_940, "999.9 kB"),
        (999_960, "1.00 MB"),
        (12_345_678, "12.35 MB"),
    ],
)
def test_size_cell_switches_unit_after_rounding(count: int, text: str) -> None:
    assert format_bytes(count) == text
