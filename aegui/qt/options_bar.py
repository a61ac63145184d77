# SPDX-License-Identifier: MIT
"""Controls for new jobs: the operation, its options and the output folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

from aegui.app.jobs import OUTPUT_SUBFOLDER
from aegui.app.operations import OPERATIONS, OptionSpec


class OptionsBar(QWidget):
    """The operation chooser, one spin box per option, and the output folder.

    Every option of every operation is shown, because files the chosen
    operation does not take (an ``.aez`` while Compress is chosen) go to
    another operation, which still reads its own options from here.
    """

    operation_changed = Signal(str)
    option_changed = Signal(str, int)
    output_dir_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)

        self.operation = QComboBox(self)
        self.operation.setToolTip("Operation for new files that it accepts")
        for operation in OPERATIONS.values():
            self.operation.addItem(operation.label, operation.key)
        self.operation.currentIndexChanged.connect(self._on_operation_index)
        layout.addWidget(QLabel("&Operation:", self, buddy=self.operation))
        layout.addWidget(self.operation)

        self.option_boxes: dict[str, QSpinBox] = {}
        for spec in _unique_options():
            box = QSpinBox(self)
            box.setRange(spec.minimum, spec.maximum)
            box.setValue(spec.default)
            box.setToolTip(spec.tooltip)
            box.setObjectName(f"option_{spec.key}")
            box.valueChanged.connect(
                lambda value, key=spec.key: self.option_changed.emit(key, value)
            )
            layout.addSpacing(12)
            layout.addWidget(QLabel(f"{spec.label}:", self, buddy=box))
            layout.addWidget(box)
            self.option_boxes[spec.key] = box

        layout.addSpacing(12)
        self.output = QLineEdit(self)
        self.output.setReadOnly(True)
        self.output.setPlaceholderText(f"Beside each source, in {OUTPUT_SUBFOLDER}/")
        self.output.setMinimumWidth(220)
        self.output.setToolTip("Folder that receives the results")
        choose = QToolButton(self)
        choose.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        choose.setToolTip("Choose the output folder")
        choose.clicked.connect(self.choose_output_dir)
        reset = QToolButton(self)
        reset.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DialogResetButton)
        )
        reset.setToolTip(f"Write results beside each source, in {OUTPUT_SUBFOLDER}/")
        reset.clicked.connect(lambda: self.set_output_dir(None))
        layout.addWidget(QLabel("Output:", self, buddy=self.output))
        layout.addWidget(self.output, 1)
        layout.addWidget(choose)
        layout.addWidget(reset)
        self._output_dir: Path | None = None

    def current_operation(self) -> str:
        """Return the key of the chosen operation."""
        return str(self.operation.currentData())

    def set_operation(self, key: str) -> None:
        """Choose the operation ``key``."""
        index = self.operation.findData(key)
        if index >= 0:
            self.operation.setCurrentIndex(index)

    def option_values(self) -> dict[str, int]:
        """Return every option's value by key."""
        return {key: box.value() for key, box in self.option_boxes.items()}

    def set_option(self, key: str, value: int) -> None:
        """Set the value of option ``key`` (clamped to its range)."""
        if key in self.option_boxes:
            self.option_boxes[key].setValue(value)

    def set_option_maximum(self, key: str, maximum: int) -> None:
        """Narrow an option's range, e.g. to the loaded model's quality levels."""
        if key in self.option_boxes:
            self.option_boxes[key].setMaximum(maximum)

    def output_dir(self) -> Path | None:
        """Return the chosen output folder, or None for ``aegui-out`` folders."""
        return self._output_dir

    def set_output_dir(self, folder: Path | None) -> None:
        """Set the output folder; None writes beside each source."""
        self._output_dir = folder
        self.output.setText("" if folder is None else str(folder))
        self.output_dir_changed.emit(folder)

    def choose_output_dir(self) -> None:
        """Ask for an output folder with a folder dialog."""
        start = str(self._output_dir or Path.home())
        chosen = QFileDialog.getExistingDirectory(
            self, "Choose the output folder", start
        )
        if chosen:
            self.set_output_dir(Path(chosen))

    def _on_operation_index(self, index: int) -> None:
        self.operation_changed.emit(str(self.operation.itemData(index)))


def _unique_options() -> list[OptionSpec]:
    seen: dict[str, OptionSpec] = {}
    for operation in OPERATIONS.values():
        for spec in operation.options:
            seen.setdefault(spec.key, spec)
    return list(seen.values())
