"""Annotating a file with no labels from a labelled reference: the joint data and its results.

`joint_data` puts the reference's labelled cells and the query's cells into one AnnData on their
shared genes (`_genes.match_genes`), with variable genes chosen on the reference within each of
its batches, each file's batches kept apart ("reference: 3pv1", "query: V2") and the query's cells
unlabelled. FADVI then trains on it as on any partly labelled file, and `query_annotation` writes
the query's predictions back onto a copy of the query, in its own order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import sparse

from ._genes import GeneMatch, match_genes

SOURCE_KEY = "fadvi_source"
BATCH_KEY = "fadvi_batch"
LABELS_KEY = "fadvi_reference_label"
COARSE_KEY = "fadvi_reference_coarse"
UNLABELLED = "(query cell)"
DEFAULT_GENES = 2000
KNN_NEIGHBOURS = 15
#: obs columns `query_annotation` writes.
RESULT_COLUMNS = ("fadvi_prediction", "fadvi_confidence", "fadvi_novelty", "fadvi_prediction_set",
                  "fadvi_set_size", "fadvi_prediction_resolved", "fadvi_knn_prediction",
                  "fadvi_agreement")


@dataclass
class JointData:
    """The reference's and the query's cells together, ready for ``FADVI.setup_anndata``.

    ``adata`` holds the reference's cells first, then the query's, with raw counts in ``X`` and
    obs columns `SOURCE_KEY`, `BATCH_KEY`, `LABELS_KEY` (and `COARSE_KEY` with two levels).
    ``coarse_of`` maps each fine label to its coarse one.
    """

    adata: AnnData
    genes: GeneMatch
    n_reference: int
    coarse_of: dict[str, str] | None

    @property
    def query_indices(self) -> np.ndarray:
        return np.arange(self.n_reference, self.adata.n_obs)

    @property
    def reference_indices(self) -> np.ndarray:
        return np.arange(self.n_reference)

    def setup(self) -> None:
        """Register ``adata`` with FADVI (counts in X, the joint batch and label columns)."""
        from ._model import FADVI

        FADVI.setup_anndata(self.adata, batch_key=BATCH_KEY, labels_key=LABELS_KEY,
                            unlabeled_category=UNLABELLED)


def _column(adata: AnnData, key: str | None, what: str, flag: str) -> pd.Series | None:
    if key is None:
        return None
    if key not in adata.obs:
        shown = ", ".join(map(str, list(adata.obs.columns)[:12])) or "none"
        raise ValueError(f"The {what} has no obs column '{key}' (its columns: {shown}). "
                         f"Choose one of them with {flag}.")
    return adata.obs[key]


def counts_of(adata: AnnData, layer: str | None, what: str, flag: str):
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        shown = ", ".join(adata.layers.keys()) or "none"
        raise ValueError(f"The {what} has no layer '{layer}' (its layers: {shown}). Name the "
                         f"layer with raw counts with {flag}, or leave it out to use X.")
    return adata.layers[layer]


def check_counts(adata: AnnData, layer: str | None, what: str) -> None:
    """Raise ``ValueError`` when the counts of ``adata`` are not raw counts (named as ``what``)."""
    from ._checks import _value_problems

    for problem in _value_problems(counts_of(adata, layer, what, "--layer"), layer, adata):
        if problem.severity == "error" and problem.code != "empty_cells":
            raise ValueError(f"In the {what}: {problem}")


def _labels(reference: AnnData, labels_key: str) -> pd.Series:
    labels = _column(reference, labels_key, "reference", "--labels-key (labels_key)")
    if labels is None:
        raise ValueError("Name the reference's cell-type column with --labels-key (labels_key).")
    text = labels.astype("string").str.strip()
    known = text.notna() & (text != "") & ~text.isin(["nan", "NaN", "Unknown", UNLABELLED])
    n_classes = text[known].nunique()
    if n_classes < 2:
        raise ValueError(f"The reference's column '{labels_key}' has {n_classes} cell type(s) "
                         "among its labelled cells; a reference needs at least two. Choose the "
                         "column with the cell types.")
    return text.where(known, UNLABELLED).astype(str)


def coarse_labels(fine: pd.Series, coarse: pd.Series) -> dict[str, str]:
    """Each fine label's coarse label: the most common among its cells."""
    table = pd.crosstab(fine.astype(str), coarse.astype(str))
    return {str(label): str(table.loc[label].idxmax()) for label in table.index}


