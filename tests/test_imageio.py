# SPDX-License-Identifier: MIT
"""Reading every supported kind of image, and refusing broken ones clearly."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aegui.core.container import MAX_PIXELS, Mode
from aegui.core.errors import ImageReadError, OutputExistsError, OutputWriteError
from aegui.core.imageio import load_image, png_data_size, write_atomic
from tests.conftest import natural_image


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """Return one PNG chunk: length, type, body and CRC."""
    crc = struct.pack(">I", zlib.crc32(kind + body))
    return struct.pack(">I", len(body)) + kind + body + crc


def write_png(
    path: Path,
    width: int,
    height: int,
    raw: bytes,
    bit_depth: int = 8,
    interlace: int = 0,
) -> None:
    """Write an RGB PNG by hand from its filtered scanlines ``raw``."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 2, 0, 0, interlace)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def write_png16_rgb(path: Path, pixels: np.ndarray) -> None:
    """Write a 16-bit RGB PNG by hand (Pillow cannot write one)."""
    height, width, _ = pixels.shape
    raw = b"".join(
        b"\x00" + pixels[row].astype(">u2").tobytes() for row in range(height)
    )
    write_png(path, width, height, raw, bit_depth=16)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tif", ".webp"])
def test_formats_load_as_rgb(tmp_path, suffix):
    path = tmp_path / f"photo{suffix}"
    Image.fromarray(natural_image(33, 21)).save(path)
    loaded = load_image(path)
    assert loaded.rgb.shape == (21, 33, 3)
    assert loaded.mode == Mode.RGB
    assert loaded.alpha is None


def test_grayscale_stays_grayscale(tmp_path):
    path = tmp_path / "gray.png"
    Image.fromarray(natural_image(20, 10)[:, :, 0]).save(path)
    loaded = load_image(path)
    assert loaded.mode == Mode.L
    assert np.array_equal(loaded.rgb[:, :, 0], loaded.rgb[:, :, 2])


def test_rgba_keeps_alpha(tmp_path):
    path = tmp_path / "rgba.png"
    pixels = np.dstack(
        [natural_image(20, 10), np.arange(200, dtype=np.uint8).reshape(10, 20)]
    )
    Image.fromarray(pixels, "RGBA").save(path)
    loaded = load_image(path)
    assert loaded.mode == Mode.RGBA
    assert np.array_equal(loaded.alpha, pixels[:, :, 3])


def test_palette_with_transparency_keeps_alpha(tmp_path):
    path = tmp_path / "palette.png"
    image = Image.fromarray(natural_image(20, 10)).convert("P")
    image.info["transparency"] = 0
    image.save(path, transparency=0)
    assert load_image(path).mode == Mode.RGBA


def test_sixteen_bit_is_reduced_with_warning(tmp_path):
    path = tmp_path / "deep.png"
    pixels = natural_image(12, 8).astype(np.uint16) * 257
    write_png16_rgb(path, pixels)
    loaded = load_image(path)
    assert loaded.bit_depth == 16
    assert f"{path}: 16-bit samples reduced to 8 bits" in loaded.warnings
    assert np.abs(loaded.rgb.astype(int) - natural_image(12, 8)).max() <= 1


def test_thirty_two_bit_tiff_names_its_depth(tmp_path):
    path = tmp_path / "deep.tif"
    ramp = np.linspace(0, 2**31 - 1, 12 * 8).reshape(8, 12)
    Image.fromarray(ramp.astype(np.int32)).save(path)
    loaded = load_image(path)
    assert loaded.bit_depth == 32
    assert f"{path}: 32-bit samples reduced to 8 bits" in loaded.warnings
    assert loaded.rgb.min() == 0
    assert loaded.rgb.max() == 255


def test_one_bit_image_gets_note(tmp_path):
    path = tmp_path / "bilevel.png"
    Image.fromarray(natural_image(16, 12)).convert("1").save(path)
    loaded = load_image(path)
    assert loaded.bit_depth == 1
    assert loaded.mode == Mode.L
    assert (
        f"{path}: 1-bit grayscale read as 8-bit; results have in-between levels"
        in loaded.warnings
    )


def test_palette_image_gets_no_depth_note(tmp_path):
    path = tmp_path / "palette4.png"
    Image.fromarray(natural_image(16, 12)).convert("P", colors=16).save(path, bits=4)
    assert load_image(path).warnings == []


