"""Worker functions of File > Annotate with Reference...: read a reference, join it with the open
data (or map the data onto a reference model), and save the query's cells annotated.

Each takes a :class:`~fadvi_gui.tasks._control.Control` first, calls ``fadvi_core`` and returns a
result; none touches Qt, and none writes the files the user opened.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import fadvi_core
from fadvi_gui.model.keys import (
    AGREEMENT_KEY, KNN_PREDICTION_KEY, PREDICTION_KEY, RESOLVED_KEY, SCVI_PREFIX, UNS_KEY,
)
from fadvi_gui.model.reference import CARD_FILE, JOINT, JOINT_COLUMNS, MAPPED, ReferenceState, query_view
from fadvi_gui.tasks.data import plain_uns, read_data
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_core import TrainingProgress
    from fadvi_gui.tasks._control import Control

def model_folder(path: str | os.PathLike) -> Path | None:
    """The reference model folder ``path`` names (the folder, or its ``reference_card.json``), or None."""
    p = Path(path)
    if p.name == CARD_FILE and p.is_file():
        return p.parent
    return p if p.is_dir() and (p / CARD_FILE).is_file() else None


@dataclasses.dataclass
class ReadReference:
    """A reference as read from disk: a labelled AnnData, or a reference model."""

    path: Path
    adata: AnnData | None = None
    model: Any = None
    source: dict | None = None


def read_reference(control: Control, path: str | os.PathLike) -> ReadReference:
    """Read a labelled ``.h5ad`` (and its SHA-256, for the record) or open a reference model folder.

    Raises
    ------
    ValueError
        When ``path`` is neither, or cannot be read (the message says what to pick instead).
    """
    folder = model_folder(path)
    if folder is not None:
        reserve_core_for_ui()
        try:
            model = fadvi_core.ReferenceModel.load(folder)
        except fadvi_core.ModelFileError as exc:
            raise ValueError(str(exc)) from exc
        return ReadReference(folder, model=model, source={"name": folder.name,
                                                           "sha256": model.model_sha256})
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{p.name} is a folder without {CARD_FILE}, so it is not a reference "
                         "model. Pick a labelled .h5ad file, or a folder saved by 'fadvi reference'.")
    if not p.name.lower().endswith(".h5ad"):
        raise ValueError(f"{p.name} is not a reference FADVI can use. Pick a labelled .h5ad file, "
                         "or the reference_card.json of a saved reference model.")
    adata = read_data(control, p)
    return ReadReference(p, adata=adata, source={"name": p.name, "sha256": fadvi_core.file_sha256(p)})


def join_reference(control: Control, query: AnnData, read: ReadReference, *, labels_key: str,
                   reference_batch_key: str | None, coarse_labels_key: str | None,
                   batch_key: str | None, layer: str | None, reference_layer: str | None = None
                   ) -> ReferenceState:
    """Join the reference's labelled cells and ``query``'s cells on their shared genes.

    Raises
    ------
    ValueError
        ``fadvi_core.TooFewSharedGenes`` (how many genes match, and how to fix it), or a column
        or layer that is missing.
    """
    joint = fadvi_core.joint_data(query, read.adata, labels_key=labels_key,
                                  reference_batch_key=reference_batch_key, batch_key=batch_key,
                                  layer=layer, reference_layer=reference_layer,
                                  coarse_labels_key=coarse_labels_key)
    return ReferenceState(query=query, data=joint.adata, mode=JOINT, reference_name=read.path.name,
                          source=dict(read.source or {}), genes_text=joint.genes.describe(),
                          n_shared=int(joint.genes.n_shared), query_batch_key=batch_key, joint=joint)


def map_onto_reference(control: Control, query: AnnData, read: ReadReference, *,
                       batch_key: str | None, layer: str | None, max_epochs: int | None = None
                       ) -> tuple[ReferenceState, Any]:
    """Put ``query`` on the reference model's genes and map it (only its batch weights learn).

    Returns
    -------
    tuple
        ``(state, model)``: the reference state and the FADVI model of the query's cells.
    """
    reserve_core_for_ui()
    reference = read.model
    data, match = reference.query_data(query, batch_key=batch_key, layer=layer)

    def on_progress(progress: TrainingProgress) -> None:
        control.report(progress, force=progress.epoch_end)

    epochs = {} if max_epochs is None else {"max_epochs": max_epochs}  # None: the engine's
    model = reference.map(data, progress_callback=on_progress, should_stop=control.should_stop,
                          **epochs)
    state = ReferenceState(query=query, data=data, mode=MAPPED, reference_name=read.path.name,
                           source=dict(read.source or {}), genes_text=match.describe(),
                           n_shared=int(match.n_shared), query_batch_key=batch_key,
                           reference_model=reference, genes=match)
    return state, model


def query_results(state: ReferenceState, model: Any, *, seed: int = 0) -> AnnData:
    """The engine's annotated copy of the query by ``model`` (columns, latents, ``uns["fadvi"]``)."""
    if state.joint is not None:
        joint = state.joint
        trained_on = getattr(model, "adata", None)
        if trained_on is not None and trained_on.obs_names.equals(joint.adata.obs_names) and \
                trained_on.var_names.equals(joint.adata.var_names):
            joint = dataclasses.replace(joint, adata=trained_on)  # registered already
        else:  # the engine registers the data it is given: never the session's
            joint = dataclasses.replace(joint, adata=joint.adata.copy())
        return fadvi_core.joint_annotation(model, joint, state.query, source=state.source, seed=seed)
    return state.reference_model.annotation(model, state.query, state.genes, seed=seed)


