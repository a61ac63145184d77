# SPDX-License-Identifier: MIT
"""Install the launcher, icon and ``.aez`` MIME type for the current user.

Files go under ``$XDG_DATA_HOME`` (default ``~/.local/share``), as the XDG
Base Directory, Desktop Entry and shared-mime-info specifications expect::

    applications/aegui.desktop
    icons/hicolor/scalable/apps/aegui.svg
    mime/packages/aegui-aez.xml

Afterwards ``update-mime-database`` and ``update-desktop-database`` refresh
the caches when they are installed; without them the files still work once
the desktop rescans.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aegui.paths import data_dir

logger = logging.getLogger(__name__)

ASSETS = data_dir("assets")
DESKTOP_NAME = "aegui.desktop"
ICON_NAME = "aegui.svg"
MIME_NAME = "aegui-aez.xml"
UPDATE_TIMEOUT_S = 60


@dataclass(frozen=True)
class DesktopFile:
    """One installed file: where it comes from below ``assets/`` and where it goes."""

    source: str
    target: str


FILES = (
    DesktopFile(DESKTOP_NAME, f"applications/{DESKTOP_NAME}"),
    DesktopFile(f"icons/{ICON_NAME}", f"icons/hicolor/scalable/apps/{ICON_NAME}"),
    DesktopFile(MIME_NAME, f"mime/packages/{MIME_NAME}"),
)


def data_home() -> Path:
    """Return ``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or relative."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def launcher_command() -> list[str]:
    """Return the command that starts aegui from this installation."""
    script = shutil.which("aegui")
    if script is not None:
        return [str(Path(script).resolve())]
    return [sys.executable, "-m", "aegui"]


def quote_exec_argument(argument: str) -> str:
    """Quote one argument for a desktop entry's ``Exec`` key.

    The Desktop Entry specification requires double quotes around arguments
    with spaces or reserved characters, and a backslash before ``"``, `````,
    ``$`` and ``\\`` inside them. A literal ``%`` is written ``%%``.
    """
    argument = argument.replace("%", "%%")
    if not re.search(r"[\s\"'\\><~|&;$*?#()`]", argument):
        return argument
    escaped = re.sub(r'(["`$\\])', r"\\\1", argument)
    return f'"{escaped}"'


def desktop_entry(template: str, command: list[str]) -> str:
    """Return the launcher text with ``Exec`` and ``TryExec`` set to ``command``."""
    exec_line = " ".join(quote_exec_argument(part) for part in command) + " %F"
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(home: Path | None = None, assets: Path = ASSETS) -> list[str]:
    """Copy the launcher, icon and MIME type into ``home``; return what was done."""
    home = home or data_home()
    missing = [item.source for item in FILES if not (assets / item.source).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Missing desktop files in {assets}: {', '.join(missing)}; "
            "run install-desktop from a source checkout of aegui"
        )
    done = []
    for item in FILES:
        target = home / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.source == DESKTOP_NAME:
            template = (assets / item.source).read_text(encoding="utf-8")
            target.write_text(
                desktop_entry(template, launcher_command()), encoding="utf-8"
            )
        else:
            shutil.copyfile(assets / item.source, target)
        done.append(f"installed {target}")
    return done + refresh_caches(home)


def uninstall(home: Path | None = None) -> list[str]:
    """Remove the files ``install`` added to ``home``; return what was done."""
    home = home or data_home()
    done = []
    for item in FILES:
        target = home / item.target
        if target.exists():
            target.unlink()
            done.append(f"removed {target}")
        else:
            done.append(f"not installed: {target}")
    return done + refresh_caches(home)


def refresh_caches(home: Path) -> list[str]:
    """Run the MIME and desktop cache tools that exist; skip missing ones."""
    done = []
    for tool, folder in (
        ("update-mime-database", home / "mime"),
        ("update-desktop-database", home / "applications"),
    ):
        path = shutil.which(tool)
        if path is None or not folder.is_dir():
            logger.debug("Skipped %s: tool or %s missing", tool, folder)
            continue
        try:
            completed = subprocess.run(
                [path, str(folder)],
                capture_output=True,
                text=True,
                timeout=UPDATE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            done.append(f"warning: {tool} failed: {error}")
            continue
        if completed.returncode != 0:
            reason = completed.stderr.strip() or f"exit status {completed.returncode}"
            done.append(f"warning: {tool} failed: {reason}")
        else:
            done.append(f"ran {tool} {folder}")
    return done