def test_sixteen_bit_grayscale(tmp_path):
    path = tmp_path / "deep-gray.png"
    Image.fromarray(np.full((8, 12), 65535, dtype=np.uint16)).save(path)
    loaded = load_image(path)
    assert loaded.mode == Mode.L
    assert loaded.rgb.max() == 255


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    Image.fromarray(natural_image(40, 20)).save(path, exif=exif)
    assert load_image(path).rgb.shape == (40, 20, 3)


def test_cmyk_jpeg_converts(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(natural_image(16, 16)).convert("CMYK").save(path)
    assert load_image(path).mode == Mode.RGB


def icc_tag_xyz(x: float, y: float, z: float) -> bytes:
    """Return an ICC XYZType tag body from three s15Fixed16 numbers."""
    return b"XYZ \0\0\0\0" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))


def rgb_icc_profile(name: str, red, green, blue) -> bytes:
    """Build a version 2 matrix/TRC RGB display profile with gamma 2.2.

    ``red``, ``green`` and ``blue`` are the colorants' XYZ values adapted to
    D50, as an ICC profile stores them.
    """
    text = name.encode("ascii") + b"\0"
    description = (
        b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 3 + 67)
    )
    gamma = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"desc", description),
        (b"wtpt", icc_tag_xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", icc_tag_xyz(*red)),
        (b"gXYZ", icc_tag_xyz(*green)),
        (b"bXYZ", icc_tag_xyz(*blue)),
        (b"rTRC", gamma),
        (b"gTRC", gamma),
        (b"bTRC", gamma),
        (b"cprt", b"text\0\0\0\0test\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I", 128 + len(body))
        + b"none"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + icc_tag_xyz(0.9642, 1.0, 0.8249)[8:]
        + bytes(48)
    )
    assert len(header) == 128
    return header + body


# Display P3's primaries adapted to D50.
DISPLAY_P3 = rgb_icc_profile(
    "Test Display P3",
    (0.5151, 0.2412, -0.0011),
    (0.2920, 0.6922, 0.0419),
    (0.1571, 0.0666, 0.7841),
)
BROWN = (200, 120, 60)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_display_p3_converts_to_srgb(tmp_path, suffix):
    path = tmp_path / f"p3{suffix}"
    Image.new("RGB", (16, 16), BROWN).save(path, icc_profile=DISPLAY_P3, quality=100)
    loaded = load_image(path)
    red, green, blue = (int(v) for v in loaded.rgb[8, 8])
    # P3 (200, 120, 60) is about sRGB (214, 116, 38): more saturated.
    assert red >= BROWN[0] + 8
    assert blue <= BROWN[2] - 12
    assert abs(green - 116) <= 4
    assert any("'Test Display P3' to sRGB" in note for note in loaded.warnings)


def test_color_profile_keeps_alpha(tmp_path):
    path = tmp_path / "p3.png"
    Image.new("RGBA", (8, 8), (*BROWN, 90)).save(path, icc_profile=DISPLAY_P3)
    loaded = load_image(path)
    assert loaded.mode == Mode.RGBA
    assert int(loaded.alpha[0, 0]) == 90
    assert int(loaded.rgb[0, 0, 0]) > BROWN[0]


def test_srgb_profile_leaves_pixels(tmp_path):
    from PIL import ImageCms

    path = tmp_path / "srgb.png"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (8, 8), BROWN).save(path, icc_profile=srgb)
    loaded = load_image(path)
    assert tuple(int(v) for v in loaded.rgb[0, 0]) == BROWN
    assert loaded.warnings == []


def test_broken_profile_is_ignored(tmp_path):
    path = tmp_path / "broken.png"
    Image.new("RGB", (8, 8), BROWN).save(path, icc_profile=b"not a profile" * 20)
    loaded = load_image(path)
    assert tuple(int(v) for v in loaded.rgb[0, 0]) == BROWN
    assert any("unreadable color profile" in note for note in loaded.warnings)


def test_grayscale_ignores_rgb_profile(tmp_path):
    path = tmp_path / "gray.png"
    Image.new("L", (8, 8), 77).save(path, icc_profile=DISPLAY_P3)
    loaded = load_image(path)
    assert loaded.mode == Mode.L
    assert int(loaded.rgb[0, 0, 0]) == 77


def test_corrupt_exif_is_noted_once(tmp_path, recwarn):
    path = tmp_path / "exif.jpg"
    # An EXIF block that declares two entries but stops inside the first.
    exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x02\x01\x12\0\x03\0\0\0\x01\0\x06"
    Image.new("RGB", (8, 8)).save(path, exif=exif)
    loaded = load_image(path)
    corrupt = [note for note in loaded.warnings if "Corrupt EXIF data" in note]
    assert len(corrupt) == 1
    assert corrupt[0].startswith(f"{path}: ")
    assert corrupt[0].endswith("; ignored")
    assert len(recwarn) == 0


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="nothing.png: file not found"):
        load_image(tmp_path / "nothing.png")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(ImageReadError, match="not a regular file"):
        load_image(tmp_path)


