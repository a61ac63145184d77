# SPDX-License-Identifier: MIT
"""aegui: compress, denoise and restyle photos with trained convolutional autoencoders."""

__version__ = "0.1.0"
