# SPDX-License-Identifier: MIT
"""Mean-scale hyperprior codec with per-quality gain vectors.

The network follows Minnen, Ballé and Toderici (2018, arXiv:1809.02736), a
mean-scale version of the scale hyperprior of Ballé et al. (2018,
arXiv:1802.01436), and covers several rates with one set of weights by
multiplying the latent by a learned per-channel gain for each quality level, as in
Cui et al. (2021, arXiv:2003.02012)::

    x -> g_a -> y -> * gain[q] -> y_s -> Q -> y_hat_s -> * inv_gain[q] -> g_s -> x_hat
                                  |                ^
                                 h_a              N(mu, sigma)
                                  v                |
                                  z -> Q -> z_hat -> h_s

Inputs are float RGB in 0..1, NCHW, with height and width a multiple of 64
(``DOWNSAMPLING``): ``y`` is at 1/16 and ``z`` at 1/64 of the input size. The
hyper-decoder ``h_s`` uses only 3x3 convolutions, ReLU and pixel shuffles so that
it can be converted to an exact integer network for coding (``aegui.core.intnet``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aegui.core.models.layers import GDN, SubpixelUp, conv_down, conv_up

DOWNSAMPLING = 64

# Rate-distortion trade-offs, one per quality level, for a loss of
# bpp + lambda * 255^2 * MSE on 0..1 images (the scale CompressAI uses).
DEFAULT_LAMBDAS = (
    0.00045, 0.0009, 0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800,
)  # fmt: skip

# The Gaussian scales used for coding are quantized to a log-spaced table:
# sigma_i = exp((LOG_SCALE_OFFSET + LOG_SCALE_STEP * i) / LOG_SCALE_UNIT).
LOG_SCALE_UNIT = 256
LOG_SCALE_OFFSET = -565  # exp(-565 / 256) = 0.110
LOG_SCALE_STEP = 32  # a factor of exp(1/8) = 1.133 between neighbours
SCALE_LEVELS = 64
SCALE_MIN = math.exp(LOG_SCALE_OFFSET / LOG_SCALE_UNIT)
SCALE_MAX = math.exp(
    (LOG_SCALE_OFFSET + LOG_SCALE_STEP * (SCALE_LEVELS - 1)) / LOG_SCALE_UNIT
)


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round to the nearest integer with a straight-through gradient."""
    return x + (torch.round(x) - x).detach()


class LogisticMixturePrior(nn.Module):
    """Factorized density of the hyper-latent: a logistic mixture per channel.

    The likelihood of a quantized value ``v`` is ``cdf(v + 0.5) - cdf(v - 0.5)``,
    which during training is evaluated at ``v`` plus uniform noise.
    """

    def __init__(self, channels: int, components: int = 3) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(channels, components))
        means = torch.linspace(-1.0, 1.0, components).repeat(channels, 1)
        self.means = nn.Parameter(means)
        self.log_scales = nn.Parameter(torch.zeros(channels, components))

    def cdf(self, v: torch.Tensor) -> torch.Tensor:
        """Return the mixture CDF of ``v``, shaped (B, C, H, W), per channel."""
        weights = torch.softmax(self.logits, dim=-1)[:, None, None, :]
        means = self.means[:, None, None, :]
        scales = torch.exp(self.log_scales)[:, None, None, :]
        return (weights * torch.sigmoid((v.unsqueeze(-1) - means) / scales)).sum(-1)

    def likelihood(self, v: torch.Tensor) -> torch.Tensor:
        """Return the probability mass of the unit bin centred on ``v``."""
        return (self.cdf(v + 0.5) - self.cdf(v - 0.5)).clamp_min(1e-9)


