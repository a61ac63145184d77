# SPDX-License-Identifier: MIT
"""The aegui command line: batches, exit statuses, overwrite rules, info."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aegui.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from aegui.core.container import MAGIC, unpack
from tests.conftest import natural_image
from tests.test_container import reseal


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(natural_image(70, 50, seed=1)).save(folder / "a.png")
    Image.fromarray(natural_image(50, 70, seed=2)).save(folder / "sub" / "b.jpg")
    rgba = np.dstack([natural_image(30, 30, seed=3), np.full((30, 30), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "c.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_compress_and_decompress_folder(tiny_codec, photo_folder, tmp_path, capsys):
    out, rec = tmp_path / "out", tmp_path / "rec"
    assert main(["compress", str(photo_folder), "-o", str(out), "-q", "2"]) == EXIT_OK
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.aez")) == [
        "a.aez",
        "c.aez",
        "sub/b.aez",
    ]
    assert main(["decompress", str(out), "-o", str(rec)]) == EXIT_OK
    restored = Image.open(rec / "c.png")
    assert restored.mode == "RGBA"
    assert restored.size == (30, 30)
    assert np.all(np.asarray(restored)[:, :, 3] == 128)
    assert Image.open(rec / "sub" / "b.png").size == (50, 70)
    assert "a.aez" in capsys.readouterr().out


def test_decompress_table_shows_aez_size(tiny_codec, photo_file, tmp_path, capsys):
    out, rec = tmp_path / "out", tmp_path / "rec"
    assert main(["compress", str(photo_file), "-o", str(out)]) == EXIT_OK
    capsys.readouterr()
    assert main(["decompress", str(out), "-o", str(rec)]) == EXIT_OK
    header, row = capsys.readouterr().out.splitlines()[-2:]
    assert "aez bytes" in header
    assert row.split()[2] == str((out / "photo.aez").stat().st_size)


def test_pad_counts_wide_characters() -> None:
    from aegui.cli import pad

    assert pad("ab", 5) == "ab   "
    assert pad("写真", 5) == "写真 "  # two columns each
    assert pad("cafe\u0301", 6) == "cafe\u0301  "  # the accent takes no column
    assert pad("longer than", 4) == "longer than"


def test_table_columns_line_up_with_wide_names(
    tiny_codec, tmp_path, capsys, monkeypatch
) -> None:
    import unicodedata

    monkeypatch.chdir(tmp_path)  # short relative paths, within the name column
    Path("photos").mkdir()
    for name in ("plain.png", "夏の写真.png"):
        Image.fromarray(natural_image(40, 32, seed=1)).save(Path("photos", name))
    assert main(["compress", "photos", "-o", "out"]) == EXIT_OK
    rows = [line for line in capsys.readouterr().out.splitlines() if ".aez" in line]

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) == "W" else 1 for c in text)

    # The size column starts at the same terminal column on every row.
    starts = {columns(row[: row.index(" 40x32")]) for row in rows}
    assert len(rows) == 2
    assert len(starts) == 1


def test_broken_file_fails_but_batch_continues(
    tiny_codec, photo_folder, tmp_path, capsys
):
    broken = photo_folder / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    status = main(["compress", str(photo_folder), "-o", str(out)])
    assert status == EXIT_FAILED
    assert (out / "a.aez").exists()
    assert not (out / "broken.aez").exists()
    assert "broken.png" in capsys.readouterr().err


def test_missing_input_fails(tiny_codec, photo_file, tmp_path, capsys):
    status = main(
        [
            "compress",
            str(photo_file),
            str(tmp_path / "gone.png"),
            "-o",
            str(tmp_path / "o"),
        ]
    )
    assert status == EXIT_FAILED
    assert (tmp_path / "o" / "photo.aez").exists()
    assert "gone.png: no such file or folder" in capsys.readouterr().err


def test_no_overwrite_without_force(tiny_codec, photo_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compress", str(photo_file), "-o", str(out), "-q", "1"]) == EXIT_OK
    first = (out / "photo.aez").read_bytes()
    assert main(["compress", str(photo_file), "-o", str(out), "-q", "8"]) == EXIT_FAILED
    assert (out / "photo.aez").read_bytes() == first
    assert "already exists" in capsys.readouterr().err
    assert (
        main(["compress", str(photo_file), "-o", str(out), "-q", "8", "--force"])
        == EXIT_OK
    )
    assert (out / "photo.aez").read_bytes() != first


def test_unwritable_output_names_file(
    tiny_codec, photo_file, tmp_path, capsys, monkeypatch
):
    import aegui.core.imageio as imageio

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(imageio.os, "open", read_only)
    out = tmp_path / "out"
    assert main(["compress", str(photo_file), "-o", str(out)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "photo.aez: cannot write (read-only file system)" in err
    assert not list(out.iterdir())


def test_unexpected_error_names_input(
    tiny_codec, photo_file, tmp_path, capsys, monkeypatch
):
    import aegui.core.tasks as tasks

    def broken(*args, **kwargs):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(tasks, "compress_file", broken)
    assert main(["compress", str(photo_file), "-o", str(tmp_path / "o")]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert f"{photo_file}: RuntimeError: simulated fault" in err


@pytest.mark.parametrize("quality", ["0", "11", "high"])
def test_bad_quality_is_usage_error(tiny_codec, photo_file, tmp_path, quality, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(photo_file), "-o", str(tmp_path), "-q", quality])
    assert exit_info.value.code == EXIT_USAGE
    # The usage line is the compress command's, not the top-level one.
    assert "usage: aegui compress" in capsys.readouterr().err


def test_missing_output_is_usage_error(photo_file):
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(photo_file)])
    assert exit_info.value.code == EXIT_USAGE


def test_decompress_rejects_broken_aez(tiny_codec, photo_file, tmp_path, capsys):
    out = tmp_path / "out"
    main(["compress", str(photo_file), "-o", str(out)])
    data = (out / "photo.aez").read_bytes()
    (out / "cut.aez").write_bytes(data[: len(data) // 2])
    (out / "text.aez").write_text("hello")
    status = main(["decompress", str(out), "-o", str(tmp_path / "rec")])
    err = capsys.readouterr().err
    assert status == EXIT_FAILED
    assert "cut.aez: truncated" in err
    assert "text.aez: not an .aez file" in err
    assert (tmp_path / "rec" / "photo.png").exists()
    assert not (tmp_path / "rec" / "cut.png").exists()


def test_info_prints_header(tiny_codec, photo_file, tmp_path, capsys):
    main(["compress", str(photo_file), "-o", str(tmp_path), "-q", "5"])
    assert main(["info", str(tmp_path / "photo.aez")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "96x80 RGB" in out
    assert "quality  5" in out


def test_info_reads_folders(tiny_codec, photo_file, tmp_path, capsys):
    out = tmp_path / "out"
    main(["compress", str(photo_file), "-o", str(out / "sub")])
    (out / "notes.txt").write_text("not an .aez file")
    capsys.readouterr()
    assert main(["info", str(out)]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"{out / 'sub' / 'photo.aez'}:" in captured.out
    assert "skipped 1 file(s) of other types (notes.txt)" in captured.err
    assert main(["info", str(out), str(tmp_path / "missing")]) == EXIT_FAILED
    assert "missing: no such file or folder" in capsys.readouterr().err


def test_folder_lists_non_regular_entries(tiny_codec, photo_file, capsys):
    folder = photo_file.parent
    (folder / "dangling.png").symlink_to(folder / "nowhere.png")
    (folder / "loop.png").symlink_to(folder / "loop.png")
    os.mkfifo(folder / "pipe.png")
    assert main(["compress", str(folder), "-o", str(folder / "out")]) == EXIT_OK
    assert (
        f"{folder}: skipped 3 entries that are not regular files, such as broken "
        "links or pipes (dangling.png, loop.png, pipe.png)"
    ) in capsys.readouterr().err


def test_folder_follows_linked_folders(tiny_codec, photo_file, tmp_path, capsys):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    shutil.copy(photo_file, shelf / "photo.png")
    top = tmp_path / "top"
    top.mkdir()
    (top / "photos").symlink_to(shelf, target_is_directory=True)
    (top / "again").symlink_to(shelf, target_is_directory=True)
    (top / "loop").symlink_to(top, target_is_directory=True)
    out = tmp_path / "out"
    assert main(["compress", str(top), "-o", str(out)]) == EXIT_OK
    assert (out / "again" / "photo.aez").is_file()
    assert not (out / "photos").exists()
    err = capsys.readouterr().err
    assert (
        f"{top}: skipped 2 linked folder(s) already searched, such as a link loop "
        "(loop, photos)"
    ) in err


class ClosedStdout:
    """Stand-in for stdout after its reader quit: every write fails."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.descriptor


