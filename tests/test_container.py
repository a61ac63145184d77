# SPDX-License-Identifier: MIT
"""The .aez format: round trips, golden bytes and every kind of broken file."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from aegui.core.container import (
    FORMAT_VERSION,
    MAGIC,
    AezHeader,
    Mode,
    StreamKind,
    latent_grids,
    pack,
    pack_image,
    unpack,
    unpack_image,
)
from aegui.core.errors import AezFormatError
from tests.conftest import natural_image


def make_header(**changes: object) -> AezHeader:
    fields = {
        "model_id": "test-model",
        "digest": bytes(range(8)),
        "width": 100,
        "height": 70,
        "mode": Mode.RGB,
        "bit_depth": 8,
        "quality": 3,
        "z_shape": (16, 2, 2),
        "y_shape": (24, 6, 8),
        "streams": ((StreamKind.Z, 0, 0), (StreamKind.Y, 0, 0)),
    }
    fields.update(changes)
    return AezHeader(**fields)  # type: ignore[arg-type]


def test_pack_unpack_round_trip():
    data = pack(make_header(), [b"zz", b"yyyy"])
    header, streams = unpack(data)
    assert streams == [b"zz", b"yyyy"]
    assert header.width == 100
    assert header.height == 70
    assert header.model_id == "test-model"
    assert header.streams[1] == (StreamKind.Y, 4, zlib.crc32(b"yyyy"))


def test_golden_header_bytes():
    data = pack(make_header(), [b"zz", b"yyyy"])
    body = (
        b"\x0atest-model" + bytes(range(8))
        + struct.pack(">IIBBB3H3HB", 100, 70, 0, 8, 3, 16, 2, 2, 24, 6, 8, 2)
        + struct.pack(">BII", 1, 2, zlib.crc32(b"zz"))
        + struct.pack(">BII", 2, 4, zlib.crc32(b"yyyy"))
    )  # fmt: skip
    head = MAGIC + struct.pack(">HI", 2, len(body)) + body
    assert FORMAT_VERSION == 2
    assert data == head + struct.pack(">I", zlib.crc32(head)) + b"zzyyyy"


def test_every_truncation_is_rejected():
    data = pack(make_header(), [b"z" * 10, b"y" * 30])
    for length in range(len(data)):
        with pytest.raises(AezFormatError, match="photo.aez"):
            unpack(data[:length], "photo.aez")


def test_every_bit_flip_is_rejected():
    data = bytearray(pack(make_header(), [b"z" * 10, b"y" * 30]))
    for position in range(len(data)):
        corrupted = bytearray(data)
        corrupted[position] ^= 0x10
        with pytest.raises(AezFormatError):
            unpack(bytes(corrupted))


def test_trailing_bytes_are_rejected():
    data = pack(make_header(), [b"z", b"y"]) + b"extra"
    with pytest.raises(AezFormatError, match="unexpected bytes"):
        unpack(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "this is a PNG image, not an .aez file"),
        (b"\xff\xd8\xff\xe0" + bytes(40), "this is a JPEG image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(40), "this is a WebP image"),
        (b"BM" + bytes(40), "this is a BMP image"),
        (b"BMW is not a photo format at all", "not an .aez file .wrong magic"),
        (b"hello world, this is text", "not an .aez file"),
    ],
)
def test_foreign_files_are_rejected(data, reason):
    with pytest.raises(AezFormatError, match=reason):
        unpack(data, "x.aez")


def reseal(data: bytes, offset: int, value: bytes) -> bytes:
    """Patch header bytes and recompute the header CRC, as a crafted file would."""
    body_size = struct.unpack_from(">I", data, len(MAGIC) + 2)[0]
    end = len(MAGIC) + 6 + body_size
    patched = bytearray(data)
    patched[offset : offset + len(value)] = value
    patched[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(patched[:end])))
    return bytes(patched)


@pytest.mark.parametrize(
    ("old", "new"), [(b"\r\n", b"\n"), (b"\n", b"\r\n")], ids=["to-lf", "to-crlf"]
)
def test_newline_conversion_is_named(old, new):
    data = pack(make_header(), [b"z", b"y"]).replace(old, new)
    with pytest.raises(AezFormatError, match="text-mode copy"):
        unpack(data)


def test_damaged_magic_is_not_called_truncated():
    data = bytearray(pack(make_header(), [b"z", b"y"]))
    data[4] ^= 0xFF
    with pytest.raises(AezFormatError, match="damaged magic bytes"):
        unpack(bytes(data))


def test_oversized_header_length_names_the_limit():
    data = bytearray(pack(make_header(), [b"z", b"y"]))
    # A flipped high bit in the header's length field.
    data[len(MAGIC) + 2] ^= 0x01
    with pytest.raises(
        AezFormatError,
        match=r"header length 167\d+ bytes exceeds the limit of \d+ bytes",
    ):
        unpack(bytes(data))


def test_unknown_version_is_rejected():
    data = reseal(pack(make_header(), [b"z", b"y"]), len(MAGIC), struct.pack(">H", 99))
    with pytest.raises(AezFormatError, match="unsupported .aez format version 99"):
        unpack(data)


def test_absurd_dimensions_are_rejected_before_decoding():
    data = pack(make_header(), [b"z", b"y"])
    width_offset = len(MAGIC) + 6 + 1 + len("test-model") + 8
    crafted = reseal(
        data, width_offset, struct.pack(">II", 4_000_000_000, 4_000_000_000)
    )
    with pytest.raises(AezFormatError, match="invalid image size"):
        unpack(crafted)
    crafted = reseal(data, width_offset, struct.pack(">II", 60_000, 60_000))
    with pytest.raises(AezFormatError, match="exceeds the limit"):
        unpack(crafted)


def test_unknown_mode_is_named():
    data = pack(make_header(), [b"z", b"y"])
    mode_offset = len(MAGIC) + 6 + 1 + len("test-model") + 8 + 8
    crafted = reseal(data, mode_offset, bytes([9]))
    with pytest.raises(AezFormatError, match="corrupted header .unknown image mode 9"):
        unpack(crafted)


def test_escape_sequence_in_model_id_is_rejected():
    data = pack(make_header(), [b"z", b"y"])
    id_offset = len(MAGIC) + 6 + 1
    crafted = reseal(data, id_offset, b"\x1b]0;hi\x07")
    with pytest.raises(AezFormatError, match="model id contains control characters"):
        unpack(crafted)
    with pytest.raises(ValueError, match="Invalid model id"):
        pack(make_header(model_id="test\x1b[31m"), [b"z", b"y"])


def test_huge_declared_stream_is_rejected_without_allocation():
    data = pack(make_header(), [b"z", b"y"])
    table_offset = (
        len(MAGIC) + 6 + 1 + len("test-model") + 8 + struct.calcsize(">IIBBB3H3HB")
    )
    crafted = reseal(data, table_offset + 1, struct.pack(">I", 0xFFFFFFFF))
    with pytest.raises(AezFormatError, match="truncated"):
        unpack(crafted)


def test_missing_alpha_stream_is_rejected():
    data = pack(make_header(mode=Mode.RGBA), [b"z", b"y"])
    with pytest.raises(AezFormatError, match="unexpected streams"):
        unpack(data)


def test_image_round_trip_keeps_alpha(tiny_codec):
    image = natural_image(40, 30)
    alpha = np.tile(np.arange(40, dtype=np.uint8) * 6, (30, 1))
    latents = tiny_codec.encode(image, 2)
    data = pack_image(tiny_codec, latents, mode=Mode.RGBA, alpha=alpha)
    parsed = unpack_image(tiny_codec, data)
    assert parsed.header.mode == Mode.RGBA
    assert np.array_equal(parsed.alpha, alpha)


def test_alpha_bomb_is_rejected(tiny_codec):
    latents = tiny_codec.encode(natural_image(8, 8), 2)
    header = make_header(
        model_id=tiny_codec.model_id,
        digest=tiny_codec.digest,
        width=8,
        height=8,
        mode=Mode.RGBA,
        quality=2,
        z_shape=latents.z_shape,
        y_shape=latents.y_shape,
        streams=((StreamKind.Z, 0, 0), (StreamKind.Y, 0, 0), (StreamKind.ALPHA, 0, 0)),
    )
    bomb = zlib.compress(bytes(10_000_000))
    data = pack(header, [latents.z_stream, latents.y_stream, bomb])
    with pytest.raises(AezFormatError, match="alpha stream"):
        unpack_image(tiny_codec, data)


def test_other_model_is_named_in_error(tiny_codec):
    latents = tiny_codec.encode(natural_image(8, 8), 2)
    data = pack_image(tiny_codec, latents)
    crafted = reseal(data, len(MAGIC) + 6 + 1 + len(tiny_codec.model_id), b"\xff" * 8)
    with pytest.raises(AezFormatError, match="made with model"):
        unpack_image(tiny_codec, crafted, "old.aez")


def test_shape_mismatch_is_rejected(tiny_codec):
    latents = tiny_codec.encode(natural_image(8, 8), 2)
    header = make_header(
        model_id=tiny_codec.model_id,
        digest=tiny_codec.digest,
        width=500,
        height=8,
        quality=2,
        z_shape=latents.z_shape,
        y_shape=latents.y_shape,
    )
    data = pack(header, [latents.z_stream, latents.y_stream])
    with pytest.raises(AezFormatError, match="latent shapes"):
        unpack_image(tiny_codec, data)


@pytest.mark.parametrize(
    "changes",
    [
        {"width": 20_000, "height": 20_000},
        {"z_shape": (16, 3, 2)},
        {"y_shape": (24, 6, 9)},
        {"y_shape": (24, 8, 8)},  # the grid of format version 1
    ],
)
def test_unpack_checks_latent_size(changes):
    # Checked without the model, so 'aegui info' rejects such files too.
    data = pack(make_header(**changes), [b"zz", b"yyyy"])
    with pytest.raises(AezFormatError, match="latent shapes do not match"):
        unpack(data, "crafted.aez")


@pytest.mark.parametrize(
    ("width", "height", "z_grid", "y_grid"),
    [
        (1, 1, (1, 1), (2, 2)),
        (100, 70, (2, 2), (6, 8)),
        (768, 512, (9, 13), (33, 49)),  # a Kodak photo: one more row and column
        (48, 16, (1, 1), (2, 4)),
    ],
)
def test_latent_grids_keep_a_margin(width, height, z_grid, y_grid):
    assert latent_grids(width, height) == (z_grid, y_grid)


def test_version_one_grids_are_still_read():
    assert latent_grids(768, 512, version=1) == ((8, 12), (32, 48))
    header = make_header(version=1, y_shape=(24, 8, 8))
    parsed, _ = unpack(pack(header, [b"z", b"y"]))
    assert parsed.version == 1
    assert parsed.y_shape == (24, 8, 8)


def test_wide_image_header_is_accepted():
    # 70000 pixels wide plus a 16-pixel margin: 4376 latent columns, 1094 hyper-latent.
    header = make_header(width=70_000, height=2, z_shape=(16, 1, 1094),
                         y_shape=(24, 2, 4376))  # fmt: skip
    parsed, _ = unpack(pack(header, [b"z", b"y"]))
    assert parsed.width == 70_000


@pytest.mark.parametrize("bits", [1, 4, 32])
def test_source_bit_depths_round_trip(tiny_codec, bits):
    latents = tiny_codec.encode(natural_image(8, 8), 2)
    header, _ = unpack(pack_image(tiny_codec, latents, bit_depth=bits))
    assert header.bit_depth == bits


def test_writer_rejects_what_reader_rejects(tiny_codec):
    latents = tiny_codec.encode(natural_image(8, 8), 2)
    with pytest.raises(ValueError, match="invalid bit depth 0"):
        pack_image(tiny_codec, latents, bit_depth=0)