def gaussian_likelihood(residual: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Return the mass of N(0, sigma) on the unit bin centred on ``residual``."""
    normal = torch.distributions.Normal(0.0, 1.0)
    magnitude = residual.abs()
    upper = normal.cdf((0.5 - magnitude) / sigma)
    lower = normal.cdf((-0.5 - magnitude) / sigma)
    return (upper - lower).clamp_min(1e-9)


class MeanScaleHyperprior(nn.Module):
    """Variable-rate mean-scale hyperprior codec.

    Args:
        N: channels of the hidden layers of ``g_a`` and ``g_s``.
        M: channels of the latent ``y``.
        hyper_channels: channels of the hyper-latent ``z`` and of ``h_a``/``h_s``.
        levels: number of quality levels, each with its own gain vectors.
    """

    def __init__(
        self, N: int = 96, M: int = 160, hyper_channels: int = 96, levels: int = 8
    ) -> None:
        super().__init__()
        self.N, self.M, self.hyper_channels, self.levels = N, M, hyper_channels, levels
        self.g_a = nn.Sequential(
            conv_down(3, N), GDN(N),
            conv_down(N, N), GDN(N),
            conv_down(N, N), GDN(N),
            conv_down(N, M),
        )  # fmt: skip
        self.g_s = nn.Sequential(
            conv_up(M, N), GDN(N, inverse=True),
            conv_up(N, N), GDN(N, inverse=True),
            conv_up(N, N), GDN(N, inverse=True),
            conv_up(N, 3),
        )  # fmt: skip
        self.h_a = nn.Sequential(
            nn.Conv2d(M, hyper_channels, 3, padding=1), nn.ReLU(),
            conv_down(hyper_channels, hyper_channels), nn.ReLU(),
            conv_down(hyper_channels, hyper_channels),
        )  # fmt: skip
        self.h_s = nn.Sequential(
            SubpixelUp(hyper_channels, hyper_channels), nn.ReLU(),
            SubpixelUp(hyper_channels, hyper_channels), nn.ReLU(),
            nn.Conv2d(hyper_channels, 2 * M, 3, padding=1),
        )  # fmt: skip
        self.z_prior = LogisticMixturePrior(hyper_channels)

        # Gains start proportional to sqrt(lambda), the step size that rate-distortion
        # theory predicts for a uniform quantizer at high rate.
        # Levels beyond the default table reuse its last lambda; trained weights
        # replace these starting values anyway.
        lambdas = torch.tensor(
            [DEFAULT_LAMBDAS[min(i, len(DEFAULT_LAMBDAS) - 1)] for i in range(levels)]
        )
        log_gain = 0.5 * torch.log(lambdas / lambdas[len(lambdas) // 2])
        self.log_gain = nn.Parameter(log_gain[:, None].repeat(1, M).clone())
        self.log_inv_gain = nn.Parameter(-log_gain[:, None].repeat(1, M).clone())

    def gains(self, level: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the gain and inverse gain for each sample, shaped (B, M, 1, 1)."""
        gain = torch.exp(self.log_gain[level])[:, :, None, None]
        inv_gain = torch.exp(self.log_inv_gain[level])[:, :, None, None]
        return gain, inv_gain

    def hyper_parameters(
        self, z_hat: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the mean and the log-scale of ``y_s`` predicted from ``z_hat``."""
        params = self.h_s(z_hat)
        mu, log_sigma = params.chunk(2, dim=1)
        low = LOG_SCALE_OFFSET / LOG_SCALE_UNIT
        return mu, log_sigma.clamp(low, math.log(SCALE_MAX))

    def forward(self, x: torch.Tensor, level: torch.Tensor) -> dict[str, object]:
        """Run the training-time pass with noise for rates and rounding for ``g_s``.

        Returns ``x_hat`` and ``likelihoods`` (a dict with ``y`` and ``z``).
        """
        gain, inv_gain = self.gains(level)
        y = self.g_a(x).float()
        y_s = y * gain

        with torch.autocast(x.device.type, enabled=False):
            z = self.h_a(y_s)
            z_noisy = z + torch.empty_like(z).uniform_(-0.5, 0.5)
            z_likelihood = self.z_prior.likelihood(z_noisy)
            mu, log_sigma = self.hyper_parameters(round_ste(z))
            sigma = torch.exp(log_sigma)
            y_noisy = y_s + torch.empty_like(y_s).uniform_(-0.5, 0.5)
            y_likelihood = gaussian_likelihood(y_noisy - mu, sigma)

        y_hat_s = round_ste(y_s - mu) + mu
        x_hat = self.g_s(y_hat_s * inv_gain)
        return {"x_hat": x_hat, "likelihoods": {"y": y_likelihood, "z": z_likelihood}}


def resample_gains(
    log_gains: torch.Tensor, lambdas: list[float], new_lambdas: list[float]
) -> torch.Tensor:
    """Return gain rows for ``new_lambdas``, interpolated linearly in log lambda.

    ``log_gains`` has one row per entry of ``lambdas`` (ascending). A new lambda
    outside that range is extrapolated from the two nearest rows, which only
    gives training a starting point: such a level still needs training.
    """
    if len(lambdas) < 2:
        raise ValueError(f"Need at least two lambdas to resample gains, got {lambdas}")
    known = torch.log(torch.tensor(lambdas, dtype=torch.float64))
    rows = []
    for value in new_lambdas:
        position = math.log(value)
        right = int(
            torch.searchsorted(known, torch.tensor(position, dtype=torch.float64))
        )
        right = min(max(right, 1), len(lambdas) - 1)
        left = right - 1
        weight = (position - float(known[left])) / float(known[right] - known[left])
        rows.append(log_gains[left] + weight * (log_gains[right] - log_gains[left]))
    return torch.stack(rows)
