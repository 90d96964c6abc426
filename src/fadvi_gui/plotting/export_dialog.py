"""A small dialog asking for the size and format of an exported figure."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from fadvi_gui.plotting.export import MAX_SIDE, MIN_SIDE


class ExportDialog(QDialog):
    """Width, height (pixels) and format (PNG or SVG) of a figure export.

    Parameters
    ----------
    width, height
        Sizes offered at first, e.g. the plot's size on screen.
    """

    def __init__(self, width: int, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the view")
        self._width = QSpinBox()
        self._height = QSpinBox()
        for box, value in ((self._width, width), (self._height, height)):
            box.setRange(MIN_SIDE, MAX_SIDE)
            box.setSuffix(" px")
            box.setValue(max(MIN_SIDE, min(MAX_SIDE, value)))
        self._format = QComboBox()
        self._format.addItem("PNG image", "png")
        self._format.addItem("SVG (vector text, points as an image)", "svg")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Width", self._width)
        form.addRow("Height", self._height)
        form.addRow("Format", self._format)
        form.addRow(buttons)

    def size_px(self) -> tuple[int, int]:
        """The chosen ``(width, height)`` in pixels."""
        return self._width.value(), self._height.value()

    def file_format(self) -> str:
        """``"png"`` or ``"svg"``."""
        return self._format.currentData()
