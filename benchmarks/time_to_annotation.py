"""Time to annotation: wall time and hidden-batch accuracy of each method at its own defaults.

Datasets: ``pbmc3tech_savercat`` (2,000 highly variable genes, labels of batch ``VDJ`` hidden)
and a synthetic file of 50,000 cells (``_synthetic.py``: NB counts, 8 cell types with distinct
programmes, 4 batches, labels of ``b4`` hidden), generated deterministically here.

Methods, each in its own subprocess, one after the other, all with ``--threads`` torch threads:

- ``gui_defaults``: fadvi_core with the options the GUI and the command line use,
  ``fadvi_core.training_defaults(...)`` (epoch cap from a time budget, early stopping on the
  validation label accuracy). Until that function is merged a marked fallback stands in:
  scvi-tools' epoch heuristic as the cap and early stopping on the validation labels, patience 10.
- ``python_defaults``: fadvi_core ``model.train()`` with its documented defaults.
- ``reference``: the reference ``fadvi`` package, ``model.train()`` with its defaults.
- ``scanvi``: scvi-tools' recommended route, ``SCVI(adata).train()`` then
  ``SCANVI.from_scvi_model(...).train()``, all defaults.

Wall time runs from ``setup_anndata`` to the predicted labels of every cell (reading the file and
choosing genes, the same for all, are excluded); accuracy is on the hidden batch. ``--epoch-cap``
caps the epochs of every method (documented defaults are hours on a laptop CPU for 50,000 cells);
the results say when a cap was used. ``--quick`` runs everything small to check the script.

Run with the benchmark venv, from the repository root::

    PYTHONPATH=src .bench-venv/bin/python benchmarks/time_to_annotation.py
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _synthetic  # noqa: E402

METHODS = ("gui_defaults", "python_defaults", "reference", "scanvi")
DATASETS = {"pbmc3tech": "VDJ", "synthetic": _synthetic.HIDDEN_BATCH}
LABELS_KEY = "labels_hidden"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--synthetic-cells", type=int, default=50_000)
    p.add_argument("--epoch-cap", type=int, default=None,
                   help="cap every method's epochs (SCVI pretraining included); default: none")
    p.add_argument("--time-budget", type=float, default=None,
                   help="time budget (s) for gui_defaults; default: training_defaults' own")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="3,000 synthetic cells, at most 3 epochs, 20 s budget: checks the script")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "time_to_annotation"),
                   help="output path without extension (.json and .md are written)")
    p.add_argument("--worker", nargs=3, metavar=("METHOD", "H5AD", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.synthetic_cells = min(args.synthetic_cells, 3000)
        args.epoch_cap = min(args.epoch_cap or 3, 3)
        args.time_budget = args.time_budget or 20.0
    return args


def epoch_heuristic(n_cells: int) -> int:
    """scvi-tools' default epochs: ``min(round(20000 / n_cells * 400), 400)``."""
    return int(min(round(20000 / n_cells * 400), 400))


def capped(epochs: int, cap: int | None) -> int:
    return epochs if cap is None else min(epochs, cap)


def gui_settings(adata, args) -> tuple[dict, dict]:
    """``model.train`` options of the GUI/CLI, and a description of where they came from."""
    import fadvi_core

    n_cells, n_genes = adata.n_obs, adata.n_vars
    defaults_fn = getattr(fadvi_core, "training_defaults", None)
    if defaults_fn is not None:
        budget = {} if args.time_budget is None else {"time_budget_s": args.time_budget}
        defaults = defaults_fn(n_cells, n_genes, has_labels=True, **budget)
        kwargs = defaults.train_kwargs()
        about = {"source": "fadvi_core.training_defaults",
                 "seconds_per_epoch_estimate": defaults.seconds_per_epoch, "note": defaults.note}
    else:
        # FALLBACK until `training_defaults` (branch `engine`) is merged: scvi-tools' epoch
        # heuristic as the cap, early stopping on the validation labels with patience 10.
        accepts_mode = "early_stopping_mode" in inspect.signature(
            fadvi_core.FADVI.train).parameters
        kwargs = {"max_epochs": epoch_heuristic(n_cells), "early_stopping": True,
                  "early_stopping_patience": 10}
        if accepts_mode:
            kwargs |= {"early_stopping_monitor": "label_accuracy_validation",
                       "early_stopping_mode": "max"}
        else:  # this engine only minimises: the validation label loss stands in for accuracy
            kwargs["early_stopping_monitor"] = "label_loss_validation"
        about = {"source": "FALLBACK (no fadvi_core.training_defaults in this checkout)"}
    kwargs["max_epochs"] = capped(kwargs["max_epochs"], args.epoch_cap)
    return kwargs, about


