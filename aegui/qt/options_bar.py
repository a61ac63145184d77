# SPDX-License-Identifier: MIT
"""Controls for new jobs: the operation, its options and the output folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from aegui.app.jobs import OUTPUT_SUBFOLDER
from aegui.app.operations import OptionSpec, available_operations
from aegui.qt.style_picker import StylePicker

OptionWidget = QSpinBox | QCheckBox | QSlider | QComboBox | StylePicker


class FolderField(QLineEdit):
    """A read-only folder name that opens a folder dialog when activated.

    A click, Enter or Space emits ``activated``, so the field does not look
    editable while ignoring what is typed into it.
    """

    activated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.hasSelectedText():
            self.activated.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activated.emit()
            return
        super().keyPressEvent(event)


class OptionsBar(QToolBar):
    """The operation chooser, one control per option, and the output folder.

    Only the chosen operation's options are shown, so the bar fits a normal
    window. It is a tool bar, so option groups that do not fit a narrow
    window move into its extension menu instead of widening the window. The output folder controls are in ``output_bar``, which the owner
    places where it likes. The others keep their values, because files the chosen operation
    does not take (an ``.aez`` while Compress is chosen) go to another
    operation, which still reads its own options from here.
    """

    operation_changed = Signal(str)
    option_changed = Signal(str, int)
    output_dir_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Options", parent)
        self.setObjectName("optionsToolbar")
        self.setMovable(False)
        self.setFloatable(False)

        operation_group = QWidget(self)
        operation_layout = QHBoxLayout(operation_group)
        operation_layout.setContentsMargins(4, 2, 0, 2)
        self.operation = QComboBox(self)
        self.operation.setToolTip("Operation for new files that it accepts")
        self._option_keys: dict[str, set[str]] = {}
        for operation in available_operations():
            self.operation.addItem(operation.label, operation.key)
            self._option_keys[operation.key] = {spec.key for spec in operation.options}
        self.operation.currentIndexChanged.connect(self._on_operation_index)
        operation_layout.addWidget(QLabel("&Operation:", self, buddy=self.operation))
        operation_layout.addWidget(self.operation)
        self.addWidget(operation_group)

        self.option_boxes: dict[str, OptionWidget] = {}
        self.option_groups: dict[str, QWidget] = {}
        # Tool bars show and hide their widgets through these actions.
        self._group_actions: dict[str, QAction] = {}
        self.style_picker: StylePicker | None = None
        specs = _unique_options()
        self.option_specs = {spec.key: spec for spec in specs}
        for spec in specs:
            group = QWidget(self)
            group_layout = QHBoxLayout(group)
            group_layout.setContentsMargins(0, 2, 0, 2)
            box = self._add_option(group_layout, spec)
            # Groups keep their own width, so a wide window does not spread
            # a label away from its control.
            group.setSizePolicy(
                QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred
            )
            self._group_actions[spec.key] = self.addWidget(group)
            self.option_groups[spec.key] = group
            box.setToolTip(spec.tooltip)
            box.setObjectName(f"option_{spec.key}")
            self.option_boxes[spec.key] = box
        for spec in specs:
            if spec.disabled_by in self.option_boxes:
                self._link_disabled_by(spec.key, spec.disabled_by)

        # The output folder controls sit in a widget of their own, which the
        # window places in the row of the Open buttons, so the options row
        # keeps its width for the Stylize options.
        self.output_bar = QWidget(self)
        output_layout = QHBoxLayout(self.output_bar)
        output_layout.setContentsMargins(12, 0, 4, 0)
        self.output = FolderField(self.output_bar)
        self.output.setPlaceholderText(f"Beside each source, in {OUTPUT_SUBFOLDER}/")
        self.output.setMinimumWidth(220)
        self.output.setToolTip("Folder that receives the results; click to choose")
        self.output.activated.connect(self.choose_output_dir)
        choose = QToolButton(self.output_bar)
        choose.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        choose.setToolTip("Choose the output folder")
        choose.clicked.connect(self.choose_output_dir)
        reset = QToolButton(self.output_bar)
        reset.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DialogResetButton)
        )
        reset.setToolTip(f"Write results beside each source, in {OUTPUT_SUBFOLDER}/")
        reset.clicked.connect(lambda: self.set_output_dir(None))
        output_layout.addWidget(QLabel("Output:", self.output_bar, buddy=self.output))
        output_layout.addWidget(self.output, 1)
        output_layout.addWidget(choose)
        output_layout.addWidget(reset)
        self._output_dir: Path | None = None
        # Every group gets the height of the tallest, so the row keeps its
        # height when another operation shows other options.
        groups = [operation_group, *self.option_groups.values()]
        tallest = max(group.sizeHint().height() for group in groups)
        for group in groups:
            group.setMinimumHeight(tallest)
        self._show_options(self.current_operation())

    def _add_option(self, layout: QHBoxLayout, spec: OptionSpec) -> OptionWidget:
        layout.addSpacing(12)
        if spec.widget == "style":
            picker = StylePicker(self)
            picker.valueChanged.connect(
                lambda value, key=spec.key: self.option_changed.emit(key, value)
            )
            layout.addWidget(QLabel(f"{spec.label}:", self, buddy=picker.combo))
            layout.addWidget(picker)
            self.style_picker = picker
            return picker
        if spec.widget == "check":
            check = QCheckBox(spec.label, self)
            check.setChecked(bool(spec.default))
            check.toggled.connect(
                lambda checked, key=spec.key: self.option_changed.emit(
                    key, int(checked)
                )
            )
            layout.addWidget(check)
            return check
        if spec.widget == "choice":
            combo = QComboBox(self)
            labels = spec.choice_labels or tuple(str(c) for c in spec.choices)
            for choice, label in zip(spec.choices, labels, strict=True):
                combo.addItem(label, choice)
            combo.setCurrentIndex(combo.findData(spec.default))
            combo.currentIndexChanged.connect(
                lambda _, key=spec.key, combo=combo: self.option_changed.emit(
                    key, int(combo.currentData())
                )
            )
            layout.addWidget(QLabel(f"{spec.label}:", self, buddy=combo))
            layout.addWidget(combo)
            return combo
        box = (
            QSlider(Qt.Orientation.Horizontal, self)
            if spec.widget == "slider"
            else QSpinBox(self)
        )
        box.setRange(spec.minimum, spec.maximum)
        box.setValue(spec.default)
        box.valueChanged.connect(
            lambda value, key=spec.key: self.option_changed.emit(key, value)
        )
        layout.addWidget(QLabel(f"{spec.label}:", self, buddy=box))
        layout.addWidget(box)
        if isinstance(box, QSlider):
            # A slider shows no number, so a label beside it shows the value.
            box.setFixedWidth(160)
            value_label = QLabel(f"{spec.default}{spec.unit}", self)
            value_label.setMinimumWidth(
                value_label.fontMetrics().horizontalAdvance(
                    f"{spec.maximum}{spec.unit}"
                )
            )
            box.valueChanged.connect(
                lambda value: value_label.setText(f"{value}{spec.unit}")
            )
            layout.addWidget(value_label)
        return box

    def _link_disabled_by(self, key: str, check_key: str) -> None:
        check = self.option_boxes[check_key]
        if not isinstance(check, QCheckBox):
            raise TypeError(
                f"Option {key!r} is disabled by {check_key!r}, which is not a check box"
            )
        box = self.option_boxes[key]
        box.setEnabled(not check.isChecked())
        check.toggled.connect(lambda checked: box.setEnabled(not checked))

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
        return {key: _widget_value(box) for key, box in self.option_boxes.items()}

    def set_option(self, key: str, value: int) -> None:
        """Set the value of option ``key`` (clamped to its range)."""
        box = self.option_boxes.get(key)
        if isinstance(box, QCheckBox):
            box.setChecked(bool(value))
        elif isinstance(box, QComboBox):
            index = box.findData(value)
            if index >= 0:
                box.setCurrentIndex(index)
        elif box is not None:
            box.setValue(value)

    def set_option_maximum(self, key: str, maximum: int) -> None:
        """Narrow an option's range, e.g. to the loaded model's quality levels."""
        box = self.option_boxes.get(key)
        if box is not None and not isinstance(box, QCheckBox | QComboBox | StylePicker):
            box.setMaximum(maximum)

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
        key = str(self.operation.itemData(index))
        self._show_options(key)
        self.operation_changed.emit(key)

    def option_shown(self, key: str) -> bool:
        """Return whether the controls of option ``key`` are offered now."""
        return self._group_actions[key].isVisible()

    def _show_options(self, key: str) -> None:
        """Show the option controls of operation ``key`` and hide the others."""
        shown = self._option_keys.get(key, set())
        for option_key, action in self._group_actions.items():
            action.setVisible(option_key in shown)


def _widget_value(box: OptionWidget) -> int:
    if isinstance(box, QCheckBox):
        return int(box.isChecked())
    if isinstance(box, QComboBox):
        return int(box.currentData())
    return box.value()


def _unique_options() -> list[OptionSpec]:
    seen: dict[str, OptionSpec] = {}
    for operation in available_operations():
        for spec in operation.options:
            seen.setdefault(spec.key, spec)
    return list(seen.values())