def batch_names(adata: AnnData, key: str | None, prefix: str, what: str, flag: str) -> np.ndarray:
    """Each cell's batch as ``prefix + value`` (``prefix + "all"`` without a batch column)."""
    column = _column(adata, key, what, flag)
    if column is None:
        return np.full(adata.n_obs, f"{prefix}all", dtype=object)
    return np.asarray([f"{prefix}{value}" for value in column.astype(str)], dtype=object)


def joint_data(query: AnnData, reference: AnnData, *, labels_key: str,
               reference_batch_key: str | None = None, batch_key: str | None = None,
               layer: str | None = None, reference_layer: str | None = None,
               coarse_labels_key: str | None = None,
               n_top_genes: int | None = DEFAULT_GENES) -> JointData:
    """The reference's labelled cells and the query's cells on their shared genes.

    Neither input is modified. Reference cells without a label are left out (they would count
    as query cells). Raises `ValueError` (`TooFewSharedGenes` among them) naming the problem
    and the fix.
    """
    from ._preprocess import select_genes

    labels = _labels(reference, labels_key)
    keep = (labels != UNLABELLED).to_numpy()
    ref_batches = batch_names(reference, reference_batch_key, "reference: ", "reference",
                              "--reference-batch-key (reference_batch_key)")
    query_batches = batch_names(query, batch_key, "query: ", "data", "--batch-key (batch_key)")
    coarse = _column(reference, coarse_labels_key, "reference", "--coarse-labels-key")
    genes = match_genes(reference, query)
    check_counts(reference, reference_layer, "reference")
    check_counts(query, layer, "data")
    ref_counts = sparse.csr_matrix(counts_of(reference, reference_layer, "reference",
                                             "--reference-layer"), dtype=np.float32)
    query_counts = sparse.csr_matrix(counts_of(query, layer, "data", "--layer"), dtype=np.float32)
    ref_counts = ref_counts[keep][:, genes.reference_index]
    query_counts = query_counts[:, genes.query_index]
    chosen = AnnData(X=ref_counts, obs=pd.DataFrame({"batch": ref_batches[keep]},
                                                    index=reference.obs_names[keep].astype(str)),
                     var=pd.DataFrame(index=genes.names))
    hvg_key = "batch" if len(set(ref_batches[keep])) > 1 else None
    selected = select_genes(chosen, n_top_genes=n_top_genes, batch_key=hvg_key)
    obs = pd.DataFrame({
        SOURCE_KEY: ["reference"] * int(keep.sum()) + ["query"] * query.n_obs,
        BATCH_KEY: np.concatenate([ref_batches[keep], query_batches]),
        LABELS_KEY: np.concatenate([labels.to_numpy()[keep], [UNLABELLED] * query.n_obs]),
    }, index=pd.Index([f"reference:{n}" for n in reference.obs_names[keep]]
                      + [f"query:{n}" for n in query.obs_names]))
    coarse_of = None
    if coarse is not None:
        coarse_of = coarse_labels(labels[keep], coarse[keep])
        obs[COARSE_KEY] = [coarse_of.get(label, UNLABELLED) for label in obs[LABELS_KEY]]
    for key in (SOURCE_KEY, BATCH_KEY, LABELS_KEY):
        obs[key] = obs[key].astype("category")
    matrix = sparse.vstack([ref_counts[:, selected], query_counts[:, selected]], format="csr")
    combined = AnnData(X=matrix, obs=obs, var=pd.DataFrame(index=genes.names[selected]))
    _refuse_empty_cells(combined, int(keep.sum()))
    return JointData(combined, genes, int(keep.sum()), coarse_of)


def refuse_empty_query_cells(adata: AnnData) -> None:
    """Raise ``ValueError`` when some cells have no counts in the genes used."""
    _refuse_empty_cells(adata, 0)


def _refuse_empty_cells(adata: AnnData, n_reference: int) -> None:
    empty = np.asarray(adata.X.sum(axis=1)).ravel() <= 0
    if empty[n_reference:].any():
        raise ValueError(
            f"{int(empty[n_reference:].sum())} of the data's cells have no counts in the "
            f"{adata.n_vars} genes chosen from the reference. Filter out empty cells first "
            "(e.g. scanpy.pp.filter_cells(adata, min_counts=1)), or use more genes.")
    if empty[:n_reference].any():
        raise ValueError(
            f"{int(empty[:n_reference].sum())} of the reference's cells have no counts in the "
            f"{adata.n_vars} genes shared with the data. Filter out empty cells in the "
            "reference, or use more genes.")


