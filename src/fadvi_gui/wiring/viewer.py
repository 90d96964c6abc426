"""Wiring of the latent viewer: latents after training, embeddings and gene values in workers.

The session writes latents into ``adata.obsm["X_fadvi_b"|"X_fadvi_l"|"X_fadvi_r"]`` and
embeddings into ``adata.obsm[embedding_key(space, method)]`` (e.g. ``X_fadvi_l_umap``), so
both are saved with the data; this module runs the jobs and fills the view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QObject

from fadvi_gui.model.embedding import (
    METHODS, SPACES, EmbeddingProgress, embedding_key, space_latent_keys,
)
from fadvi_gui.model.keys import LATENT_KEYS
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import viewer as view_tasks

if TYPE_CHECKING:
    from fadvi_gui.panels.viewer import LatentView
    from fadvi_gui.session import Session

_EMBED = JobKind.EMBEDDING
_GENE = JobKind.GENE


class ViewerWiring(QObject):
    """Connects a :class:`~fadvi_gui.panels.viewer.latent_view.LatentView` to a session.

    Embedding requests queue up and run one at a time (kind ``"embedding"``), in the order
    the viewer asks for them (PCA before UMAP).
    """

    def __init__(self, session: Session, view: LatentView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = view
        self._queue: list[tuple[str, str]] = []
        self._running: tuple[str, str] | None = None
        self._generation = 0
        self._totals: tuple[int, np.ndarray] | None = None
        self._next_gene: str | None = None
        view.embedding_requested.connect(self._on_view_embedding_requested)
        view.embedding_cancel_requested.connect(self._on_view_embedding_cancel_requested)
        view.gene_requested.connect(self._on_view_gene_requested)
        view.save_selection_requested.connect(self._on_view_save_selection_requested)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.model_trained.connect(self._on_session_model_trained)
        session.latents_ready.connect(self._on_session_latents_ready)
        session.cells_changed.connect(self.refresh_cells)
        session.choices_changed.connect(self.refresh_cells)

    # ------------------------------------------------------------------ public
    def refresh_cells(self, *_args: Any) -> None:
        """Show the session's obs again (after columns were added or the choices changed)."""
        adata = self.session.adata
        if adata is None:
            return
        choices = self.session.choices
        self.view.set_cells(adata.obs, batch_key=_present(choices.batch_key, adata.obs),
                            labels_key=_present(choices.labels_key, adata.obs))

    # ------------------------------------------------------------ session slots
    def _on_session_data_loaded(self, adata: Any) -> None:
        self._forget_jobs()
        self._totals = None
        # Spaces first: the old data's spaces must not ask for embeddings of the new cells.
        self.view.set_available_spaces([])
        self.view.clear_embeddings()
        self.refresh_cells()
        self.view.set_gene_names([str(g) for g in adata.var_names])
        has_latents = self.session.latents is not None
        self.view.set_available_spaces(list(SPACES) if has_latents else [])
        if has_latents:
            for space in SPACES:
                for method in METHODS:
                    key = embedding_key(space, method)
                    if key in adata.obsm and np.shape(adata.obsm[key]) == (adata.n_obs, 2):
                        self.view.set_embedding(space, method, np.asarray(adata.obsm[key]))

    def _on_session_model_trained(self, _model: Any) -> None:
        if (self.session.latents is None and not self.session.is_running("latents")
                and not self.session.shutting_down):
            self.session.compute_latents()

    def _on_session_latents_ready(self, _latents: dict) -> None:
        if self.session.adata is None:
            return
        self._forget_jobs()
        self.view.clear_embeddings()
        self.view.set_available_spaces(list(SPACES))

    # -------------------------------------------------------------- embeddings
    def _forget_jobs(self) -> None:
        self._generation += 1
        for space, method in self._queue:
            self.view.set_embedding_failed(space, method, "")
        self._queue.clear()
        self.session.cancel(_EMBED)

    def _on_view_embedding_requested(self, space: str, method: str) -> None:
        if (space, method) != self._running and (space, method) not in self._queue:
            self._queue.append((space, method))
        self._start_next()

    def _on_view_embedding_cancel_requested(self, space: str, method: str) -> None:
        if (space, method) in self._queue:
            self._queue.remove((space, method))
            self.view.set_embedding_failed(space, method, "Cancelled.")
        elif (space, method) == self._running:
            self.session.cancel(_EMBED)

    def _start_next(self) -> None:
        adata = self.session.adata
        if (self.session.is_running(_EMBED) or not self._queue or adata is None
                or self.session.shutting_down):
            return
        space, method = self._queue.pop(0)
        generation = self._generation
        if not all(key in adata.obsm for key in space_latent_keys(space)):
            self.view.set_embedding_failed(space, method, "")  # the data has no latents (yet)
            self._start_next()
            return
        obsm = {key: adata.obsm[key] for key in LATENT_KEYS if key in adata.obsm}
        job = self.session.create_job(_EMBED, f"Computing {method.upper()} of {space}",
                                      view_tasks.embed_space, obsm, space, method)
        job.progress.connect(lambda p: self._on_job_progress(generation, space, method, p))
        job.succeeded.connect(lambda xy: self._on_job_succeeded(generation, space, method, xy))
        job.cancelled.connect(lambda _r: self._on_job_stopped(generation, space, method, "Cancelled."))
        job.failed.connect(lambda message, _d: self._on_job_stopped(generation, space, method, message))
        job.ended.connect(self._on_job_ended)
        self._running = (space, method)
        self.session.start_job(job)

    def _on_job_progress(self, generation: int, space: str, method: str, progress: Any) -> None:
        if generation == self._generation and isinstance(progress, EmbeddingProgress):
            self.view.set_embedding_progress(space, method, progress.fraction, progress.message)

    def _on_job_succeeded(self, generation: int, space: str, method: str, coords: Any) -> None:
        if generation == self._generation and self.session.set_embedding(space, method, coords):
            self.view.set_embedding(space, method, coords)

    def _on_job_stopped(self, generation: int, space: str, method: str, message: str) -> None:
        if generation == self._generation:
            self.view.set_embedding_failed(space, method, message)

    def _on_job_ended(self, _outcome: str) -> None:
        self._running = None
        self._start_next()

    # ------------------------------------------------------------------- genes
    def _on_view_gene_requested(self, gene: str) -> None:
        adata = self.session.adata
        if adata is None:
            return
        if self.session.is_running(_GENE):
            self._next_gene = gene
            return
        totals = self._totals[1] if self._totals and self._totals[0] == id(adata) else None
        job = self.session.create_job(_GENE, f"Reading {gene}", view_tasks.gene_values, adata,
                                      gene, self.session.choices.layer, totals)
        job.succeeded.connect(lambda result: self._on_gene_job_succeeded(id(adata), result))
        job.ended.connect(self._on_gene_job_ended)
        self.session.start_job(job)

    def _on_gene_job_ended(self, _outcome: str) -> None:
        gene, self._next_gene = self._next_gene, None
        if gene is not None:
            self._on_view_gene_requested(gene)

    def _on_gene_job_succeeded(self, adata_id: int, result: tuple) -> None:
        adata = self.session.adata
        if adata is None or id(adata) != adata_id:
            return
        gene, values, totals = result
        self._totals = (adata_id, totals)
        self.view.set_gene_values(gene, values)

    # --------------------------------------------------------------- selection
    def _on_view_save_selection_requested(self, name: str) -> None:
        self.session.flag_cells(name, self.view.selected_indices())


def _present(key: str | None, obs: Any) -> str | None:
    return key if key is not None and key in obs.columns else None
