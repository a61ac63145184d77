# SPDX-License-Identifier: MIT
"""The ``.aez`` file format: a checked header followed by coded streams.

Layout (all integers big-endian; ``docs/aez-format.md`` has the full table)::

    magic        8 bytes  89 41 45 5A 0D 0A 1A 0A  ("\\x89AEZ\\r\\n\\x1a\\n")
    version      u16      FORMAT_VERSION (2; version 1 is still read)
    header size  u32      bytes of the header body that follows
    header body:
      model id   u8 length + UTF-8
      digest     8 bytes  first 8 bytes of the SHA-256 of the weights file
      width      u32, height u32
      mode       u8       0 RGB, 1 L, 2 RGBA, 3 LA
      source bit depth u8 (1 to 32; every input is coded as 8-bit)
      quality    u8
      z shape    3 x u16, y shape 3 x u16
      streams    u8 count, then per stream: kind u8, length u32, CRC-32 u32
    header CRC   u32      CRC-32 of everything from the magic to the end of the body
    streams      concatenated, in table order

Reading checks the magic, the version, the header CRC, every size against the
file length and against limits, the shapes against the image size, and every
stream's CRC before any decoding starts or any large buffer is allocated.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from aegui.core.errors import AezFormatError

if TYPE_CHECKING:
    from aegui.core.codec import ImageCodec, Latents

MAGIC = b"\x89AEZ\r\n\x1a\n"
AEZ_SUFFIX = ".aez"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
# A side of 1,000,000 pixels keeps the latent grids within their u16 fields.
MAX_SIDE = 1_000_000
MAX_PIXELS = 400_000_000  # 20000 x 20000
MAX_BIT_DEPTH = 32
MAX_HEADER = 4096
MAX_STREAMS = 8
# One latent cell covers Y_SCALE (y) or Z_SCALE (z) pixels on each side of
# the padded image. Version 1 padded images to multiples of PADDING pixels.
# Version 2 codes at least MARGIN pixels of padding below and to the right of
# every image, on a grid of Y_SCALE pixels: the synthesis transform's last rows
# and columns come out worst (see ``latent_grids``), and the margin takes them.
PADDING = 64
MARGIN = 16
Y_SCALE = 16
Z_SCALE = 64


def latent_grids(
    width: int, height: int, version: int = FORMAT_VERSION
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the (rows, columns) of ``z`` and of ``y`` for an image of this size.

    NOTE: decoded at quality 6 without a margin, the last four pixel rows of
    Kodak photos had 2 to 8 times the mean squared error of the others.
    Coding 16 more rows and columns raised PSNR by about 0.2 dB at quality 6
    and 0.5 dB at quality 10, for a few percent more bytes.
    """
    if version == 1:
        padded_h = -(-height // PADDING) * PADDING
        padded_w = -(-width // PADDING) * PADDING
        return (
            (padded_h // Z_SCALE, padded_w // Z_SCALE),
            (padded_h // Y_SCALE, padded_w // Y_SCALE),
        )
    y_grid = (-(-(height + MARGIN) // Y_SCALE), -(-(width + MARGIN) // Y_SCALE))
    ratio = Z_SCALE // Y_SCALE
    z_grid = (-(-y_grid[0] // ratio), -(-y_grid[1] // ratio))
    return z_grid, y_grid


class Mode(IntEnum):
    """Pixel layout of the original image."""

    RGB = 0
    L = 1
    RGBA = 2
    LA = 3

    @property
    def has_alpha(self) -> bool:
        """Whether the image carries an alpha channel."""
        return self in (Mode.RGBA, Mode.LA)


class StreamKind(IntEnum):
    """Kind of content in a stream."""

    Z = 1  # range-coded hyper-latent
    Y = 2  # range-coded latent
    ALPHA = 3  # zlib-compressed 8-bit alpha plane, row-major, lossless

    @property
    def label(self) -> str:
        """Name of the stream in error messages."""
        return {"Z": "hyper-latent (z)", "Y": "latent (y)", "ALPHA": "alpha"}[self.name]


@dataclass(frozen=True)
class AezHeader:
    """Everything in a ``.aez`` file except the stream bytes."""

    model_id: str
    digest: bytes
    width: int
    height: int
    mode: Mode
    bit_depth: int
    quality: int
    z_shape: tuple[int, int, int]
    y_shape: tuple[int, int, int]
    streams: tuple[tuple[StreamKind, int, int], ...]  # (kind, length, crc32)
    version: int = FORMAT_VERSION


@dataclass(frozen=True)
class AezImage:
    """A parsed ``.aez`` file: its header, latents and optional alpha plane."""

    header: AezHeader
    latents: Latents
    alpha: np.ndarray | None


def pack(header: AezHeader, streams: list[bytes]) -> bytes:
    """Serialize a header and its streams; the stream table is filled in here."""
    model_id = header.model_id.encode("utf-8")
    if (
        not 0 < len(model_id) < 256
        or not header.model_id.isprintable()
        or len(header.digest) != 8
    ):
        raise ValueError(f"Invalid model id {header.model_id!r} or digest")
    kinds = [kind for kind, _, _ in header.streams]
    body = struct.pack(">B", len(model_id)) + model_id + header.digest
    body += struct.pack(
        ">IIBBB3H3HB",
        header.width,
        header.height,
        header.mode,
        header.bit_depth,
        header.quality,
        *header.z_shape,
        *header.y_shape,
        len(streams),
    )
    for kind, stream in zip(kinds, streams, strict=True):
        body += struct.pack(">BII", kind, len(stream), zlib.crc32(stream))
    head = MAGIC + struct.pack(">HI", header.version, len(body)) + body
    return head + struct.pack(">I", zlib.crc32(head)) + b"".join(streams)


def unpack(data: bytes, source: str = "<bytes>") -> tuple[AezHeader, list[bytes]]:
    """Parse and check ``.aez`` bytes; raise AezFormatError naming ``source``."""

    def fail(reason: str) -> AezFormatError:
        return AezFormatError(f"{source}: {reason}")

    if not data:
        raise fail("empty file (0 bytes)")
    # Bytes 4 to 7 of the magic detect newline conversion: CRLF to
    # LF turns them into "\n\x1a\n", LF to CRLF into "\r\r\n\x1a" or "\r\n\x1a\r".
    tail = data[4:8]
    if data[:4] == MAGIC[:4] and tail != MAGIC[4:8][: len(tail)]:
        if tail.startswith((b"\n\x1a\n", b"\r\r\n")) or tail == b"\r\n\x1a\r":
            raise fail(
                "damaged by a text-mode copy (line endings were changed); "
                "copy the file again in binary mode"
            )
        raise fail("corrupted header (damaged magic bytes)")
    if len(data) < len(MAGIC) + 6 or data[: len(MAGIC)] != MAGIC:
        if data[:4] == MAGIC[:4]:
            raise fail("truncated .aez file (header incomplete)")
        kind = _image_kind(data)
        if kind:
            raise fail(
                f"this is a {kind} image, not an .aez file; 'aegui compress' "
                "turns photos into .aez files"
            )
        raise fail("not an .aez file (wrong magic bytes)")
    version, body_size = struct.unpack_from(">HI", data, len(MAGIC))
    if version not in READABLE_VERSIONS:
        raise fail(
            f"unsupported .aez format version {version} (this aegui reads versions "
            f"{READABLE_VERSIONS[0]} to {READABLE_VERSIONS[-1]})"
        )
    body_start = len(MAGIC) + 6
    if body_size > MAX_HEADER:
        raise fail(
            f"corrupted header (header length {body_size} bytes exceeds the "
            f"limit of {MAX_HEADER} bytes)"
        )
    if len(data) < body_start + body_size + 4:
        raise fail("truncated .aez file (header incomplete)")
    (crc,) = struct.unpack_from(">I", data, body_start + body_size)
    if zlib.crc32(data[: body_start + body_size]) != crc:
        raise fail("corrupted header (checksum mismatch)")

    try:
        header = _parse_body(data[body_start : body_start + body_size], version)
    except (struct.error, UnicodeDecodeError, ValueError) as error:
        raise fail(f"corrupted header ({error})") from None
    _check_limits(header, fail)

    streams = []
    position = body_start + body_size + 4
    expected_end = position + sum(length for _, length, _ in header.streams)
    if len(data) < expected_end:
        raise fail(f"truncated .aez file ({len(data)} of {expected_end} bytes)")
    if len(data) > expected_end:
        extra = len(data) - expected_end
        raise fail(
            f"{extra} unexpected byte{'s' if extra > 1 else ''} after the last stream"
        )
    for kind, length, stream_crc in header.streams:
        stream = data[position : position + length]
        if zlib.crc32(stream) != stream_crc:
            raise fail(f"corrupted data in the {kind.label} stream (checksum mismatch)")
        streams.append(stream)
        position += length
    return header, streams


def _parse_body(body: bytes, version: int) -> AezHeader:
    (id_length,) = struct.unpack_from(">B", body, 0)
    model_id = body[1 : 1 + id_length].decode("utf-8")
    if not model_id.isprintable():
        # Messages and 'aegui info' print the id, and a crafted file must not
        # send escape sequences to the terminal.
        raise ValueError("model id contains control characters")
    offset = 1 + id_length
    digest = body[offset : offset + 8]
    offset += 8
    fields = struct.unpack_from(">IIBBB3H3HB", body, offset)
    offset += struct.calcsize(">IIBBB3H3HB")
    width, height, mode, bit_depth, quality = fields[:5]
    z_shape, y_shape, count = tuple(fields[5:8]), tuple(fields[8:11]), fields[11]
    if count > MAX_STREAMS:
        raise ValueError(f"{count} streams")
    streams = []
    for _ in range(count):
        kind, length, crc = struct.unpack_from(">BII", body, offset)
        offset += 9
        if kind not in set(StreamKind):
            raise ValueError(f"unknown stream kind {kind}")
        streams.append((StreamKind(kind), length, crc))
    if offset != len(body):
        raise ValueError(f"{len(body) - offset} stray bytes")
    if mode not in set(Mode):
        raise ValueError(f"unknown image mode {mode}")
    return AezHeader(
        model_id=model_id,
        digest=digest,
        width=width,
        height=height,
        mode=Mode(mode),
        bit_depth=bit_depth,
        quality=quality,
        z_shape=z_shape,  # type: ignore[arg-type]
        y_shape=y_shape,  # type: ignore[arg-type]
        streams=tuple(streams),
        version=version,
    )


def _check_limits(header: AezHeader, fail: Callable[[str], Exception]) -> None:
    if not (1 <= header.width <= MAX_SIDE and 1 <= header.height <= MAX_SIDE):
        raise fail(f"invalid image size {header.width}x{header.height}")
    if header.width * header.height > MAX_PIXELS:
        raise fail(
            f"image size {header.width}x{header.height} exceeds the limit of {MAX_PIXELS} pixels"
        )
    if not 1 <= header.bit_depth <= MAX_BIT_DEPTH:
        raise fail(f"invalid bit depth {header.bit_depth}")
    # The highest quality depends on the model, which unpack_image checks.
    if header.quality < 1:
        raise fail(f"corrupted header (invalid quality {header.quality})")
    z_grid, y_grid = latent_grids(header.width, header.height, header.version)
    if header.z_shape[1:] != z_grid or header.y_shape[1:] != y_grid:
        raise fail("latent shapes do not match the image size")
    kinds = [kind for kind, _, _ in header.streams]
    required = [StreamKind.Z, StreamKind.Y] + (
        [StreamKind.ALPHA] if header.mode.has_alpha else []
    )
    if kinds != required:
        names = ", ".join(kind.name.lower() for kind in kinds) or "none"
        raise fail(
            f"unexpected streams ({names}) for an image of mode {header.mode.name}"
        )


def pack_image(
    codec: ImageCodec,
    latents: Latents,
    *,
    mode: Mode = Mode.RGB,
    bit_depth: int = 8,
    alpha: np.ndarray | None = None,
) -> bytes:
    """Serialize coded latents (and an alpha plane for RGBA/LA) as ``.aez`` bytes.

    Raises ValueError for a header that ``unpack`` would reject, so that no
    file is written that cannot be read back.
    """
    streams = [latents.z_stream, latents.y_stream]
    kinds = [StreamKind.Z, StreamKind.Y]
    if mode.has_alpha:
        if alpha is None or alpha.shape != (latents.height, latents.width):
            raise ValueError(
                "An RGBA or LA image needs an alpha plane of the image's size"
            )
        streams.append(
            zlib.compress(np.ascontiguousarray(alpha, dtype=np.uint8).tobytes(), 9)
        )
        kinds.append(StreamKind.ALPHA)
    header = AezHeader(
        model_id=codec.model_id,
        digest=codec.digest,
        width=latents.width,
        height=latents.height,
        mode=mode,
        bit_depth=bit_depth,
        quality=latents.quality,
        z_shape=latents.z_shape,
        y_shape=latents.y_shape,
        streams=tuple((kind, 0, 0) for kind in kinds),
        version=latents.version,
    )
    _check_limits(header, ValueError)
    return pack(header, streams)


def check_quality(header: AezHeader, last: int, source: str) -> None:
    """Raise AezFormatError unless the header's quality is 1 to ``last``, the model's levels."""
    if not 1 <= header.quality <= last:
        raise AezFormatError(
            f"{source}: corrupted header (invalid quality {header.quality}, "
            f"the model has 1 to {last})"
        )


def unpack_image(codec: ImageCodec, data: bytes, source: str = "<bytes>") -> AezImage:
    """Parse ``.aez`` bytes written for ``codec``, checking them against the model."""
    from aegui.core.codec import Latents, latent_shapes

    header, streams = unpack(data, source)
    if header.model_id != codec.model_id or header.digest != codec.digest:
        raise AezFormatError(
            f"{source}: made with model {header.model_id} (weights {header.digest.hex()}), "
            f"but the installed model is {codec.model_id} (weights {codec.digest.hex()}); "
            "install the matching aegui version to open it"
        )
    check_quality(header, codec.qualities[-1], source)
    expected = latent_shapes(header.width, header.height, codec.model, header.version)
    if (header.z_shape, header.y_shape) != expected:
        raise AezFormatError(f"{source}: latent shapes do not match the image size")

    alpha = None
    if header.mode.has_alpha:
        alpha = _inflate_alpha(streams[2], header.width, header.height, source)
    latents = Latents(
        width=header.width,
        height=header.height,
        quality=header.quality,
        z_shape=header.z_shape,
        y_shape=header.y_shape,
        z_stream=streams[0],
        y_stream=streams[1],
        version=header.version,
    )
    return AezImage(header=header, latents=latents, alpha=alpha)


def _inflate_alpha(stream: bytes, width: int, height: int, source: str) -> np.ndarray:
    """Decompress the alpha plane, never inflating past its declared size."""
    size = width * height
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(stream, size)
    except zlib.error as error:
        raise AezFormatError(f"{source}: corrupted alpha stream ({error})") from None
    if len(raw) != size or inflater.unconsumed_tail or not inflater.eof:
        raise AezFormatError(
            f"{source}: alpha stream does not hold {width}x{height} values"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


# Leading bytes of the photo formats aegui reads, to tell a photo given to
# decompress or info from a damaged or foreign file.
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _image_kind(data: bytes) -> str | None:
    """Return the photo format that ``data`` starts with, or None."""
    for signature, kind in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:2] == b"BM" and len(data) >= 26 and data[6:10] == bytes(4):
        # A BMP header has four zero reserved bytes, which text starting "BM" lacks.
        return "BMP"
    return None
