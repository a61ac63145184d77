# SPDX-License-Identifier: MIT
"""The import direction core <- app <- qt, checked on the source and at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "aegui"


def imported_modules(path: Path, module_level_only: bool) -> list[tuple[int, str]]:
    """Return (line, module) for each import in ``path``, optionally top level only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def python_files(layer: str) -> list[Path]:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"no Python files found in aegui/{layer}"
    return files


def run_python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_core_never_imports_qt() -> None:
    offenders = [
        f"{path.name}:{line} {module}"
        for path in python_files("core")
        for line, module in imported_modules(path, module_level_only=False)
        if module.split(".")[0] in {"PySide6", "shiboken6"}
        or module.startswith("aegui.app")
        or module.startswith("aegui.qt")
    ]
    assert offenders == []


def test_app_uses_qtcore_only() -> None:
    offenders = [
        f"{path.name}:{line} {module}"
        for path in python_files("app")
        for line, module in imported_modules(path, module_level_only=False)
        if (
            module.startswith("PySide6") and module not in {"PySide6", "PySide6.QtCore"}
        )
        or module.startswith("aegui.qt")
    ]
    assert offenders == []


def test_app_has_no_module_level_torch() -> None:
    offenders = [
        f"{path.name}:{line} {module}"
        for path in python_files("app")
        for line, module in imported_modules(path, module_level_only=True)
        if module.split(".")[0] == "torch"
    ]
    assert offenders == []


def test_qt_never_imports_torch_or_core() -> None:
    offenders = [
        f"{path.name}:{line} {module}"
        for path in python_files("qt")
        for line, module in imported_modules(path, module_level_only=False)
        if module.split(".")[0] == "torch" or module.startswith("aegui.core")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "module", ["aegui.qt.main", "aegui.app.queue", "aegui.app.preview"]
)
def test_window_import_leaves_torch_unloaded(module: str) -> None:
    output = run_python(f"import sys, {module}; print('torch' in sys.modules)")
    assert output == "False"


def test_core_import_leaves_qt_unloaded() -> None:
    modules = [
        "aegui.core",
        "aegui.core.tasks",
        "aegui.core.zoo",
        "aegui.core.codec",
        "aegui.core.container",
        "aegui.core.imageio",
    ]
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in modules)
        + "print(sorted(name for name in sys.modules if name.startswith('PySide6')))"
    )
    assert run_python(code) == "[]"
