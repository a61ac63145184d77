# SPDX-License-Identifier: MIT
"""The learned image codec: RGB pixels to coded latents and back.

``ImageCodec`` wraps a trained ``MeanScaleHyperprior`` with what coding needs
besides the float network: the exact integer hyper-decoder and the integer
probability tables (see ``aegui.core.intnet`` and ``aegui.core.entropy``). The
synthesis transform ``g_s`` also runs with exact sums (``aegui.core.intsynth``), so
a file decodes to the same pixels on every machine, thread count and tile grid.
Only ``g_a`` and ``h_a`` run in ordinary floating point, on the encoder alone:
they choose what to code, never how it is decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
from torch.nn import functional as F

from aegui.core.container import (
    FORMAT_VERSION,
    Y_SCALE,
    Z_SCALE,
    StreamKind,
    latent_grids,
)
from aegui.core.entropy import TableSet, decode_symbols, encode_symbols
from aegui.core.errors import AezFormatError
from aegui.core.intnet import IntegerHyperDecoder
from aegui.core.intsynth import ExactSynthesis
from aegui.core.models.hyperprior import (
    DEFAULT_LAMBDAS,
    DOWNSAMPLING,
    LOG_SCALE_OFFSET,
    LOG_SCALE_STEP,
    LOG_SCALE_UNIT,
    SCALE_LEVELS,
    MeanScaleHyperprior,
)
from aegui.core.precision import native_bfloat16
from aegui.core.progress import part_progress
from aegui.core.refine import refine_residual
from aegui.core.tiling import run_tiled

logger = logging.getLogger(__name__)

# Tiles for g_a: 1024 pixels square, with a 64-pixel halo, which is more than the
# 61-pixel receptive field of g_a. The exact synthesis works in float64, so an
# image larger than one 1024-pixel tile is decoded in 512-pixel tiles (32
# latents): that bounds its memory and lets a cancel take effect within about
# two seconds. Its halo of 4 latents covers the reach of g_s. Exact sums make the
# decoded pixels independent of the tiling.
TILE_PIXELS = 1024
SYNTHESIS_TILE_PIXELS = 512
HALO_PIXELS = 64

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class Latents:
    """Coded form of one RGB image, plus its size and quality level."""

    width: int
    height: int
    quality: int
    z_shape: tuple[int, int, int]
    y_shape: tuple[int, int, int]
    z_stream: bytes
    y_stream: bytes
    version: int = FORMAT_VERSION  # of the .aez format, which sets the latent grids


def padded_size(width: int, height: int) -> tuple[int, int]:
    """Return the size of the padded image that ``y`` covers, with its margin."""
    _, (rows, columns) = latent_grids(width, height)
    return columns * Y_SCALE, rows * Y_SCALE


def latent_shapes(
    width: int, height: int, model: MeanScaleHyperprior, version: int = FORMAT_VERSION
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Return the shapes of ``z`` and ``y`` for an image of this size."""
    z_grid, y_grid = latent_grids(width, height, version)
    return (model.hyper_channels, *z_grid), (model.M, *y_grid)


