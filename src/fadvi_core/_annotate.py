"""`annotate`: label a file that has no labels from a labelled reference, in one call.

Two ways, one result:

- from a reference ``.h5ad`` (joint training): FADVI trains on the reference's labelled cells and
  the query's unlabelled cells together, so the query shapes the shared space;
- from a saved `ReferenceModel` (query mapping, as scArches does): the reference's weights stay
  frozen and only the query's batch-specific weights are learnt, in seconds.

Both write the same columns onto a copy of the query (`_reference.RESULT_COLUMNS`), the
latents in ``obsm["X_fadvi_b" | "X_fadvi_l" | "X_fadvi_r"]`` and a record in ``uns["fadvi"]``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from anndata import AnnData, read_h5ad

from . import _reference as ref
from ._defaults import DEFAULT_TIME_BUDGET_S

#: Reference cells whose z_l the kNN vote and the card keep (drawn at random beyond it).
MAX_VOTING_CELLS = 50_000


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def voting_cells(n_cells: int, seed: int = 0) -> np.ndarray:
    """Positions of the reference cells the kNN vote uses: all, or `MAX_VOTING_CELLS` of them."""
    if n_cells <= MAX_VOTING_CELLS:
        return np.arange(n_cells)
    return np.sort(np.random.default_rng(seed).choice(n_cells, MAX_VOTING_CELLS, replace=False))


def train_joint(joint: ref.JointData, *, time_budget_s: float = DEFAULT_TIME_BUDGET_S,
                max_epochs: int | None = None, seed: int = 0, progress_callback=None,
                should_stop=None, **train_options):
    """Train FADVI on ``joint`` with the app's defaults (time budget, early stopping)."""
    import scvi

    from ._defaults import training_defaults
    from ._model import FADVI

    joint.setup()
    scvi.settings.seed = seed
    model = FADVI(joint.adata)
    defaults = training_defaults(joint.adata.n_obs, joint.adata.n_vars, time_budget_s=time_budget_s,
                                 has_labels=True)
    options = defaults.train_kwargs() | train_options
    if max_epochs is not None:
        options["max_epochs"] = max_epochs
    model.train(**options, progress_callback=progress_callback, should_stop=should_stop)
    return model


def _record(model, *, mode: str, reference: dict, genes, used: list[str], seed: int,
            options: dict) -> dict:
    from ._cli_record import plain, run_record

    record = run_record(model, command="annotate", seed=seed, inputs={}, options=options)
    record["reference"] = reference
    record["settings"]["mode"] = mode
    record["genes"] = genes.to_record() | {"used": list(used)}
    return plain(record)


