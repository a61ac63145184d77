# SPDX-License-Identifier: MIT
"""Denoising autoencoder: a small three-scale U-Net that predicts the noise.

The network is trained to rebuild a clean image ``x`` from a corrupted copy
``y = M(x)`` (Gaussian, Poisson-Gaussian or impulse noise, JPEG artefacts). It
follows the U-Net layout of Ronneberger, Fischer and Brox (2015,
arXiv:1505.04597), but its skip connections add encoder features to the decoder
instead of concatenating them. Its output is residual, as in DnCNN (Zhang et
al., 2017, arXiv:1608.03981): the decoder estimates the noise ``n`` and the
result is ``x_hat = y - n``. An extra input channel contains a noise-level map
``sigma / 255``, as in FFDNet (Zhang, Zuo and Zhang, 2018, arXiv:1710.04026), so
that the strength can be set. Fed an estimated sigma, the model runs blind::

    [y, sigma/255] -> enc1 ----------------------------+-> dec1 -> tail -> n
                       | down1                       up1 ^
                       v                                  |
                      enc2 -------------------------+-> dec2
                       | down2                    up2 ^
                       v                               |
                      bottom --------------------------+

Inputs are float RGB in 0..1, NCHW, of any size. Values outside 0..1 (noise
that was not clipped) are accepted. Inside ``forward`` the image is padded on
the bottom and right to a multiple of ``STRIDE`` by reflection and the output
is cropped back, so the result has the input's size. The output is not clipped
and has the input's dtype, also for a network converted to bfloat16.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

ARCHITECTURE = "unet3"
STRIDE = 4  # two 2x downsamplings

# Input pixels on each side of an output pixel that can change it, measured on
# the gradient of the network with positive weights at all four positions of
# the downsampling grid (tests/test_denoise.py checks it).
RECEPTIVE_RADIUS = 31


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """Return a 3x3 convolution that keeps the height and width."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


def conv_relu_stack(channels: int, count: int) -> nn.Sequential:
    """Return ``count`` 3x3 convolutions at ``channels``, each followed by ReLU."""
    layers: list[nn.Module] = []
    for _ in range(count):
        layers += [conv3x3(channels, channels), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class DenoiseUNet(nn.Module):
    """Three-scale U-Net denoiser with residual output and level conditioning.

    Args:
        width: channels at full resolution. The two coarser scales have
            ``2 * width`` and ``4 * width``.
        conditioned: whether the network takes the noise-level map as a fourth
            input channel. Without it, ``level`` is ignored.
    """

    def __init__(self, width: int = 32, conditioned: bool = True) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(
                f"Invalid width {width}: expected a positive channel count"
            )
        self.width = width
        self.conditioned = conditioned
        in_channels = 4 if conditioned else 3
        w1, w2, w3 = width, 2 * width, 4 * width

        self.enc1 = nn.Sequential(
            conv3x3(in_channels, w1), nn.ReLU(inplace=True), *conv_relu_stack(w1, 1)
        )
        self.down1 = nn.Sequential(
            nn.Conv2d(w1, w2, 2, stride=2), nn.ReLU(inplace=True)
        )
        self.enc2 = conv_relu_stack(w2, 2)
        self.down2 = nn.Sequential(
            nn.Conv2d(w2, w3, 2, stride=2), nn.ReLU(inplace=True)
        )
        self.bottom = conv_relu_stack(w3, 4)
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2)
        self.dec2 = conv_relu_stack(w2, 2)
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2)
        self.dec1 = conv_relu_stack(w1, 1)
        self.tail = conv3x3(w1, 3)

    def config(self) -> dict[str, object]:
        """Return the constructor arguments, as stored with exported weights."""
        return {
            "architecture": ARCHITECTURE,
            "width": self.width,
            "conditioned": self.conditioned,
        }

    def forward(
        self, y: torch.Tensor, level: torch.Tensor | float | None = None
    ) -> torch.Tensor:
        """Return the denoised image ``x_hat`` for the noisy image ``y``.

        Args:
            y: float RGB (N, 3, H, W), nominally 0..1.
            level: noise standard deviation on the 0..255 scale, as a number,
                a tensor of shape (N,) or a map of shape (N, 1, H, W). None
                means 0. An unconditioned network ignores it.
        """
        batch, _, height, width = y.shape
        inputs = y
        if self.conditioned:
            inputs = torch.cat([y, level_map(level, batch, height, width, y)], dim=1)
        pad_h, pad_w = -height % STRIDE, -width % STRIDE
        if pad_h or pad_w:
            # Reflection needs more pixels than it pads, so tiny inputs repeat the edge.
            mode = "reflect" if height > pad_h and width > pad_w else "replicate"
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h), mode=mode)

        # The network may run in bfloat16 (its weights converted), but the
        # noise is taken from the input in the input's precision, so the
        # result is not rounded to bfloat16's 8-bit mantissa.
        skip1 = self.enc1(inputs.to(self.tail.weight.dtype))
        skip2 = self.enc2(self.down1(skip1))
        features = self.bottom(self.down2(skip2))
        features = self.dec2(self.up2(features) + skip2)
        features = self.dec1(self.up1(features) + skip1)
        noise = self.tail(features)[:, :, :height, :width]
        return y - noise.to(y.dtype)


def level_map(
    level: torch.Tensor | float | None,
    batch: int,
    height: int,
    width: int,
    like: torch.Tensor,
) -> torch.Tensor:
    """Return ``level / 255`` as a (batch, 1, height, width) tensor like ``like``."""
    if level is None:
        level = 0.0
    value = torch.as_tensor(level, dtype=like.dtype, device=like.device) / 255.0
    if value.dim() == 0:
        value = value.view(1, 1, 1, 1)
    elif value.dim() == 1:
        value = value.view(-1, 1, 1, 1)
    return value.expand(batch, 1, height, width)


def parameter_count(model: nn.Module) -> int:
    """Return the number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