def save_reference_model(control: Control, model: Any, folder: str | os.PathLike, *,
                         source: str | os.PathLike | None = None,
                         coarse_labels_key: str | None = None) -> Path:
    """Write ``model`` as a reference model (weights, card, reference cells) into ``folder``.

    Raises
    ------
    ValueError
        When the model has no labels or uses covariates (the message says why).
    """
    reserve_core_for_ui()
    folder = Path(folder)
    reference = fadvi_core.ReferenceModel.from_model(
        model, coarse_labels_key=coarse_labels_key,
        source=source if source is not None and Path(source).is_file() else None)
    reference.save(folder, overwrite=True)
    return folder


def second_opinion(control: Control, state: ReferenceState, model: Any, adata: AnnData
                   ) -> pd.DataFrame:
    """The resolved prediction, the reference's kNN vote and their agreement with the app's
    prediction, one row per cell of ``adata`` (the session's data); reference cells are empty."""
    out = query_results(state, model)
    rows = state.query_positions()
    frame = pd.DataFrame(index=adata.obs_names)
    for key in (RESOLVED_KEY, KNN_PREDICTION_KEY):
        values = np.full(adata.n_obs, None, dtype=object)
        values[rows] = out.obs[key].astype(str).to_numpy()
        frame[key] = pd.Categorical(values)
    predicted = adata.obs[PREDICTION_KEY].astype(object).to_numpy()[rows]
    agreement = pd.array([pd.NA] * adata.n_obs, dtype="boolean")
    known = pd.notna(predicted)
    agreement[rows[known]] = out.obs[KNN_PREDICTION_KEY].astype(str).to_numpy()[known] == \
        predicted[known].astype(str)
    frame[AGREEMENT_KEY] = agreement
    return frame


def query_annotated(control: Control, state: ReferenceState, adata: AnnData, *, model: Any,
                    params: Mapping[str, Any] | None = None, seed: int | None = None) -> AnnData:
    """The query as opened (all its genes, its order) with the reference's labels as predictions.

    The engine's columns come first (:func:`query_results`); the app's own columns of the query's
    cells (accepted labels, review, probabilities, embeddings) are added where the engine wrote
    none. Without a model, only the app's columns are added.
    """
    from fadvi_gui.model.results_io import annotated_copy, package_versions

    out = query_results(state, model, seed=seed or 0) if model is not None else state.query.copy()
    record = dict(out.uns.get(UNS_KEY, {}))
    view = query_view(state, adata)
    for column in view.obs.columns:
        if column not in out.obs and column not in JOINT_COLUMNS and not str(column).startswith(SCVI_PREFIX):
            out.obs[column] = view.obs[column].to_numpy()
    for key in view.obsm.keys():
        if key not in out.obsm:
            out.obsm[key] = np.asarray(view.obsm[key])
    for key, value in view.uns.items():
        if str(key).startswith("fadvi_") and key not in out.uns:
            out.uns[key] = value
    final = annotated_copy(out, settings=plain_uns(params or {}), seed=seed,
                           versions=package_versions())
    if record:
        final.uns[UNS_KEY] = record | {"app": dict(final.uns[UNS_KEY])}
    return final


def save_query_annotation(control: Control, state: ReferenceState, adata: AnnData,
                          path: str | os.PathLike, *, model: Any, params: Mapping[str, Any] | None,
                          seed: int | None, source: str | os.PathLike | None) -> Path:
    """Write :func:`query_annotated` to ``path`` atomically; never over ``source`` (the opened file)."""
    target = Path(path)
    if source is not None and target.exists() and target.resolve() == Path(source).resolve():
        raise ValueError("Choose a different file name: the file you opened is never overwritten, "
                         "so your original data stays as it was.")
    out = query_annotated(control, state, adata, model=model, params=params, seed=seed)
    return fadvi_core.write_atomically(target, lambda tmp: out.write_h5ad(tmp), create_folder=False)


__all__ = ["ReadReference", "join_reference", "map_onto_reference", "model_folder",
           "query_annotated", "query_results", "read_reference", "save_query_annotation",
           "save_reference_model", "second_opinion"]
