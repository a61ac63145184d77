# SPDX-License-Identifier: MIT
"""Style transfer autoencoder: a VGG-like encoder, AdaIN and a mirrored decoder.

The layout follows "Arbitrary Style Transfer in Real-time with Adaptive
Instance Normalization" (Huang and Belongie, 2017, arXiv:1703.06868), with an
encoder trained in this project instead of an ImageNet VGG-19, which cannot be
downloaded here. The encoder has four stages of 3x3 convolutions with ReLU and
no normalization, separated by 2x2 max pooling. The last stage's output
(``relu4``, 1/8 of the input size) is the bottleneck that AdaIN acts on::

    photo -> enc1 -> pool -> enc2 -> pool -> enc3 -> pool -> enc4 = f_c
    style -> (same encoder) -> mean/std of f_s
    t = f_c + strength * (adain(f_c, f_s) - f_c)
    t -> dec4 -> up -> dec3 -> up -> dec2 -> up -> dec1 -> output

The frozen encoder is also the loss network of the decoder's training: the
content loss compares the re-encoded output with ``t`` at ``relu4`` and the
style loss compares channel means and standard deviations at relu1 to relu4.

Inputs are float RGB in 0..1, NCHW, of any size. The encoder subtracts 0.5
itself. Every convolution pads by reflection (replication for inputs of one
pixel), so borders are not darkened by zeros. ``Stylizer.forward`` pads the
image on the bottom and right to a multiple of ``STRIDE`` in the same way and
crops the result back, so the output has the input's size. The output is not
clipped and is float32, also for a network converted to bfloat16.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

ARCHITECTURE = "adain-vgg4"
# The same network whose decoder convolutions also take a gain and a bias per
# channel from the style (``StyleModulation``).
MODULATED_ARCHITECTURE = "adain-film-vgg4"
ARCHITECTURES = (ARCHITECTURE, MODULATED_ARCHITECTURE)
STRIDE = 8  # three 2x2 max poolings
# Stage widths of the shipped network: narrow at full and half resolution,
# where channels cost the most time, and the usual 64 and 128 below.
DEFAULT_WIDTHS = (8, 16, 64, 128)
LAYERS = ("relu1", "relu2", "relu3", "relu4")
EPSILON = 1e-5  # added to variances before the square root

# Input pixels beyond each side of an output pixel (or, for the encoder, of
# the 8x8 block behind a relu4 cell) that can change it. Measured on the
# gradient of a network with positive weights, and tests/test_stylize.py
# checks them.
ENCODER_RADIUS = 22
RECEPTIVE_RADIUS = 51


class ReflectConv(nn.Module):
    """3x3 convolution after one pixel of reflection padding (replication if too small)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the convolution of ``x`` at the same height and width."""
        if x.shape[-1] > 1 and x.shape[-2] > 1:
            return self.conv(reflect_pad_one(x))
        return self.conv(F.pad(x, (1, 1, 1, 1), mode="replicate"))


def reflect_pad_one(x: torch.Tensor) -> torch.Tensor:
    """Return ``F.pad(x, (1, 1, 1, 1), mode="reflect")`` in the memory format of ``x``.

    ``F.pad`` in reflect mode is slow on channels-last tensors (5.9 ms against
    1.7 ms for this copy, float32 16x512x768, torch 2.13 on 2 cores of an AMD
    EPYC), and at full resolution it ran longer than the convolutions.
    """
    batch, channels, height, width = x.shape
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    padded = torch.empty(
        (batch, channels, height + 2, width + 2),
        dtype=x.dtype,
        device=x.device,
        memory_format=torch.channels_last if channels_last else torch.contiguous_format,
    )
    padded[:, :, 1:-1, 1:-1] = x
    padded[:, :, 0, 1:-1] = x[:, :, 1]
    padded[:, :, -1, 1:-1] = x[:, :, -2]
    padded[:, :, :, 0] = padded[:, :, :, 2]
    padded[:, :, :, -1] = padded[:, :, :, -3]
    return padded


def conv_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    """Return a padded 3x3 convolution and a ReLU."""
    return [ReflectConv(in_channels, out_channels), nn.ReLU(inplace=True)]


Widths = tuple[int, int, int, int]


def channel_widths(width: int | Sequence[int]) -> Widths:
    """Return the channels of the four stages.

    A single ``width`` doubles from stage to stage (16 gives 16, 32, 64, 128).
    Four numbers are taken as they are. They let the full-resolution stages,
    which cost the most time per channel, be narrower than the doubling rule.
    """
    if isinstance(width, int):
        widths = (width, 2 * width, 4 * width, 8 * width)
    else:
        widths = tuple(int(w) for w in width)
    if len(widths) != 4 or min(widths) < 1:
        raise ValueError(
            f"Invalid width {width}: expected a positive channel count "
            "or four of them, one per stage"
        )
    return widths  # type: ignore[return-value]


def config_widths(config: Mapping[str, Any]) -> Widths:
    """Return the stage widths of a saved config ("widths", or the older "width")."""
    return channel_widths(config["widths"] if "widths" in config else config["width"])


def widths_label(widths: Widths) -> str:
    """Return a short name of the widths for model ids: "w16" or "w8-16-64-128"."""
    if widths == channel_widths(widths[0]):
        return f"w{widths[0]}"
    return "w" + "-".join(str(w) for w in widths)


class Encoder(nn.Module):
    """VGG-like feature extractor returning relu1 to relu4 at scales 1, 1/2, 1/4, 1/8."""

    def __init__(self, width: int | Sequence[int] = DEFAULT_WIDTHS) -> None:
        super().__init__()
        w1, w2, w3, w4 = channel_widths(width)
        self.enc1 = nn.Sequential(*conv_relu(3, w1), *conv_relu(w1, w1))
        self.enc2 = nn.Sequential(*conv_relu(w1, w2), *conv_relu(w2, w2))
        self.enc3 = nn.Sequential(*conv_relu(w2, w3), *conv_relu(w3, w3))
        self.enc4 = nn.Sequential(*conv_relu(w3, w4))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the four feature maps of ``x`` (N, 3, H, W), H and W multiples of 8."""
        # The input is centred in its own precision before it takes the weights'
        # dtype, so a bfloat16 network gets the same rounding as under autocast.
        relu1 = self.enc1((x - 0.5).to(self.enc1[0].conv.weight.dtype))
        relu2 = self.enc2(F.max_pool2d(relu1, 2))
        relu3 = self.enc3(F.max_pool2d(relu2, 2))
        relu4 = self.enc4(F.max_pool2d(relu3, 2))
        return [relu1, relu2, relu3, relu4]

    def bottleneck(self, x: torch.Tensor) -> torch.Tensor:
        """Return only relu4, the features AdaIN acts on."""
        return self.forward(x)[-1]


