"""Wiring of the marker-genes panel: run the test in a worker, export, colour the viewer."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QObject

from fadvi_gui.model.keys import ACCEPTED_KEY, MAJORITY_KEY, PREDICTION_KEY
from fadvi_gui.model.markers import MarkerRequest, export_markers_csv
from fadvi_gui.model.steps import StepProgress
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import markers as marker_tasks

if TYPE_CHECKING:
    from fadvi_gui.panels.markers import MarkersPanel
    from fadvi_gui.panels.viewer import LatentView
    from fadvi_gui.session import Session
    from fadvi_gui.wiring.prompts import Prompts

_KIND = JobKind.MARKERS


class MarkersWiring(QObject):
    """Connects a :class:`MarkersPanel` to a session and the latent viewer.

    Parameters
    ----------
    session
        Holds the data; runs the job.
    panel
        The marker-genes panel.
    viewer
        Its selection can be compared with the rest; a clicked gene colours it.
    prompts
        Errors and file names.
    """

    def __init__(self, session: Session, panel: MarkersPanel, viewer: LatentView, prompts: Prompts,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.panel, self.viewer, self.prompts = session, panel, viewer, prompts
        self._selection = np.zeros(0, dtype=np.int64)
        panel.run_requested.connect(self._on_panel_run_requested)
        panel.cancel_requested.connect(lambda: session.cancel(_KIND))
        panel.gene_clicked.connect(viewer.show_gene)
        panel.export_table_requested.connect(self._on_panel_export_table_requested)
        panel.export_figure_requested.connect(self._on_panel_export_figure_requested)
        viewer.selection_changed.connect(self._on_viewer_selection_changed)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.cells_changed.connect(self._refresh_columns)
        session.choices_changed.connect(lambda _c: self._refresh_columns())
        session.busy_changed.connect(lambda _t: self._refresh_state())

    def _on_session_data_loaded(self, _adata: Any) -> None:
        self._selection = np.zeros(0, dtype=np.int64)
        self.panel.clear()
        self.panel.set_selection_count(0)
        self._refresh_columns()
        self._refresh_state()

    def _refresh_columns(self) -> None:
        adata = self.session.adata
        if adata is None:
            return
        categorical = [str(c) for c, dtype in adata.obs.dtypes.items()
                       if isinstance(dtype, pd.CategoricalDtype) and not str(c).startswith("_")]
        first = [PREDICTION_KEY, MAJORITY_KEY, ACCEPTED_KEY, *self.session.workbench.columns(),
                 self.session.choices.labels_key]
        columns = list(dict.fromkeys(c for c in [*first, *categorical] if c and c in adata.obs))
        self.panel.set_columns(columns)

    def _refresh_state(self) -> None:
        controls = self.panel.run_controls
        if controls.is_running:
            return
        blocked = self.session.blocked_reason(_KIND)
        if self.session.adata is None:
            controls.set_can_run(False, "Open data to find marker genes.")
        else:
            controls.set_can_run(not blocked, blocked)

    def _on_viewer_selection_changed(self, indices: Any) -> None:
        self._selection = np.asarray(indices, dtype=np.int64)
        self.panel.set_selection_count(len(self._selection))

    def _on_panel_run_requested(self, request: MarkerRequest) -> None:
        session = self.session
        if session.adata is None or session.is_running(_KIND):
            return
        if request.groupby is None:
            request = replace(request, selection=tuple(int(i) for i in self._selection))
        job = session.create_job(_KIND, "Finding marker genes", marker_tasks.rank_markers,
                                 session.adata, request, layer=session.choices.layer)
        job.progress.connect(self._on_job_progress)
        adata_id = id(session.adata)
        job.succeeded.connect(lambda result: self._on_job_succeeded(adata_id, result))
        job.ended.connect(self._on_job_ended)
        session.start_job(job)
        self.panel.run_controls.show_started("Finding marker genes...")

    def _on_job_progress(self, progress: Any) -> None:
        if isinstance(progress, StepProgress):
            controls = self.panel.run_controls
            controls.progress_bar.setRange(0, max(progress.total, 1))
            controls.progress_bar.setValue(progress.done)
            controls.progress_bar.setFormat(f"{progress.done} / {progress.total} groups")
            controls.show_message(progress.text)

    def _on_job_succeeded(self, adata_id: int, result: Any) -> None:
        if self.session.adata is not None and id(self.session.adata) == adata_id:
            self.panel.set_result(result)  # else other data was opened meanwhile

    def _on_job_ended(self, outcome: str) -> None:
        result = self.panel.result
        message = (f"{len(result.groups)} groups ranked: click a gene to colour the cells by it."
                   if outcome == "finished" and result is not None else "")
        self.panel.run_controls.show_ended(outcome, message)
        self._refresh_state()

    def _on_panel_export_table_requested(self, table: pd.DataFrame) -> None:
        path = self.prompts.ask_save_path("Export marker genes", "fadvi_marker_genes.csv",
                                          "CSV (*.csv);;Tab-separated (*.tsv)")
        if not path:
            return
        try:
            export_markers_csv(table, path if path.lower().endswith((".csv", ".tsv", ".txt"))
                               else f"{path}.csv")
        except (OSError, ValueError) as exc:
            self.prompts.show_error(f"The marker table could not be exported: {exc}")

    def _on_panel_export_figure_requested(self) -> None:
        path = self.prompts.ask_save_path("Export figure", "fadvi_marker_dotplot.png",
                                          "PNG image (*.png);;SVG image (*.svg)")
        if not path:
            return
        try:
            self.panel.save_figure(path if path.lower().endswith((".png", ".svg")) else f"{path}.png")
        except (OSError, ValueError) as exc:
            self.prompts.show_error(f"The figure could not be saved: {exc}")


__all__ = ["MarkersWiring"]
