# SPDX-License-Identifier: MIT
"""Argument types shared by the aegui command and its training commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

Number = TypeVar("Number", int, float)


def above_zero(kind: Callable[[str], Number]) -> Callable[[str], Number]:
    """Return an argparse type that parses with ``kind`` and rejects 0 and below."""
    lowest = "1 or more" if kind is int else "a number above 0"

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        # "not above" also catches NaN, which no comparison accepts.
        if not value > 0:
            raise argparse.ArgumentTypeError(f"invalid value {text}: choose {lowest}")
        return value

    return parse


# PyTorch 2.13 crashed (segmentation fault) with 40,000 threads, and no CPU
# has more than a few hundred cores.
MAX_THREADS = 1024


def thread_count(text: str) -> int:
    """Parse a thread count from 1 to MAX_THREADS."""
    value = above_zero(int)(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(
            f"invalid value {text}: choose at most {MAX_THREADS} threads"
        )
    return value


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help formatter that shows defaults, except for flags and required options."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        if (
            isinstance(action.default, (tuple, list))
            and action.nargs is None
            and action.help
            and "%(default)" not in action.help
        ):
            # Shown as the comma-separated form the option takes, not as a tuple.
            listed = ",".join(str(value) for value in action.default)
            return f"{action.help} (default: {listed})"
        return super()._get_help_string(action)
