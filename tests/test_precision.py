# SPDX-License-Identifier: MIT
"""bfloat16 is chosen only where the CPU computes it natively."""

from __future__ import annotations

import platform

import pytest
import torch

from aegui.core.precision import native_bfloat16


def fake_cpu(
    monkeypatch: pytest.MonkeyPatch,
    *,
    onednn: bool,
    machine: str = "x86_64",
    avx512_bf16: bool = False,
    amx: bool = False,
) -> None:
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        # oneDNN emulates bfloat16 on AVX-512 alone and reports it as supported.
        ({"onednn": True}, False),
        ({"onednn": True, "avx512_bf16": True}, True),
        ({"onednn": True, "amx": True}, True),
        ({"onednn": False, "avx512_bf16": True}, False),
        ({"onednn": True, "machine": "aarch64"}, True),
        ({"onednn": False, "machine": "aarch64"}, False),
    ],
)
def test_native_bfloat16_per_cpu(
    monkeypatch: pytest.MonkeyPatch, cpu: dict, expected: bool
) -> None:
    fake_cpu(monkeypatch, **cpu)
    assert native_bfloat16() is expected


def test_native_bfloat16_without_cpu_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cpu(monkeypatch, onednn=True)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    assert native_bfloat16() is False
