# SPDX-License-Identifier: MIT
"""The shared argparse types."""

from __future__ import annotations

import argparse

import pytest

from aegui.argtypes import DefaultsHelpFormatter, above_zero
from aegui.training.loop import training_threads


@pytest.mark.parametrize("text", ["0", "-3"])
def test_whole_number_rejects_zero_and_below(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="choose 1 or more"):
        above_zero(int)(text)


@pytest.mark.parametrize("text", ["0", "-0.5", "nan"])
def test_float_rejects_zero_below_and_nan(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="choose a number above 0"):
        above_zero(float)(text)


def test_text_is_not_a_number() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid number 'two'"):
        above_zero(int)("two")


def test_values_above_zero_pass() -> None:
    assert above_zero(int)("3") == 3
    assert above_zero(float)("0.25") == 0.25
    assert above_zero(float)("inf") == float("inf")


@pytest.mark.parametrize(("text", "expected"), [("0", 0), ("1", 1), ("1024", 1024)])
def test_training_threads_accepts(text, expected):
    assert training_threads(text) == expected


@pytest.mark.parametrize("text", ["-1", "1025", "many"])
def test_training_threads_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        training_threads(text)


def test_help_lists_tuple_defaults() -> None:
    parser = argparse.ArgumentParser(formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--width", default=(8, 16, 64), help="channels")
    parser.add_argument("--crop", type=int, default=128, help="crop size")
    parser.add_argument("--bf16", action="store_true", help="bfloat16")
    text = " ".join(parser.format_help().split())
    assert "channels (default: 8,16,64)" in text
    assert "crop size (default: 128)" in text
    assert "bfloat16 (default" not in text
