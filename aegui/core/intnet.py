# SPDX-License-Identifier: MIT
"""Exact integer evaluation of the hyper-decoder.

The hyper-decoder turns the decoded hyper-latent into the mean and the scale index
of every latent symbol, so its output must be bit-identical wherever a file is
decoded. After training, its float weights are rounded to integers with a
power-of-two scale per layer (the idea of Ballé, Johnston and Minnen, 2019,
arXiv:1810.01427). Each 3x3 convolution is then an im2col matrix product in
float64 on integer-valued operands: every product and partial sum is an integer
below 2**53, so the result is exact in any summation order, thread count or BLAS.
Rescaling between layers divides by a power of two and rounds, which is exact too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

WEIGHT_BITS = 14  # |integer weight| <= 2**14
ACTIVATION_FRACTION = 10  # hidden activations in units of 2**-10
ACTIVATION_LIMIT = 1 << 24  # hidden activations are clamped to [0, 2**24]
INPUT_LIMIT = 1 << 12  # |input| is at most 2**12
EXACT_LIMIT = 1 << 53
CHUNK_ELEMENTS = 1 << 23  # max im2col elements per matrix product


@dataclass(frozen=True)
class IntegerLayer:
    """A 3x3 convolution with integer weights, then ReLU and pixel shuffle.

    ``weight`` and ``bias`` are in units of ``2**-(in_fraction + weight_fraction)``
    relative to the float layer; the output is rescaled to ``2**-out_fraction``.
    """

    weight: np.ndarray  # int64 (out, in, 3, 3)
    bias: np.ndarray  # int64 (out,)
    in_fraction: int
    weight_fraction: int
    out_fraction: int
    relu: bool
    shuffle: int


class IntegerHyperDecoder:
    """Integer version of an ``h_s`` made of 3x3 convolutions, ReLU and pixel shuffles."""

    def __init__(self, layers: list[IntegerLayer]) -> None:
        self.layers = layers
        for layer in layers:
            fan_in = layer.weight.shape[1] * 9
            bound = max(ACTIVATION_LIMIT, INPUT_LIMIT) * (1 << WEIGHT_BITS) * fan_in
            bound += int(np.abs(layer.bias).max(initial=0))
            if bound >= EXACT_LIMIT:
                raise ValueError(
                    f"Integer layer with fan-in {fan_in} could overflow float64"
                )

    @classmethod
    def from_float(cls, h_s: nn.Sequential, out_fraction: int) -> IntegerHyperDecoder:
        """Round a trained ``h_s`` to integers; the output is in units of ``2**-out_fraction``."""
        convs: list[tuple[nn.Conv2d, int, bool]] = []
        modules = list(h_s)
        for i, module in enumerate(modules):
            follows_relu = i + 1 < len(modules) and isinstance(modules[i + 1], nn.ReLU)
            if isinstance(module, nn.Sequential):  # SubpixelUp: conv then shuffle
                conv, shuffle = module[0], module[1]
                convs.append((conv, shuffle.upscale_factor, follows_relu))
            elif isinstance(module, nn.Conv2d):
                convs.append((module, 1, follows_relu))
            elif not isinstance(module, nn.ReLU):
                raise TypeError(f"Cannot convert layer {module!r} to integers")

        layers = []
        in_fraction = 0
        for index, (conv, shuffle, relu) in enumerate(convs):
            if (
                conv.kernel_size != (3, 3)
                or conv.stride != (1, 1)
                or conv.padding != (1, 1)
            ):
                raise ValueError(
                    "Only 3x3 convolutions with stride 1 and padding 1 convert"
                )
            weight = conv.weight.detach().double().numpy()
            bias = conv.bias.detach().double().numpy()
            magnitude = float(np.abs(weight).max())
            weight_fraction = int(np.floor(WEIGHT_BITS - np.log2(magnitude)))
            scale = 2.0 ** (in_fraction + weight_fraction)
            last = index == len(convs) - 1
            layers.append(
                IntegerLayer(
                    weight=np.round(weight * 2.0**weight_fraction).astype(np.int64),
                    bias=np.round(bias * scale).astype(np.int64),
                    in_fraction=in_fraction,
                    weight_fraction=weight_fraction,
                    out_fraction=out_fraction if last else ACTIVATION_FRACTION,
                    relu=relu,
                    shuffle=shuffle,
                )
            )
            in_fraction = layers[-1].out_fraction
        return cls(layers)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Return the integer output for an integer input shaped (C, H, W)."""
        if np.abs(z).max(initial=0) > INPUT_LIMIT:
            raise ValueError(f"Hyper-latent value beyond +-{INPUT_LIMIT}")
        x = torch.from_numpy(z.astype(np.float64))
        for layer in self.layers:
            x = _exact_conv3x3(x, layer)
            shift = layer.in_fraction + layer.weight_fraction - layer.out_fraction
            # Division by a power of two is exact; floor(v + 0.5) rounds half up.
            # Rescaled in place, because the last layer's output takes 240 MB for
            # a 6000x4000 photo. In-place steps round exactly as new tensors do.
            x.mul_(2.0**-shift).add_(0.5).floor_()
            if layer.relu:
                x.clamp_(0, ACTIVATION_LIMIT)
            if layer.shuffle > 1:
                x = F.pixel_shuffle(x.unsqueeze(0), layer.shuffle).squeeze(0)
        return x.numpy().astype(np.int64)


def _exact_conv3x3(x: torch.Tensor, layer: IntegerLayer) -> torch.Tensor:
    """Convolve integer-valued float64 ``x`` (C, H, W) with zero padding, exactly."""
    channels, height, width = x.shape
    weight = torch.from_numpy(layer.weight.astype(np.float64)).reshape(
        len(layer.bias), -1
    )
    bias = torch.from_numpy(layer.bias.astype(np.float64))[:, None]
    padded = F.pad(x, (1, 1, 1, 1))
    rows_per_chunk = max(1, CHUNK_ELEMENTS // (channels * 9 * width))
    # Each band is written into the output, so the bands and their
    # concatenation never exist at the same time.
    output = x.new_empty((len(layer.bias), height, width))
    for top in range(0, height, rows_per_chunk):
        bottom = min(height, top + rows_per_chunk)
        window = padded[:, top : bottom + 2].unsqueeze(0)
        columns = F.unfold(window, kernel_size=3).squeeze(0)  # (C*9, rows*W)
        band = torch.addmm(bias, weight, columns)
        output[:, top:bottom] = band.reshape(-1, bottom - top, width)
    return output