def annotate(query: AnnData, reference, *, labels_key: str | None = None,
             reference_batch_key: str | None = None, batch_key: str | None = None,
             layer: str | None = None, reference_layer: str | None = None,
             coarse_labels_key: str | None = None, n_top_genes: int | None = ref.DEFAULT_GENES,
             time_budget_s: float = DEFAULT_TIME_BUDGET_S, max_epochs: int | None = None,
             map_epochs: int | None = None, method: str = "joint", seed: int = 0,
             progress_callback=None, should_stop=None) -> AnnData:
    """Annotate ``query``'s cells from a labelled reference; return an annotated copy.

    Parameters
    ----------
    query
        Raw counts (in X, or in ``layer``) of the cells to annotate; not modified.
    reference
        A labelled AnnData or the path of an ``.h5ad`` (joint training), or a `ReferenceModel`
        or the folder one was saved in (query mapping).
    labels_key
        The reference's cell-type column; needed with an AnnData reference.
    reference_batch_key, batch_key
        Batch columns of the reference and the query; None means one batch.
    layer, reference_layer
        Layers holding raw counts; None uses X.
    coarse_labels_key
        The reference's coarse label column, for ``fadvi_prediction_resolved``.
    n_top_genes
        Variable genes chosen on the reference among the shared genes.
    time_budget_s, max_epochs
        Limits of training. ``map_epochs`` is the passes of query mapping.
    method
        With an AnnData reference: ``"joint"`` trains on reference and query together;
        ``"map"`` trains a `ReferenceModel` on the reference alone, then maps the query onto it
        (steadier where the two differ in their cell-type mix; ``benchmarks/results/reference.md``).
    seed
        Random seed; the same seed and inputs give the same result.

    Returns
    -------
    AnnData
        A copy of ``query`` in its own order with ``obs`` columns ``fadvi_prediction``,
        ``fadvi_confidence``, ``fadvi_novelty``, ``fadvi_prediction_set``, ``fadvi_set_size``,
        ``fadvi_prediction_resolved``, ``fadvi_knn_prediction`` and ``fadvi_agreement``, the
        latents in ``obsm`` and the record in ``uns["fadvi"]`` (reference name and SHA-256,
        genes used, versions).

    Raises
    ------
    ValueError
        When a column, layer or gene match is missing (`TooFewSharedGenes`); the message says
        how to fix it.
    """
    from ._reference_model import MAP_EPOCHS, ReferenceModel

    source = None
    if isinstance(reference, (str, os.PathLike)):
        path = Path(reference)
        if path.is_dir():
            reference = ReferenceModel.load(path)
        elif not path.is_file():
            raise FileNotFoundError(f"No reference at {path}: give a labelled .h5ad file or the "
                                    "folder of a saved reference model.")
        else:
            source = {"name": path.name, "sha256": file_sha256(path)}
            reference = read_h5ad(path)
    if isinstance(reference, ReferenceModel):
        return reference.annotate(query, batch_key=batch_key, layer=layer, seed=seed,
                                  max_epochs=map_epochs or MAP_EPOCHS,
                                  progress_callback=progress_callback, should_stop=should_stop)
    if labels_key is None:
        raise ValueError("Name the reference's cell-type column (labels_key=...).")
    if method not in ("joint", "map"):
        raise ValueError(f"method={method!r}: use 'joint' or 'map'.")
    if method == "map":
        model = ReferenceModel.train(
            reference, labels_key=labels_key, reference_batch_key=reference_batch_key,
            reference_layer=reference_layer, coarse_labels_key=coarse_labels_key,
            n_top_genes=n_top_genes, time_budget_s=time_budget_s, max_epochs=max_epochs,
            seed=seed, progress_callback=progress_callback, should_stop=should_stop)
        out = model.annotate(query, batch_key=batch_key, layer=layer, seed=seed,
                             max_epochs=map_epochs or MAP_EPOCHS)
        if source is not None:
            out.uns["fadvi"]["reference"] |= source
        return out
    joint = ref.joint_data(query, reference, labels_key=labels_key,
                           reference_batch_key=reference_batch_key, batch_key=batch_key,
                           layer=layer, reference_layer=reference_layer,
                           coarse_labels_key=coarse_labels_key, n_top_genes=n_top_genes)
    model = train_joint(joint, time_budget_s=time_budget_s, max_epochs=max_epochs, seed=seed,
                        progress_callback=progress_callback, should_stop=should_stop)
    return joint_annotation(model, joint, query, source=source, seed=seed,
                            options={"labels_key": labels_key, "n_top_genes": n_top_genes,
                                     "time_budget_s": time_budget_s, "max_epochs": max_epochs,
                                     "coarse_labels_key": coarse_labels_key})


def joint_annotation(model, joint: ref.JointData, query: AnnData, *, source: dict | None = None,
                     seed: int = 0, options: dict | None = None) -> AnnData:
    """The annotated copy of ``query`` (the file ``joint`` was built from) by ``model``, trained
    on ``joint.adata``: what `annotate` returns. ``source``: the reference file's ``name`` and
    ``sha256``."""
    voters = joint.reference_indices[voting_cells(joint.n_reference, seed)]
    reference_latent = model.get_latent_representation(joint.adata, indices=voters,
                                                       representation="l")
    labels = joint.adata.obs[ref.LABELS_KEY].to_numpy()[voters]
    frame, latents = ref.query_annotation(model, joint.adata, joint.query_indices,
                                          reference_latent=reference_latent,
                                          reference_labels=labels, coarse_of=joint.coarse_of)
    frame.index = query.obs_names
    described = (source or {"name": "(in memory)"}) | {"n_cells": joint.n_reference}
    record = _record(model, mode="joint training", reference=described, genes=joint.genes,
                     used=list(joint.adata.var_names), seed=seed, options=options or {})
    return ref.annotated_copy(query, frame, latents, record)
