# SPDX-License-Identifier: MIT
"""File-level jobs shared by the command line and the window.

Each job reads one input, runs one model and writes one output atomically. Jobs
report progress as a fraction through ``progress`` and poll ``cancelled``; a
cancelled job raises InterruptedError and leaves no output behind.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aegui.core.container import AEZ_SUFFIX, Mode, pack_image, unpack, unpack_image
from aegui.core.errors import (
    AeguiError,
    AezFormatError,
    ImageReadError,
    OutputExistsError,
    OutputWriteError,
)
from aegui.core.imageio import (
    IMAGE_SUFFIXES,
    LoadedImage,
    encode_png,
    load_image,
    to_pil,
    write_atomic,
)
from aegui.core.progress import part_progress

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


@dataclass
class JobResult:
    """Outcome of a finished job, for tables and logs."""

    source: Path
    output: Path
    input_bytes: int
    output_bytes: int
    width: int
    height: int
    seconds: float
    bpp: float | None = None
    psnr: float | None = None
    quality: int | None = None
    warnings: list[str] = field(default_factory=list)
    # Sigma (0..255 scale) the denoiser was conditioned on.
    noise_level: float | None = None


def collect_inputs(
    paths: Iterable[Path], suffixes: set[str], exclude: Path | None = None
) -> tuple[list[tuple[Path, Path]], list[str], list[str]]:
    """Expand files and folders (recursively) into (file, base folder) pairs.

    Files named directly are taken whatever their suffix, so that a wrong file
    gets a clear error instead of being skipped. Folders contribute the files
    whose suffix is in ``suffixes``, except those under ``exclude`` when it is a
    subfolder of the scanned folder (the output folder, so that a rerun never
    reads its own results). Returns the pairs, one
    error per path that does not exist, and one note per folder whose other
    files, or entries that are not regular files, were skipped.
    """
    found: list[tuple[Path, Path]] = []
    errors: list[str] = []
    notes: list[str] = []
    seen: set[Path] = set()
    excluded = exclude.resolve() if exclude is not None else None
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            members, others, not_regular = [], [], []
            entries, repeated = _folder_entries(path)
            if repeated:
                notes.append(
                    f"{path}: skipped {len(repeated)} linked folder(s) already "
                    f"searched, such as a link loop ({_first_names(repeated)})"
                )
            for member in entries:
                if not member.is_file():
                    # Broken links, pipes and devices named like photos are
                    # listed in a note, so they do not leave the batch unnoticed.
                    if not member.is_dir() and member.suffix.lower() in suffixes:
                        not_regular.append(member.name)
                    continue
                if (
                    excluded is not None
                    and excluded != path.resolve()
                    and excluded in member.resolve().parents
                ):
                    continue
                if member.suffix.lower() in suffixes:
                    members.append(member)
                elif not member.name.startswith("."):
                    others.append(member.name)
            if not members:
                errors.append(
                    f"{path}: folder contains no {'/'.join(sorted(suffixes))} files"
                )
            if others:
                notes.append(
                    f"{path}: skipped {len(others)} file(s) of other types "
                    f"({_first_names(others)})"
                )
            if not_regular:
                notes.append(
                    f"{path}: skipped {len(not_regular)} entries that are not regular "
                    f"files, such as broken links or pipes "
                    f"({_first_names(not_regular)})"
                )
            pairs = [(member, path) for member in members]
        elif path.exists():
            pairs = [(path, path.parent)]
        elif path.is_symlink():
            errors.append(
                f"{path}: broken symbolic link (its target is missing, or the link "
                "loops back to itself)"
            )
            pairs = []
        else:
            errors.append(f"{path}: no such file or folder")
            pairs = []
        for member, base in pairs:
            key = member.resolve()
            if key not in seen:
                seen.add(key)
                found.append((member, base))
    return found, errors, notes


def _folder_entries(folder: Path) -> tuple[list[Path], list[str]]:
    """List every entry below ``folder`` that is not a folder, in sorted order.

    Symbolic links to folders are followed, because a user who links a folder
    of photos into a batch expects its photos in the batch. A folder reached a
    second time (a link loop, or two links to one folder) is searched once, and
    the links that led to it again are returned as names for a note.
    """
    entries: list[Path] = []
    repeated: list[str] = []
    searched: set[str] = set()

    def report(error: OSError) -> None:
        logger.warning("Cannot search folder %s: %s", error.filename, error.strerror)

    for root, folders, files in os.walk(folder, onerror=report, followlinks=True):
        real = os.path.realpath(root)
        if real in searched:
            repeated.append(os.path.relpath(root, folder))
            folders.clear()
            continue
        searched.add(real)
        folders.sort()
        entries.extend(Path(root, name) for name in files)
    return sorted(entries), repeated


def _first_names(names: list[str]) -> str:
    """Return up to three names, with an ellipsis when there are more."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def output_path(source: Path, base: Path, out_dir: Path, suffix: str) -> Path:
    """Return ``out_dir/<path of source below base>`` with a new suffix."""
    try:
        relative = source.relative_to(base)
    except ValueError:
        relative = Path(source.name)
    return out_dir / relative.with_suffix(suffix)


