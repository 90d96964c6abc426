"""The latent space as a napari Points layer, kept in step with the session.

:class:`CellsLayer` computes 2-D embeddings of a latent space in the session's jobs (PCA at
once, then UMAP, as the app's viewer does), stores them in ``obsm`` through the session and
shows them as one Points layer whose features (batch, label, prediction, confidence,
novelty) follow every change of the cells. napari's own selection tools select cells; the
selection is sent on as positions.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QObject, Signal

from fadvi_gui.model.embedding import space_latent_keys
from fadvi_gui.model.keys import LATENT_KEYS
from fadvi_gui.plotting.palettes import categorical_palette
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import viewer as view_tasks
from fadvi_napari._cells import (
    LAYER_NAME, POINT_SIZE, cell_features, colour_feature, layer_name, point_coordinates,
    stored_embedding,
)

if TYPE_CHECKING:
    from napari.layers import Points
    from napari.viewer import Viewer

    from fadvi_gui.session import Session

#: Latent spaces offered as a layer, the cell-type space first.
LAYER_SPACES: tuple[str, ...] = ("z_l", "z_b", "z_r")
#: Feature holding the values of the gene last asked for.
GENE_FEATURE = "gene"
_LIGHT = np.array([0.85, 0.85, 0.85, 1.0])


class CellsLayer(QObject):
    """Shows the session's cells in ``viewer`` as the Points layer :attr:`layer`.

    Parameters
    ----------
    viewer
        The napari viewer to add the layer to.
    session
        Holds the data, the latents and runs the embedding jobs.

    Signals
    -------
    selection_changed(object)
        The cells selected with napari's tools changed; carries their positions, sorted.
    changed()
        The layer came or went, or its name, features or colouring changed.
    """

    selection_changed = Signal(object)
    changed = Signal()

    def __init__(self, viewer: Viewer, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._viewer = weakref.ref(viewer)  # held weakly: a closed viewer is not kept alive
        self.session = session
        self.layer: Points | None = None
        self.space = LAYER_SPACES[0]
        self._queue: list[str] = []
        self._generation = 0
        #: The feature the cells are coloured by (None before there is a layer).
        self.coloured_by: str | None = None
        viewer.layers.events.removed.connect(self._on_viewer_layer_removed)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.model_trained.connect(self._on_session_model_trained)
        session.latents_ready.connect(self._on_session_latents_ready)
        session.cells_changed.connect(self.refresh_features)
        session.choices_changed.connect(self.refresh_features)

    @property
    def viewer(self) -> Viewer:
        """The napari viewer the layer is shown in.

        Raises
        ------
        RuntimeError
            If the viewer was closed.
        """
        viewer = self._viewer()
        if viewer is None:
            raise RuntimeError("The napari viewer of these cells was closed. Open a new one.")
        return viewer

    # ------------------------------------------------------------------ public
    def show_space(self, space: str) -> None:
        """Show latent ``space`` (``"z_l"``, ``"z_b"`` or ``"z_r"``), computing it if needed."""
        if space not in LAYER_SPACES:
            raise ValueError(f"Unknown latent space {space!r}. Choose one of {', '.join(LAYER_SPACES)}.")
        self.space = space
        self._restart()

    def set_selection(self, indices: Any) -> None:
        """Select the cells at positions ``indices`` (from the review table); sent on as any
        selection is, as the app's viewer does."""
        if self.layer is not None:
            self.layer.selected_data = {int(i) for i in np.asarray(indices).ravel()}

    def selected_indices(self) -> np.ndarray:
        """Return the positions of the selected cells, sorted (empty without a layer)."""
        if self.layer is None:
            return np.zeros(0, dtype=np.int64)
        return np.array(sorted(self.layer.selected_data), dtype=np.int64)

    def colour_by(self, name: str) -> None:
        """Colour the cells by feature ``name`` (categories: the app's palette; numbers: viridis)."""
        if self.layer is None or name not in self.layer.features.columns:
            raise ValueError(f"The cells have no feature {name!r}. Choose one of "
                             f"{', '.join(self.features())}.")
        self._colour_by(name)

    def features(self) -> list[str]:
        """Return the names of the layer's features (empty without a layer)."""
        return [] if self.layer is None else [str(c) for c in self.layer.features.columns]

    def legend(self) -> list[tuple[str, np.ndarray]]:
        """Return ``(category, rgba)`` of each category the cells are coloured by, in order.

        The colours are the points' own, so the legend matches the canvas; empty when the
        cells are coloured by a number (confidence, novelty, a gene) or there is no layer.
        """
        layer, name = self.layer, self.coloured_by
        if layer is None or name is None:
            return []
        values = layer.features[name]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            return []
        codes = values.cat.codes.to_numpy()
        out = []
        for code, category in enumerate(values.cat.categories):
            where = np.flatnonzero(codes == code)
            if len(where):
                out.append((str(category), np.asarray(layer.face_color[where[0]])))
        return out

    def select_category(self, name: str, category: str) -> None:
        """Select the cells whose feature ``name`` is ``category``; the selection is sent on."""
        if self.layer is None or name not in self.layer.features.columns:
            return
        values = self.layer.features[name].astype(str).to_numpy()
        self.layer.selected_data = set(np.flatnonzero(values == category).tolist())

    def refresh_features(self, *_args: Any) -> None:
        """Give the layer the cells' current batch, label, prediction, confidence and novelty."""
        layer, adata = self.layer, self.session.adata
        if layer is None or adata is None or len(layer.data) != adata.n_obs:
            return
        features = self._features()
        old = layer.features
        if GENE_FEATURE in old.columns:
            features[GENE_FEATURE] = old[GENE_FEATURE].to_numpy()
        shown = self.coloured_by
        layer.features = features
        wanted = colour_feature(features)
        if shown not in features.columns or (wanted == "prediction" and "prediction" not in old.columns):
            shown = wanted
        if shown is not None:
            self._colour_by(shown)
        self.changed.emit()

    def show_gene(self, gene: str) -> None:
        """Colour the cells by ``gene``'s normalised expression, read in a job."""
        adata = self.session.adata
        if adata is None or self.layer is None or self.session.is_running(JobKind.GENE):
            return
        job = self.session.create_job(JobKind.GENE, f"Reading {gene}", view_tasks.gene_values,
                                      adata, gene, self.session.choices.layer)
        job.succeeded.connect(lambda result: self._on_gene_job_succeeded(adata, result))
        self.session.start_job(job)

    # ------------------------------------------------------------ session slots
    def _on_session_data_loaded(self, _adata: Any) -> None:
        self._remove_layer()
        self._restart()

    def _on_session_model_trained(self, _model: Any) -> None:
        # As the app's viewer wiring does: a new model's latents, then their embeddings.
        if not self.session.is_running(JobKind.LATENTS) and not self.session.shutting_down:
            self.session.compute_latents()

    def _on_session_latents_ready(self, _latents: dict) -> None:
        self._restart()

    # -------------------------------------------------------------- embeddings
    def _restart(self) -> None:
        """Forget queued embeddings; show a stored one of :attr:`space` or compute it."""
        self._generation += 1
        self.session.cancel(JobKind.EMBEDDING)
        adata = self.session.adata
        self._queue = []
        if adata is None or not all(k in adata.obsm for k in space_latent_keys(self.space)):
            return
        stored = stored_embedding(adata, space=self.space)
        if stored is not None:
            self._show(self.space, *stored)
            if stored[0] == "umap":
                return
        else:
            self._queue.append("pca")
        self._queue.append("umap")
        self._start_next()

    def _start_next(self) -> None:
        session, adata = self.session, self.session.adata
        if not self._queue or adata is None or session.shutting_down:
            return
        if session.is_running(JobKind.EMBEDDING):  # a cancelled one is ending; go on after it
            return
        method = self._queue.pop(0)
        space, generation = self.space, self._generation
        obsm = {key: adata.obsm[key] for key in LATENT_KEYS if key in adata.obsm}
        job = session.create_job(JobKind.EMBEDDING, f"Computing {method.upper()} of {space}",
                                 view_tasks.embed_space, obsm, space, method)
        job.succeeded.connect(lambda xy: self._on_embedding_succeeded(generation, space, method, xy))
        job.ended.connect(lambda _outcome: self._start_next())
        session.start_job(job)

    def _on_embedding_succeeded(self, generation: int, space: str, method: str, xy: Any) -> None:
        if generation == self._generation and self.session.set_embedding(space, method, xy):
            self._show(space, method, np.asarray(xy))

    # ------------------------------------------------------------------- layer
    def _show(self, space: str, method: str, xy: np.ndarray) -> None:
        coords = point_coordinates(xy)
        layer = self.layer
        if layer is not None and layer in self.viewer.layers and len(layer.data) == len(coords):
            layer.data = coords
            layer.name = layer_name(space, method)
            self.viewer.reset_view()
            self.changed.emit()
            return
        self._remove_layer()
        features = self._features()
        layer = self.viewer.add_points(
            coords, features=features, size=POINT_SIZE, border_width=0,
            name=layer_name(space, method), metadata={"fadvi": LAYER_NAME},
        )
        self.layer = layer
        _selection_signal(layer).connect(self._on_layer_selection_changed)
        shown = colour_feature(features)
        if shown is not None:
            self._colour_by(shown)
        self.viewer.reset_view()
        self.changed.emit()

    def _features(self) -> pd.DataFrame:
        c = self.session.choices
        return cell_features(self.session.adata.obs, batch_key=c.batch_key, labels_key=c.labels_key)

    def _colour_by(self, name: str) -> None:
        layer = self.layer
        values = layer.features[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            # Leave a colormap quietly first: napari would map the categories as numbers.
            with layer.events.face_color.blocker():
                layer.face_color_mode = "direct"
            layer.face_color_cycle = _palette(len(values.cat.categories))
            layer.face_color = name
            layer.face_color_mode = "cycle"
        else:
            layer.face_colormap = "viridis"
            layer.face_color = name
            layer.face_color_mode = "colormap"
        layer.refresh_colors(update_color_mapping=True)
        self.coloured_by = name
        self.changed.emit()

    def _remove_layer(self) -> None:
        layer, self.layer = self.layer, None
        self.coloured_by = None
        if layer is None:
            return
        _selection_signal(layer).disconnect(self._on_layer_selection_changed)
        viewer = self._viewer()
        if viewer is not None and layer in viewer.layers:
            viewer.layers.remove(layer)
        self.selection_changed.emit(np.zeros(0, dtype=np.int64))
        self.changed.emit()

    def _on_viewer_layer_removed(self, event: Any) -> None:
        if self.layer is not None and event.value is self.layer:  # deleted in the layer list
            self._remove_layer()

    def _on_layer_selection_changed(self, *_args: Any) -> None:
        self.selection_changed.emit(self.selected_indices())

    def _on_gene_job_succeeded(self, adata: Any, result: tuple) -> None:
        layer = self.layer
        if adata is not self.session.adata or layer is None or len(layer.data) != adata.n_obs:
            return
        gene, values, _totals = result
        features = layer.features.copy()
        features[GENE_FEATURE] = np.asarray(values, dtype=np.float64)
        layer.features = features
        self._colour_by(GENE_FEATURE)
        self.viewer.status = f"FADVI: cells coloured by {gene}"


def _selection_signal(layer: Points) -> Any:
    """The signal of a change of the layer's selected points (psygnal's since napari 0.6)."""
    events = layer.selected_data.events
    signal = getattr(events, "items_changed", None)  # a SignalInstance: falsy while unconnected
    return signal if signal is not None else events.changed


def _palette(n: int) -> np.ndarray:
    """The app's category colours as RGBA floats, black swapped for light grey on napari's canvas."""
    colours = categorical_palette(max(n, 1)).astype(np.float64) / 255.0
    colours[(colours[:, :3] == 0).all(axis=1)] = _LIGHT
    return colours


__all__ = ["GENE_FEATURE", "LAYER_SPACES", "CellsLayer"]