def epochs_run(model) -> int | None:
    history = getattr(model, "history", None) or {}
    for key in ("elbo_train", "train_loss_epoch", "reconstruction_loss_train"):
        if key in history:
            return int(len(history[key]))
    return None


def run_method(method: str, adata, args) -> dict:
    """Set up, train and predict every cell; returns predictions, timings and settings."""
    t0 = time.perf_counter()
    if method in ("gui_defaults", "python_defaults", "reference"):
        cls = C.fadvi_class("reference" if method == "reference" else "fadvi_core")
        if method == "gui_defaults":
            kwargs, about = gui_settings(adata, args)
        else:
            kwargs, about = {}, {"source": "model.train() defaults"}
            if args.epoch_cap is not None:
                kwargs["max_epochs"] = capped(epoch_heuristic(adata.n_obs), args.epoch_cap)
            if method == "reference":
                kwargs["enable_progress_bar"] = False
                # Its own default (max_epochs=None) fails with scvi-tools 1.4.2 (AttributeError:
                # 'FADVI' object has no attribute 'was_pretrained'): pass the same heuristic.
                if "max_epochs" not in kwargs:
                    kwargs["max_epochs"] = epoch_heuristic(adata.n_obs)
                    about["note"] = ("max_epochs = scvi heuristic passed explicitly: the "
                                     "reference's max_epochs=None path fails with scvi-tools 1.4.2")
        cls.setup_anndata(adata, batch_key="batch", labels_key=LABELS_KEY,
                          unlabeled_category=C.UNLABELED)
        model = cls(adata)
        t1 = time.perf_counter()
        model.train(**kwargs)
        t2 = time.perf_counter()
        epochs = {"epochs": epochs_run(model)}
        stop = getattr(model, "stop_reason_", None)
        if stop is not None:
            about["stop_reason"] = str(stop)
    else:
        import scvi

        scvi.model.SCVI.setup_anndata(adata, batch_key="batch", labels_key=LABELS_KEY)
        vae = scvi.model.SCVI(adata)
        t1 = time.perf_counter()
        pretrain = {"enable_progress_bar": False}
        if args.epoch_cap is not None:
            pretrain["max_epochs"] = capped(epoch_heuristic(adata.n_obs), args.epoch_cap)
        vae.train(**pretrain)
        model = scvi.model.SCANVI.from_scvi_model(vae, unlabeled_category=C.UNLABELED)
        scanvi = {"enable_progress_bar": False}
        if args.quick:
            scanvi["max_epochs"] = args.epoch_cap
        model.train(**scanvi)
        t2 = time.perf_counter()
        kwargs = {"scvi": pretrain, "scanvi": scanvi}
        about = {"source": "SCVI.train() then SCANVI.from_scvi_model(...).train(), defaults"}
        epochs = {"epochs": epochs_run(vae), "scanvi_epochs": epochs_run(model)}
    predictions = np.asarray(model.predict()).astype(str)
    t3 = time.perf_counter()
    return {"predictions": predictions, "setup_s": t1 - t0, "train_s": t2 - t1,
            "predict_s": t3 - t2, "wall_s": t3 - t0, "train_kwargs": kwargs, "settings": about,
            **epochs}


def worker(method: str, path: str, out: str, args) -> None:
    C.quiet()
    import anndata as ad
    import scvi
    import torch
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    torch.set_num_threads(args.threads)
    scvi.settings.seed = args.seed
    adata = ad.read_h5ad(path)
    hidden = (adata.obs[LABELS_KEY] == C.UNLABELED).to_numpy()
    res = run_method(method, adata, args)
    truth = adata.obs["cell_type"].astype(str).to_numpy()[hidden]
    pred = res.pop("predictions")[hidden]
    res.update(method=method, threads=torch.get_num_threads(), n_cells=int(adata.n_obs),
               n_genes=int(adata.n_vars), n_hidden=int(hidden.sum()),
               hidden_accuracy=float(accuracy_score(truth, pred)),
               hidden_balanced_accuracy=float(balanced_accuracy_score(truth, pred)))
    Path(out).write_text(json.dumps(res, indent=2, default=str))