def compress_file(
    source: Path,
    output: Path,
    quality: int,
    *,
    refine_steps: int = 0,
    codec: object | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> JobResult:
    """Compress one image into a ``.aez`` file and measure bpp and PSNR.

    ``refine_steps`` above 0 refines the latents for this image (see
    ``aegui.core.refine``), which makes encoding tens of times slower.

    The PSNR comes from decoding the written latents, so it also checks that the
    file decodes.
    """
    from aegui.core.metrics import psnr
    from aegui.core.zoo import load_codec

    started = time.perf_counter()
    check_output(output, overwrite)
    codec = codec or load_codec()
    codec.check_quality(quality)  # type: ignore[attr-defined]
    image = load_image(source)
    _report(progress, 0.05)
    latents = codec.encode(  # type: ignore[attr-defined]
        image.rgb,
        quality,
        refine_steps=refine_steps,
        progress=part_progress(progress, 0.05, 0.9 if refine_steps else 0.55),
        cancelled=cancelled,
    )
    data = pack_image(
        codec, latents, mode=image.mode, bit_depth=image.bit_depth, alpha=image.alpha
    )  # type: ignore[arg-type]
    decoded = codec.decode(
        latents,
        progress=part_progress(progress, 0.9 if refine_steps else 0.55, 0.95),
        cancelled=cancelled,
    )  # type: ignore[attr-defined]
    if cancelled is not None and cancelled():
        raise InterruptedError("Cancelled")
    write_atomic(output, data, overwrite)
    _report(progress, 1.0)
    return JobResult(
        source=source,
        output=output,
        input_bytes=source.stat().st_size,
        output_bytes=len(data),
        width=image.width,
        height=image.height,
        seconds=time.perf_counter() - started,
        bpp=8 * len(data) / (image.width * image.height),
        psnr=psnr(image.rgb, decoded),
        quality=quality,
        warnings=image.warnings,
    )


def decompress_file(
    source: Path,
    output: Path,
    *,
    codec: object | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> JobResult:
    """Decode one ``.aez`` file into a PNG in the image's original mode."""
    from aegui.core.zoo import load_codec

    started = time.perf_counter()
    check_output(output, overwrite)
    data = read_input_bytes(source)
    codec = codec or load_codec()
    parsed = unpack_image(codec, data, str(source))  # type: ignore[arg-type]
    _report(progress, 0.05)
    try:
        rgb = codec.decode(
            parsed.latents,
            progress=part_progress(progress, 0.05, 0.9),
            cancelled=cancelled,
        )  # type: ignore[attr-defined]
    except AezFormatError as error:
        raise AezFormatError(f"{source}: {error}") from None
    png = encode_png(to_pil(rgb, parsed.alpha, parsed.header.mode))
    if cancelled is not None and cancelled():
        raise InterruptedError("Cancelled")
    write_atomic(output, png, overwrite)
    _report(progress, 1.0)
    header = parsed.header
    return JobResult(
        source=source,
        output=output,
        input_bytes=len(data),
        output_bytes=len(png),
        width=header.width,
        height=header.height,
        seconds=time.perf_counter() - started,
        bpp=8 * len(data) / (header.width * header.height),
        quality=header.quality,
    )


def check_output(output: Path, overwrite: bool) -> None:
    """Raise an error if ``output`` exists and may not be replaced.

    A folder is never replaced, even with ``overwrite`` (OutputWriteError).
    """
    if output.is_dir():
        raise OutputWriteError(
            f"{output}: a folder of that name exists; aegui never replaces a folder"
        )
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output}: already exists (use --force to overwrite)")


def write_png_result(
    source: Path,
    output: Path,
    image: LoadedImage,
    pixels: np.ndarray,
    mode: Mode,
    *,
    overwrite: bool,
    cancelled: Cancelled | None,
) -> JobResult:
    """Round float ``pixels`` to 8 bits, write them with the image's alpha as a PNG.

    Nothing is written if the job was cancelled meanwhile. The result's
    ``seconds`` is left for the caller to fill in.
    """
    rgb = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    png = encode_png(to_pil(rgb, image.alpha, mode))
    if cancelled is not None and cancelled():
        raise InterruptedError("Cancelled")
    write_atomic(output, png, overwrite)
    return JobResult(
        source=source,
        output=output,
        input_bytes=source.stat().st_size,
        output_bytes=len(png),
        width=image.width,
        height=image.height,
        seconds=0.0,
        warnings=image.warnings,
    )


def read_input_bytes(source: Path, limit: int = 1 << 31) -> bytes:
    """Read a whole input file, with a clear error for missing or huge files."""
    try:
        size = source.stat().st_size
        if size > limit:
            raise ImageReadError(f"{source}: file of {size} bytes is too large")
        return source.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise ImageReadError(f"{source}: is a folder, not a file") from None
    except PermissionError:
        raise ImageReadError(f"{source}: permission denied") from None


def check_readable(source: Path) -> None:
    """Raise the error that reading ``source`` as a job input would raise, if any.

    An ``.aez`` file gets the container checks that need no model; any other
    file is decoded as an image.
    """
    if source.suffix.lower() == AEZ_SUFFIX:
        unpack(read_input_bytes(source), str(source))
    else:
        load_image(source, log_warnings=False)


def describe_error(error: BaseException) -> str:
    """Return a one-line reason for a failed job."""
    if isinstance(error, AeguiError):
        return str(error)
    if isinstance(error, InterruptedError):
        return "cancelled"
    return f"{type(error).__name__}: {error}"


def decoded_array(rgb: np.ndarray, mode: Mode) -> np.ndarray:
    """Return what a viewer shows for decoded RGB in ``mode`` (gray stays gray)."""
    if mode in (Mode.L, Mode.LA):
        gray = np.rint(rgb.astype(np.float32).mean(axis=2)).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    return rgb


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


COMPRESS_SUFFIXES = IMAGE_SUFFIXES
DECOMPRESS_SUFFIXES = {AEZ_SUFFIX}
DENOISE_SUFFIXES = IMAGE_SUFFIXES


def denoise_file(
    source: Path,
    output: Path,
    *,
    strength: float | None = None,
    passes: int = 1,
    model: object | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> JobResult:
    """Denoise one image into a PNG in the image's original mode.

    The noise level is estimated from the image. ``strength`` is a number
    from 0 to 4: above 1 it multiplies the level the network is told, below 1
    it mixes the result with the input (0 keeps the input). None means
    automatic, which equals 1. ``passes`` (1, 2, 4 or 8) averages that many
    mirrored and turned copies. Alpha is copied unchanged and grayscale images
    stay grayscale. Large images run in tiles.
    """
    from aegui.core.denoising import (
        MIN_ESTIMATE_SIDE,
        check_passes,
        check_strength,
        noise_measurable,
    )
    from aegui.core.zoo import load_denoiser

    started = time.perf_counter()
    check_strength(strength)
    check_passes(passes)
    check_output(output, overwrite)
    denoiser = model or load_denoiser()
    image = load_image(source)
    _report(progress, 0.05)

    _, level = denoiser.noise_level(image.rgb, strength)  # type: ignore[attr-defined]
    notes = list(image.warnings)
    if not noise_measurable(image.rgb):
        notes.append(
            f"{source}: {image.width}x{image.height} is too small to measure its "
            f"noise (under {MIN_ESTIMATE_SIDE} pixels on a side), so it is denoised "
            "at level 0"
        )
        logger.warning("%s", notes[-1])
    denoised = denoiser.denoise(  # type: ignore[attr-defined]
        image.rgb,
        level,
        passes=passes,
        progress=part_progress(progress, 0.05, 0.95),
        cancelled=cancelled,
    )
    denoised = denoiser.blend(image.rgb, denoised, strength)  # type: ignore[attr-defined]
    result = write_png_result(
        source,
        output,
        image,
        denoised,
        image.mode,
        overwrite=overwrite,
        cancelled=cancelled,
    )
    _report(progress, 1.0)
    result.seconds = time.perf_counter() - started
    result.noise_level = level
    result.warnings = notes
    return result


STYLIZE_SUFFIXES = IMAGE_SUFFIXES


def stylize_file(
    source: Path,
    output: Path,
    *,
    style: str | Path | np.ndarray,
    strength: float = 1.0,
    preserve_color: bool = False,
    match_colors: bool = False,
    model: object | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> JobResult:
    """Repaint one image in a style and write it as a PNG at full resolution.

    ``style`` is a preset name, an image path or the pixels ``load_style``
    returned, and ``strength`` runs from 0 (the photo) to 1 (full style).
    ``match_colors`` gives the result the style's RGB mean and covariance.
    Alpha is copied unchanged. Grayscale images become RGB, unless
    ``preserve_color`` is set: it keeps the photo's chroma, so grayscale stays
    grayscale.
    """
    from aegui.core.styles import load_style
    from aegui.core.stylizing import check_strength
    from aegui.core.zoo import load_stylizer

    started = time.perf_counter()
    check_strength(strength)
    check_output(output, overwrite)
    style_pixels = style if isinstance(style, np.ndarray) else load_style(style)
    stylizer = model or load_stylizer()
    image = load_image(source)
    _report(progress, 0.05)

    statistics = stylizer.style_statistics(style_pixels)  # type: ignore[attr-defined]
    stylized = stylizer.stylize(  # type: ignore[attr-defined]
        image.rgb,
        statistics,
        strength,
        preserve_color=preserve_color,
        color_match=match_colors,
        progress=part_progress(progress, 0.05, 0.95),
        cancelled=cancelled,
    )
    mode = image.mode
    if not preserve_color:
        mode = {Mode.L: Mode.RGB, Mode.LA: Mode.RGBA}.get(mode, mode)
    result = write_png_result(
        source, output, image, stylized, mode, overwrite=overwrite, cancelled=cancelled
    )
    _report(progress, 1.0)
    result.seconds = time.perf_counter() - started
    return result


PREVIEW_SIDE = 512  # long side, in pixels, of the window's quick stylize preview


def stylize_preview(
    source: Path,
    *,
    style: str | Path,
    strength: float = 1.0,
    preserve_color: bool = False,
    side: int = PREVIEW_SIDE,
    model: object | None = None,
    cancelled: Cancelled | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stylize a copy of ``source`` reduced to ``side`` pixels on its long side.

    Returns the reduced photo and its stylized version as uint8 arrays, both
    (H, W, 3), or (H, W, 4) when the photo has alpha. Nothing is written.
    NOTE: features are computed at the reduced size, so brush strokes in the
    preview are larger, relative to the photo, than in the full-size result.
    """
    from PIL import Image

    from aegui.core.styles import load_style
    from aegui.core.stylizing import check_strength
    from aegui.core.zoo import load_stylizer

    check_strength(strength)
    style_pixels = load_style(style)
    stylizer = model or load_stylizer()
    image = load_image(source)
    pixels = (
        np.dstack([image.rgb, image.alpha]) if image.alpha is not None else image.rgb
    )
    scale = side / max(image.width, image.height)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        mode = "RGBA" if pixels.shape[2] == 4 else "RGB"
        reduced = Image.fromarray(pixels, mode).resize(size, Image.Resampling.LANCZOS)
        pixels = np.asarray(reduced)
    if cancelled is not None and cancelled():
        raise InterruptedError("Cancelled")

    statistics = stylizer.style_statistics(style_pixels)  # type: ignore[attr-defined]
    stylized = stylizer.stylize(  # type: ignore[attr-defined]
        pixels[:, :, :3],
        statistics,
        strength,
        preserve_color=preserve_color,
        cancelled=cancelled,
    )
    after = np.clip(np.rint(stylized), 0, 255).astype(np.uint8)
    if pixels.shape[2] == 4:
        after = np.dstack([after, pixels[:, :, 3]])
    return np.ascontiguousarray(pixels), np.ascontiguousarray(after)
