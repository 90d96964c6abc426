"""Shared helpers for the benchmark scripts: data, gene selection, method adapters, stats.

Run the scripts with the benchmark venv (``.bench-venv``), which holds the reference
``fadvi`` package next to an editable install of this project's ``fadvi_core``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("FADVI_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
RESULTS_DIR = Path(__file__).resolve().parent / "results"
UNLABELED = "Unknown"
METHODS = ("fadvi_core", "reference", "scanvi")

# The 5' chemistry is the odd one out in both files (the other two batches are 3'), so hiding it is
# the hardest transfer: labels learnt on 3' data must carry over to 5' data.
# The pancreas has two mice whose cell-type mix differs: hide each in turn (both directions).
DEFAULT_HIDDEN = {"pbmc_symphony": "5p", "pbmc3tech_savercat": "VDJ",
                  "baron_mouse_pancreas": "mouse1"}
BOTH_DIRECTIONS = {"baron_mouse_pancreas": ("mouse1", "mouse2")}
DATASETS = tuple(DEFAULT_HIDDEN)


def hidden_batches(dataset: str) -> tuple[str, ...]:
    """The batches whose labels a benchmark hides in turn on ``dataset``."""
    return BOTH_DIRECTIONS.get(dataset, (DEFAULT_HIDDEN[dataset],))


def quiet() -> None:
    """Silence the warnings and INFO lines that scvi-tools and Lightning print on every fit."""
    import logging

    warnings.filterwarnings("ignore")
    for name in ("scvi", "lightning", "lightning.pytorch", "pytorch_lightning", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def command_line() -> str:
    """The command that started this process, relative to the repository root."""
    return "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0])] + sys.argv[1:])


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "machine": platform.machine(),
           "processor": platform.processor() or "", "cpu_count": str(os.cpu_count())}
    repo = Path(__file__).resolve().parents[1]
    with contextlib.suppress(Exception):  # the checkout fadvi_core is imported from (PYTHONPATH)
        import importlib.util

        repo = Path(importlib.util.find_spec("fadvi_core").origin).resolve().parents[2]
        out["fadvi_core_path"] = str(repo)
    with contextlib.suppress(Exception):
        import subprocess

        head = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%h", "--",
                               "src/fadvi_core"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--",
                                "src/fadvi_core"], capture_output=True, text=True).stdout.strip()
        out["fadvi_core_commit"] = head + ("+uncommitted" if dirty else "")
    for pkg in ("torch", "scvi-tools", "fadvi", "fadvi-desktop", "captum", "scanpy", "anndata",
                "numpy", "scikit-learn", "lightning"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[pkg] = importlib.metadata.version(pkg)
    return out


def load_dataset(name: str, *, n_top_genes: int = 2000):
    """Read one of the shared files and select genes the same way for every method.

    ``pbmc_symphony`` keeps all of its 1,767 genes (already the variable genes of the source).
    ``pbmc3tech_savercat`` and ``baron_mouse_pancreas`` drop all-zero genes and keep
    ``n_top_genes`` highly variable genes, scanpy ``flavor="seurat_v3"`` on the counts with
    ``batch_key="batch"``.
    """
    import anndata as ad
    import scanpy as sc

    adata = ad.read_h5ad(DATA_DIR / f"{name}.h5ad")
    adata.obs["batch"] = adata.obs["batch"].astype(str).astype("category")
    adata.obs["cell_type"] = adata.obs["cell_type"].astype(str).astype("category")
    if name in ("pbmc3tech_savercat", "baron_mouse_pancreas"):
        sc.pp.filter_genes(adata, min_cells=1)
        sc.pp.highly_variable_genes(adata, n_top_genes=n_top_genes, flavor="seurat_v3",
                                    batch_key="batch", subset=True)
    adata.layers = {}
    adata.obsm = {}
    adata.varm = {}
    adata.uns = {}
    return adata


def hide_batch(adata, batch: str, *, key: str = "labels_hidden"):
    """Copy ``cell_type`` into ``obs[key]`` with ``UNLABELED`` for every cell of ``batch``."""
    if batch not in set(adata.obs["batch"]):
        raise ValueError(f"Batch {batch!r} is not in this file; choose one of "
                         f"{sorted(set(adata.obs['batch']))}.")
    labels = adata.obs["cell_type"].astype(str).to_numpy().copy()
    hidden = (adata.obs["batch"] == batch).to_numpy()
    labels[hidden] = UNLABELED
    adata.obs[key] = labels
    return np.flatnonzero(hidden)


def fadvi_class(method: str):
    if method == "fadvi_core":
        from fadvi_core import FADVI
    elif method == "reference":
        from fadvi import FADVI
    else:
        raise ValueError(method)
    return FADVI


def train_fadvi(method: str, adata, *, labels_key: str, max_epochs: int, batch_size: int = 128,
                model_kwargs: dict | None = None):
    """Set up, build and train one FADVI model; returns ``(model, setup_s, train_s)``."""
    cls = fadvi_class(method)
    t0 = time.perf_counter()
    cls.setup_anndata(adata, batch_key="batch", labels_key=labels_key,
                      unlabeled_category=UNLABELED)
    model = cls(adata, **(model_kwargs or {}))
    t1 = time.perf_counter()
    model.train(max_epochs=max_epochs, batch_size=batch_size, accelerator="cpu",
                train_size=0.9, enable_progress_bar=False)
    t2 = time.perf_counter()
    return model, t1 - t0, t2 - t1


def train_scanvi(adata, *, labels_key: str, max_epochs: int, scanvi_mode: str,
                 scanvi_epochs: int, batch_size: int = 128):
    """SCANVI with scvi-tools defaults; ``from_scvi``: SCVI for ``max_epochs`` then SCANVI for
    ``scanvi_epochs``; ``scratch``: SCANVI alone for ``max_epochs``."""
    import scvi

    t0 = time.perf_counter()
    if scanvi_mode == "from_scvi":
        scvi.model.SCVI.setup_anndata(adata, batch_key="batch", labels_key=labels_key)
        vae = scvi.model.SCVI(adata)
        t1 = time.perf_counter()
        vae.train(max_epochs=max_epochs, batch_size=batch_size, accelerator="cpu",
                  train_size=0.9, enable_progress_bar=False)
        model = scvi.model.SCANVI.from_scvi_model(vae, unlabeled_category=UNLABELED)
        model.train(max_epochs=scanvi_epochs, batch_size=batch_size, accelerator="cpu",
                    train_size=0.9, enable_progress_bar=False)
    elif scanvi_mode == "scratch":
        scvi.model.SCANVI.setup_anndata(adata, batch_key="batch", labels_key=labels_key,
                                        unlabeled_category=UNLABELED)
        model = scvi.model.SCANVI(adata)
        t1 = time.perf_counter()
        model.train(max_epochs=max_epochs, batch_size=batch_size, accelerator="cpu",
                    train_size=0.9, enable_progress_bar=False)
    else:
        raise ValueError(scanvi_mode)
    t2 = time.perf_counter()
    return model, t1 - t0, t2 - t1


def mean_sd(values) -> dict[str, float]:
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if arr.size == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    return {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
            "n": int(arr.size)}


def fmt(stat: dict[str, float], digits: int = 3) -> str:
    if not stat or stat.get("n", 0) == 0:
        return "n/a"
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"
