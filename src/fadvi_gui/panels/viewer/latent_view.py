"""Latent viewer: a scatter of an embedding of FADVI's latent spaces, coloured and selectable.

The panel builds widgets and emits requests; it never computes an embedding,
reads AnnData or touches the model. Whoever owns the data wires it like this:

Methods (call these)
    ``set_cells(obs, *, batch_key=None, labels_key=None)``
        The cells and their obs columns. Call again whenever obs gains columns
        (``fadvi_prediction``, ``fadvi_confidence``, a saved selection): with the
        same index, embeddings, selection and colour choice are kept; a
        different index (new data) clears them.
    ``set_available_spaces(spaces)``
        Which of ``"z_l"``, ``"z_b"``, ``"z_r"``, ``"z_l+z_r"``, ``"all"`` exist
        (none before a model is trained or loaded).
    ``set_embedding(space, method, coords)``
        An ``(n_cells, 2)`` embedding is ready (``method`` is ``"pca"`` or ``"umap"``).
    ``set_embedding_progress(space, method, fraction, message="")`` /
    ``set_embedding_failed(space, method, message)``
        Progress and failure (or cancellation) of a requested embedding.
    ``clear_embeddings()``
        Forget every embedding (after retraining); missing ones are requested again.
    ``set_gene_names(names)`` / ``set_gene_values(gene, values)``
        Names for the gene search box; ``(n_cells,)`` values to colour by,
        already on the scale to show (log1p of normalised counts).

Signals (connect these)
    ``embedding_requested(space, method)``
        Compute this embedding (:func:`fadvi_gui.model.embedding.compute_embedding`
        on :func:`fadvi_gui.model.embedding.space_latent`) in a worker, then call
        :meth:`set_embedding`. A PCA is requested before every UMAP so it can
        stand in until the UMAP is ready.
    ``embedding_cancel_requested(space, method)``
        The user pressed Cancel: stop that worker.
    ``gene_requested(gene)``
        The user wants to colour by this gene: call :meth:`set_gene_values`.
    ``selection_changed(indices)``
        Sorted int64 array of the selected cells' positions (empty when cleared).
    ``save_selection_requested(name)``
        Add a boolean obs column ``name`` (``"selection_1"``, ...), True for
        :meth:`selected_indices`, then call :meth:`set_cells` again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from qtpy.QtCore import QEvent, QObject, QPoint, Qt, Signal
from qtpy.QtWidgets import (
    QCompleter,
    QFileDialog,
    QLabel,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from fadvi_gui.model.embedding import METHOD_LABELS, SPACE_LABELS, SPACES
from fadvi_gui.model.keys import CONFIDENCE_KEY, PREDICTION_KEY
from fadvi_gui.plotting.canvas import EmbeddingCanvas
from fadvi_gui.plotting.colouring import Colouring, column_colouring, column_kind, numeric_colouring
from fadvi_gui.plotting.controls import ViewerControls
from fadvi_gui.plotting.export import LegendContent, export_figure
from fadvi_gui.plotting.export_dialog import ExportDialog
from fadvi_gui.plotting.lasso import points_in_polygon
from fadvi_gui.plotting.legend import LegendPanel

#: The two spaces side-by-side mode compares.
SIDE_BY_SIDE_SPACES = ("z_b", "z_l")
_GENE_CACHE = 8
_NO_SPACES = "Train a model, or load one, to see its latent spaces here."
#: The scale a gene is shown on (`fadvi_gui.tasks.viewer.log1p_normalised`), named under its colour bar.
GENE_UNIT = "log1p normalised counts, per 10,000"


class LatentView(QWidget):
    """Scatter of a 2-D embedding of a latent space, with colouring, legend, selection and export."""

    embedding_requested = Signal(str, str)
    embedding_cancel_requested = Signal(str, str)
    gene_requested = Signal(str)
    selection_changed = Signal(object)
    save_selection_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._obs: pd.DataFrame | None = None
        self._batch_key: str | None = None
        self._labels_key: str | None = None
        self._spaces: list[str] = []
        self._embeddings: dict[tuple[str, str], np.ndarray] = {}
        self._requested: set[tuple[str, str]] = set()
        self._shown: list[tuple[str, str, int]] = []
        self._progress_job: tuple[str, str] | None = None
        self._colouring: Colouring | None = None
        self._gene_values: dict[str, np.ndarray] = {}
        self._pending_gene: str | None = None
        self._selection: np.ndarray | None = None
        self._hovered_cell = -1
        self._query_cells: np.ndarray | None = None
        self._build()

    # ================================================================ public API
    def set_cells(self, obs: pd.DataFrame, *, batch_key: str | None = None, labels_key: str | None = None) -> None:
        """Show these cells; see the module docstring for what is kept between calls."""
        same = self._obs is not None and self._obs.index.equals(obs.index)
        self._obs, self._batch_key, self._labels_key = obs, batch_key, labels_key
        if not same:
            self._embeddings.clear()
            self._requested.clear()
            self._gene_values.clear()
            self._pending_gene = None
            self._selection = None
            self._shown = []
            self.set_query_cells(None)
        key = self._colouring.key if same and self._colouring is not None else None
        self._fill_colour_combo(key)
        self._refresh_plots()
        self._update_selection_label()

    def set_query_cells(self, mask: np.ndarray | None) -> None:
        """Offer "Query cells only" for cells where ``mask`` is True (the open data's, beside a
        reference's); ``None`` hides the choice and shows every cell."""
        self._query_cells = None if mask is None else np.asarray(mask, dtype=bool)
        box = self._ui.query_only
        box.blockSignals(True)
        box.setChecked(False)
        box.blockSignals(False)
        box.setVisible(mask is not None)
        self._canvas.set_point_mask(None)

    def set_query_only(self, on: bool) -> None:
        """Show only the query's cells (``on``) or every cell; needs `set_query_cells` first."""
        self._ui.query_only.setChecked(on)

    def set_available_spaces(self, spaces: list[str]) -> None:
        """List these latent spaces (in the viewer's order); the first call after training requests embeddings."""
        self._spaces = [s for s in SPACES if s in spaces]
        self._ui.set_spaces(self._spaces)
        both = all(s in self._spaces for s in SIDE_BY_SIDE_SPACES)
        self._ui.side_by_side.setEnabled(both)
        if not both:
            self._ui.side_by_side.setChecked(False)
        self._stack.setCurrentIndex(1 if self._spaces else 0)
        self._refresh_plots()

    def set_embedding(self, space: str, method: str, coords: np.ndarray) -> None:
        """Store an ``(n_cells, 2)`` embedding of ``space``; it is shown if that space and method are picked."""
        xy = np.asarray(coords, dtype=np.float32)
        n = 0 if self._obs is None else len(self._obs)
        if xy.ndim != 2 or xy.shape != (n, 2):
            raise ValueError(f"Expected an embedding of shape ({n}, 2) for {space}, got {xy.shape}.")
        self._embeddings[(space, method)] = xy
        self._requested.discard((space, method))
        if self._progress_job == (space, method):
            self._hide_progress()
        self._refresh_plots()

    def set_embedding_progress(self, space: str, method: str, fraction: float | None, message: str = "") -> None:
        """Show progress of a requested embedding; ``fraction`` in [0, 1] or ``None`` when unknown."""
        self._progress_job = (space, method)
        text = f"{METHOD_LABELS.get(method, method)} of {space}"
        self._ui.show_progress(fraction, f"{text}: {message}" if message else f"Computing {text}…")

    def set_embedding_failed(self, space: str, method: str, message: str) -> None:
        """A requested embedding ended without a result (error or cancel); ``message`` is shown as is."""
        self._requested.discard((space, method))
        if self._progress_job == (space, method):
            self._hide_progress()
        self._ui.status.setText(message)

    def clear_embeddings(self) -> None:
        """Forget every embedding, e.g. after retraining; those on screen are requested again."""
        self._embeddings.clear()
        self._requested.clear()
        self._shown = []
        self._refresh_plots()

    def set_gene_names(self, names: list[str]) -> None:
        """Offer these genes in the search box."""
        self._gene_names = set(names)
        completer = QCompleter(list(names), self._ui.gene_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self._ui.gene_edit.setCompleter(completer)

    def set_gene_values(self, gene: str, values: np.ndarray) -> None:
        """Receive ``(n_cells,)`` values of ``gene``; colours by it if it was the gene last asked for."""
        v = np.asarray(values, dtype=np.float32).ravel()
        if self._obs is None or len(v) != len(self._obs):
            raise ValueError(f"Expected {0 if self._obs is None else len(self._obs)} values for {gene}, got {len(v)}.")
        self._gene_values[gene] = v
        while len(self._gene_values) > _GENE_CACHE:
            self._gene_values.pop(next(iter(self._gene_values)))
        if gene == self._pending_gene:
            self._pending_gene = None
            self._apply_colouring(numeric_colouring(gene, v, vmin=0.0))

    def show_gene(self, gene: str) -> None:
        """Colour by ``gene``, asking for its values through :attr:`gene_requested` unless already known."""
        if gene in self._gene_values:
            self._apply_colouring(numeric_colouring(gene, self._gene_values[gene], vmin=0.0))
            return
        self._pending_gene = gene
        self._ui.status.setText(f"Loading {gene}…")
        self.gene_requested.emit(gene)

    def set_colour_by(self, column: str) -> None:
        """Colour by an obs column (it must be listed in the "Colour by" box)."""
        index = self._ui.colour_combo.findData(column)
        if index < 0:
            raise ValueError(f"obs column {column!r} cannot colour cells here; pick one of the listed columns.")
        self._ui.colour_combo.setCurrentIndex(index)

    def colouring(self) -> Colouring | None:
        """The colouring on screen (key, kind, codes, colours), or ``None`` before cells are set."""
        return self._colouring

    def set_space(self, space: str) -> None:
        """Show ``space`` (it must be available)."""
        self._ui.space_combo.setCurrentIndex(self._spaces.index(space))

    def set_method(self, method: str) -> None:
        """Show ``"umap"`` or ``"pca"``."""
        self._ui.method_combo.setCurrentIndex(self._ui.method_combo.findData(method))

    def set_side_by_side(self, on: bool) -> None:
        """Show z_b and z_l next to each other, coloured alike."""
        self._ui.side_by_side.setChecked(on)

    def current_space(self) -> str | None:
        """The space picked in the space box."""
        return self._ui.space_combo.currentData()

    def current_method(self) -> str:
        """``"umap"`` or ``"pca"``."""
        return self._ui.method_combo.currentData()

    def shown_embeddings(self) -> list[tuple[str, str]]:
        """``(space, method)`` drawn in each plot, left to right; method is ``""`` while nothing is ready."""
        return [(space, method) for space, method, _ in self._shown]

    def set_category_visible(self, category: str, visible: bool) -> None:
        """Show or hide the cells of one category of the current categorical colouring."""
        labels = self._legend.labels()
        if category not in labels:
            key = self._colouring.key if self._colouring else "the colouring"
            raise ValueError(f"{category!r} is not a category of {key}; pick one listed in the legend.")
        shown = self._legend.visible()
        shown[labels.index(category)] = visible
        self._legend.set_visible(shown)

    def select_category(self, category: str) -> None:
        """Select the cells of one category of the current categorical colouring."""
        labels = self._legend.labels()
        if category not in labels:
            key = self._colouring.key if self._colouring else "the colouring"
            raise ValueError(f"{category!r} is not a category of {key}; pick one listed in the legend.")
        self._on_legend_select_requested(labels.index(category))

    def select_polygon(self, polygon: np.ndarray, *, plot: int = 0, operation: str = "replace") -> None:
        """Select the shown cells inside ``polygon`` (``(k, 2)``, data coordinates of plot ``plot``)."""
        self._on_canvas_shape_drawn(plot, np.asarray(polygon, dtype=np.float64), operation)

    def set_selection(self, indices: np.ndarray) -> None:
        """Select exactly these cells."""
        mask = np.zeros(len(self._obs), dtype=bool)
        mask[np.asarray(indices, dtype=np.int64)] = True
        self._set_selection_mask(mask)

    def selected_indices(self) -> np.ndarray:
        """Sorted int64 positions of the selected cells."""
        return np.zeros(0, dtype=np.int64) if self._selection is None else np.flatnonzero(self._selection)

    def clear_selection(self) -> None:
        """Select nothing."""
        if self._obs is not None:
            self._set_selection_mask(np.zeros(len(self._obs), dtype=bool))

    def invert_selection(self) -> None:
        """Select the shown cells that are not selected, and deselect the rest."""
        if self._obs is None:
            return
        shown = self._canvas.cloud(0).visible_mask() if self._canvas.has_points(0) else np.ones(len(self._obs), bool)
        current = self._selection if self._selection is not None else np.zeros(len(self._obs), dtype=bool)
        self._set_selection_mask(shown & ~current)

    def save_selection(self) -> None:
        """Ask (by :attr:`save_selection_requested`) to store the selection as a new obs column."""
        if not len(self.selected_indices()):
            self._ui.status.setText("Select some cells first (lasso or rectangle), then save them.")
            return
        k = 1
        while f"selection_{k}" in self._obs.columns:
            k += 1
        self.save_selection_requested.emit(f"selection_{k}")

    def export_image(self, path: str, *, width: int, height: int) -> None:
        """Write the plots and legend to ``path`` (``.png`` or ``.svg``) at ``width`` x ``height`` pixels."""
        export_figure(path, self._canvas.render_plots, width=width, height=height, legend=self._legend_content())

    def hover_text(self, cell: int) -> str:
        """The tooltip shown for ``cell``: its name, batch, label, prediction and coloured value (rich text)."""
        obs = self._obs
        lines = [f"<b>{obs.index[cell]}</b>"]
        shown = (("batch", self._batch_key), ("label", self._labels_key),
                 ("prediction", PREDICTION_KEY), ("confidence", CONFIDENCE_KEY))
        for title, key in shown:
            if key and key in obs.columns:
                lines.append(f"{title}: {_format(obs[key].iat[cell])}")
        colour = self._colouring
        if colour is not None and colour.key not in {key for _title, key in shown}:
            if colour.key in obs.columns:
                value = obs[colour.key].iat[cell]
            else:
                value = self._gene_values[colour.key][cell] if colour.key in self._gene_values else "?"
            lines.append(f"{colour.key}: {_format(value)}")
        return "<br>".join(lines)

    def canvas(self) -> EmbeddingCanvas:
        """The drawing surface (for tests and benchmarks)."""
        return self._canvas

    def legend(self) -> LegendPanel:
        """The legend panel (for tests)."""
        return self._legend

    def controls(self) -> ViewerControls:
        """The rows of controls above the plot (for tests)."""
        return self._ui

    # ================================================================== building
    def _build(self) -> None:
        self._gene_names: set[str] = set()
        ui = self._ui = ViewerControls()
        ui.space_combo.currentIndexChanged.connect(self._on_space_combo_changed)
        ui.method_combo.currentIndexChanged.connect(self._on_method_combo_changed)
        ui.side_by_side.toggled.connect(self._on_side_by_side_toggled)
        ui.query_only.toggled.connect(self._on_query_only_toggled)
        ui.colour_combo.currentIndexChanged.connect(self._on_colour_combo_changed)
        ui.gene_edit.returnPressed.connect(self._on_gene_edit_return_pressed)
        ui.export_button.clicked.connect(self._on_export_clicked)
        ui.mode_group.buttonClicked.connect(self._on_mode_group_clicked)
        ui.fit_button.clicked.connect(self._on_fit_clicked)
        ui.clear_button.clicked.connect(self.clear_selection)
        ui.invert_button.clicked.connect(self.invert_selection)
        ui.save_button.clicked.connect(self.save_selection)
        ui.cancel_button.clicked.connect(self._on_cancel_clicked)
        self._canvas = EmbeddingCanvas()
        self._canvas.shape_drawn.connect(self._on_canvas_shape_drawn)
        self._canvas.hovered.connect(self._on_canvas_hovered)
        # The scene answers Qt's tooltip event with an empty tooltip (no item has one), which
        # would hide the cell's tooltip as soon as the mouse rests: answer it here instead.
        self._canvas.viewport().installEventFilter(self)
        self._legend = LegendPanel()
        self._legend.visibility_changed.connect(self._on_legend_visibility_changed)
        self._legend.select_requested.connect(self._on_legend_select_requested)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._canvas)
        splitter.addWidget(self._legend)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([800, 220])
        message = QLabel(_NO_SPACES)
        message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack = QStackedWidget()
        self._stack.addWidget(message)
        self._stack.addWidget(splitter)
        layout = QVBoxLayout(self)
        layout.addWidget(ui)
        layout.addWidget(self._stack, 1)

    # ================================================================ internals
    def _fill_colour_combo(self, keep: str | None) -> None:
        obs = self._obs
        columns = [c for c in (PREDICTION_KEY, CONFIDENCE_KEY) if c in obs.columns]
        columns += [c for c in obs.columns if c not in columns and column_kind(obs[c]) is not None]
        self._ui.set_colour_choices(columns)
        if keep is not None and keep in self._gene_values:
            self.show_gene(keep)
            return
        default = keep if keep in columns else self._labels_key if self._labels_key in columns else None
        if default is None and columns:
            default = next((c for c in columns if column_kind(obs[c]) == "categorical"), columns[0])
        if default is not None:
            self._apply_colouring(column_colouring(default, obs[default]))

    def _apply_colouring(self, colouring: Colouring) -> None:
        self._colouring = colouring
        self._canvas.set_colours(colouring.codes, colouring.lut, higher_on_top=colouring.kind == "numeric")
        if colouring.kind == "categorical":
            self._legend.show_categories(_breakable(colouring.key), colouring.labels, colouring.lut,
                                         colouring.counts)
        else:
            self._legend.show_colour_bar(_breakable(self._legend_title(colouring)), colouring.lut[1:],
                                         colouring.vmin, colouring.vmax)
        self._ui.show_colour_choice(colouring.key)
        self._ui.status.setText("")

    def _displayed_spaces(self) -> list[str]:
        if self._ui.side_by_side.isChecked():
            return list(SIDE_BY_SIDE_SPACES)
        space = self._ui.space_combo.currentData()
        return [space] if space else []

    def _refresh_plots(self) -> None:
        if self._obs is None:
            return
        spaces = self._displayed_spaces()
        method = self._ui.method_combo.currentData()
        self._canvas.set_plot_count(max(1, len(spaces)))
        shown = []
        for index, space in enumerate(spaces):
            self._request_missing(space, method)
            got = method if (space, method) in self._embeddings else "pca" if (space, "pca") in self._embeddings else ""
            coords = self._embeddings.get((space, got))
            entry = (space, got, id(coords))
            shown.append(entry)
            if index < len(self._shown) and self._shown[index] == entry:
                continue
            title = f"{SPACE_LABELS[space]} · {METHOD_LABELS[got]}" if got else f"{SPACE_LABELS[space]}: computing…"
            if got and got != method:
                title += f" (showing PCA until {METHOD_LABELS[method]} is ready)"
            self._canvas.set_points(index, coords, title)
        self._shown = shown

    def _request_missing(self, space: str, method: str) -> None:
        if space not in self._spaces:
            return
        for wanted in dict.fromkeys(("pca", method)):
            job = (space, wanted)
            if job not in self._embeddings and job not in self._requested:
                self._requested.add(job)
                self.embedding_requested.emit(space, wanted)

    def _on_legend_select_requested(self, row: int) -> None:
        if self._colouring is None or self._colouring.kind != "categorical":
            return
        self._set_selection_mask(np.asarray(self._colouring.codes) == row)

    def _set_selection_mask(self, mask: np.ndarray) -> None:
        self._selection = mask if mask.any() else None
        self._canvas.set_selected(self._selection)
        self._update_selection_label()
        self.selection_changed.emit(self.selected_indices())

    def _update_selection_label(self) -> None:
        count = len(self.selected_indices())
        self._ui.selection_label.setText(f"{count:,} cells selected" if count else "No cells selected")

    def _hide_progress(self) -> None:
        self._progress_job = None
        self._ui.hide_progress()

    def _legend_title(self, colouring: Colouring) -> str:
        """The colouring's name, with the unit when it is a gene."""
        is_gene = colouring.key in self._gene_values and (
            self._obs is None or colouring.key not in self._obs.columns)
        return f"{colouring.key} ({GENE_UNIT})" if is_gene else colouring.key

    def _legend_content(self) -> LegendContent | None:
        c = self._colouring
        if c is None:
            return None
        if c.kind == "numeric":
            return LegendContent(self._legend_title(c), lut=c.lut[1:], vmin=c.vmin, vmax=c.vmax)
        shown = self._legend.visible()
        labels = tuple(label for label, on in zip(c.labels, shown) if on)
        return LegendContent(c.key, labels=labels, colours=c.lut[shown])

    # ===================================================================== slots
    def _on_space_combo_changed(self, _index: int) -> None:
        self._refresh_plots()

    def _on_method_combo_changed(self, _index: int) -> None:
        self._refresh_plots()

    def _on_query_only_toggled(self, on: bool) -> None:
        self._canvas.set_point_mask(self._query_cells if on and self._query_cells is not None else None)

    def _on_side_by_side_toggled(self, on: bool) -> None:
        self._ui.space_combo.setEnabled(not on)
        self._refresh_plots()

    def _on_colour_combo_changed(self, index: int) -> None:
        key = self._ui.colour_combo.itemData(index)
        if key is None or self._obs is None:
            return
        if key in self._obs.columns:
            self._apply_colouring(column_colouring(key, self._obs[key]))
        else:
            self.show_gene(key)

    def _on_gene_edit_return_pressed(self) -> None:
        gene = self._ui.gene_edit.text().strip()
        if not gene or self._obs is None:
            return
        if self._gene_names and gene not in self._gene_names:
            matches = [g for g in self._gene_names if g.lower() == gene.lower()]
            if not matches:
                self._ui.status.setText(f"No gene named {gene!r} in this data.")
                return
            gene = matches[0]
        self.show_gene(gene)

    def _on_legend_visibility_changed(self, visible: np.ndarray) -> None:
        self._canvas.set_code_visible(visible)

    def _on_mode_group_clicked(self, button: QToolButton) -> None:
        self._canvas.set_mode(button.property("mode"))

    def _on_fit_clicked(self) -> None:
        self._canvas.reset_views()

    def _on_canvas_shape_drawn(self, plot: int, polygon: np.ndarray, operation: str) -> None:
        if self._obs is None or not self._canvas.has_points(plot):
            return
        cloud = self._canvas.cloud(plot)
        inside = points_in_polygon(*cloud.coordinates(), polygon) & cloud.visible_mask()
        current = self._selection if self._selection is not None else np.zeros(len(self._obs), dtype=bool)
        if operation == "add":
            inside |= current
        elif operation == "remove":
            inside = current & ~inside
        self._set_selection_mask(inside)

    def _on_canvas_hovered(self, _plot: int, cell: int, screen: QPoint) -> None:
        self._hovered_cell = cell
        if cell < 0:
            QToolTip.hideText()
        else:
            QToolTip.showText(screen, self.hover_text(cell), self._canvas)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Show the hovered cell's tooltip when Qt asks the plot for one (the mouse rests)."""
        if event.type() == QEvent.Type.ToolTip and watched is self._canvas.viewport():
            cell = self._hovered_cell
            if self._obs is not None and 0 <= cell < len(self._obs):
                QToolTip.showText(event.globalPos(), self.hover_text(cell), self._canvas)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)

    def _on_cancel_clicked(self) -> None:
        if self._progress_job is not None:
            job = self._progress_job
            self._requested.discard(job)
            self._hide_progress()
            self.embedding_cancel_requested.emit(*job)

    def _on_export_clicked(self) -> None:
        dialog = ExportDialog(self._canvas.width() + self._legend.width(), self._canvas.height(), self)
        if not dialog.exec():
            return
        fmt = dialog.file_format()
        path, _ = QFileDialog.getSaveFileName(self, "Export the view", f"latent_view.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        if not path.lower().endswith(f".{fmt}"):
            path += f".{fmt}"
        width, height = dialog.size_px()
        try:
            self.export_image(path, width=width, height=height)
        except (OSError, ValueError) as err:
            QMessageBox.warning(self, "Export failed", str(err))


def _format(value) -> str:
    """Numbers to three significant digits, anything else as text."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}"
    return str(value)


def _breakable(title: str) -> str:
    """``title`` with a zero-width space after each underscore, so a long column name such as
    ``fadvi_prediction_thresholded`` wraps in the legend instead of widening it (and squeezing
    the plot)."""
    return title.replace("_", "_\u200b")
