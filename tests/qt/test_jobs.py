# SPDX-License-Identifier: MIT
"""App-layer rules without widgets: operations, output paths, input expansion."""

from __future__ import annotations

from pathlib import Path

import pytest

from aegui.app.jobs import (
    ConflictChoice,
    Resolution,
    expand_inputs,
    numbered_path,
    planned_output,
)
from aegui.app.operations import (
    COMPRESS,
    DECOMPRESS,
    OPERATIONS,
    QUALITY,
    STYLE,
    JobRequest,
    Operation,
    operation_for,
)
from aegui.app.queue import JobQueue
from aegui.app.styles import StyleChoices
from aegui.core.tasks import JobResult

from .conftest import TIMEOUT_MS, write_photo


@pytest.mark.parametrize(
    ("name", "preferred", "expected"),
    [
        ("a.png", "compress", "compress"),
        ("a.JPG", "decompress", "compress"),
        ("a.aez", "compress", "decompress"),
        ("a.aez", "decompress", "decompress"),
        ("a.txt", "decompress", "decompress"),
        ("a.txt", "unknown", "compress"),
    ],
)
def test_operation_for_suffix(name: str, preferred: str, expected: str) -> None:
    assert operation_for(Path(name), preferred).key == expected


def test_planned_output_beside_source(tmp_path: Path) -> None:
    source = tmp_path / "album" / "a.png"

    assert planned_output(source, tmp_path, COMPRESS, None) == (
        tmp_path / "album" / "aegui-out" / "a.aez"
    )
    assert planned_output(source, tmp_path, DECOMPRESS, None) == (
        tmp_path / "album" / "aegui-out" / "a.png"
    )


def test_planned_output_in_folder_keeps_tree(tmp_path: Path) -> None:
    source = tmp_path / "album" / "day" / "a.png"

    assert planned_output(source, tmp_path / "album", COMPRESS, tmp_path / "out") == (
        tmp_path / "out" / "day" / "a.aez"
    )


def test_numbered_path_skips_taken_names(tmp_path: Path) -> None:
    (tmp_path / "a-1.aez").write_bytes(b"")
    reserved = {tmp_path / "a-2.aez"}

    assert numbered_path(tmp_path / "a.aez", reserved) == tmp_path / "a-3.aez"


def test_expand_inputs_leaves_out_earlier_outputs(tmp_path: Path) -> None:
    write_photo(tmp_path / "album" / "a.png")
    write_photo(tmp_path / "album" / "aegui-out" / "old.png")
    write_photo(tmp_path / "album" / "chosen-out" / "older.png")
    named = write_photo(tmp_path / "album" / "aegui-out" / "named.png")

    (tmp_path / "album" / "clip.gif").write_bytes(b"GIF89a")

    expanded = expand_inputs(
        [tmp_path / "album", named, tmp_path / "missing.png"],
        tmp_path / "album" / "chosen-out",
    )

    assert [source.name for source, _ in expanded.pairs] == ["a.png", "named.png"]
    assert expanded.left_out == 2
    assert expanded.errors == [f"{tmp_path / 'missing.png'}: no such file or folder"]
    # A file of a type no operation reads is named, not dropped silently.
    assert expanded.notes == [
        f"{tmp_path / 'album'}: skipped 1 file(s) of other types (clip.gif)"
    ]


def test_option_clamped_to_range() -> None:
    assert QUALITY.clamp(0) == 1
    assert QUALITY.clamp(99) == QUALITY.maximum
    assert QUALITY.clamp(5) == 5


def test_choice_option_clamped_to_nearest() -> None:
    from aegui.app.operations import PASSES

    assert PASSES.clamp(4) == 4
    assert PASSES.clamp(3) in (2, 4)
    assert PASSES.clamp(0) == 1
    assert PASSES.clamp(100) == 8


def test_quality_range_matches_the_codec_levels() -> None:
    from aegui.core.models.hyperprior import DEFAULT_LAMBDAS

    assert QUALITY.maximum == len(DEFAULT_LAMBDAS)
    assert QUALITY.minimum <= QUALITY.default <= QUALITY.maximum


def copy_file(request: JobRequest, progress: object, cancelled: object) -> JobResult:
    request.output.write_bytes(request.source.read_bytes())
    size = request.source.stat().st_size
    return JobResult(request.source, request.output, size, size, 1, 1, 0.0)


def add_copy_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register a "copy" operation that writes the input's bytes as the output."""
    copy = Operation(
        key="copy",
        label="Copy",
        input_suffixes=frozenset({".png"}),
        output_suffix=".png",
        options=(),
        run=copy_file,
    )
    monkeypatch.setitem(OPERATIONS, copy.key, copy)


def test_queue_never_overwrites_its_input(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_copy_operation(monkeypatch)
    source = write_photo(tmp_path / "a.png")
    original = source.read_bytes()
    queue = JobQueue()

    (job,) = queue.add_paths([source], "copy", {}, output_dir=tmp_path)
    qtbot.waitUntil(lambda: job.status.is_final, timeout=TIMEOUT_MS)
    queue.shutdown(5000)

    assert job.output == tmp_path / "a-1.png"
    assert source.read_bytes() == original


def test_queue_never_overwrites_another_input(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_copy_operation(monkeypatch)
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    first = write_photo(tmp_path / "in" / "x.png")
    second = write_photo(tmp_path / "out" / "x.png")
    original = second.read_bytes()
    queue = JobQueue()

    jobs = queue.add_paths([first, second], "copy", {}, output_dir=tmp_path / "out")
    qtbot.waitUntil(
        lambda: all(job.status.is_final for job in jobs), timeout=TIMEOUT_MS
    )
    queue.shutdown(5000)

    assert second.read_bytes() == original
    assert {job.output.name for job in jobs} == {"x-1.png", "x-2.png"}


def test_queue_keeps_style_image(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    painted = Operation(
        key="painted",
        label="Painted",
        input_suffixes=frozenset({".jpg"}),
        output_suffix=".png",
        options=(STYLE,),
        run=copy_file,
    )
    monkeypatch.setitem(OPERATIONS, painted.key, painted)
    # A private list, so the chosen file does not show up in later tests' pickers.
    choices = StyleChoices()
    monkeypatch.setattr("aegui.app.styles.STYLE_CHOICES", choices)
    photo = tmp_path / "pic.jpg"
    photo.write_bytes(write_photo(tmp_path / "photo.png").read_bytes())
    style = write_photo(tmp_path / "pic.png", seed=1)
    original = style.read_bytes()
    queue = JobQueue()

    (job,) = queue.add_paths(
        [photo],
        "painted",
        {STYLE.key: choices.add_file(style)},
        output_dir=tmp_path,
        resolve_conflict=lambda output, source: ConflictChoice(Resolution.OVERWRITE),
    )
    qtbot.waitUntil(lambda: job.status.is_final, timeout=TIMEOUT_MS)
    queue.shutdown(5000)

    assert job.output == tmp_path / "pic-1.png"
    assert style.read_bytes() == original