def test_text_file_named_png(tmp_path):
    path = tmp_path / "fake.png"
    path.write_text("not an image")
    with pytest.raises(ImageReadError, match="fake.png: not an image file"):
        load_image(path)


def test_truncated_jpeg(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(natural_image(64, 64)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ImageReadError, match="cut.jpg: corrupted or truncated"):
        load_image(path)


def test_jpeg_without_end_marker_is_truncated(tmp_path):
    # Without its end marker a JPEG cannot be distinguished from one cut short
    # inside its last bytes of image data, which decodes to damaged pixels.
    path = tmp_path / "no-end.jpg"
    Image.fromarray(natural_image(64, 64)).save(path)
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ImageReadError, match="ends before its image data does$"):
        load_image(path)


def test_unsupported_format(tmp_path):
    path = tmp_path / "anim.gif"
    Image.fromarray(natural_image(8, 8)).save(path)
    with pytest.raises(ImageReadError, match="unsupported image format GIF"):
        load_image(path)


def test_pixel_limit(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(natural_image(50, 50)).save(path)
    with pytest.raises(ImageReadError, match="exceeds the limit"):
        load_image(path, max_pixels=100)


def write_png_header_only(path: Path, width: int, height: int) -> None:
    """Write a PNG whose header claims ``width`` x ``height`` but contains one row."""
    write_png(path, width, height, b"\x00" + bytes(3 * width))


def test_pillow_limit_is_above_aegui_limit():
    # Pillow's own guard starts near 89 million pixels, which would refuse
    # photos that aegui accepts.
    assert Image.MAX_IMAGE_PIXELS >= MAX_PIXELS


def test_header_beyond_limit_is_rejected_before_reading(tmp_path):
    # 500 million pixels: beyond aegui's limit, which names the size.
    path = tmp_path / "huge.png"
    write_png_header_only(path, 25_000, 20_000)
    with pytest.raises(ImageReadError, match="25000x20000 exceeds the limit"):
        load_image(path)


def test_header_far_beyond_limit_names_pixel_count(tmp_path):
    # Pillow itself refuses 10 billion pixels before aegui reads the size.
    path = tmp_path / "bomb.png"
    write_png_header_only(path, 100_000, 100_000)
    with pytest.raises(
        ImageReadError,
        match="image of 10000000000 pixels exceeds the limit of 400000000 pixels",
    ):
        load_image(path)


def test_write_atomic_disk_full(tmp_path, monkeypatch):
    import aegui.core.imageio as imageio

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(imageio.os, "open", full_disk)
    with pytest.raises(
        OutputWriteError, match=r"out.png: cannot write \(no space left"
    ):
        write_atomic(tmp_path / "out.png", b"data")


def test_write_atomic_never_overwrites(tmp_path):
    path = tmp_path / "out.bin"
    write_atomic(path, b"first")
    with pytest.raises(OutputExistsError, match="already exists"):
        write_atomic(path, b"second")
    assert path.read_bytes() == b"first"
    write_atomic(path, b"second", overwrite=True)
    assert path.read_bytes() == b"second"
    assert not list(tmp_path.glob(".aegui-*"))


def test_aez_renamed_as_image_is_named(tmp_path: Path) -> None:
    from aegui.core.container import MAGIC

    fake = tmp_path / "photo.png"
    fake.write_bytes(MAGIC + b"\0" * 64)
    with pytest.raises(ImageReadError, match="this is an .aez file"):
        load_image(fake)


def test_png_missing_rows_is_truncated(tmp_path):
    # Pillow fills the missing rows with black and reports nothing.
    path = tmp_path / "short.png"
    write_png(path, 400, 300, bytes(2 * (1 + 3 * 400)))
    with pytest.raises(ImageReadError, match="short.png: truncated image"):
        load_image(path)


def test_png_large_header_short_data(tmp_path):
    # 400 million declared pixels in a few hundred bytes fail before decoding.
    path = tmp_path / "bomb.png"
    write_png_header_only(path, 20_000, 20_000)
    with pytest.raises(ImageReadError, match="truncated image"):
        load_image(path)


def test_png_corrupted_pixel_data(tmp_path):
    path = tmp_path / "broken.png"
    write_png(path, 40, 30, bytes(30 * (1 + 3 * 40)))
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start + 2 : start + 12] = b"\xff" * 10
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="broken.png: corrupted"):
        load_image(path)


