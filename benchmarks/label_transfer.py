"""Cross-technology label transfer: fadvi_core vs the reference ``fadvi`` vs scvi-tools' SCANVI.

For each dataset the labels of one batch are hidden ("Unknown"), every method trains on the same
cells and genes for the same number of epochs, then predicts the hidden batch. Scores:

- ``accuracy`` and ``balanced_accuracy`` (sklearn) of the predictions on the hidden batch's cells,
  against the published ``cell_type``;
- ``silhouette_label`` and ``silhouette_batch``: sklearn ``silhouette_score`` (euclidean) of the
  label latent space (FADVI ``z_l`` via ``get_latent_representation(representation="label")``;
  SCANVI's ``z``) over ALL cells (hidden batch and labelled batches together), grouped by the true
  ``cell_type`` and by ``batch``. Higher is better for labels; closer to 0 (or below) means better
  batch mixing.

The reference's ``get_latent_representation`` returns one posterior sample rather than the mean
(its encoders return a sample), so for it we also report ``silhouette_*_mean`` computed on the
posterior mean of ``z_l`` read from its module.

Run with the benchmark venv, from the repository root::

    .bench-venv/bin/python benchmarks/label_transfer.py --max-epochs 100 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _peers  # noqa: E402

PEERS = ("celltypist", "knn_z_l")  # trained in the same run; knn_z_l uses fadvi_core's z_l


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=list(C.DATASETS), choices=C.DATASETS)
    p.add_argument("--methods", nargs="+", default=list(C.METHODS), choices=C.METHODS)
    p.add_argument("--hide-batch", nargs="*", default=[], metavar="DATASET=BATCH",
                   help="batch whose labels are hidden, per dataset; default: the 5' chemistry "
                        "of the PBMC files (the other batches being 3') and each mouse in turn "
                        "on the pancreas")
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for all methods")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--n-top-genes", type=int, default=2000)
    p.add_argument("--scanvi-mode", choices=("from_scvi", "scratch"), default="from_scvi",
                   help="from_scvi: SCVI for --max-epochs then SCANVI.from_scvi_model for "
                        "--scanvi-epochs (the scvi-tools recipe); scratch: SCANVI alone for "
                        "--max-epochs")
    p.add_argument("--scanvi-epochs", type=int, default=20)
    p.add_argument("--no-peers", action="store_true",
                   help="skip CellTypist, kNN on z_l and scib-metrics")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "label_transfer"),
                   help="output path without extension (.json and .md are written)")
    return p.parse_args(argv)


def reference_label_mean(model, adata) -> np.ndarray:
    """Posterior mean of z_l from the reference module (its public getter returns a sample)."""
    import torch
    from scvi import REGISTRY_KEYS

    module = model.module
    module.eval()
    out = []
    with torch.no_grad():
        for tensors in model._make_data_loader(adata=adata, batch_size=512):
            x = tensors[REGISTRY_KEYS.X_KEY]
            x_ = torch.log1p(x) if module.log_variational else x
            dist, _ = module.encoder_l(x_, tensors[REGISTRY_KEYS.BATCH_KEY])
            out.append(dist.loc.cpu())
    return torch.cat(out).numpy()


def score(pred, truth, latent=None, labels_all=None, batches_all=None) -> dict:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, silhouette_score

    pred = np.asarray(pred).astype(str)
    truth = np.asarray(truth).astype(str)
    out = {
        "accuracy": float(accuracy_score(truth, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(truth, pred)),
        "macro_f1": float(f1_score(truth, pred, average="macro")),
        "per_class_accuracy": _peers.per_class_accuracy(pred, truth),
    }
    if latent is not None:
        out["silhouette_label"] = float(silhouette_score(latent, labels_all))
        out["silhouette_batch"] = float(silhouette_score(latent, batches_all))
    return out


def run_one(method, base, hidden_idx, args, seed) -> dict:
    import scvi
    import torch

    torch.set_num_threads(args.threads)
    scvi.settings.seed = seed
    adata = base.copy()
    if method == "scanvi":
        model, setup_s, train_s = C.train_scanvi(
            adata, labels_key="labels_hidden", max_epochs=args.max_epochs,
            scanvi_mode=args.scanvi_mode, scanvi_epochs=args.scanvi_epochs,
            batch_size=args.batch_size)
        pred = model.predict(indices=hidden_idx)
        latent = model.get_latent_representation()
    else:
        model, setup_s, train_s = C.train_fadvi(
            method, adata, labels_key="labels_hidden", max_epochs=args.max_epochs,
            batch_size=args.batch_size)
        pred = model.predict(indices=hidden_idx)
        latent = model.get_latent_representation(representation="label")
    labels_all = adata.obs["cell_type"].astype(str).to_numpy()
    batches_all = adata.obs["batch"].astype(str).to_numpy()
    res = score(pred, labels_all[hidden_idx], np.asarray(latent), labels_all, batches_all)
    if method == "reference":
        from sklearn.metrics import silhouette_score

        mean = reference_label_mean(model, adata)
        res["silhouette_label_mean"] = float(silhouette_score(mean, labels_all))
        res["silhouette_batch_mean"] = float(silhouette_score(mean, batches_all))
        # how much the reference's hard predictions move between two calls (sampled z_l)
        again = np.asarray(model.predict(indices=hidden_idx)).astype(str)
        res["prediction_flip_rate"] = float(np.mean(again != np.asarray(pred).astype(str)))
    res.update(setup_s=setup_s, train_s=train_s)
    embedding = reference_label_mean(model, adata) if method == "reference" else latent
    return res, np.asarray(embedding)


def run_peers(base, hidden_idx, latents: dict, seed: int) -> list[dict]:
    """CellTypist and kNN on fadvi_core's z_l, and scib-metrics on every method's latent."""
    truth = base.obs["cell_type"].astype(str).to_numpy()
    labels = base.obs["labels_hidden"].astype(str).to_numpy()
    rows = []
    pred, seconds = _peers.celltypist_transfer(base, "labels_hidden", hidden_idx,
                                               unlabeled=C.UNLABELED, seed=seed)
    rows.append({"method": "celltypist", **score(pred, truth[hidden_idx]), "train_s": seconds})
    if "fadvi_core" in latents:
        pred = _peers.knn_transfer(latents["fadvi_core"], labels, hidden_idx,
                                   unlabeled=C.UNLABELED)
        rows.append({"method": "knn_z_l", **score(pred, truth[hidden_idx])})
    scib = _peers.scib_scores(base, latents) if latents else {}
    for row in rows:
        row.update(seed=seed)
    return rows, scib


def run_seed(base, hidden_idx, args, seed, name) -> list[dict]:
    """Every method and peer on one direction and seed; prints each row as it ends."""
    latents, seed_runs = {}, []
    for method in args.methods:
        res, latents[method] = run_one(method, base, hidden_idx, args, seed)
        res.update(dataset=name, method=method, seed=seed)
        seed_runs.append(res)
    if not args.no_peers:
        peer_rows, scib = run_peers(base, hidden_idx, latents, seed)
        for res in seed_runs:
            res.update({f"scib_{k}": v for k, v in zip(
                ("bio", "batch", "total"), scib[res["method"]].values())})
        seed_runs += [dict(r, dataset=name) for r in peer_rows]
    for res in seed_runs:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in res.items() if k != "per_class_accuracy"}), flush=True)
    return seed_runs


def summarise(runs, datasets, methods) -> dict:
    metrics = ["accuracy", "balanced_accuracy", "macro_f1", "scib_bio", "scib_batch",
               "scib_total", "silhouette_label", "silhouette_batch",
               "silhouette_label_mean", "silhouette_batch_mean", "prediction_flip_rate",
               "train_s"]
    summary = {}
    for ds in datasets:
        summary[ds] = {}
        for m in list(methods) + [p for p in PEERS if any(r["method"] == p for r in runs)]:
            rows = [r for r in runs if r["dataset"] == ds and r["method"] == m]
            summary[ds][m] = {k: C.mean_sd([r.get(k) for r in rows])
                              for k in metrics if any(k in r for r in rows)}
        if "fadvi_core" in methods and "reference" in methods:
            ours = summary[ds]["fadvi_core"]["balanced_accuracy"]["mean"]
            ref = summary[ds]["reference"]["balanced_accuracy"]["mean"]
            summary[ds]["ratio_balanced_accuracy_fadvi_core_over_reference"] = (
                ours / ref if ref else float("nan"))
    return summary


def write_markdown(path: Path, result: dict) -> None:
    cfg = result["config"]
    lines = [
        "# Label transfer benchmark",
        "",
        "```",
        result["command"],
        "```",
        "",
        f"Started {result['started']}, took {result['wall_s'] / 60:.1f} min. CPU, "
        f"torch threads = {cfg['threads']}, max_epochs = {cfg['max_epochs']}, batch_size = "
        f"{cfg['batch_size']}, seeds = {cfg['seeds']}. SCANVI: `{cfg['scanvi_mode']}`"
        + (f" (SCVI {cfg['max_epochs']} epochs, then SCANVI {cfg['scanvi_epochs']} epochs)"
           if cfg["scanvi_mode"] == "from_scvi" else "") + ".",
        "",
        "Accuracy and balanced accuracy: hidden batch only. Silhouettes: sklearn "
        "`silhouette_score` (euclidean) on the label latent (FADVI `z_l`, SCANVI `z`) of all "
        "cells, grouped by true cell type (higher = better) and by batch (near 0 or below = "
        "better mixing). Mean ± sd over seeds.",
        "",
    ]
    for ds, d in result["datasets"].items():
        lines += [f"## {ds}: hide `{d['hidden_batch']}` ({d['n_hidden']} of {d['n_cells']} "
                  f"cells, {d['n_genes']} genes)", "",
                  "| method | accuracy | balanced acc. | macro F1 | scib bio | scib batch | "
                  "scib total | silhouette label | silhouette batch | train s |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for m, s in result["summary"][ds].items():
            if not isinstance(s, dict):
                continue
            lines.append(f"| {m} | {C.fmt(s.get('accuracy'))} | "
                         f"{C.fmt(s.get('balanced_accuracy'))} | {C.fmt(s.get('macro_f1'))} | "
                         f"{C.fmt(s.get('scib_bio'))} | {C.fmt(s.get('scib_batch'))} | "
                         f"{C.fmt(s.get('scib_total'))} | "
                         f"{C.fmt(s.get('silhouette_label'))} | "
                         f"{C.fmt(s.get('silhouette_batch'))} | {C.fmt(s.get('train_s'), 1)} |")
        lines += ["", "Per-class accuracy on the hidden batch (mean over seeds):", ""]
        for m in sorted({r["method"] for r in result["runs"] if r["dataset"] == ds}):
            rows = [r["per_class_accuracy"] for r in result["runs"]
                    if r["dataset"] == ds and r["method"] == m]
            classes = sorted(rows[0])
            lines.append(f"- {m}: " + ", ".join(
                f"{c} {np.mean([r.get(c, np.nan) for r in rows]):.2f}" for c in classes))
        ratio = result["summary"][ds].get("ratio_balanced_accuracy_fadvi_core_over_reference")
        if ratio is not None:
            lines += ["", f"Balanced accuracy ratio fadvi_core / reference: **{ratio:.3f}**"]
        ref = result["summary"][ds].get("reference", {})
        if "silhouette_label_mean" in ref:
            lines += ["", "Reference on its posterior-mean z_l (its getter returns a sample): "
                      f"silhouette label {C.fmt(ref['silhouette_label_mean'])}, batch "
                      f"{C.fmt(ref['silhouette_batch_mean'])}; share of hidden-batch predictions "
                      f"that change between two `predict` calls: "
                      f"{C.fmt(ref['prediction_flip_rate'])}."]
        lines.append("")
    v = result["versions"]
    lines += ["Versions: " + ", ".join(f"{k} {v[k]}" for k in sorted(v)), ""]
    path.write_text("\n".join(lines))


def main(argv=None) -> None:
    args = parse_args(argv)
    C.quiet()
    import torch

    torch.set_num_threads(args.threads)
    hidden_choice = dict(C.DEFAULT_HIDDEN)
    for item in args.hide_batch:
        ds, _, batch = item.partition("=")
        if ds not in C.DATASETS or not batch:
            raise SystemExit(f"--hide-batch expects DATASET=BATCH with DATASET in {C.DATASETS}; "
                             f"got {item!r}.")
        hidden_choice[ds] = batch
    chosen = {item.partition("=")[0] for item in args.hide_batch}
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    environment = C.versions()  # at the start: the code the run imports
    t_start = time.perf_counter()
    runs, datasets = [], {}
    for ds in args.datasets:
        dataset = C.load_dataset(ds, n_top_genes=args.n_top_genes)
        hidden_batches = [hidden_choice[ds]] if ds in chosen else C.hidden_batches(ds)
        for batch in hidden_batches:
            # One entry per direction: "baron_mouse_pancreas/mouse2" where a file has two.
            name = ds if len(hidden_batches) == 1 else f"{ds}/{batch}"
            base = dataset.copy()
            hidden_idx = C.hide_batch(base, batch)
            datasets[name] = {"hidden_batch": batch, "n_hidden": int(hidden_idx.size),
                              "n_cells": int(base.n_obs), "n_genes": int(base.n_vars)}
            for seed in args.seeds:
                runs += run_seed(base, hidden_idx, args, seed, name)
    result = {
        "command": C.command_line(),
        "started": started,
        "wall_s": time.perf_counter() - t_start,
        "config": vars(args) | {"hidden": hidden_choice},
        "versions": environment,
        "datasets": datasets,
        "summary": summarise(runs, list(datasets), args.methods),
        "runs": runs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    write_markdown(out.with_suffix(".md"), result)
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
