# SPDX-License-Identifier: MIT
"""Exceptions that carry a message meant for the user."""

from __future__ import annotations


class AeguiError(Exception):
    """Base class of the errors aegui reports to the user as they are."""


class ImageReadError(AeguiError):
    """An input image is missing, unreadable or unsupported."""


class AezFormatError(AeguiError):
    """A ``.aez`` file is truncated, corrupted, foreign or of an unknown version."""


class ModelError(AeguiError):
    """A model's weights are missing, corrupted or do not match the manifest."""


class OutputExistsError(AeguiError):
    """An output file exists and overwriting was not requested."""


class OutputWriteError(AeguiError):
    """An output cannot be written: its name is a folder, or its folder is a file."""