def test_png_data_size_adam7():
    # 8x8 RGB: passes of 1x1, 1x1, 2x1, 2x2, 4x2, 4x4 and 8x4 pixels,
    # each row with a filter byte.
    assert png_data_size(8, 8, 8, 2, interlaced=True) == 207
    assert png_data_size(8, 8, 8, 2, interlaced=False) == 8 * 25
    assert png_data_size(1, 1, 8, 2, interlaced=True) == 4


def test_interlaced_png_complete_and_short(tmp_path):
    complete = tmp_path / "interlaced.png"
    write_png(complete, 8, 8, bytes(207), interlace=1)
    assert load_image(complete).rgb.shape == (8, 8, 3)

    short = tmp_path / "interlaced-short.png"
    write_png(short, 8, 8, bytes(206), interlace=1)
    with pytest.raises(ImageReadError, match="truncated image"):
        load_image(short)


def test_png_in_many_idat_chunks(tmp_path):
    # Pillow splits large PNGs into several IDAT chunks.
    path = tmp_path / "noisy.png"
    pixels = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    assert path.read_bytes().count(b"IDAT") > 1
    assert np.array_equal(load_image(path).rgb, pixels)


@pytest.mark.parametrize("bits", [1, 4])
def test_low_bit_depth_png_is_read(tmp_path, bits):
    path = tmp_path / f"low{bits}.png"
    if bits == 1:
        Image.fromarray(natural_image(12, 8)[:, :, 0] > 127).save(path)
    else:
        image = Image.fromarray(natural_image(12, 8)[:, :, 0] // 16, "P")
        image.putpalette([16 * (i % 16) for i in range(48)])
        image.save(path, bits=4)
    loaded = load_image(path)
    assert loaded.bit_depth == bits
    assert loaded.rgb.shape == (8, 12, 3)


def test_float_tiff_in_unit_range_is_scaled(tmp_path):
    path = tmp_path / "float.tif"
    values = np.linspace(0.0, 1.0, 12 * 8, dtype=np.float32).reshape(8, 12)
    Image.fromarray(values).save(path)
    loaded = load_image(path)
    assert loaded.bit_depth == 32
    assert loaded.rgb.min() == 0
    assert loaded.rgb.max() == 255
    assert (
        f"{path}: 32-bit floating-point samples read on a 0..1 scale and reduced "
        "to 8 bits"
    ) in loaded.warnings


def test_float_tiff_above_255_uses_brightest_sample(tmp_path):
    path = tmp_path / "counts.tif"
    values = np.linspace(0.0, 2550.0, 12 * 8, dtype=np.float32).reshape(8, 12)
    Image.fromarray(values).save(path)
    loaded = load_image(path)
    assert loaded.rgb.min() == 0
    assert loaded.rgb.max() == 255
    assert (
        f"{path}: 32-bit floating-point samples read on a 0..2550 scale (its "
        "brightest sample) and reduced to 8 bits"
    ) in loaded.warnings


def test_float_tiff_infinities_skip_scale(tmp_path):
    path = tmp_path / "holes.tif"
    values = np.linspace(0.0, 1.0, 12 * 8, dtype=np.float32).reshape(8, 12)
    values[0, :3] = [np.nan, np.inf, -np.inf]
    Image.fromarray(values).save(path)
    loaded = load_image(path)
    assert loaded.rgb[0, :3, 0].tolist() == [0, 255, 0]
    # The finite samples keep their 0..1 scale instead of 0..65535.
    assert loaded.rgb[-1, -1, 0] == 255
    assert (
        f"{path}: 3 samples are NaN or infinite; NaN and -inf read as black, +inf "
        "as white"
    ) in loaded.warnings


@pytest.mark.parametrize(("mode", "key", "expected"), [
    ("L", 7, Mode.LA),
    ("RGB", (7, 8, 9), Mode.RGBA),
])  # fmt: skip
def test_png_color_key_becomes_alpha(tmp_path, mode, key, expected):
    path = tmp_path / "keyed.png"
    image = Image.new(mode, (6, 4), 100 if mode == "L" else (100, 100, 100))
    image.putpixel((0, 0), key)
    image.save(path, transparency=key)
    loaded = load_image(path)
    assert loaded.mode == expected
    assert loaded.alpha[0, 0] == 0
    assert loaded.alpha[1, 1] == 255


def test_side_over_limit_is_rejected(tmp_path):
    path = tmp_path / "line.png"
    Image.new("L", (1_000_001, 1)).save(path)
    with pytest.raises(ImageReadError, match="limit of 1000000 pixels a side"):
        load_image(path)
