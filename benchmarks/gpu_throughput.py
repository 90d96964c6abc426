"""GPU speed: fadvi_core vs the reference ``fadvi`` on one GPU, same data, same settings, one run.

Data: the deterministic synthetic count matrix of ``_synthetic.py`` (``--cells`` cells, 2,000
genes, 8 types, 4 batches), labels of batch ``b4`` hidden. Default hyperparameters,
``batch_size`` 128, ``train_size`` 0.9, ``accelerator="gpu"``, one device.

Measured per method, in one process, after a warm-up matrix product (so that neither pays CUDA's
start-up): training cells/s = training-split cells x epochs / wall time of ``model.train``;
prediction cells/s (hard labels, all cells); IG cells/s on ``--ig-cells`` cells (captum defaults);
accuracy on the hidden batch. fadvi_core runs at every precision of ``--precisions``.

Run on a machine with a CUDA GPU, from the repository root::

    PYTHONPATH=src python benchmarks/gpu_throughput.py --cells 100000 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from _synthetic import HIDDEN_BATCH, synthetic_adata  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=100_000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--ig-cells", type=int, default=1024)
    p.add_argument("--methods", nargs="+", default=["reference", "fadvi_core"])
    p.add_argument("--precisions", nargs="+", default=["32-true", "bf16-mixed"])
    p.add_argument("--out", default=str(C.RESULTS_DIR / "gpu_throughput"))
    p.add_argument("--accelerator", default="gpu", help="cpu: a dry run of this script")
    return p.parse_args(argv)


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_one(method: str, adata, hidden: np.ndarray, args, precision: str | None) -> dict:
    import torch

    cls = C.fadvi_class(method)
    data = adata.copy()
    cls.setup_anndata(data, batch_key="batch", labels_key="labels_hidden",
                      unlabeled_category=C.UNLABELED)
    model = cls(data)
    extra = {} if precision is None else {"precision": precision}
    torch.manual_seed(0)
    _sync()
    t0 = time.perf_counter()
    model.train(max_epochs=args.epochs, batch_size=args.batch_size, accelerator=args.accelerator,
                devices=1, train_size=0.9, enable_progress_bar=False, **extra)
    _sync()
    train_s = time.perf_counter() - t0
    n_train = int(round(0.9 * data.n_obs))

    t0 = time.perf_counter()
    pred = np.asarray(model.predict(batch_size=1024))
    _sync()
    predict_s = time.perf_counter() - t0
    truth = data.obs["cell_type"].astype(str).to_numpy()
    accuracy = float((pred[hidden] == truth[hidden]).mean())

    ig_idx = np.arange(min(args.ig_cells, data.n_obs))
    t0 = time.perf_counter()
    model.predict(indices=ig_idx, interpretability="ig", batch_size=256)
    _sync()
    ig_s = time.perf_counter() - t0
    return {"method": method, "precision": precision or "32 (its own)", "train_s": train_s,
            "train_cells_per_s": n_train * args.epochs / train_s,
            "predict_cells_per_s": data.n_obs / predict_s,
            "ig_cells_per_s": ig_idx.size / ig_s, "hidden_accuracy": accuracy,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20
            if torch.cuda.is_available() else float("nan")}


def main(argv=None) -> None:
    import torch

    args = parse_args(argv)
    C.quiet()
    gpu = args.accelerator != "cpu"
    if gpu and not torch.cuda.is_available():
        raise SystemExit("No CUDA GPU here: this benchmark needs one.")
    if gpu:
        a = torch.randn(4096, 4096, device="cuda")
        (a @ a).sum().item()  # CUDA context and cuBLAS up before any timing

    t0 = time.perf_counter()
    adata = synthetic_adata(args.cells, 2000, seed=0)
    hidden = C.hide_batch(adata, HIDDEN_BATCH)
    print(f"data: {adata.n_obs} x {adata.n_vars} in {time.perf_counter() - t0:.1f} s", flush=True)

    runs = []
    for method in args.methods:
        for precision in (args.precisions if method == "fadvi_core" else [None]):
            if gpu:
                torch.cuda.reset_peak_memory_stats()
            try:
                run = run_one(method, adata, hidden, args, precision)
            except Exception as exc:  # keep the other methods' numbers
                traceback.print_exc()
                run = {"method": method, "precision": precision, "error": repr(exc)}
            print(json.dumps(run), flush=True)
            runs.append(run)

    result = {"command": C.command_line(), "versions": C.versions(),
              "gpu": torch.cuda.get_device_name(0) if gpu else "none (CPU dry run)", "cells": args.cells, "genes": 2000,
              "epochs": args.epochs, "batch_size": args.batch_size, "runs": runs}
    ref = next((r for r in runs if r["method"] == "reference" and "error" not in r), None)
    if ref:
        for r in runs:
            if "error" not in r:
                r["train_ratio_vs_reference"] = r["train_cells_per_s"] / ref["train_cells_per_s"]
                r["ig_ratio_vs_reference"] = r["ig_cells_per_s"] / ref["ig_cells_per_s"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    write_markdown(out.with_suffix(".md"), result)
    print(out.with_suffix(".md").read_text())


def write_markdown(path: Path, result: dict) -> None:
    lines = [f"# GPU throughput: {result['gpu']}, {result['cells']:,} synthetic cells x 2,000 genes",
             "", f"Command: `{result['command']}`", "",
             f"{result['epochs']} epochs, batch {result['batch_size']}, default hyperparameters, "
             "b4's labels hidden; everything in one process on one GPU.", "",
             "| method | precision | train cells/s | x reference | predict cells/s | IG cells/s "
             "| IG x reference | hidden-batch accuracy | peak GPU MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        if "error" in r:
            lines.append(f"| {r['method']} | {r['precision']} | failed: {r['error']} |||||||")
            continue
        lines.append(
            f"| {r['method']} | {r['precision']} | {r['train_cells_per_s']:,.0f} "
            f"| {r.get('train_ratio_vs_reference', float('nan')):.2f} "
            f"| {r['predict_cells_per_s']:,.0f} | {r['ig_cells_per_s']:,.0f} "
            f"| {r.get('ig_ratio_vs_reference', float('nan')):.2f} "
            f"| {r['hidden_accuracy']:.3f} | {r['peak_gpu_mib']:,.0f} |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
