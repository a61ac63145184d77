# SPDX-License-Identifier: MIT
"""Read photos into arrays and write results without ever clobbering a file."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from aegui.core.container import MAX_PIXELS, MAX_SIDE, Mode
from aegui.core.errors import ImageReadError, OutputExistsError, OutputWriteError

logger = logging.getLogger(__name__)

SUPPORTED_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "TIFF", "WEBP"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class LoadedImage:
    """A decoded photo: 8-bit RGB pixels plus what is needed to restore its mode."""

    path: Path
    rgb: np.ndarray  # uint8 (H, W, 3)
    alpha: np.ndarray | None  # uint8 (H, W) for RGBA and LA, else None
    mode: Mode
    bit_depth: int
    warnings: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.rgb.shape[0])


SRGB_PROFILE = ImageCms.createProfile("sRGB")

# Pillow warns above about 89 million pixels and refuses twice that. load_image
# checks aegui's own, larger limit right after reading the header, so Pillow
# only needs to refuse what is far beyond it.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_PIXELS)


def load_image(
    path: Path, max_pixels: int = MAX_PIXELS, *, log_warnings: bool = True
) -> LoadedImage:
    """Read an image file, apply its EXIF orientation and convert it to 8-bit.

    Grayscale stays grayscale (mode L, coded as equal RGB channels); palette images
    become RGB or RGBA; alpha is kept; 16-bit samples are reduced to 8 bits with a
    warning. Colors under an embedded ICC profile other than sRGB are converted
    to sRGB, with a warning. The warnings are logged unless ``log_warnings`` is
    False (for a second read of a file whose job already reported them) and are
    kept in ``LoadedImage.warnings``. Raises ImageReadError naming the file and
    the reason.
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: file not found")
    if not path.is_file():
        raise ImageReadError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as pillow_warnings:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in SUPPORTED_FORMATS:
                    raise ImageReadError(
                        f"{path}: unsupported image format {image.format} "
                        "(use PNG, JPEG, BMP, TIFF or WebP)"
                    )
                if max(image.width, image.height) > MAX_SIDE:
                    raise ImageReadError(
                        f"{path}: {image.width}x{image.height} exceeds the limit of "
                        f"{MAX_SIDE} pixels a side"
                    )
                if image.width * image.height > max_pixels:
                    raise ImageReadError(
                        f"{path}: {image.width}x{image.height} exceeds the limit of "
                        f"{max_pixels} pixels"
                    )
                if getattr(image, "n_frames", 1) > 1:
                    notes.append(
                        f"{path}: has {image.n_frames} frames; only the first is used"
                    )
                bit_depth = _source_bit_depth(path, image)
                floating = image.mode == "F"
                if bit_depth < 8 and image.mode in ("1", "L"):
                    # Lossy coding of a black-and-white or few-level image keeps
                    # neither its levels nor, often, its small file size.
                    notes.append(
                        f"{path}: {bit_depth}-bit grayscale read as 8-bit; results "
                        "have in-between levels"
                    )
                if image.format == "PNG":
                    check_png_data(path)
                image.load()
                profile = image.info.get("icc_profile")
                oriented = ImageOps.exif_transpose(image)
                loaded = _to_arrays(path, oriented, bit_depth, notes, profile)
    except ImageReadError:
        raise
    except Image.DecompressionBombError as error:
        # Pillow refuses images of more than twice its own limit before aegui
        # can read the size, so name aegui's limit, the one the README gives,
        # and the pixel count from Pillow's message.
        found = re.search(r"\((\d+) pixels\)", str(error))
        size = f" of {int(found[1])} pixels" if found else ""
        raise ImageReadError(
            f"{path}: image{size} exceeds the limit of {max_pixels} pixels"
        ) from None
    except UnidentifiedImageError:
        if _starts_with_aez_magic(path):
            raise ImageReadError(
                f"{path}: this is an .aez file, not an image; open it with 'aegui decompress'"
            ) from None
        raise ImageReadError(
            f"{path}: not an image file, or a format Pillow cannot read"
        ) from None
    except PermissionError:
        raise ImageReadError(f"{path}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        if str(error).startswith("image file is truncated"):
            # Pillow's count of bytes "not processed" is not the count missing.
            raise ImageReadError(
                f"{path}: corrupted or truncated image: the file ends before "
                "its image data does"
            ) from None
        raise ImageReadError(
            f"{path}: corrupted or truncated image ({error})"
        ) from None
    # Pillow warns about damaged metadata, such as corrupt EXIF data, and then
    # ignores it. The note names the file, which Pillow's warning does not.
    for caught in pillow_warnings:
        message = " ".join(str(caught.message).split()).rstrip(".")
        note = f"{path}: {message}; ignored"
        if not issubclass(caught.category, UserWarning):
            logger.debug("%s: %s: %s", path, caught.category.__name__, message)
        elif note not in notes:
            notes.append(note)
    if bit_depth > 8 and not floating:  # float images get their own note
        notes.append(f"{path}: {bit_depth}-bit samples reduced to 8 bits")
    if log_warnings:
        for note in notes:
            logger.warning("%s", note)
    loaded.warnings = notes
    return loaded


# Samples per pixel of each PNG color type.
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: first column, first row, column step, row step.
ADAM7_PASSES = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
READ_PIECE = 1 << 20


def png_data_size(
    width: int, height: int, bit_depth: int, color_type: int, interlaced: bool
) -> int:
    """Return the size in bytes of the filtered scanlines in a PNG's IDAT data."""
    bits = PNG_CHANNELS[color_type] * bit_depth
    passes = ADAM7_PASSES if interlaced else ((0, 0, 1, 1),)
    total = 0
    for first_x, first_y, step_x, step_y in passes:
        pass_width = max(0, -(-(width - first_x) // step_x))
        pass_height = max(0, -(-(height - first_y) // step_y))
        if pass_width and pass_height:
            total += pass_height * (1 + -(-pass_width * bits // 8))
    return total


def check_png_data(path: Path) -> None:
    """Raise ImageReadError if a PNG's pixel data is shorter than its header declares.

    Pillow (13.0) fills the rows of a PNG whose compressed data ends early with
    black and reports no error, so a 200-byte file that declares 20000x20000 pixels
    would open as a huge black image. This inflates the IDAT chunks in pieces of
    ``READ_PIECE`` bytes, without keeping them, and counts the inflated bytes.
    A file whose chunks are out of order is left to Pillow, which rejects it.
    """
    inflater = zlib.decompressobj()
    inflated = 0
    expected = None
    with path.open("rb") as handle:
        handle.seek(8)  # the PNG signature, which Pillow has checked
        while expected is None or inflated < expected:
            head = handle.read(8)
            if len(head) < 8:
                break
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IHDR" and length >= 13:
                width, height, depth, color, _, _, interlace = struct.unpack(
                    ">IIBBBBB", handle.read(13)
                )
                if color not in PNG_CHANNELS:
                    return  # Pillow rejects unknown color types itself.
                expected = png_data_size(width, height, depth, color, interlace == 1)
                handle.seek(length - 13 + 4, os.SEEK_CUR)
            elif kind == b"IDAT":
                if expected is None:
                    return  # Pillow rejects pixel data before the header.
                inflated += _inflated_size(
                    handle, length, inflater, expected - inflated
                )
                if inflated < expected:
                    handle.seek(4, os.SEEK_CUR)  # the chunk's CRC
            elif kind == b"IEND":
                break
            else:
                handle.seek(length + 4, os.SEEK_CUR)
    if expected is not None and inflated < expected:
        raise ImageReadError(
            f"{path}: truncated image (the pixel data ends after {inflated} of "
            f"{expected} bytes)"
        )


def _inflated_size(handle: BinaryIO, length: int, inflater: Any, limit: int) -> int:
    """Return how many bytes the next ``length`` bytes of ``handle`` inflate to.

    Reading stops early once ``limit`` bytes are out, and then the handle is
    not at the end of the chunk. Raises ImageReadError naming the file for data
    that zlib rejects.
    """
    produced = 0
    remaining = length
    try:
        while remaining and produced < limit:
            piece = handle.read(min(remaining, READ_PIECE))
            if not piece:
                break
            remaining -= len(piece)
            produced += len(inflater.decompress(piece, READ_PIECE))
            while inflater.unconsumed_tail and produced < limit:
                tail = inflater.unconsumed_tail
                produced += len(inflater.decompress(tail, READ_PIECE))
    except zlib.error as error:
        raise ImageReadError(
            f"{handle.name}: corrupted image (pixel data: {error})"
        ) from None
    return produced


def _starts_with_aez_magic(path: Path) -> bool:
    """Return whether the file begins with the ``.aez`` signature."""
    from aegui.core.container import MAGIC

    try:
        with path.open("rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _source_bit_depth(path: Path, image: Image.Image) -> int:
    """Return the bits per sample of the file (Pillow may already have reduced them)."""
    if image.mode == "F":
        return 32
    if image.mode.startswith("I;16"):
        return 16
    if image.mode == "I" and image.format != "TIFF":
        return 16  # 16-bit PNG and PGM open as mode I
    if image.format == "PNG":
        with path.open("rb") as handle:
            head = handle.read(25)
        if len(head) == 25 and head[12:16] == b"IHDR":
            return int(head[24])
    if image.format == "TIFF":
        bits = image.tag_v2.get(258)
        if bits:
            return int(max(bits) if isinstance(bits, tuple) else bits)
    return 8


def _to_arrays(
    path: Path,
    image: Image.Image,
    bit_depth: int,
    notes: list[str],
    profile: bytes | None = None,
) -> LoadedImage:
    """Convert any Pillow mode to 8-bit sRGB plus optional alpha.

    ``profile`` is the file's embedded ICC profile or None. Color images with
    a profile other than sRGB are converted to sRGB (see ``_convert_to_srgb``).
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        finite = np.isfinite(values)
        brightest = values.max(initial=0, where=finite)
        if mode == "F" and brightest <= 1.0:
            top = 1.0  # the usual scale of float images when no sample is above 1
        elif mode == "F" and brightest > 255:
            # Float samples have no fixed scale above 1: measurements such as
            # 0..2550 would come out nearly black on a 0..65535 scale.
            top = float(brightest)
        elif brightest > 65535 and mode == "I":
            top = 2147483647.0  # a 32-bit integer TIFF
        elif brightest > 255:
            top = 65535.0
        else:
            top = 255.0
        if mode == "F":
            scale = f"0..{top:g} scale"
            if top > 255:
                scale += " (its brightest sample)"
            notes.append(
                f"{path}: 32-bit floating-point samples read on a {scale} "
                "and reduced to 8 bits"
            )
        unusable = values.size - int(np.count_nonzero(finite))
        if unusable:
            # A single infinity must not set the scale and darken the whole image.
            notes.append(
                f"{path}: {unusable} samples are NaN or infinite; NaN and -inf read "
                "as black, +inf as white"
            )
            values = np.where(finite, values, np.where(values > 0, top, 0.0))
        gray = np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8)
        return LoadedImage(
            path, np.repeat(gray[:, :, None], 3, axis=2), None, Mode.L, bit_depth
        )
    if mode in ("L", "RGB") and "transparency" in image.info:
        # A PNG tRNS color key: pixels of that value are fully transparent.
        image = image.convert("LA" if mode == "L" else "RGBA")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    elif mode == "CMYK" and profile:
        image = _convert_to_srgb(path, image, profile, notes)
        profile = None
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        notes.append(f"{path}: {mode} converted to RGB")
        image = image.convert("RGB")
    elif mode == "RGBa":
        image = image.convert("RGBA")
    elif mode == "La":
        image = image.convert("LA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in mode else "RGB")

    if profile and image.mode in ("RGB", "RGBA"):
        image = _convert_to_srgb(path, image, profile, notes)

    pixels = np.asarray(image)
    if image.mode == "L":
        rgb, alpha, out_mode = np.repeat(pixels[:, :, None], 3, axis=2), None, Mode.L
    elif image.mode == "LA":
        rgb, alpha, out_mode = (
            np.repeat(pixels[:, :, :1], 3, axis=2),
            pixels[:, :, 1],
            Mode.LA,
        )
    elif image.mode == "RGBA":
        rgb, alpha, out_mode = pixels[:, :, :3], pixels[:, :, 3], Mode.RGBA
    else:
        rgb, alpha, out_mode = pixels, None, Mode.RGB
    alpha = None if alpha is None else np.ascontiguousarray(alpha)
    return LoadedImage(path, np.ascontiguousarray(rgb), alpha, out_mode, bit_depth)


def _convert_to_srgb(
    path: Path, image: Image.Image, profile: bytes, notes: list[str]
) -> Image.Image:
    """Convert an RGB, RGBA or CMYK image from its ICC profile to sRGB RGB or RGBA.

    Every result aegui writes is sRGB without a profile, and the models were
    trained on sRGB photos, so a Display P3 or Adobe RGB photo read as its raw
    numbers would come out with dull or shifted colors. The conversion uses
    the relative colorimetric intent, which clips colors outside sRGB. Profiles
    that name themselves sRGB are trusted without converting. An unreadable
    profile, or one for another color space, is ignored with a warning, and a
    CMYK image then gets Pillow's plain conversion.
    """
    expected = "CMYK" if image.mode == "CMYK" else "RGB"
    fallback = image.convert("RGB") if image.mode == "CMYK" else image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        name = ImageCms.getProfileDescription(source).strip() or "unnamed"
        color_space = source.profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        notes.append(f"{path}: unreadable color profile ignored; colors read as sRGB")
        return fallback
    if color_space != expected:
        notes.append(
            f"{path}: {color_space or 'unknown'} color profile {name!r} does not fit "
            f"an {image.mode} image and was ignored"
        )
        return fallback
    if expected == "RGB" and "srgb" in name.lower():
        return image
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    try:
        converted = ImageCms.profileToProfile(
            image.convert("RGB") if alpha is not None else image,
            source,
            SRGB_PROFILE,
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            outputMode="RGB",
        )
    except (OSError, ImageCms.PyCMSError, ValueError) as error:
        notes.append(
            f"{path}: color profile {name!r} could not be applied ({error}); "
            "colors read as sRGB"
        )
        return fallback
    notes.append(f"{path}: converted from color profile {name!r} to sRGB")
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def to_pil(rgb: np.ndarray, alpha: np.ndarray | None, mode: Mode) -> Image.Image:
    """Build a Pillow image in the original mode from decoded RGB and alpha."""
    if mode in (Mode.L, Mode.LA):
        gray = np.rint(rgb.astype(np.float32).mean(axis=2)).astype(np.uint8)
        if mode == Mode.LA and alpha is not None:
            return Image.fromarray(np.dstack([gray, alpha]), "LA")
        return Image.fromarray(gray, "L")
    if mode == Mode.RGBA and alpha is not None:
        return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    return Image.fromarray(rgb, "RGB")


def write_atomic(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Without ``overwrite`` an existing file is never replaced: the final step is a
    hard link, which fails if the name exists. A crash leaves at most a hidden
    ``.aegui-*.tmp`` file, never a half-written ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputWriteError(
            f"{path}: a folder of that name exists; aegui never replaces a folder"
        )
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: already exists (use --force to overwrite)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputWriteError(
            f"{path}: cannot create the folder {path.parent}, because part of it is a file"
        ) from None
    except OSError as error:
        raise write_error(path, error) from None
    try:
        _write_through_temporary(path, data, overwrite)
    except OSError as error:
        raise write_error(path, error) from None


def write_error(path: Path, error: OSError) -> OutputWriteError:
    """Return the error for an output that the operating system failed to write."""
    reason = error.strerror or str(error)
    return OutputWriteError(f"{path}: cannot write ({reason[:1].lower()}{reason[1:]})")


def _write_through_temporary(path: Path, data: bytes, overwrite: bool) -> None:
    """Write ``data`` to a hidden temporary file, then move or link it to ``path``."""
    # os.open with mode 0o666 lets the umask decide the permissions, as for any
    # other new file (mkstemp would force 0o600).
    while True:
        temporary = str(path.parent / f".aegui-{secrets.token_hex(6)}.tmp")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise OutputExistsError(
                    f"{path}: already exists (use --force to overwrite)"
                ) from None
            except OSError:  # file systems without hard links
                if path.exists():
                    raise OutputExistsError(
                        f"{path}: already exists (use --force to overwrite)"
                    ) from None
                os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def encode_png(image: Image.Image) -> bytes:
    """Return PNG bytes of a Pillow image."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