def resolved_predictions(prediction: np.ndarray, sets: pd.DataFrame | None,
                         coarse_of: dict[str, str] | None) -> np.ndarray:
    """The fine prediction where the prediction set names one fine type (or no set exists), the
    coarse type where the set spans several fine types of one coarse type, and "Unresolved"
    where it spans coarse types; an empty set (a cell unlike the reference) is "Not in reference".
    """
    prediction = np.asarray(prediction, dtype=object)
    if sets is None or coarse_of is None:
        return prediction.copy()
    classes = np.asarray(sets.columns, dtype=object)
    members = sets.to_numpy(dtype=bool)
    out = prediction.copy()
    for i, row in enumerate(members):
        names = classes[row]
        if len(names) == 0:
            out[i] = "Not in reference"
        elif len(names) > 1:
            coarse = {coarse_of.get(str(name), str(name)) for name in names}
            out[i] = coarse.pop() if len(coarse) == 1 else "Unresolved"
    return out


def knn_vote(query_latent: np.ndarray, reference_latent: np.ndarray,
             reference_labels: np.ndarray, k: int = KNN_NEIGHBOURS) -> np.ndarray:
    """The most common label among each query cell's ``k`` nearest reference cells in z_l."""
    from sklearn.neighbors import NearestNeighbors

    reference_labels = np.asarray(reference_labels).astype(str)
    k = min(k, len(reference_labels))
    search = NearestNeighbors(n_neighbors=k).fit(np.asarray(reference_latent, dtype=np.float32))
    _, nearest = search.kneighbors(np.asarray(query_latent, dtype=np.float32))
    codes, names = pd.factorize(reference_labels)
    votes = np.zeros((len(nearest), len(names)), dtype=np.int32)
    np.add.at(votes, (np.repeat(np.arange(len(nearest)), k), codes[nearest].ravel()), 1)
    return np.asarray(names, dtype=object)[votes.argmax(axis=1)]


def query_annotation(model, adata: AnnData, indices: np.ndarray, *, reference_latent: np.ndarray,
                     reference_labels: np.ndarray, coarse_of: dict[str, str] | None,
                     alpha: float = 0.1, should_stop: Callable[[], bool] | None = None
                     ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The result columns (`RESULT_COLUMNS`) and the three latents of the cells ``indices``."""
    soft = model.predict(adata, indices=indices, soft=True)
    prediction = soft.idxmax(axis=1).to_numpy(dtype=object)
    columns = {"fadvi_prediction": prediction, "fadvi_confidence": soft.max(axis=1).to_numpy()}
    sets = None
    if model.calibration_ is not None:
        sets = model.predict_sets(adata, indices=indices, alpha=alpha)
        columns["fadvi_novelty"] = model.get_novelty_scores(adata, indices=indices).to_numpy()
        members = sets.to_numpy(dtype=bool)
        names = np.asarray(sets.columns, dtype=object)
        columns["fadvi_prediction_set"] = np.asarray(
            [" | ".join(names[row]) for row in members], dtype=object)
        columns["fadvi_set_size"] = members.sum(axis=1)
    columns["fadvi_prediction_resolved"] = resolved_predictions(prediction, sets, coarse_of)
    latents = {f"X_fadvi_{space}": model.get_latent_representation(
        adata, indices=indices, representation=space) for space in ("b", "l", "r")}
    knn = knn_vote(latents["X_fadvi_l"], reference_latent, reference_labels)
    columns["fadvi_knn_prediction"] = knn
    columns["fadvi_agreement"] = knn == prediction
    frame = pd.DataFrame(columns, index=adata.obs_names[indices])
    for key in ("fadvi_prediction", "fadvi_prediction_resolved", "fadvi_knn_prediction"):
        frame[key] = frame[key].astype("category")
    return frame, latents


def annotated_copy(query: AnnData, frame: pd.DataFrame, latents: dict[str, np.ndarray],
                   record: dict) -> AnnData:
    """A copy of ``query`` with the result columns, latents and ``uns["fadvi"]`` record."""
    out = query.copy()
    for key in frame.columns:
        values = frame[key].to_numpy()
        out.obs[key] = pd.Categorical(values) if frame[key].dtype == "category" else values
    for key, value in latents.items():
        out.obsm[key] = np.asarray(value)
    out.uns["fadvi"] = record
    return out
