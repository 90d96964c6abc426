"""Wiring of the annotation panel: withheld labels, manual annotation, imports and exports.

Edits go through the session's :class:`~fadvi_gui.session.workbench.Workbench` (undoable);
this module turns panel requests into those calls, asks for file names and shows agreement
with withheld labels in the predictions panel. Clustering is :mod:`fadvi_gui.wiring.clusters`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from qtpy.QtCore import QObject

from fadvi_gui.model import annotation as notes
from fadvi_gui.model.keys import (
    ACCEPTED_KEY, MAJORITY_KEY, PREDICTION_KEY, UNANNOTATED,
)
from fadvi_gui.model.withheld import agreement
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import annotation_files as table_tasks
from fadvi_gui.wiring.prompts import Prompts

if TYPE_CHECKING:
    from fadvi_gui.panels.annotation import AnnotationPanel
    from fadvi_gui.panels.data import DataPanel
    from fadvi_gui.panels.predictions import PredictionsPanel
    from fadvi_gui.panels.viewer import LatentView
    from fadvi_gui.session import Session

_TABLE_FILTER = "Tables (*.csv *.tsv *.txt);;All files (*)"


class FilePrompts(Prompts, Protocol):
    """:class:`Prompts` plus a question for a file to read."""

    def ask_open_path(self, title: str, filters: str) -> str:
        """Ask for an existing file; empty when the user cancelled."""


class AnnotationWiring(QObject):
    """Connects an :class:`AnnotationPanel` to a session, with the panels it touches.

    Parameters
    ----------
    session
        Owns the data; its ``workbench`` applies every edit.
    panel
        The annotation panel.
    data_panel
        Its labels column is switched to a withheld or annotation column on request.
    predictions
        Shows agreement with withheld labels under its review table.
    viewer
        Its selection is what gets labelled; it is coloured by the edited column.
    prompts
        Errors, file names, status messages (the main window).
    """

    def __init__(self, session: Session, panel: AnnotationPanel, data_panel: DataPanel,
                 predictions: PredictionsPanel, viewer: LatentView, prompts: FilePrompts,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.panel, self.prompts = session, panel, prompts
        self.data_panel, self.predictions, self.viewer = data_panel, predictions, viewer
        self.workbench = session.workbench
        self._selection = np.zeros(0, dtype=np.int64)
        self._batches_listed: tuple = (None, None)
        box = panel.annotate
        box.column_changed.connect(self._on_annotate_column_changed)
        box.new_column_requested.connect(self._on_annotate_new_column_requested)
        box.label_requested.connect(self._on_annotate_label_requested)
        box.rename_requested.connect(lambda c, old, new: self._edit(self.workbench.rename, c, old, new))
        box.merge_requested.connect(lambda c, labels, new: self._edit(self.workbench.merge, c, labels, new))
        box.select_requested.connect(self._on_annotate_select_requested)
        box.train_requested.connect(self._on_annotate_train_requested)
        box.import_requested.connect(self._on_annotate_import_requested)
        box.export_requested.connect(self._on_annotate_export_requested)
        stack = self.workbench.undo_stack
        box.undo_button.clicked.connect(stack.undo)
        box.redo_button.clicked.connect(stack.redo)
        stack.canUndoChanged.connect(box.undo_button.setEnabled)
        stack.canRedoChanged.connect(box.redo_button.setEnabled)
        box.undo_button.setEnabled(False)
        box.redo_button.setEnabled(False)
        panel.withhold.withhold_requested.connect(self._on_withhold_requested)
        viewer.selection_changed.connect(self._on_viewer_selection_changed)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.cells_changed.connect(self._refresh_start_choices)
        session.predictions_changed.connect(lambda _mode: self._refresh_results())
        session.choices_changed.connect(lambda _c: self._refresh_withhold())
        self.workbench.annotations_changed.connect(self._refresh_annotations)
        self.workbench.withheld_changed.connect(lambda _r: self._refresh_results())

    # ------------------------------------------------------------ session slots
    def _on_session_data_loaded(self, _adata: Any) -> None:
        self._selection = np.zeros(0, dtype=np.int64)
        self._batches_listed = (None, None)
        self.panel.clear()
        self._refresh_annotations()
        self._refresh_withhold()
        self._refresh_results()

    def _refresh_annotations(self) -> None:
        adata = self.session.adata
        if adata is None:
            return
        box = self.panel.annotate
        box.set_columns(self.workbench.columns())
        self._refresh_start_choices()
        column = box.column()
        if column in adata.obs:
            box.set_labels(notes.label_counts(adata.obs[column]))
        else:
            box.label_list.clear()
        self._refresh_results()

    def _refresh_start_choices(self) -> None:
        adata = self.session.adata
        if adata is None:
            return
        categorical = [str(c) for c, dtype in adata.obs.dtypes.items()
                       if isinstance(dtype, pd.CategoricalDtype) and not str(c).startswith("_")]
        starts = [c for c in (ACCEPTED_KEY, PREDICTION_KEY, MAJORITY_KEY, self.session.choices.labels_key,
                              *categorical) if c and c in adata.obs]
        self.panel.annotate.set_start_choices([notes.EMPTY_START, *dict.fromkeys(starts)])

    def _refresh_withhold(self) -> None:
        adata, batch_key = self.session.adata, self.session.choices.batch_key
        if adata is None:
            return
        listed = (id(adata), batch_key)
        if listed != self._batches_listed:
            self._batches_listed = listed
            present = batch_key is not None and batch_key in adata.obs
            self.panel.withhold.set_batches(sorted(adata.obs[batch_key].astype(str).unique())
                                            if present else [])
        record = self.workbench.withheld
        self.panel.withhold.set_status(
            f"Withheld {record.description} into '{record.column}'; the truth stays in "
            f"'{record.truth_key}'." if record else "No labels are withheld.")

    def _refresh_results(self) -> None:
        """Agreement with the withheld labels, from the data as it is."""
        adata, record = self.session.adata, self.workbench.withheld
        widget = self.predictions.withheld_agreement
        scored = agreement(adata, record) if adata is not None and record is not None else None
        if scored is None:
            widget.clear()
        else:
            widget.set_agreement(scored.sentence(record), scored.per_class)
        self._refresh_withhold()

    def _on_viewer_selection_changed(self, indices: Any) -> None:
        self._selection = np.asarray(indices, dtype=np.int64)
        self.panel.annotate.set_selection_count(len(self._selection))

    # ----------------------------------------------------------- annotation
    def _edit(self, method: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            method(*args, **kwargs)
        except ValueError as exc:
            self.prompts.show_error(str(exc))
            return False
        return True

    def _on_annotate_column_changed(self, column: str) -> None:
        adata = self.session.adata
        if adata is not None and column in adata.obs:
            self.panel.annotate.set_labels(notes.label_counts(adata.obs[column]))
            self._colour_by(column)

    def _on_annotate_new_column_requested(self, name: str, start_from: str) -> None:
        if self._edit(self.workbench.new_column, name, start_from=start_from):
            self.panel.annotate.set_columns(self.workbench.columns(), current=name.strip())
            self._on_annotate_column_changed(name.strip())
            self.panel.annotate.show_message(
                f"New column '{name.strip()}'. Select cells in the viewer, type a name, then label them.")

    def _on_annotate_label_requested(self, column: str, name: str) -> None:
        n = len(self._selection)
        if self._edit(self.workbench.label_cells, column, self._selection, name):
            self.panel.annotate.show_message(f"Labelled {n:,} cells '{name.strip()}' in '{column}'. "
                                             "Undo with Ctrl+Z.")
            self._colour_by(column)

    def _on_annotate_select_requested(self, column: str, label: str) -> None:
        adata = self.session.adata
        if adata is not None and column in adata.obs:
            self.viewer.set_selection(np.flatnonzero((adata.obs[column] == label).to_numpy(dtype=bool)))

    def _on_annotate_train_requested(self, column: str) -> None:
        adata = self.session.adata
        if adata is None or column not in adata.obs:
            return
        self._select_labels(column, UNANNOTATED)
        self.prompts.status(f"The next training run learns from '{column}'.")

    def _select_labels(self, column: str, unlabelled: str) -> None:
        """Show the data again in the data panel with ``column`` as the labels column."""
        session = self.session
        name = session.path.name if session.path is not None else "data"
        self.data_panel.set_data(session.adata, name, replace(session.choices, labels_key=column,
                                                              unlabeled_category=unlabelled))

    def _colour_by(self, column: str) -> None:
        try:
            self.viewer.set_colour_by(column)
        except ValueError:
            pass  # not listed yet (the viewer shows it after its next refresh)

    # -------------------------------------------------------------- tables
    def _on_annotate_import_requested(self) -> None:
        session, adata = self.session, self.session.adata
        if adata is None:
            return
        blocked = session.blocked_reason(JobKind.TABLE)
        if blocked:
            self.prompts.show_error(blocked)
            return
        path = self.prompts.ask_open_path("Import annotations (cell name, label)", _TABLE_FILTER)
        if not path:
            return
        obs = pd.DataFrame(index=adata.obs.index.copy(), columns=list(adata.obs.columns))
        job = session.run_job(JobKind.TABLE, "Importing annotations", table_tasks.import_table, obs, path)
        job.succeeded.connect(lambda report: self._on_import_job_succeeded(id(adata), report))

    def _on_import_job_succeeded(self, adata_id: int, report: notes.ImportReport) -> None:
        adata = self.session.adata
        if adata is None or id(adata) != adata_id:
            return  # other data was opened meanwhile
        self.workbench.import_table(report)
        text = report.summary(adata.n_obs)
        self.panel.annotate.show_message(text)
        self.prompts.status(text)
        first = next((c for c in report.columns if c in self.workbench.columns()), None)
        if first is not None:
            self.panel.annotate.set_columns(self.workbench.columns(), current=first)
            self._on_annotate_column_changed(first)

    def _on_annotate_export_requested(self, column: str) -> None:
        session, adata = self.session, self.session.adata
        if adata is None or not column:
            return
        blocked = session.blocked_reason(JobKind.TABLE)
        if blocked:
            self.prompts.show_error(blocked)
            return
        path = self.prompts.ask_save_path(f"Export {column}", f"{column}.csv",
                                          "CSV (*.csv);;Tab-separated (*.tsv)")
        if not path:
            return
        if not path.lower().endswith((".csv", ".tsv", ".txt")):
            path = f"{path}.csv"
        job = session.run_job(JobKind.TABLE, f"Exporting {column}", table_tasks.export_table,
                              adata.obs[[column]].copy(), column, path)
        job.succeeded.connect(lambda written: self.prompts.status(f"Exported '{column}' to {written}"))

    # ------------------------------------------------------------ withholding
    def _on_withhold_requested(self, batches: list, fraction: Any) -> None:
        session, record = self.session, self.workbench.withheld
        labels_key = session.choices.labels_key
        if record is not None and labels_key == record.column:
            labels_key = record.truth_key  # withhold from the truth, not from a withheld copy
        if session.adata is None or labels_key is None:
            self.prompts.show_error("Pick the labels column in the data panel first.")
            return
        try:
            record = self.workbench.withhold(labels_key=labels_key, batch_key=session.choices.batch_key,
                                             batches=list(batches), fraction=fraction)
        except ValueError as exc:
            self.prompts.show_error(str(exc))
            return
        self._select_labels(record.column, record.unlabeled_category)
        self.prompts.status(f"Withheld {record.description} into '{record.column}'. Train, then "
                            "predict: the review shows the agreement with the hidden labels.")


__all__ = ["AnnotationWiring", "FilePrompts"]
