# SPDX-License-Identifier: MIT
"""The malloc settings that keep freed tensor memory in the process."""

from __future__ import annotations

import pytest

from aegui.core import memory


def test_settings_apply_on_glibc() -> None:
    if memory._glibc() is None:
        pytest.skip("the C library here is not glibc, so the settings do not apply")
    assert memory.keep_freed_memory()
    memory.release_freed_memory()


def test_other_libraries_left_alone(monkeypatch) -> None:
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    assert not memory.keep_freed_memory()
    memory.release_freed_memory()


def test_cli_start_keeps_freed_memory(monkeypatch, tmp_path) -> None:
    from aegui import cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(True))
    cli.main(["info", str(tmp_path / "missing.aez")])
    assert calls == [True]