def test_closed_stdout_finishes_batch(tiny_codec, photo_folder, tmp_path, monkeypatch):
    # The batch redirects the closed stdout's descriptor, so give it a scratch one.
    sink = os.open(tmp_path / "sink", os.O_WRONLY | os.O_CREAT)
    monkeypatch.setattr(sys, "stdout", ClosedStdout(sink))
    out = tmp_path / "out"
    try:
        status = main(["compress", str(photo_folder), "-o", str(out), "-q", "1"])
    finally:
        os.close(sink)
    assert status == EXIT_OK
    assert sorted(p.name for p in out.rglob("*.aez")) == ["a.aez", "b.aez", "c.aez"]


def test_control_characters_in_names_are_escaped(tiny_codec, photo_file, capsys):
    odd = photo_file.with_name("two\nlines\x1b[31m.png")
    photo_file.rename(odd)
    out = odd.parent / "out"
    assert main(["compress", str(odd), "-o", str(out)]) == EXIT_OK
    table = capsys.readouterr().out
    assert "two\\nlines\\x1b[31m.aez" in table
    assert "\x1b" not in table
    assert main(["info", str(out)]) == EXIT_OK
    assert "\x1b" not in capsys.readouterr().out


def test_looping_link_is_named(tiny_codec, tmp_path, capsys):
    link = tmp_path / "loop.png"
    link.symlink_to(link)
    status = main(["compress", str(link), "-o", str(tmp_path / "out")])
    assert status == EXIT_FAILED
    assert (
        f"{link}: broken symbolic link (its target is missing, or the link loops "
        "back to itself)"
    ) in capsys.readouterr().err


