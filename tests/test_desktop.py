# SPDX-License-Identifier: MIT
"""install-desktop: the shipped launcher, icon and MIME type, installed and removed."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aegui import desktop
from aegui.cli import main
from aegui.core.container import MAGIC

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
INSTALLED = [
    "applications/aegui.desktop",
    "icons/hicolor/scalable/apps/aegui.svg",
    "mime/packages/aegui-aez.xml",
]


def read_desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_mime_definition_matches_container_magic() -> None:
    root = ET.parse(desktop.ASSETS / desktop.MIME_NAME).getroot()
    mime_type = root.find(f"{MIME_NS}mime-type")
    assert mime_type is not None
    match = mime_type.find(f"{MIME_NS}magic/{MIME_NS}match")
    assert match is not None
    glob = mime_type.find(f"{MIME_NS}glob")
    assert glob is not None

    value = (
        match.get("value", "")
        .encode("latin-1")
        .decode("unicode_escape")
        .encode("latin-1")
    )
    assert mime_type.get("type") == "application/x-aegui-aez"
    assert glob.get("pattern") == "*.aez"
    assert match.get("offset") == "0"
    assert match.get("type") == "string"
    assert value == MAGIC


def test_desktop_entry_declares_launcher() -> None:
    entry = read_desktop_entry(desktop.ASSETS / desktop.DESKTOP_NAME)

    assert entry["Type"] == "Application"
    assert entry["Exec"] == "aegui %F"
    assert entry["Icon"] == "aegui"
    assert "application/x-aegui-aez" in entry["MimeType"].split(";")


def test_icon_is_svg() -> None:
    root = ET.parse(desktop.ASSETS / "icons" / desktop.ICON_NAME).getroot()

    assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils"
)
def test_desktop_entry_validates() -> None:
    completed = subprocess.run(
        ["desktop-file-validate", str(desktop.ASSETS / desktop.DESKTOP_NAME)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_install_then_uninstall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))

    assert main(["install-desktop"]) == 0
    for relative in INSTALLED:
        assert (tmp_path / relative).is_file(), relative
    entry = read_desktop_entry(tmp_path / INSTALLED[0])
    assert entry["Exec"].endswith(" %F")
    assert Path(entry["TryExec"]).is_absolute()
    assert "installed" in capsys.readouterr().out

    assert main(["install-desktop", "--uninstall"]) == 0
    for relative in INSTALLED:
        assert not (tmp_path / relative).exists(), relative


def test_install_without_cache_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))

    lines = desktop.install(tmp_path / "share")

    assert not any("update-" in line for line in lines)
    entry = read_desktop_entry(tmp_path / "share" / INSTALLED[0])
    # Without an aegui script on PATH the launcher runs the module.
    assert entry["TryExec"] == sys.executable
    assert entry["Exec"].endswith(" -m aegui %F")


def test_data_home_ignores_relative_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")

    assert desktop.data_home() == Path.home() / ".local" / "share"


@pytest.mark.parametrize(
    ("argument", "quoted"),
    [
        ("/usr/bin/aegui", "/usr/bin/aegui"),
        ("/opt/my apps/aegui", '"/opt/my apps/aegui"'),
        ('/a"b/$x', '"/a\\"b/\\$x"'),
        ("/100%/aegui", "/100%%/aegui"),
    ],
)
def test_quote_exec_argument(argument: str, quoted: str) -> None:
    assert desktop.quote_exec_argument(argument) == quoted


def test_install_reports_missing_assets(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="aegui.desktop"):
        desktop.install(tmp_path / "share", assets=tmp_path / "no-assets")
