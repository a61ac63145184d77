# SPDX-License-Identifier: MIT
"""Building blocks shared by the networks: GDN and strided convolutions."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class GDN(nn.Module):
    """Generalized divisive normalization (Ballé et al., 2016, arXiv:1511.06281).

    ``y_i = x_i / sqrt(beta_i + sum_j gamma_ij * x_j^2)``, or the inverse
    (multiplication) when ``inverse`` is true. ``beta`` and ``gamma`` are stored
    through a squared parametrization so that they stay non-negative, with a small
    floor on ``beta`` that keeps the denominator away from zero.
    """

    beta_min = 1e-6

    def __init__(self, channels: int, inverse: bool = False) -> None:
        super().__init__()
        self.inverse = inverse
        self.beta_root = nn.Parameter(torch.ones(channels))
        gamma = 0.1 * torch.eye(channels) + 1e-4
        self.gamma_root = nn.Parameter(gamma.sqrt())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta_root.clamp(min=self.beta_min**0.5) ** 2
        gamma = self.gamma_root.clamp(min=0.0) ** 2
        channels = gamma.shape[0]
        norm = F.conv2d(x * x, gamma.view(channels, channels, 1, 1), beta)
        if not torch.is_grad_enabled() and not torch.is_autocast_enabled(x.device.type):
            # Overwriting the norm saves one activation (127 MB in the encoder's
            # first layer on a 1152-pixel tile). Autocast skips in-place steps.
            root = norm.sqrt_() if self.inverse else norm.rsqrt_()
            return root.mul_(x)
        if self.inverse:
            return x * torch.sqrt(norm)
        return x * torch.rsqrt(norm)


def conv_down(in_channels: int, out_channels: int, kernel: int = 5) -> nn.Conv2d:
    """Return a convolution that halves the height and width."""
    return nn.Conv2d(in_channels, out_channels, kernel, stride=2, padding=kernel // 2)


def conv_up(in_channels: int, out_channels: int, kernel: int = 5) -> nn.ConvTranspose2d:
    """Return a transposed convolution that doubles the height and width."""
    return nn.ConvTranspose2d(
        in_channels,
        out_channels,
        kernel,
        stride=2,
        padding=kernel // 2,
        output_padding=1,
    )


class SubpixelUp(nn.Sequential):
    """A 3x3 convolution to 4x the channels followed by a 2x pixel shuffle.

    Used in the hyper-decoder instead of a transposed convolution because an
    ordinary convolution plus a permutation can be evaluated exactly in integer
    arithmetic (see ``aegui.core.intnet``).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, 4 * out_channels, 3, padding=1),
            nn.PixelShuffle(2),
        )