class Decoder(nn.Module):
    """Mirror of the encoder: relu4 features back to RGB, nearest-neighbour upsampling."""

    def __init__(self, width: int | Sequence[int] = DEFAULT_WIDTHS) -> None:
        super().__init__()
        w1, w2, w3, w4 = channel_widths(width)
        self.dec4 = nn.Sequential(*conv_relu(w4, w3))
        self.dec3 = nn.Sequential(*conv_relu(w3, w3), *conv_relu(w3, w2))
        self.dec2 = nn.Sequential(*conv_relu(w2, w2), *conv_relu(w2, w1))
        self.dec1 = nn.Sequential(*conv_relu(w1, w1), ReflectConv(w1, 3))

    def modulated_channels(self) -> list[int]:
        """Return the output channels of every convolution but the last, in order."""
        return [
            module.conv.out_channels
            for stage in (self.dec4, self.dec3, self.dec2, self.dec1)
            for module in stage
            if isinstance(module, ReflectConv)
        ][:-1]

    def forward(
        self, features: torch.Tensor, modulation: Sequence[torch.Tensor] = ()
    ) -> torch.Tensor:
        """Return the RGB image (N, 3, 8h, 8w) for relu4 features (N, C, h, w).

        ``modulation``, when given, contains a (N, 2, C, 1, 1) gain and bias for
        each convolution of ``modulated_channels``: its output ``x`` becomes
        ``x * (1 + gain) + bias`` before the ReLU.
        """
        films = iter(modulation)
        x = features
        for index, stage in enumerate((self.dec4, self.dec3, self.dec2, self.dec1)):
            if index:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            for module in stage:
                x = module(x)
                if isinstance(module, ReflectConv) and modulation:
                    film = next(films, None)
                    if film is not None:
                        film = film.to(x.dtype)
                        x = x * (1.0 + film[:, 0]) + film[:, 1]
        return x.float() + 0.5