@pytest.mark.parametrize("past_last", [False, True], ids=["zero", "past-last"])
def test_info_rejects_quality_out_of_range(
    tiny_codec, photo_file, tmp_path, capsys, past_last
):
    main(["compress", str(photo_file), "-o", str(tmp_path), "-q", "5"])
    path = tmp_path / "photo.aez"
    data = path.read_bytes()
    header, _ = unpack(data)
    last = len(tiny_codec.qualities)
    quality = last + 1 if past_last else 0
    # Magic, version and body size, then the model id, digest, size, mode and depth.
    offset = len(MAGIC) + 6 + 1 + len(header.model_id.encode()) + 8 + 4 + 4 + 1 + 1
    assert data[offset] == 5
    path.write_bytes(reseal(data, offset, bytes([quality])))
    capsys.readouterr()
    assert main(["info", str(path)]) == EXIT_FAILED
    reason = f"invalid quality {quality}" + (
        f", the model has 1 to {last}" if past_last else ""
    )
    assert f"photo.aez: corrupted header ({reason})" in capsys.readouterr().err


def test_info_on_foreign_file(tmp_path, capsys):
    path = tmp_path / "x.aez"
    path.write_bytes(b"GIF89a....")
    assert main(["info", str(path)]) == EXIT_FAILED
    assert "x.aez: not an .aez file" in capsys.readouterr().err


