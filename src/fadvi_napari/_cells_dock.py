"""The "Cells" dock: which latent space the Points layer shows, what colours it, a legend.

napari draws the colours from the layer's features but has no legend; this dock names each
colour, and clicking a category selects its cells (which feeds the predictions and
explanations panels like any napari selection).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtGui import QColor, QIcon, QPixmap
from qtpy.QtWidgets import (
    QComboBox, QFormLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget,
)

from fadvi_napari._bridge import bridge_for
from fadvi_napari._layer import LAYER_SPACES

if TYPE_CHECKING:
    from napari.viewer import Viewer

_SWATCH_PX = 12
_NUMBERS = "Coloured by a number: dark (low) to yellow (high), viridis."
_NO_CELLS = "The cells appear here once the data has latent spaces (after training)."


class CellsDock(QWidget):
    """Choose the latent space and the colouring of the cells' layer; read its legend."""

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__()
        self.setObjectName("fadvi_cells_dock")
        self.bridge = bridge_for(napari_viewer)
        self.cells = self.bridge.cells
        self.space_combo = QComboBox()
        self.space_combo.addItems(list(LAYER_SPACES))
        self.space_combo.setToolTip("z_l: cell types, batch removed; z_b: batch; z_r: the rest.")
        self.colour_combo = QComboBox()
        self.colour_combo.setToolTip("A feature of the layer: batch, label, prediction, "
                                     "confidence, novelty (when the data has it) or a gene.")
        self.note = QLabel(_NO_CELLS)
        self.note.setWordWrap(True)
        self.legend = QListWidget()
        self.legend.setToolTip("Click a category to select its cells.")
        form = QFormLayout()
        form.addRow("Latent space", self.space_combo)
        form.addRow("Colour by", self.colour_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.legend, 1)
        self.space_combo.currentTextChanged.connect(self._on_space_combo_changed)
        self.colour_combo.activated.connect(self._on_colour_combo_activated)
        self.legend.itemClicked.connect(self._on_legend_item_clicked)
        self.cells.changed.connect(self.refresh)
        self.bridge.add_dock(self)
        self.refresh()

    def refresh(self) -> None:
        """Show the layer's current features, colouring and legend."""
        cells = self.cells
        self.colour_combo.blockSignals(True)
        self.colour_combo.clear()
        self.colour_combo.addItems(cells.features())
        if cells.coloured_by is not None:
            self.colour_combo.setCurrentText(cells.coloured_by)
        self.colour_combo.blockSignals(False)
        self.colour_combo.setEnabled(cells.layer is not None)
        self.space_combo.blockSignals(True)
        self.space_combo.setCurrentText(cells.space)
        self.space_combo.blockSignals(False)
        self.legend.clear()
        for category, rgba in cells.legend():
            self.legend.addItem(QListWidgetItem(_swatch(rgba), category))
        if cells.layer is None:
            self.note.setText(_NO_CELLS)
        else:
            self.note.setText("" if self.legend.count() else _NUMBERS)
        self.note.setVisible(bool(self.note.text()))

    def _on_space_combo_changed(self, space: str) -> None:
        if space and space != self.cells.space:
            self.cells.show_space(space)

    def _on_colour_combo_activated(self, _index: int) -> None:
        name = self.colour_combo.currentText()
        if name:
            self.cells.colour_by(name)

    def _on_legend_item_clicked(self, item: QListWidgetItem) -> None:
        if self.cells.coloured_by is not None:
            self.cells.select_category(self.cells.coloured_by, item.text())


def _swatch(rgba: np.ndarray) -> QIcon:
    pixmap = QPixmap(_SWATCH_PX, _SWATCH_PX)
    r, g, b, a = (int(round(float(v) * 255)) for v in rgba[:4])
    pixmap.fill(QColor(r, g, b, a))
    return QIcon(pixmap)


__all__ = ["CellsDock"]
