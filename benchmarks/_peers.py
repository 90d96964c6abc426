"""Peer methods and metrics for the label-transfer benchmark: CellTypist, kNN on z_l, scib-metrics.

CellTypist is trained on the labelled cells of the same run and used offline: the `Model` object
goes straight to ``celltypist.annotate`` and ``CELLTYPIST_FOLDER`` points at an empty temporary
folder, so nothing is downloaded. Inputs are log1p(CP10k) of the counts, as CellTypist expects.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import pandas as pd


def per_class_accuracy(pred, truth) -> dict[str, float]:
    """Share of each true class's cells predicted as that class."""
    pred, truth = np.asarray(pred).astype(str), np.asarray(truth).astype(str)
    return {label: float(np.mean(pred[truth == label] == label)) for label in np.unique(truth)}


def celltypist_transfer(adata, labels_key: str, hidden_idx: np.ndarray, *, unlabeled: str,
                        seed: int) -> tuple[np.ndarray, float]:
    """CellTypist trained on the labelled cells, predicting ``hidden_idx``; ``(pred, seconds)``."""
    import scanpy as sc

    folder = tempfile.mkdtemp(prefix="celltypist_")
    os.environ["CELLTYPIST_FOLDER"] = folder  # read at import: never the home folder
    import celltypist

    data = adata.copy()
    sc.pp.normalize_total(data, target_sum=1e4)
    sc.pp.log1p(data)
    labels = data.obs[labels_key].astype(str).to_numpy()
    train = data[labels != unlabeled].copy()
    start = time.perf_counter()
    np.random.seed(seed)
    # use_SGD: CellTypist's logistic-regression path passes multi_class, which scikit-learn
    # 1.8+ removed; its SGD path (log loss, one-vs-rest) is the one it trains its own models with.
    model = celltypist.train(train, labels=train.obs[labels_key].astype(str).to_numpy(),
                             check_expression=False, n_jobs=1, use_SGD=True)
    result = celltypist.annotate(data[hidden_idx].copy(), model=model, majority_voting=False)
    seconds = time.perf_counter() - start
    return result.predicted_labels["predicted_labels"].astype(str).to_numpy(), seconds


def knn_transfer(latent: np.ndarray, labels: np.ndarray, hidden_idx: np.ndarray, *,
                 unlabeled: str, n_neighbors: int = 15) -> np.ndarray:
    """A kNN classifier on a latent space, fitted on the labelled cells; predicts ``hidden_idx``."""
    from sklearn.neighbors import KNeighborsClassifier

    labelled = np.flatnonzero(np.asarray(labels) != unlabeled)
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors)
    classifier.fit(latent[labelled], np.asarray(labels)[labelled])
    return classifier.predict(latent[hidden_idx])


def scib_scores(adata, embeddings: dict[str, np.ndarray], *, n_jobs: int = 1) -> dict:
    """scib-metrics `Benchmarker` (default metrics) on each embedding; per embedding the
    ``Bio conservation``, ``Batch correction`` and ``Total`` scores (not min-max scaled)."""
    from scib_metrics.benchmark import Benchmarker

    data = adata.copy()
    for name, latent in embeddings.items():
        data.obsm[name] = np.asarray(latent, dtype=np.float32)
    bench = Benchmarker(data, batch_key="batch", label_key="cell_type",
                        embedding_obsm_keys=list(embeddings), n_jobs=n_jobs)
    bench.benchmark()
    table: pd.DataFrame = bench.get_results(min_max_scale=False)
    table = table.drop(index="Metric Type", errors="ignore")
    return {name: {column: float(table.loc[name, column])
                   for column in ("Bio conservation", "Batch correction", "Total")}
            for name in embeddings}