def test_demo_prints_table(tiny_codec, capsys):
    assert main(["demo", "-q", "1"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "parrots.png" in out
    assert "PSNR" in out


def test_same_output_twice_fails_second(tiny_codec, tmp_path, capsys):
    for name in ("d1", "d2"):
        (tmp_path / name).mkdir()
        Image.fromarray(natural_image(40, 30, seed=len(name))).save(
            tmp_path / name / "pic.png"
        )
    out = tmp_path / "out"
    status = main(
        [
            "compress",
            str(tmp_path / "d1"),
            str(tmp_path / "d2"),
            "-o",
            str(out),
            "--force",
        ]
    )
    err = capsys.readouterr().err
    assert status == EXIT_FAILED
    assert "is also the output of" in err
    assert str(tmp_path / "d1" / "pic.png") in err
    assert (out / "pic.aez").exists()


def test_broken_file_reported_before_clash(tiny_codec, tmp_path, capsys):
    for name in ("d1", "d2"):
        (tmp_path / name).mkdir()
    Image.fromarray(natural_image(40, 30, seed=1)).save(tmp_path / "d1" / "pic.png")
    (tmp_path / "d2" / "pic.png").write_bytes(b"not a picture")
    (tmp_path / "d2" / "pic.aez").write_bytes(b"AEZ?")
    status = main(["compress", str(tmp_path / "d1"), str(tmp_path / "d2"), "-o",
                   str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == EXIT_FAILED
    assert f"{tmp_path / 'd2' / 'pic.png'}: not an image file" in err
    assert "is also the output of" not in err

    (tmp_path / "out" / "pic.aez").rename(tmp_path / "d1" / "pic.aez")
    (tmp_path / "d2" / "pic.aez").write_bytes(b"")
    status = main(["decompress", str(tmp_path / "d1"), str(tmp_path / "d2"), "-o",
                   str(tmp_path / "rec")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == EXIT_FAILED
    assert f"{tmp_path / 'd2' / 'pic.aez'}: empty file" in err


def test_output_folder_is_file(photo_file, tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(photo_file), "-o", str(target)])
    assert exit_info.value.code == EXIT_USAGE
    assert target.read_text() == "x"


@pytest.mark.parametrize("threads", ["-3", "0", "two", "40000"])
def test_bad_threads_is_usage_error(threads, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["--threads", threads, "info", str(tmp_path / "x.aez")])
    assert exit_info.value.code == EXIT_USAGE


def test_output_folder_inside_input_is_skipped(tiny_codec, photo_folder, capsys):
    out = photo_folder / "aegui-out"
    assert main(["compress", str(photo_folder), "-o", str(out), "-q", "1"]) == EXIT_OK
    assert main(["decompress", str(out), "-o", str(out)]) == EXIT_OK
    assert main(["compress", str(photo_folder), "-o", str(out), "--force"]) == EXIT_OK
    assert not (out / "aegui-out").exists()
    assert "skipped 1 file(s) of other types (notes.txt)" in capsys.readouterr().err


def test_outputs_follow_umask(tiny_codec, photo_file, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        main(["compress", str(photo_file), "-o", str(tmp_path / "out")])
    finally:
        os.umask(old)
    assert (tmp_path / "out" / "photo.aez").stat().st_mode & 0o777 == 0o644


def test_corrupted_stream_with_valid_checksums(
    tiny_codec, photo_file, tmp_path, capsys
):
    import struct
    import zlib

    from aegui.core.container import pack, unpack

    main(["compress", str(photo_file), "-o", str(tmp_path / "out"), "-q", "8"])
    header, streams = unpack((tmp_path / "out" / "photo.aez").read_bytes())
    garbage = bytes(range(256)) * (len(streams[1]) // 256 + 1)
    crafted = pack(
        header,
        [streams[0], struct.pack("<I", 0xFFFFFFFF) + garbage[: len(streams[1]) - 4]],
    )
    bad = tmp_path / "bad" / "crafted.aez"
    bad.parent.mkdir()
    bad.write_bytes(crafted)
    assert zlib.crc32(crafted) != 0
    status = main(["decompress", str(bad), "-o", str(tmp_path / "rec")])
    err = capsys.readouterr().err
    # Range coding cannot detect every damaged stream; when it does, the error
    # names the file, and otherwise the image decodes without a crash.
    if status == EXIT_FAILED:
        assert "crafted.aez: corrupted latent (y) stream" in err
    else:
        assert status == EXIT_OK
    assert "Traceback" not in err


def test_empty_image_file(tmp_path, tiny_codec, capsys):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert main(["compress", str(empty), "-o", str(tmp_path / "o")]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert "empty.png: empty file (0 bytes)" in captured.err
    # Nothing succeeded, so no table header either.
    assert captured.out == ""


def test_mistyped_command_is_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compres", "photo.png", "-o", "out"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "unknown command 'compres'" in error
    assert "did you mean 'compress'" in error
    assert not (tmp_path / "aegui-out").exists()


def test_window_without_display_fails_cleanly(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(photo)
    assert main([str(photo)]) == EXIT_FAILED
    assert "no display" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "threads"),
    [
        (["--threads", "1"], "1"),
        (["--threads=1"], "1"),
        (["-v"], None),
        (["-v", "--threads", "2"], "2"),
    ],
)
def test_global_options_before_window_files(tmp_path, monkeypatch, options, threads):
    opened: list[list[str]] = []
    monkeypatch.setattr(
        "aegui.cli._open_window", lambda paths: opened.append(paths) or 0
    )
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(photo)
    assert main([*options, str(photo)]) == 0
    assert opened == [[str(photo)]]
    assert os.environ.get("OMP_NUM_THREADS") == threads


def test_output_below_a_file_is_usage_error(tiny_codec, photo_folder, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as stop:
        main(["compress", str(photo_folder), "-o", str(blocker / "sub")])
    assert stop.value.code == EXIT_USAGE
    assert "exists and is not a folder" in capsys.readouterr().err


def test_output_named_like_a_folder_fails(tiny_codec, photo_folder, tmp_path, capsys):
    out = tmp_path / "out"
    first = sorted(photo_folder.glob("*.png"))[0]
    (out / f"{first.stem}.aez" / "inside").mkdir(parents=True)
    status = main(["compress", str(first), "-o", str(out), "--force"])
    assert status == EXIT_FAILED
    assert "a folder of that name exists" in capsys.readouterr().err
    assert (out / f"{first.stem}.aez" / "inside").is_dir()


def test_force_never_replaces_the_input(tiny_denoiser, tmp_path, capsys):
    photo = tmp_path / "pic.png"
    Image.fromarray(natural_image(32, 48)).save(photo)
    original = photo.read_bytes()
    status = main(["denoise", str(photo), "-o", str(tmp_path), "--force"])
    assert status == EXIT_FAILED
    assert "would replace the input itself" in capsys.readouterr().err
    assert photo.read_bytes() == original


def test_force_never_replaces_another_input(tiny_denoiser, tmp_path, capsys):
    first, second = tmp_path / "a" / "x.png", tmp_path / "out" / "x.png"
    for index, photo in enumerate((first, second)):
        photo.parent.mkdir()
        Image.fromarray(natural_image(32, 48, seed=index)).save(photo)
    original = second.read_bytes()
    for order in ((first, second), (second, first)):
        status = main(
            ["denoise", *map(str, order), "-o", str(second.parent), "--force"]
        )
        assert status == EXIT_FAILED
        assert "another input of this run" in capsys.readouterr().err
        assert second.read_bytes() == original


def test_force_keeps_style_image(tiny_stylizer, tmp_path, capsys):
    photo, style = tmp_path / "pic.jpg", tmp_path / "pic.png"
    Image.fromarray(natural_image(40, 48)).save(photo)
    Image.fromarray(natural_image(40, 48, seed=1)).save(style)
    original = style.read_bytes()
    status = main(
        ["stylize", str(photo), "--style", str(style), "-o", str(tmp_path), "--force"]
    )
    assert status == EXIT_FAILED
    assert "the style image of this run" in capsys.readouterr().err
    assert style.read_bytes() == original


def test_empty_output_folder_is_usage_error(photo_file, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["compress", str(photo_file), "-o", ""])
    assert stop.value.code == EXIT_USAGE
    assert "the name is empty" in capsys.readouterr().err


def test_command_help_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from aegui.cli import main\n"
        "try:\n"
        "    main(['compress', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "usage: aegui compress" in done.stdout
    assert done.stdout.strip().endswith("False")


def test_empty_input_name_is_usage_error(tiny_codec, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", "", "-o", str(tmp_path / "out")])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid input '': the name is empty" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "hinted"),
    [
        (["compress", "-dash.png", "-o", "out"], True),
        (["-dash.png"], True),
        # After -- the name is already a file, and -o is what is missing.
        (["compress", "--", "-dash.png"], False),
        # argparse takes -1 as the strength, whatever files exist.
        (["denoise", "--strength", "-1", "--bad"], False),
    ],
)
def test_leading_dash_file_hint(
    photo_file, tmp_path, capsys, monkeypatch, argv, hinted
):
    monkeypatch.chdir(tmp_path)
    shutil.copy(photo_file, tmp_path / "-dash.png")
    shutil.copy(photo_file, tmp_path / "-1")

    with pytest.raises(SystemExit) as stop:
        main(argv)

    assert stop.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert ("write ./-dash.png" in err) is hinted
    assert "'-1' was read as an option" not in err
    assert not (tmp_path / "out").exists()


def test_threads_after_command_is_explained(photo_file, tmp_path, capsys):
    argv = ["compress", "--threads", "1", str(photo_file), "-o", str(tmp_path)]
    assert main(argv) == EXIT_USAGE
    assert "--threads goes before the command" in capsys.readouterr().err


def test_demo_keeps_existing_files(tiny_codec, tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    existing = out / "parrots-q1.aez"
    existing.write_text("mine")
    assert main(["demo", "-q", "1", "-o", str(out)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "parrots-q1.aez: already exists" in err
    assert "1 of 2 runs failed:" in err
    assert existing.read_text() == "mine"
    assert main(["demo", "-q", "1", "-q", "1", "-o", str(out), "--force"]) == EXIT_OK
    assert existing.read_bytes() != b"mine"
    assert capsys.readouterr().out.count("parrots.png") == 1


def test_demo_without_results_prints_no_header(tiny_codec, tmp_path, capsys):
    from aegui.paths import data_dir

    out = tmp_path / "demo"
    out.mkdir()
    samples = sorted((data_dir("assets") / "samples").glob("*.png"))
    for sample in samples:
        (out / f"{sample.stem}-q1.aez").write_text("mine")
    assert main(["demo", "-q", "1", "-o", str(out)]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{len(samples)} of {len(samples)} runs failed:" in captured.err


def test_demo_output_file_is_usage_error(tiny_codec, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "-q", "1", "-o", str(blocker)])
    assert exit_info.value.code == EXIT_USAGE


def test_dangling_link_output_is_usage_error(photo_file, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "missing")
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(photo_file), "-o", str(link)])
    assert exit_info.value.code == EXIT_USAGE
    assert "symbolic link to a missing target" in capsys.readouterr().err


def test_write_failure_names_input(tiny_codec, photo_file, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "photo.aez").mkdir(parents=True)
    assert main(["compress", str(photo_file), "-o", str(out)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert f"{photo_file}: {out / 'photo.aez'}: a folder of that name exists" in err


def test_info_into_closed_pipe_is_quiet(
    tiny_pretrained, tiny_codec, photo_file, tmp_path
):
    import subprocess
    import sys

    main(["compress", str(photo_file), "-o", str(tmp_path)])
    files = " ".join([str(tmp_path / "photo.aez")] * 400)
    completed = subprocess.run(
        f"{sys.executable} -m aegui info {files} | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "AEGUI_PRETRAINED": str(tiny_pretrained)},
    )
    assert completed.stdout == f"{tmp_path / 'photo.aez'}:\n"[:10]
    assert "Traceback" not in completed.stderr
    assert "BrokenPipeError" not in completed.stderr


@pytest.mark.parametrize("hours", ["-1", "0", "soon"])
def test_training_hours_must_be_positive(tmp_path, hours):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "compression", "--data", str(tmp_path), "--hours", hours])
    assert exit_info.value.code == EXIT_USAGE


@pytest.mark.parametrize("scales", ["0", "1,1.5", "half", "nan"])
def test_training_scales_must_be_fractions(tmp_path, scales):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "compression", "--data", str(tmp_path), "--scales", scales])
    assert exit_info.value.code == EXIT_USAGE


@pytest.mark.parametrize("crop", ["160", "0", "-64", "big"])
def test_training_crop_must_fit_the_codec(tmp_path, capsys, crop):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "compression", "--data", str(tmp_path), "--crop", crop])
    assert exit_info.value.code == EXIT_USAGE
    assert "--crop: invalid" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["compression", "denoise"])
def test_training_on_empty_folder_fails_cleanly(tmp_path, capsys, kind):
    assert main(["train", kind, "--data", str(tmp_path)]) == EXIT_FAILED
    assert f"aegui: No training images found in {tmp_path}" in capsys.readouterr().err


def test_compress_with_refinement(tiny_codec, photo_file, tmp_path, monkeypatch):
    import aegui.core.codec as codec_module
    from aegui.core.refine import refine_residual

    steps = []

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        steps.append(args[7])
        refine_residual(*args, **kwargs)

    monkeypatch.setattr(codec_module, "refine_residual", spy)
    out = tmp_path / "out"
    args = ["compress", str(photo_file), "-o", str(out), "--refine", "2"]
    assert main(args) == EXIT_OK
    assert (out / f"{photo_file.stem}.aez").read_bytes().startswith(MAGIC)
    assert steps == [2]


@pytest.mark.parametrize("steps", ["-1", "1001", "2.5", "many"])
def test_compress_rejects_bad_refine_steps(tmp_path, capsys, steps):
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(tmp_path), "--refine", steps])
    assert exit_info.value.code == EXIT_USAGE
    assert f"invalid step count {steps!r}" in capsys.readouterr().err


@pytest.mark.parametrize("native", [True, False])
def test_training_warns_of_emulated_bfloat16(tmp_path, caplog, monkeypatch, native):
    monkeypatch.setattr("aegui.core.precision.native_bfloat16", lambda: native)
    main(["train", "denoise", "--data", str(tmp_path), "--bf16"])
    warned = "no native bfloat16 arithmetic: --bf16 is emulated" in caplog.text
    assert warned is not native


def test_export_of_missing_checkpoint_is_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "compression", str(tmp_path / "none.pt")])
    assert exit_info.value.code == EXIT_USAGE
    assert "none.pt: file not found" in capsys.readouterr().err


def test_export_of_foreign_file_fails_cleanly(tmp_path, capsys):
    path = tmp_path / "text.pt"
    path.write_text("not a checkpoint")
    out = tmp_path / "pretrained"
    assert main(["export", "denoise", str(path), "--out", str(out)]) == EXIT_FAILED
    assert "text.pt: not a readable training checkpoint" in capsys.readouterr().err
    assert not out.exists()


def test_empty_model_folder_is_explained(photo_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AEGUI_PRETRAINED", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(photo_file), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == EXIT_FAILED
    assert "AEGUI_PRETRAINED must name a folder that contains manifest.json" in (
        capsys.readouterr().err
    )