def scale_index(log_scale: np.ndarray) -> np.ndarray:
    """Map integer log-scales (units of 1/256) to the nearest scale-table index."""
    # One new array, then in-place steps, because a 6000x4000 photo has 15
    # million scales.
    shifted = log_scale - (LOG_SCALE_OFFSET - LOG_SCALE_STEP // 2)
    np.floor_divide(shifted, LOG_SCALE_STEP, out=shifted)
    return np.clip(shifted, 0, SCALE_LEVELS - 1, out=shifted)


class ImageCodec:
    """Compress and decompress RGB images with one trained codec.

    Quality levels run from 1 (smallest files) to ``len(qualities)``.
    """

    def __init__(
        self,
        model: MeanScaleHyperprior,
        hyper_decoder: IntegerHyperDecoder,
        z_tables: TableSet,
        y_tables: TableSet,
        *,
        model_id: str,
        digest: bytes,
        synthesis: ExactSynthesis,
        lambdas: list[float] | None = None,
    ) -> None:
        if len(z_tables) != model.hyper_channels or len(y_tables) != SCALE_LEVELS:
            raise ValueError("Probability tables do not match the model")
        self.model = model.eval()
        self.hyper_decoder = hyper_decoder
        self.z_tables = z_tables
        self.y_tables = y_tables
        self.model_id = model_id
        self.digest = digest
        self.synthesis = synthesis
        # Refinement runs g_s in bfloat16 where the CPU does that natively.
        self.refine_in_bfloat16 = native_bfloat16()
        # The rate-distortion trade-off of each level, which refinement optimises.
        self.lambdas = list(lambdas or DEFAULT_LAMBDAS[: model.levels])
        if len(self.lambdas) != model.levels:
            raise ValueError(
                f"The codec has {model.levels} quality levels but its weights list "
                f"{len(self.lambdas)} lambdas"
            )

    @property
    def qualities(self) -> range:
        """Valid quality levels, from 1 (smallest files) upwards."""
        return range(1, self.model.levels + 1)

    def check_quality(self, quality: int) -> None:
        """Raise ValueError unless ``quality`` is a valid level."""
        if quality not in self.qualities:
            first, last = self.qualities[0], self.qualities[-1]
            raise ValueError(f"Invalid quality {quality}: choose {first} to {last}")

    # Encoding

    @torch.inference_mode()
    def encode(
        self,
        rgb: np.ndarray,
        quality: int,
        *,
        refine_steps: int = 0,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> Latents:
        """Code a uint8 HxWx3 image at ``quality``.

        With ``refine_steps``, the latents are then refined for this image by
        that many gradient steps per tile (see ``aegui.core.refine``): smaller
        files or a higher PSNR, and a much slower encoder.
        """
        self.check_quality(quality)
        if refine_steps < 0:
            raise ValueError(
                f"Invalid number of refinement steps {refine_steps}: use 0 or more"
            )
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(
                f"Expected a uint8 HxWx3 array, got {rgb.dtype} {rgb.shape}"
            )
        height, width = rgb.shape[:2]
        z_hat, residual, mean, index = self._analyse(
            rgb,
            quality,
            progress=part_progress(progress, 0.0, 0.1 if refine_steps else 0.8),
            cancelled=cancelled,
        )
        if refine_steps:
            # Autograd cannot record operations on inference tensors.
            with torch.inference_mode(False), torch.enable_grad():
                _, inv_gain = self.model.gains(torch.tensor([quality - 1]))
                refine_residual(
                    self.model.g_s, residual, mean, index, inv_gain, rgb,
                    self.lambdas[quality - 1], refine_steps,
                    bfloat16=self.refine_in_bfloat16,
                    progress=part_progress(progress, 0.1, 0.95),
                    cancelled=cancelled,
                )  # fmt: skip
        del mean
        np.rint(residual, out=residual)
        bound = self.y_tables.maxima.astype(np.int32)[index]
        np.clip(residual, -bound, bound, out=residual)
        del bound
        symbols = residual.astype(np.int32)
        del residual
        latents = self.code_symbols(z_hat, symbols, index, width, height, quality)
        if progress is not None:
            progress(1.0)
        return latents

    def code_symbols(
        self,
        z_hat: np.ndarray,
        symbols: np.ndarray,
        index: np.ndarray,
        width: int,
        height: int,
        quality: int,
    ) -> Latents:
        """Entropy-code the symbols of ``z`` and ``y`` into the latents of one image."""
        channel_index = np.broadcast_to(
            np.arange(z_hat.shape[0])[:, None, None], z_hat.shape
        )
        return Latents(
            width=width,
            height=height,
            quality=quality,
            z_shape=tuple(z_hat.shape),  # type: ignore[arg-type]
            y_shape=tuple(symbols.shape),  # type: ignore[arg-type]
            z_stream=encode_symbols(z_hat, channel_index, self.z_tables),
            y_stream=encode_symbols(symbols, index, self.y_tables),
        )

    @torch.inference_mode()
    def _analyse(
        self,
        rgb: np.ndarray,
        quality: int,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Run the encoder networks on a uint8 HxWx3 image at ``quality``.

        Returns ``z_hat`` (int64, as coded), the unrounded residual
        ``y_s - mean`` and the exact ``mean`` (float64), and the scale index of
        every latent.
        """
        height, width = rgb.shape[:2]
        padded_w, padded_h = padded_size(width, height)
        # Pad and keep the image as uint8; each tile is converted to float on its
        # own, so a large photo never exists as a whole float tensor.
        padded = np.pad(
            rgb, ((0, padded_h - height), (0, padded_w - width), (0, 0)), mode="edge"
        )
        x = torch.from_numpy(padded).permute(2, 0, 1)[None]

        level = torch.tensor([quality - 1])
        gain, _ = self.model.gains(level)
        y = run_tiled(
            lambda tile: self.model.g_a(tile.float() / 255),
            x,
            scale=Fraction(1, 16),
            tile=TILE_PIXELS,
            halo=HALO_PIXELS,
            step=DOWNSAMPLING,
            cancelled=cancelled,
            progress=progress,
        )
        y_s = y.mul_(gain)
        # h_a downsamples by 4, so y is extended by its edge values to cover
        # z's grid; the extra cells are never coded.
        (z_rows, z_columns), (rows, columns) = latent_grids(width, height)
        ratio = Z_SCALE // Y_SCALE
        y_extended = F.pad(
            y_s,
            (0, ratio * z_columns - columns, 0, ratio * z_rows - rows),
            mode="replicate",
        )
        z = self.model.h_a(y_extended)[0].double().numpy()
        del y_extended
        z_hat = np.clip(
            np.rint(z).astype(np.int64),
            self.z_tables.minima[:, None, None],
            self.z_tables.maxima[:, None, None],
        )
        _check_cancelled(cancelled)

        mean, index = self._hyper_decode(z_hat, (rows, columns))
        # Work in place where possible, because for a large photo each of these
        # arrays takes hundreds of MB.
        residual = y_s[0].double().numpy()
        del y, y_s
        residual -= mean
        return z_hat, residual, mean, index

    def _hyper_decode(
        self, z_hat: np.ndarray, y_grid: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the exact mean (float64) and scale index of every latent of ``y_grid``."""
        params = self.hyper_decoder(z_hat)[:, : y_grid[0], : y_grid[1]]
        channels = params.shape[0] // 2
        mean = params[:channels].astype(np.float64)
        mean /= LOG_SCALE_UNIT
        index = scale_index(params[channels:]).astype(np.int16)
        return mean, index

    # Decoding

    @torch.inference_mode()
    def decode(
        self,
        latents: Latents,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> np.ndarray:
        """Rebuild the uint8 HxWx3 image from its coded latents."""
        self.check_quality(latents.quality)
        expected = latent_shapes(
            latents.width, latents.height, self.model, latents.version
        )
        if (latents.z_shape, latents.y_shape) != expected:
            raise ValueError(
                f"Latent shapes {latents.z_shape}, {latents.y_shape} do not fit a "
                f"{latents.width}x{latents.height} image (expected {expected[0]}, {expected[1]})"
            )
        channel_index = np.broadcast_to(
            np.arange(latents.z_shape[0])[:, None, None], latents.z_shape
        )
        z_hat = _decode_stream(
            StreamKind.Z, latents.z_stream, channel_index, self.z_tables, cancelled
        )
        mean, index = self._hyper_decode(z_hat, latents.y_shape[1:])
        residual = _decode_stream(
            StreamKind.Y, latents.y_stream, index, self.y_tables, cancelled
        )
        if progress is not None:
            progress(0.2)
        # The sum is exact in float64, and in place it needs no third array.
        mean += residual
        y_hat_s = torch.from_numpy(mean).float()[None]
        # Synthesis does not need the float64 and int64 latent arrays, which
        # take several hundred MB for a large photo.
        del z_hat, mean, index, residual
        return self.synthesize(
            y_hat_s,
            latents.quality,
            latents.width,
            latents.height,
            progress=part_progress(progress, 0.2, 1.0),
            cancelled=cancelled,
        )

    def synthesize(
        self,
        y_hat_s: torch.Tensor,
        quality: int,
        width: int,
        height: int,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> np.ndarray:
        """Run the exact ``g_s`` on scaled latents and return the cropped uint8 image."""
        _, inv_gain = self.model.gains(torch.tensor([quality - 1]))
        fits_one_tile = max(y_hat_s.shape[2:]) * 16 <= TILE_PIXELS
        tile = TILE_PIXELS if fits_one_tile else SYNTHESIS_TILE_PIXELS
        pixels = run_tiled(
            lambda latents: self.synthesis(latents, cancelled),
            y_hat_s * inv_gain,
            scale=Fraction(16),
            tile=tile // 16,
            halo=HALO_PIXELS // 16,
            cancelled=cancelled,
            progress=progress,
        )
        return pixels[0, :, :height, :width].permute(1, 2, 0).contiguous().numpy()

    # Whole files

    def compress(self, rgb: np.ndarray, quality: int, refine_steps: int = 0) -> bytes:
        """Return the ``.aez`` bytes of a uint8 HxWx3 image."""
        from aegui.core.container import pack_image

        return pack_image(self, self.encode(rgb, quality, refine_steps=refine_steps))

    def decompress(self, data: bytes) -> np.ndarray:
        """Return the uint8 HxWx3 image stored in ``.aez`` bytes."""
        from aegui.core.container import unpack_image

        return self.decode(unpack_image(self, data).latents)


def _decode_stream(
    kind: StreamKind,
    data: bytes,
    table_index: np.ndarray,
    tables: TableSet,
    cancelled: Cancelled | None,
) -> np.ndarray:
    """Decode one stream, reporting data the range decoder rejects as a format error."""
    try:
        return decode_symbols(data, table_index, tables, cancelled)
    except (AssertionError, ValueError, RuntimeError) as error:
        # constriction raises AssertionError for data that no table can produce.
        raise AezFormatError(f"corrupted {kind.label} stream ({error})") from None


def _check_cancelled(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise InterruptedError("Cancelled")


def load_codec(path: object = None) -> ImageCodec:
    """Load the shipped codec (see ``aegui.core.zoo.load_codec``)."""
    from aegui.core.zoo import load_codec as load

    return load(path)  # type: ignore[arg-type,no-any-return]
