# SPDX-License-Identifier: MIT
"""Dialogs: the output-conflict question, the quit question and the About box."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from aegui import __version__
from aegui.app.jobs import ConflictChoice, Resolution, numbered_path


class ConflictDialog(QDialog):
    """Ask whether to overwrite, skip or rename when an output already exists."""

    def __init__(
        self, output: Path, source: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Output exists")
        self.resolution = Resolution.SKIP
        renamed = numbered_path(output, set()).name

        text = QLabel(
            f"<b>{output.name}</b> already exists in {output.parent}.<br><br>"
            f"It is the output for {source.name}. What should be done?",
            self,
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        self.apply_to_all = QCheckBox(
            "Do the same for the other conflicts in this batch", self
        )

        buttons = QDialogButtonBox(self)
        style = self.style()
        choices = (
            (
                "&Overwrite",
                Resolution.OVERWRITE,
                QStyle.StandardPixmap.SP_DialogSaveButton,
            ),
            ("&Skip", Resolution.SKIP, QStyle.StandardPixmap.SP_DialogCancelButton),
            (
                f"&Rename to {renamed}",
                Resolution.RENAME,
                QStyle.StandardPixmap.SP_FileIcon,
            ),
        )
        for label, resolution, icon in choices:
            button = QPushButton(style.standardIcon(icon), label, self)
            button.clicked.connect(lambda _=False, r=resolution: self._choose(r))
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
            if resolution is Resolution.RENAME:
                button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.apply_to_all)
        layout.addWidget(buttons)

    def _choose(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.accept()

    def choice(self) -> ConflictChoice:
        """Return the chosen resolution; closing the dialog counts as Skip."""
        return ConflictChoice(self.resolution, self.apply_to_all.isChecked())


def ask_conflict(parent: QWidget | None, output: Path, source: Path) -> ConflictChoice:
    """Show ConflictDialog modally and return the chosen resolution."""
    dialog = ConflictDialog(output, source, parent)
    dialog.exec()
    return dialog.choice()


def confirm_quit(
    parent: QWidget | None, unfinished: int, all_done: SignalInstance | None = None
) -> bool:
    """Ask whether to quit while ``unfinished`` jobs are queued or running.

    When ``all_done`` is emitted while the question is open, nothing is left
    to cancel, so the question closes as if Quit had been clicked.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit aegui?")
    if unfinished == 1:
        box.setText("1 job has not finished yet.")
        cancels = "Quitting cancels it."
    else:
        box.setText(f"{unfinished} jobs have not finished yet.")
        cancels = "Quitting cancels them."
    box.setInformativeText(
        f"{cancels} Finished files are kept, and no partial file is left."
    )
    quit_button = box.addButton("&Quit", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("&Keep Running", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    if all_done is not None:
        all_done.connect(quit_button.click)
    try:
        box.exec()
    finally:
        if all_done is not None:
            all_done.disconnect(quit_button.click)
    return box.clickedButton() is quit_button


def about_box(parent: QWidget, model_text: str) -> QMessageBox:
    """Return a non-modal About box; the caller shows it."""
    box = QMessageBox(parent)
    box.setWindowTitle("About aegui")
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        f"<h3>aegui {__version__}</h3>"
        "<p>Sends photos through trained convolutional autoencoders: it "
        "compresses them into small .aez files and opens them again, removes "
        "noise and damage, and repaints them in the style of a painting. Choose "
        "the job in the Operation box, then drop photos, .aez files or "
        "folders on the window.</p>"
        f"<p>{model_text}</p>"
        "<p>Shortcuts: Ctrl+O open files, Ctrl+Shift+O open a folder, Delete "
        "cancel the selected jobs, Ctrl+0 fit, Ctrl+1 100%, Ctrl++ or Ctrl+= and "
        "Ctrl+- zoom (or the mouse wheel), F1 this box, Ctrl+Q quit.</p>"
    )
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setModal(False)
    return box
