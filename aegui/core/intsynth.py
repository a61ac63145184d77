# SPDX-License-Identifier: MIT
"""Bit-reproducible synthesis transform: latents to pixels with exact sums.

A float32 network gives slightly different results for different thread counts,
CPUs or GPUs, because its sums are rounded in a different order, and a pixel near
a rounding boundary then flips by one level. Here every sum is exact instead,
because weights and activations are integers in float64 and every partial sum
stays below 2**53. Each 5x5 stride-2 transposed convolution runs as one
matrix product per band of rows followed by an overlap-add of the 25 taps.
Weights files store it in sub-pixel form (a 3x3 convolution to four times the
channels), which converts back without loss. The remaining steps are element-wise
(scaling by powers of two, square root, multiplication, rounding), which IEEE 754
rounds correctly and identically on every conforming machine. Inverse GDN keeps
its float form on integer-valued inputs: ``v * sqrt(beta + gamma @ v**2)``.

Decoding this way is slower than with the float32 network; see
``benchmarks/codec_speed_memory.py`` and ``docs/benchmarks.md`` for the timings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from aegui.core.models.layers import GDN

WEIGHT_BITS = 14  # |integer weight| <= 2**14
CONV_INPUT_BITS = 18  # |conv input| <= 2**18
GDN_INPUT_BITS = 15  # |GDN input| <= 2**15, so gamma * v**2 sums stay exact
GAMMA_BITS = 13
# Elements of one band's matrix product (float64, 16 MB). Bands this small stay
# in cache for the overlap-add: decoding a 768x512 photo took 0.74 s on 2 AVX2
# cores against 1.06 s with bands of 2**24 elements, with identical output.
CHUNK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class SynthesisStage:
    """One upsampling step: exact sub-pixel convolution, then optional inverse GDN.

    The convolution input is in units of ``2**-in_fraction``. Its output is
    rescaled to ``2**-gdn_fraction`` before inverse GDN, and the GDN output is
    rounded to ``2**-out_fraction`` for the next stage.
    """

    weight: np.ndarray  # int64 (4 * out, in, 3, 3)
    bias: np.ndarray  # int64 (4 * out,), units 2**-(in_fraction + weight_fraction)
    in_fraction: int
    weight_fraction: int
    gdn_fraction: int
    gamma: np.ndarray | None  # int64 (out, out), units 2**-gamma_fraction
    beta: np.ndarray | None  # float64 (out,)
    gamma_fraction: int
    out_fraction: int


def transposed_to_subpixel(deconv: nn.ConvTranspose2d) -> tuple[np.ndarray, np.ndarray]:
    """Rewrite a 5x5 stride-2 transposed convolution (padding 2, output padding 1).

    Returns float64 weights (4 * out, in, 3, 3) and bias (4 * out,) of a 3x3
    convolution with padding 1 whose output, pixel-shuffled by 2, is the same.
    An output row 2m takes kernel taps 4, 2, 0 from input rows m-1, m, m+1; an
    output row 2m+1 takes taps 3, 1 from rows m, m+1 (likewise for columns).
    """
    if (
        deconv.kernel_size != (5, 5)
        or deconv.stride != (2, 2)
        or deconv.padding != (2, 2)
    ):
        raise ValueError(
            "Only 5x5 stride-2 transposed convolutions with padding 2 convert"
        )
    weight = deconv.weight.detach().double().numpy()  # (in, out, 5, 5)
    in_channels, out_channels = weight.shape[:2]
    taps = {0: (4, 2, 0), 1: (None, 3, 1)}  # phase -> tap for offsets -1, 0, +1
    result = np.zeros((out_channels, 2, 2, in_channels, 3, 3))
    for row_phase in (0, 1):
        for col_phase in (0, 1):
            for dy, ty in enumerate(taps[row_phase]):
                for dx, tx in enumerate(taps[col_phase]):
                    if ty is not None and tx is not None:
                        result[:, row_phase, col_phase, :, dy, dx] = weight[
                            :, :, ty, tx
                        ].T
    bias = np.repeat(deconv.bias.detach().double().numpy(), 4)
    return result.reshape(out_channels * 4, in_channels, 3, 3), bias


class ExactSynthesis:
    """Integer version of ``g_s``: four transposed convolutions with inverse GDN between."""

    def __init__(self, stages: list[SynthesisStage]) -> None:
        self.stages = stages
        self._matrices = [subpixel_to_matrix(stage.weight) for stage in stages]
        # The four phases of a sub-pixel bias repeat the transposed convolution's.
        self._biases = [
            torch.from_numpy(stage.bias[::4].astype(np.float64)) for stage in stages
        ]

    @classmethod
    def from_float(
        cls, g_s: nn.Sequential, calibration: list[torch.Tensor]
    ) -> ExactSynthesis:
        """Convert a trained ``g_s``; ``calibration`` latents set the activation ranges."""
        modules = list(g_s)
        deconvs = [m for m in modules if isinstance(m, nn.ConvTranspose2d)]
        gdns = [m for m in modules if isinstance(m, GDN)]
        if len(deconvs) != len(gdns) + 1 or len(modules) != len(deconvs) + len(gdns):
            raise TypeError(
                "g_s must alternate transposed convolutions and inverse GDN"
            )
        conv_inputs, gdn_inputs = _activation_ranges(modules, calibration)

        converted = [transposed_to_subpixel(deconv) for deconv in deconvs]
        weight_fractions = [
            _fraction(float(np.abs(weight).max()), WEIGHT_BITS)
            for weight, _ in converted
        ]
        # The integer bias is in units of the input times the weight, so a
        # stage whose calibration inputs are tiny (or all zero) still gets no
        # more input fraction bits than keep the bias within the product range.
        in_fractions = [
            min(
                _fraction(conv_inputs[index], CONV_INPUT_BITS),
                _fraction(float(np.abs(bias).max()), CONV_INPUT_BITS + WEIGHT_BITS)
                - weight_fractions[index],
            )
            for index, (_, bias) in enumerate(converted)
        ]

        stages = []
        for index, (weight, bias) in enumerate(converted):
            in_fraction = in_fractions[index]
            weight_fraction = weight_fractions[index]
            gamma = beta = None
            gamma_fraction = gdn_fraction = 0
            if index < len(gdns):
                gdn = gdns[index]
                gdn_fraction = _fraction(gdn_inputs[index], GDN_INPUT_BITS)
                gamma_float = (
                    gdn.gamma_root.detach().double().clamp(min=0.0) ** 2
                ).numpy()
                gamma_fraction = _fraction(float(gamma_float.max()), GAMMA_BITS)
                gamma = np.round(gamma_float * 2.0**gamma_fraction).astype(np.int64)
                beta_root = gdn.beta_root.detach().double().clamp(min=GDN.beta_min**0.5)
                beta = (beta_root**2).numpy()
            last = index + 1 == len(deconvs)
            out_fraction = 0 if last else in_fractions[index + 1]
            stages.append(
                SynthesisStage(
                    weight=np.round(weight * 2.0**weight_fraction).astype(np.int64),
                    bias=np.round(bias * 2.0 ** (in_fraction + weight_fraction)).astype(
                        np.int64
                    ),
                    in_fraction=in_fraction,
                    weight_fraction=weight_fraction,
                    gdn_fraction=gdn_fraction,
                    gamma=gamma,
                    beta=beta,
                    gamma_fraction=gamma_fraction,
                    out_fraction=out_fraction,
                )
            )
        return cls(stages)

    def __call__(
        self, y_hat: torch.Tensor, cancelled: Callable[[], bool] | None = None
    ) -> torch.Tensor:
        """Return uint8 pixels (1, 3, 16h, 16w) for float latents (1, M, h, w).

        ``cancelled`` is polled before each stage; when it returns true,
        InterruptedError is raised.
        """
        first = self.stages[0]
        x = torch.round(y_hat[0].double() * 2.0**first.in_fraction)
        x = x.clamp(-(2.0**CONV_INPUT_BITS), 2.0**CONV_INPUT_BITS)
        for stage, matrix, bias in zip(
            self.stages, self._matrices, self._biases, strict=True
        ):
            if cancelled is not None and cancelled():
                raise InterruptedError("Cancelled during synthesis")
            x = _exact_upsample(x, matrix, bias)
            scale = 2.0 ** -(stage.in_fraction + stage.weight_fraction)
            if stage.gamma is None:
                pixels = x.mul_(scale).clamp_(0.0, 1.0).mul_(255.0).round_()
                return pixels.to(torch.uint8).unsqueeze(0)
            x = _inverse_gdn(x.mul_(scale), stage)
        raise AssertionError("unreachable: the last stage has no GDN")


def subpixel_to_matrix(weight: np.ndarray) -> torch.Tensor:
    """Return the (out * 25, in) float64 matrix of a 5x5 transposed convolution.

    ``weight`` is a sub-pixel weight (4 * out, in, 3, 3) from
    ``transposed_to_subpixel``. Row ``o * 25 + 5 * ky + kx`` of the result contains
    tap (ky, kx) of output channel ``o``. Every tap appears once among the four
    phases, so this undoes the conversion without loss.
    """
    subpixel_channels, in_channels = weight.shape[:2]
    out_channels = subpixel_channels // 4
    phases = weight.reshape(out_channels, 2, 2, in_channels, 3, 3)
    taps = {0: (4, 2, 0), 1: (None, 3, 1)}
    kernel = np.zeros((out_channels, 5, 5, in_channels), dtype=np.float64)
    for row_phase in (0, 1):
        for col_phase in (0, 1):
            for dy, ty in enumerate(taps[row_phase]):
                for dx, tx in enumerate(taps[col_phase]):
                    if ty is not None and tx is not None:
                        kernel[:, ty, tx, :] = phases[
                            :, row_phase, col_phase, :, dy, dx
                        ]
    return torch.from_numpy(kernel.reshape(out_channels * 25, in_channels))


def _inverse_gdn(v: torch.Tensor, stage: SynthesisStage) -> torch.Tensor:
    """Apply inverse GDN to real ``v`` and round the result for the next stage.

    Works in place on ``v``. Every step is one IEEE operation on exact values,
    so the in-place form rounds exactly as the plain expression would.
    """
    assert stage.gamma is not None and stage.beta is not None
    limit = 2.0**GDN_INPUT_BITS
    v_int = v.mul_(2.0**stage.gdn_fraction).round_().clamp_(-limit, limit)
    channels, height, width = v_int.shape
    gamma = torch.from_numpy(stage.gamma.astype(np.float64))
    norm = (gamma @ (v_int * v_int).reshape(channels, -1)).reshape(
        channels, height, width
    )
    norm.mul_(2.0 ** -(2 * stage.gdn_fraction + stage.gamma_fraction))
    norm.add_(torch.from_numpy(stage.beta)[:, None, None]).sqrt_()
    y = v_int.mul_(2.0**-stage.gdn_fraction).mul_(norm)
    limit = 2.0**CONV_INPUT_BITS
    return y.mul_(2.0**stage.out_fraction).round_().clamp_(-limit, limit)


def _exact_upsample(
    x: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Apply a 5x5 stride-2 transposed convolution to integer-valued float64 ``x``.

    ``x`` is (C, H, W) and the result (out, 2H, 2W), exactly: one matrix product
    per band of rows gives every tap's contribution, and ``F.fold`` adds the
    overlapping taps. All partial sums are integers below 2**53, so no rounding
    happens and the order of the sums does not matter. This skips the zero taps
    and the im2col copy of a sub-pixel 3x3 convolution.
    """
    channels, height, width = x.shape
    out_channels = matrix.shape[0] // 25
    # Full output before the transposed convolution's padding of 2 is cropped.
    full = x.new_zeros((out_channels, 2 * height + 3, 2 * width + 3))
    rows_per_chunk = max(1, CHUNK_ELEMENTS // (matrix.shape[0] * width))
    flat = x.reshape(channels, height * width)
    for top in range(0, height, rows_per_chunk):
        rows = min(height, top + rows_per_chunk) - top
        columns = matrix @ flat[:, top * width : (top + rows) * width]
        band = F.fold(
            columns.unsqueeze(0), (2 * rows + 3, 2 * width + 3), kernel_size=5, stride=2
        )[0]
        full[:, 2 * top : 2 * top + 2 * rows + 3] += band
    result = full[:, 2 : 2 + 2 * height, 2 : 2 + 2 * width]
    return result.add_(bias[:, None, None])


def _fraction(magnitude: float, bits: int) -> int:
    """Return the fraction bits that fit ``2 * magnitude`` into ``bits`` bits."""
    return int(math.floor(bits - math.log2(max(2.0 * magnitude, 1e-12))))


def _activation_ranges(
    modules: list[nn.Module], calibration: list[torch.Tensor]
) -> tuple[list[float], list[float]]:
    """Return the largest |input| of each transposed convolution and each GDN."""
    conv_inputs: list[float] = []
    gdn_inputs: list[float] = []

    def recorder(target: list[float], index: int) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            while len(target) <= index:
                target.append(0.0)
            target[index] = max(target[index], float(inputs[0].abs().max()))

        return hook

    handles = []
    conv_index = gdn_index = 0
    for module in modules:
        if isinstance(module, nn.ConvTranspose2d):
            handles.append(
                module.register_forward_pre_hook(recorder(conv_inputs, conv_index))
            )
            conv_index += 1
        elif isinstance(module, GDN):
            handles.append(
                module.register_forward_pre_hook(recorder(gdn_inputs, gdn_index))
            )
            gdn_index += 1
    try:
        with torch.no_grad():
            for latents in calibration:
                nn.Sequential(*modules)(latents)
    finally:
        for handle in handles:
            handle.remove()
    return conv_inputs, gdn_inputs


def stages_to_tensors(synthesis: ExactSynthesis) -> dict[str, np.ndarray]:
    """Return the tensors that store ``synthesis`` in a weights file."""
    tensors: dict[str, np.ndarray] = {}
    for index, stage in enumerate(synthesis.stages):
        prefix = f"synthesis.{index}"
        tensors[f"{prefix}.weight"] = stage.weight
        tensors[f"{prefix}.bias"] = stage.bias
        tensors[f"{prefix}.config"] = np.array(
            [
                stage.in_fraction,
                stage.weight_fraction,
                stage.gdn_fraction,
                stage.gamma_fraction,
                stage.out_fraction,
                stage.gamma is not None,
            ],
            dtype=np.int64,
        )
        if stage.gamma is not None and stage.beta is not None:
            tensors[f"{prefix}.gamma"] = stage.gamma
            tensors[f"{prefix}.beta"] = stage.beta
    return tensors


def stages_from_tensors(tensors: dict[str, np.ndarray], count: int) -> ExactSynthesis:
    """Rebuild the synthesis stored by ``stages_to_tensors``."""
    stages = []
    for index in range(count):
        prefix = f"synthesis.{index}"
        config = tensors[f"{prefix}.config"].tolist()
        has_gdn = bool(config[5])
        stages.append(
            SynthesisStage(
                weight=tensors[f"{prefix}.weight"].astype(np.int64),
                bias=tensors[f"{prefix}.bias"].astype(np.int64),
                in_fraction=config[0],
                weight_fraction=config[1],
                gdn_fraction=config[2],
                gamma=tensors[f"{prefix}.gamma"].astype(np.int64) if has_gdn else None,
                beta=tensors[f"{prefix}.beta"].astype(np.float64) if has_gdn else None,
                gamma_fraction=config[3],
                out_fraction=config[4],
            )
        )
    return ExactSynthesis(stages)
