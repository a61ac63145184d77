# SPDX-License-Identifier: MIT
"""Data folder lookup: the source tree first, then the installed copy."""

from __future__ import annotations

import sys

from aegui import paths


def test_source_tree_folder_first(tmp_path, monkeypatch):
    (tmp_path / "src" / "assets").mkdir(parents=True)
    (tmp_path / "prefix" / "share" / "aegui" / "assets").mkdir(parents=True)
    monkeypatch.setattr(paths, "SOURCE_ROOT", tmp_path / "src")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert paths.data_dir("assets") == tmp_path / "src" / "assets"


def test_installed_copy_without_source(tmp_path, monkeypatch):
    installed = tmp_path / "prefix" / "share" / "aegui" / "pretrained"
    installed.mkdir(parents=True)
    monkeypatch.setattr(paths, "SOURCE_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert paths.data_dir("pretrained") == installed


def test_missing_folder_names_source_tree(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "SOURCE_ROOT", tmp_path / "src")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert paths.data_dir("pretrained") == tmp_path / "src" / "pretrained"


def test_this_checkout_has_both_folders():
    assert (paths.data_dir("pretrained") / "manifest.json").is_file()
    assert (paths.data_dir("assets") / "styles").is_dir()