# Style code: channel means and log standard deviations of relu1 to relu4,
# and the channel correlations of relu1 and relu2, because the means and
# deviations of their few channels alone describe texture poorly.
CORRELATION_LAYERS = 2
CODE_HIDDEN = 256


def code_size(widths: Widths) -> int:
    """Return the length of ``style_code`` for a network with ``widths``."""
    pairs = sum(w * (w - 1) // 2 for w in widths[:CORRELATION_LAYERS])
    return 2 * sum(widths) + pairs


def _centred_moments(
    features: torch.Tensor, epsilon: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the channel means and variances (N, C) and the centred values (N, C, HW)."""
    flat = features.float().flatten(2)
    mean = flat.mean(dim=2)
    centred = flat - mean[:, :, None]
    return mean, centred.pow(2).mean(dim=2) + epsilon, centred


def channel_moments(
    features: torch.Tensor, epsilon: float = EPSILON
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the channel means and variances (N, C) and correlations (N, C, C).

    ``epsilon`` is added to the variances before the correlations divide by
    their square roots, so flat channels do not divide by zero.
    """
    mean, variance, centred = _centred_moments(features, epsilon)
    std = variance.sqrt()
    covariance = centred @ centred.transpose(1, 2) / centred.shape[2]
    return mean, variance, covariance / (std[:, :, None] * std[:, None, :])


def style_code(features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Return the (N, code_size) style code of relu1 to relu4 features."""
    parts = []
    for index, layer in enumerate(features):
        if index < CORRELATION_LAYERS:
            mean, variance, correlation = channel_moments(layer)
            rows, cols = torch.triu_indices(layer.shape[1], layer.shape[1], 1)
            parts += [mean, 0.5 * variance.log(), correlation[:, rows, cols]]
        else:
            mean, variance, _ = _centred_moments(layer, EPSILON)
            parts += [mean, 0.5 * variance.log()]
    return torch.cat(parts, dim=1)


class StyleModulation(nn.Module):
    """Map a style code to a gain and a bias for each modulated decoder channel.

    A small perceptron, as in the style prediction network of "Exploring the
    structure of a real-time, arbitrary neural artistic stylization network"
    (Ghiasi et al., 2017, arXiv:1705.06830), here without normalization so
    that tiles of one photo decode alike. The last layer starts at zero, so a
    new modulation leaves the decoder as it was.
    """

    def __init__(self, widths: Widths, channels: Sequence[int]) -> None:
        super().__init__()
        self.channels = list(channels)
        self.hidden = nn.Linear(code_size(widths), CODE_HIDDEN)
        self.out = nn.Linear(CODE_HIDDEN, 2 * sum(self.channels))
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, code: torch.Tensor, strength: float = 1.0) -> list[torch.Tensor]:
        """Return one (N, 2, C, 1, 1) gain and bias per channel count, scaled by ``strength``."""
        hidden = F.relu(self.hidden(code.to(self.hidden.weight.dtype)))
        values = self.out(hidden) * strength
        films = []
        start = 0
        for channels in self.channels:
            chunk = values[:, start : start + 2 * channels]
            films.append(chunk.reshape(-1, 2, channels, 1, 1))
            start += 2 * channels
        return films


def mean_std(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the per-channel mean and standard deviation, each (N, C, 1, 1)."""
    flat = features.flatten(2)
    mean = flat.mean(dim=2)
    std = (flat.var(dim=2, unbiased=False) + EPSILON).sqrt()
    return mean[:, :, None, None], std[:, :, None, None]


def adain(
    content: torch.Tensor,
    style_mean: torch.Tensor,
    style_std: torch.Tensor,
    content_mean: torch.Tensor | None = None,
    content_std: torch.Tensor | None = None,
) -> torch.Tensor:
    """Give ``content`` features the channel mean and std of the style.

    The content statistics are those of ``content`` itself unless given, so
    tiles of one photo can all be normalized with the whole photo's statistics.
    """
    if content_mean is None or content_std is None:
        content_mean, content_std = mean_std(content)
    return (content - content_mean) / content_std * style_std + style_mean


def pad_to_stride(x: torch.Tensor) -> torch.Tensor:
    """Pad (N, C, H, W) on the bottom and right to multiples of STRIDE."""
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % STRIDE, -width % STRIDE
    if not pad_h and not pad_w:
        return x
    # Reflection needs more pixels than it pads, so tiny inputs repeat the edge.
    mode = "reflect" if height > pad_h and width > pad_w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


class Stylizer(nn.Module):
    """Encoder, AdaIN and decoder for arbitrary style transfer.

    Args:
        width: channels of the first encoder stage, the later stages having
            2, 4 and 8 times as many, or the four stage widths. The decoder
            mirrors them.
        modulated: also give the decoder's convolutions a gain and a bias per
            channel computed from the style (``StyleModulation``).
    """

    def __init__(
        self, width: int | Sequence[int] = DEFAULT_WIDTHS, modulated: bool = False
    ) -> None:
        super().__init__()
        self.widths = channel_widths(width)
        self.encoder = Encoder(self.widths)
        self.decoder = Decoder(self.widths)
        self.modulation = (
            StyleModulation(self.widths, self.decoder.modulated_channels())
            if modulated
            else None
        )

    @property
    def architecture(self) -> str:
        """Return the architecture name stored with the weights."""
        return ARCHITECTURE if self.modulation is None else MODULATED_ARCHITECTURE

    def config(self) -> dict[str, object]:
        """Return the constructor arguments, as stored with exported weights."""
        return {"architecture": self.architecture, "widths": list(self.widths)}

    def forward(
        self,
        content: torch.Tensor,
        style_mean: torch.Tensor,
        style_std: torch.Tensor,
        strength: float = 1.0,
        content_mean: torch.Tensor | None = None,
        content_std: torch.Tensor | None = None,
        code: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return ``content`` (N, 3, H, W) repainted with the style statistics.

        ``style_mean`` and ``style_std`` are relu4 statistics from ``mean_std``,
        and ``code`` the style's ``style_code``, which a modulated network
        needs. ``strength`` 0 skips AdaIN and the modulation, so the result is
        the decoder's reconstruction of the content, and 1 applies both fully.
        """
        height, width = content.shape[-2:]
        features = self.encoder.bottleneck(pad_to_stride(content))
        modulation: list[torch.Tensor] = []
        if strength != 0.0:
            # AdaIN runs in float32 whatever the network's dtype, because the
            # normalized features need more than bfloat16's 8-bit mantissa.
            dtype = features.dtype
            features = features.float()
            target = adain(features, style_mean, style_std, content_mean, content_std)
            features = (features + strength * (target - features)).to(dtype)
            if self.modulation is not None:
                if code is None:
                    raise ValueError(
                        "Missing style code: a modulated stylizer needs one"
                    )
                modulation = self.modulation(code, strength)
        return self.decoder(features, modulation)[:, :, :height, :width]


def parameter_count(model: nn.Module) -> int:
    """Return the number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