def prepare(dataset: str, args, folder: Path) -> Path:
    """Write the dataset with ``obs[LABELS_KEY]`` (hidden batch unlabelled) to ``folder``."""
    if dataset == "pbmc3tech":
        adata = C.load_dataset("pbmc3tech_savercat", n_top_genes=2000)
    else:
        adata = _synthetic.synthetic_adata(args.synthetic_cells, seed=args.seed)
    C.hide_batch(adata, DATASETS[dataset], key=LABELS_KEY)
    path = folder / f"{dataset}.h5ad"
    adata.write_h5ad(path)
    return path


def write_markdown(path: Path, result: dict) -> None:
    cfg = result["config"]
    lines = ["# Time to annotation", "", "```", result["command"], "```", "",
             f"Started {result['started']}; torch threads = {cfg['threads']} for every method, "
             f"seed {cfg['seed']}; 2 CPU cores shared with other work, so wall times are rough. "
             "Wall time: `setup_anndata` to predicted labels of all cells (file reading and gene "
             "selection excluded). Accuracy: the hidden batch's cells against their true labels.",
             ""]
    if cfg["epoch_cap"] is not None:
        lines += [f"**Epochs capped at {cfg['epoch_cap']} for every method** (`--epoch-cap`"
                  f"{', `--quick`' if cfg['quick'] else ''}): not the documented defaults.", ""]
    for dataset, runs in result["results"].items():
        info = result["datasets"][dataset]
        lines += [f"## {dataset}: {info['n_cells']} cells x {info['n_genes']} genes, labels of "
                  f"`{info['hidden_batch']}` hidden ({info['n_hidden']} cells)", "",
                  "| method | wall s | train s | epochs | accuracy | balanced accuracy | "
                  "options |", "|---|---|---|---|---|---|---|"]
        for method, r in runs.items():
            if "error" in r:
                lines.append(f"| {method} | failed: {r['error'].splitlines()[-1][:120]} "
                             "| | | | | |")
                continue
            epochs = str(r.get("epochs"))
            if r.get("scanvi_epochs") is not None:
                epochs += f" + {r['scanvi_epochs']}"
            options = json.dumps(r["train_kwargs"]).replace("|", "/")
            source = r["settings"]["source"]
            stop = f"; stopped: {r['settings']['stop_reason']}" if "stop_reason" in r[
                "settings"] else ""
            lines.append(f"| {method} | {r['wall_s']:.1f} | {r['train_s']:.1f} | {epochs} | "
                         f"{r['hidden_accuracy']:.3f} | {r['hidden_balanced_accuracy']:.3f} | "
                         f"{source}: `{options}`{stop} |")
        lines.append("")
    v = result["versions"]
    lines += ["Versions: " + ", ".join(f"{k} {v[k]}" for k in sorted(v)), ""]
    path.write_text("\n".join(lines))


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(*args.worker, args)
        return
    C.quiet()
    result = {"command": C.command_line(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "config": {k: v for k, v in vars(args).items() if k != "worker"},
              "versions": C.versions(), "datasets": {}, "results": {}}
    passthrough = ["--threads", str(args.threads), "--seed", str(args.seed)]
    if args.epoch_cap is not None:
        passthrough += ["--epoch-cap", str(args.epoch_cap)]
    if args.time_budget is not None:
        passthrough += ["--time-budget", str(args.time_budget)]
    if args.quick:
        passthrough.append("--quick")
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            path = prepare(dataset, args, Path(tmp))
            runs = result["results"][dataset] = {}
            for method in args.methods:
                target = Path(tmp) / f"{dataset}-{method}.json"
                cmd = [sys.executable, os.path.abspath(__file__), *passthrough,
                       "--worker", method, str(path), str(target)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0 or not target.exists():
                    runs[method] = {"error": proc.stderr[-3000:] or f"exit {proc.returncode}"}
                    print(f"{dataset} {method} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
                    continue
                runs[method] = json.loads(target.read_text())
                print(dataset, method, {k: runs[method][k] for k in (
                    "wall_s", "epochs", "hidden_accuracy")}, flush=True)
            first = next((r for r in runs.values() if "error" not in r), {})
            result["datasets"][dataset] = {
                "hidden_batch": DATASETS[dataset], "n_cells": first.get("n_cells"),
                "n_genes": first.get("n_genes"), "n_hidden": first.get("n_hidden")}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str))
    write_markdown(out.with_suffix(".md"), result)
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
