"""The latent viewer's two rows of controls, built but not wired.

:class:`ViewerControls` only lays out widgets and offers small helpers to fill
them; the viewer panel connects their signals to its slots.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fadvi_gui.model.embedding import METHOD_LABELS, SPACE_LABELS

_MODES = (
    ("pan", "Pan", "Drag to move, wheel to zoom."),
    ("lasso", "Lasso", "Drag around cells to select them; Shift adds, Alt removes."),
    ("rect", "Rectangle", "Drag a box to select cells; Shift adds, Alt removes."),
)
#: Text of the colour-by entry that stands for a gene.
GENE_PREFIX = "Gene: "


class ViewerControls(QWidget):
    """Space, embedding and side-by-side; colour-by, gene search and export; selection tools; selection actions, status and progress."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.space_combo = QComboBox()
        self.space_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.space_combo.setMinimumContentsLength(9)
        self.space_combo.setToolTip("Latent space to embed: z_l is batch-corrected cell type.")
        self.method_combo = QComboBox()
        for method in ("umap", "pca"):
            self.method_combo.addItem(METHOD_LABELS[method], method)
        self.method_combo.setToolTip("PCA appears at once; UMAP replaces it when ready.")
        self.side_by_side = QCheckBox("Side by side")
        self.side_by_side.setToolTip("Show z_b (batch) and z_l (cell type) next to each other.")
        self.side_by_side.setEnabled(False)
        self.query_only = QCheckBox("Query only")
        self.query_only.setToolTip("Show only your data's cells (the query), hiding the reference's cells.")
        self.query_only.setVisible(False)  # only while the data is annotated from a reference
        self.colour_combo = QComboBox()
        self.colour_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.colour_combo.setMinimumContentsLength(14)
        self.gene_edit = QLineEdit()
        self.gene_edit.setPlaceholderText("Gene…")
        self.gene_edit.setToolTip(
            "Type a gene name and press Enter to colour by its expression (log1p of normalised counts)."
        )
        self.export_button = QPushButton("Export…")
        top = QHBoxLayout()
        for label, widget in (("Space", self.space_combo), ("Embedding", self.method_combo)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addWidget(self.side_by_side)
        top.addStretch(1)
        # Short rows keep the viewer narrow enough for both docks beside it on a 1366 px screen.
        colour = QHBoxLayout()
        colour.addWidget(QLabel("Colour by"))
        colour.addWidget(self.colour_combo, 1)
        colour.addWidget(self.gene_edit, 1)
        colour.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(colour)
        tools, selection = self._build_selection_rows()
        layout.addLayout(tools)
        layout.addLayout(selection)

    def _build_selection_rows(self) -> tuple[QHBoxLayout, QHBoxLayout]:
        row = QHBoxLayout()
        self.mode_group = QButtonGroup(self)
        for mode, text, tip in _MODES:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setChecked(mode == "pan")
            button.setProperty("mode", mode)
            self.mode_group.addButton(button)
            row.addWidget(button)
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show all cells.")
        row.addWidget(self.fit_button)
        self.selection_label = QLabel("No cells selected")
        row.addSpacing(12)
        row.addWidget(self.selection_label)
        row.addStretch(1)
        tools, row = row, QHBoxLayout()
        # Tool buttons are narrower than push buttons: the viewer leaves room for docks at 1366 px.
        self.clear_button = _tool_button("Clear", "Select no cells.")
        self.invert_button = _tool_button("Invert", "Select the cells that are not selected, and only those.")
        self.save_button = _tool_button("Save as category")
        self.save_button.setToolTip("Add the selection to the data as a new obs column (selection_1, ...).")
        for button in (self.clear_button, self.invert_button, self.save_button):
            row.addWidget(button)
        row.addWidget(self.query_only)  # a short row: the viewer stays narrow at 1366 px
        row.addStretch(1)
        self.status = QLabel()
        # Long messages are cut rather than widening the window.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Showing progress must not widen the viewer (that would squeeze the docks beside it):
        # the bar takes only spare room, and Cancel's place is kept while it is hidden.
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress.setVisible(False)
        self.cancel_button = _tool_button("Cancel", "Stop computing this embedding.")
        policy = self.cancel_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.cancel_button.setSizePolicy(policy)
        self.cancel_button.setVisible(False)
        row.addWidget(self.status)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        return tools, row

    # -------------------------------------------------------------- helpers
    def set_spaces(self, spaces: list[str]) -> None:
        """List ``spaces``, keeping the current one when still listed; emits no signal."""
        current = self.space_combo.currentData()
        self.space_combo.blockSignals(True)
        self.space_combo.clear()
        for space in spaces:
            self.space_combo.addItem(SPACE_LABELS[space], space)
        if current in spaces:
            self.space_combo.setCurrentIndex(spaces.index(current))
        self.space_combo.blockSignals(False)

    def set_colour_choices(self, columns: list[str]) -> None:
        """List these obs columns under "Colour by"; emits no signal."""
        self.colour_combo.blockSignals(True)
        self.colour_combo.clear()
        for column in columns:
            self.colour_combo.addItem(str(column), column)
        self.colour_combo.blockSignals(False)

    def show_colour_choice(self, key: str) -> None:
        """Show ``key`` as the colour-by choice (a "Gene: key" entry if not a column); emits no signal."""
        self.colour_combo.blockSignals(True)
        index = self.colour_combo.findData(key)
        if index < 0:
            old = self.colour_combo.findText(GENE_PREFIX, Qt.MatchFlag.MatchStartsWith)
            if old >= 0:
                self.colour_combo.removeItem(old)
            self.colour_combo.addItem(f"{GENE_PREFIX}{key}", key)
            index = self.colour_combo.count() - 1
        self.colour_combo.setCurrentIndex(index)
        self.colour_combo.blockSignals(False)

    def show_progress(self, fraction: float | None, text: str) -> None:
        """Show a progress bar (busy when ``fraction`` is ``None``), Cancel, and ``text``."""
        self.progress.setRange(0, 0 if fraction is None else 1000)
        if fraction is not None:
            self.progress.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.status.setText(text)

    def hide_progress(self) -> None:
        """Hide the progress bar and Cancel, and clear the status text."""
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.status.setText("")


def _tool_button(text: str, tooltip: str = "") -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tooltip)
    return button
