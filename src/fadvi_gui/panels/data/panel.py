"""Data panel: what was opened, which columns mean what, and whether it is fit to train on.

The panel only builds widgets from the data it is shown and emits requests;
the session does the reading, checking and dropping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget,
    QListWidgetItem, QPushButton, QScrollArea, QSpinBox, QStackedWidget, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)
from superqt import QCollapsible

from fadvi_gui.model.choices import NO_UNLABELLED, X_LAYER, DataChoices
from fadvi_gui.model.keys import SCVI_PREFIX
from fadvi_gui.panels.data import _obs_columns as cols
from fadvi_gui.panels.data._problem_list import ProblemList

if TYPE_CHECKING:
    from anndata import AnnData

NONE = "(none)"


class DataPanel(QWidget):
    """Summary of the open data and the choices that map it onto the model.

    Signals
    -------
    open_requested()
        The user wants to pick a file.
    open_demo_requested()
        The user wants the built-in demo data.
    choices_changed(object)
        A choice changed; carries the new :class:`~fadvi_gui.model.choices.DataChoices`.
    drop_cells_requested(object)
        The user accepted dropping cells; carries the boolean mask ``(n_cells,)``.
    """

    open_requested = Signal()
    open_demo_requested = Signal()
    choices_changed = Signal(object)
    drop_cells_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._obs: pd.DataFrame | None = None
        self._stack = QStackedWidget()
        self._stack.addWidget(self._build_welcome())
        self._stack.addWidget(self._build_details())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    # ------------------------------------------------------------------ build
    def _build_welcome(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        text = QLabel(
            "<h3>Start with your counts</h3>Open an .h5ad file, a 10x .h5 file or a 10x folder "
            "(or drop one on the window), or try the demo: 1,200 blood cells from three "
            "10x chemistries, labelled with nine cell types."
        )
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignCenter)
        layout.addWidget(text)
        self.open_button = QPushButton("Open file...")
        self.open_button.clicked.connect(self.open_requested)
        self.demo_button = QPushButton("Open demo data")
        self.demo_button.clicked.connect(self.open_demo_requested)
        for button in (self.open_button, self.demo_button):
            layout.addWidget(button, 0, Qt.AlignHCenter)
        layout.addStretch(2)
        return page

    def _build_details(self) -> QWidget:
        body = QWidget()
        layout = QVBoxLayout(body)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        summary_box = QGroupBox("Data")
        QVBoxLayout(summary_box).addWidget(self.summary_label)
        layout.addWidget(summary_box)
        self.reference_box = QGroupBox("Reference")  # File > Annotate with Reference...
        self.reference_label = QLabel()
        self.reference_label.setWordWrap(True)
        self.reference_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        QVBoxLayout(self.reference_box).addWidget(self.reference_label)
        self.reference_box.setVisible(False)
        layout.addWidget(self.reference_box)

        setup_box = QGroupBox("What is what")
        form = QFormLayout(setup_box)
        self.layer_combo = self._combo("Which matrix holds raw UMI counts (whole numbers).")
        self.batch_combo = self._combo("Column naming the batch (donor, run, chemistry) of each cell.")
        self.labels_combo = self._combo("Column holding the known cell type of each cell.")
        self.unlabelled_combo = self._combo("Value of the labels column that marks cells without a known type; their types get predicted.")
        form.addRow("Counts", self.layer_combo)
        form.addRow("Batch", self.batch_combo)
        form.addRow("Labels", self.labels_combo)
        form.addRow("Unlabelled value", self.unlabelled_combo)
        layout.addWidget(setup_box)

        self.covariates = QCollapsible("Covariates (optional)", expandedIcon="\u25be", collapsedIcon="\u25b8")
        self.categorical_list = self._check_list("Extra categorical nuisance factors to correct for.")
        self.continuous_list = self._check_list("Extra numeric nuisance factors to correct for (e.g. percent mito).")
        self.covariates.addWidget(QLabel("Categorical"))
        self.covariates.addWidget(self.categorical_list)
        self.covariates.addWidget(QLabel("Continuous"))
        self.covariates.addWidget(self.continuous_list)
        layout.addWidget(self.covariates)

        self.hvg_box = QGroupBox("Select highly variable genes")
        self.hvg_box.setCheckable(True)
        self.hvg_box.setChecked(False)
        self.hvg_box.setToolTip("Train on the most variable genes only (scanpy seurat_v3 on the counts).")
        hvg_layout = QHBoxLayout(self.hvg_box)
        self.hvg_spin = QSpinBox()
        self.hvg_spin.setRange(100, 100_000)
        self.hvg_spin.setSingleStep(500)
        self.hvg_spin.setValue(2000)
        self.hvg_spin.setSuffix(" genes")
        self.hvg_batch_check = QCheckBox("batch-aware")
        self.hvg_batch_check.setChecked(True)
        self.hvg_batch_check.setToolTip("Rank genes within each batch and combine the rankings.")
        hvg_layout.addWidget(self.hvg_spin)
        hvg_layout.addWidget(self.hvg_batch_check)
        self.hvg_box.toggled.connect(self._on_choice_changed)
        self.hvg_spin.editingFinished.connect(self._on_choice_changed)
        self.hvg_batch_check.toggled.connect(self._on_choice_changed)
        layout.addWidget(self.hvg_box)

        checks_box = QGroupBox("Checks")
        self.problem_list = ProblemList()
        self.problem_list.use_layer_requested.connect(self._on_problems_use_layer)
        self.problem_list.drop_cells_requested.connect(self.drop_cells_requested)
        QVBoxLayout(checks_box).addWidget(self.problem_list)
        layout.addWidget(checks_box)

        table_box = QGroupBox("Cells per label and batch")
        self.count_table = QTableWidget()
        self.count_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.count_table.setMinimumHeight(160)
        QVBoxLayout(table_box).addWidget(self.count_table)
        layout.addWidget(table_box, 1)

        self.layer_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.batch_combo.currentIndexChanged.connect(self._on_key_changed)
        self.labels_combo.currentIndexChanged.connect(self._on_labels_changed)
        self.unlabelled_combo.currentIndexChanged.connect(self._on_key_changed)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        return scroll

    def _combo(self, tooltip: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tooltip)
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        return combo

    def _check_list(self, tooltip: str) -> QListWidget:
        widget = QListWidget()
        widget.setToolTip(tooltip)
        widget.setMaximumHeight(110)
        widget.itemChanged.connect(self._on_choice_changed)
        return widget

    # ------------------------------------------------------------------ input
    def set_data(self, adata: AnnData, name: str, preferred: DataChoices | None = None) -> None:
        """Show ``adata`` and fill every choice from it.

        Parameters
        ----------
        adata
            The data in memory; only read.
        name
            File name to show.
        preferred
            Earlier choices to restore where the data has the same columns;
            otherwise choices are guessed from column names.
        """
        self._obs = adata.obs
        layers = [str(k) for k in adata.layers.keys()]
        shown = [str(c) for c in adata.obs.columns if not str(c).startswith(SCVI_PREFIX)]
        obs_names = ", ".join(shown) or "none"  # the engine's own registration columns hidden
        self.summary_label.setText(
            f"<b>{name}</b><br>{adata.n_obs:,} cells x {adata.n_vars:,} genes<br>"
            f"Layers: {', '.join([X_LAYER, *layers])}<br>Cell columns: {obs_names}"
        )
        categorical = cols.categorical_columns(adata.obs)
        preferred = preferred or DataChoices()
        layer = preferred.layer if preferred.layer in layers else cols.guess_counts_layer(layers)
        batch = preferred.batch_key if preferred.batch_key in categorical else cols.guess_batch_key(categorical)
        labels = preferred.labels_key if preferred.labels_key in categorical else cols.guess_labels_key(categorical)
        with _Quiet(self):
            _fill(self.layer_combo, [X_LAYER, *layers], layer or X_LAYER)
            _fill(self.batch_combo, [NONE, *categorical], batch or NONE)
            _fill(self.labels_combo, [NONE, *categorical], labels or NONE)
            self._refill_unlabelled(preferred.unlabeled_category)
            self._refill_covariates(preferred)
            self.hvg_box.setChecked(preferred.n_top_genes is not None)
            self.hvg_spin.setMaximum(max(adata.n_vars, 100))
            if preferred.n_top_genes is not None:
                self.hvg_spin.setValue(preferred.n_top_genes)
            else:
                self.hvg_spin.setValue(min(2000, adata.n_vars))
            self.hvg_batch_check.setChecked(preferred.hvg_batch_aware)
        self._refresh_table()
        self.problem_list.set_status("Checking the data...")
        self._stack.setCurrentIndex(1)
        self.choices_changed.emit(self.choices())

    def choices(self) -> DataChoices:
        """Return the choices as currently shown."""
        layer = self.layer_combo.currentText()
        unlabelled = self.unlabelled_combo.currentText()
        return DataChoices(
            layer=None if layer in ("", X_LAYER) else layer,
            batch_key=_key(self.batch_combo),
            labels_key=_key(self.labels_combo),
            unlabeled_category=None if unlabelled in ("", NO_UNLABELLED) else unlabelled,
            categorical_covariate_keys=_checked(self.categorical_list),
            continuous_covariate_keys=_checked(self.continuous_list),
            n_top_genes=self.hvg_spin.value() if self.hvg_box.isChecked() else None,
            hvg_batch_aware=self.hvg_batch_check.isChecked(),
        )

    def show_reference(self, text: str | None) -> None:
        """Show what the data was joined with (rich text), or hide the reference box (None)."""
        self.reference_label.setText(text or "")
        self.reference_box.setVisible(bool(text))

    def show_checking(self) -> None:
        """Say that checks are running."""
        self.problem_list.set_status("Checking the data...")

    def show_problems(self, problems: list) -> None:
        """Show the result of the input checks inline."""
        self.problem_list.set_problems(problems)

    def set_locked(self, locked: bool) -> None:
        """Freeze the choices (while training) or release them."""
        for widget in (self.open_button, self.demo_button, self._stack.widget(1)):
            widget.setEnabled(not locked)

    # ----------------------------------------------------------------- slots
    def _on_choice_changed(self, *_args) -> None:
        if self._obs is None or self.signalsBlocked():
            return
        self.show_checking()
        self.choices_changed.emit(self.choices())

    def _on_key_changed(self, *_args) -> None:
        if self._obs is None:
            return
        with _Quiet(self):
            self._refill_covariates(self.choices())
        self._refresh_table()
        self._on_choice_changed()

    def _on_labels_changed(self, *_args) -> None:
        if self._obs is None:
            return
        with _Quiet(self):
            self._refill_unlabelled(None)
        self._on_key_changed()

    def _on_problems_use_layer(self, layer: str) -> None:
        index = self.layer_combo.findText(layer)
        if index >= 0:
            self.layer_combo.setCurrentIndex(index)

    # --------------------------------------------------------------- helpers
    def _refill_unlabelled(self, preferred: str | None) -> None:
        key = _key(self.labels_combo)
        values = cols.column_values(self._obs, key) if key else []
        if preferred not in values:
            preferred = cols.guess_unlabelled(values)
        _fill(self.unlabelled_combo, [NO_UNLABELLED, *values], preferred or NO_UNLABELLED)

    def _refill_covariates(self, chosen: DataChoices) -> None:
        used = {_key(self.batch_combo), _key(self.labels_combo)}
        categorical = [c for c in cols.categorical_columns(self._obs) if c not in used]
        numeric = [c for c in cols.numeric_columns(self._obs) if c not in used]
        _fill_checks(self.categorical_list, categorical, set(chosen.categorical_covariate_keys))
        _fill_checks(self.continuous_list, numeric, set(chosen.continuous_covariate_keys))

    def _refresh_table(self) -> None:
        obs = self._obs
        labels, batch = _key(self.labels_combo), _key(self.batch_combo)
        row = obs[labels].astype(str) if labels else pd.Series("all cells", index=obs.index)
        col = obs[batch].astype(str) if batch else pd.Series("all cells", index=obs.index)
        table = pd.crosstab(row, col, margins=True, margins_name="total")
        self.count_table.clear()
        self.count_table.setRowCount(table.shape[0])
        self.count_table.setColumnCount(table.shape[1])
        self.count_table.setHorizontalHeaderLabels([str(c) for c in table.columns])
        self.count_table.setVerticalHeaderLabels([str(r) for r in table.index])
        for i, values in enumerate(table.to_numpy()):
            for j, value in enumerate(values):
                item = QTableWidgetItem(f"{int(value):,}")
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.count_table.setItem(i, j, item)
        self.count_table.resizeColumnsToContents()


class _Quiet:
    """Block a widget's signals (and its children's choice widgets) inside a ``with``."""

    def __init__(self, panel: DataPanel) -> None:
        self._widgets = [
            panel, panel.layer_combo, panel.batch_combo, panel.labels_combo, panel.unlabelled_combo,
            panel.categorical_list, panel.continuous_list, panel.hvg_box, panel.hvg_spin,
            panel.hvg_batch_check,
        ]

    def __enter__(self) -> None:
        self._old = [w.blockSignals(True) for w in self._widgets]

    def __exit__(self, *_exc) -> None:
        for widget, old in zip(self._widgets, self._old):
            widget.blockSignals(old)


def _fill(combo: QComboBox, items: list[str], current: str) -> None:
    combo.clear()
    combo.addItems(items)
    combo.setCurrentIndex(max(combo.findText(current), 0))


def _fill_checks(widget: QListWidget, names: list[str], checked: set[str]) -> None:
    widget.clear()
    for name in names:
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked if name in checked else Qt.Unchecked)
        widget.addItem(item)


def _key(combo: QComboBox) -> str | None:
    text = combo.currentText()
    return None if text in ("", NONE) else text


def _checked(widget: QListWidget) -> tuple[str, ...]:
    return tuple(
        widget.item(i).text() for i in range(widget.count())
        if widget.item(i).checkState() == Qt.Checked
    )
