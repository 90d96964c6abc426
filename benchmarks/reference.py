"""Annotating a file with no labels from a labelled reference: fadvi_core (joint training and
mapping onto a saved reference model) against scvi-tools' SCANVI with scArches-style query
mapping, in one run, on the same files, genes and seeds.

Directions:

- ``symphony->3tech`` and ``3tech->symphony``: one PBMC file as the reference, the other as the
  query, joined on their shared gene symbols. The two vocabularies are compared at the level
  both have (B cells, Monocytes = myeloid, T/NK cells, `COARSE`); query cells of a type the
  reference lacks (HSC in the second direction) are left out of accuracy and scored for novelty.
- ``demo:<batch>``: the demo file, reference = its other two batches, query = that batch,
  with the two label levels (``cell_type`` and ``cell_type_broad``).
- ``pancreas:<mouse>-><mouse>``: the Baron mouse pancreas, one mouse the reference and the other
  the query (their cell-type mix differs strongly: alpha 9 vs 182 cells).

Methods (all on the query's unlabelled cells):

- ``fadvi_core_joint``: ``fadvi_core.annotate(query, reference_adata, ...)`` with the app's
  training defaults (time budget, early stopping), genes chosen on the reference within the
  shared genes;
- ``fadvi_core_map``: ``ReferenceModel.train`` on the reference (its own variable genes, app
  defaults), then ``annotate(query, reference_model)`` (frozen weights, 10 query epochs);
- ``scanvi_map``: SCVI then SCANVI on the reference's genes (``--scvi-epochs``,
  ``--scanvi-epochs``), then ``SCANVI.prepare_query_anndata`` / ``load_query_data`` and
  ``--query-epochs`` on the query (scvi-tools' reference-mapping tutorial, weight decay 0).

``--map-10k`` also times mapping a 10,000-cell query (pbmc3tech cells drawn with replacement
and thinned) onto the symphony reference, for fadvi_core and SCANVI.

    PYTHONPATH=src .bench-venv/bin/python benchmarks/reference.py --seeds 0 1 2 --map-10k
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

# pbmc3tech's "Monocytes" is its whole myeloid compartment: a symphony reference calls 36 of
# those cells DC and 24 MK (myeloid lineage too), so those map there; HSC has no counterpart.
COARSE = {"B": "B cells", "Mono_CD14": "Monocytes", "Mono_CD16": "Monocytes", "DC": "Monocytes",
          "MK": "Monocytes", "NK": "T/NK cells", "T_CD4": "T/NK cells", "T_CD8": "T/NK cells"}
DIRECTIONS = ("symphony->3tech", "3tech->symphony", "demo:5p", "demo:3pv1", "demo:3pv2",
              "pancreas:mouse1->mouse2", "pancreas:mouse2->mouse1")
METHODS = ("fadvi_core_joint", "fadvi_core_map", "scanvi_map")
MIN_CLASS_CELLS = 10  # smaller classes are listed per class but left out of "min class"


def _read(name: str):
    import anndata as ad

    adata = ad.read_h5ad(C.DATA_DIR / f"{name}.h5ad")
    adata.obs["batch"] = adata.obs["batch"].astype(str)
    adata.layers, adata.obsm, adata.uns = {}, {}, {}
    return adata


def direction_data(direction: str):
    """``(reference, query, truth, level)``; ``truth`` holds None for cells left out."""
    symphony, tech = "pbmc_symphony", "pbmc3tech_savercat"
    if direction.startswith("pancreas:"):
        adata = _read("baron_mouse_pancreas")
        ref_batch, query_batch = direction.split(":")[1].split("->")
        reference = adata[adata.obs["batch"] == ref_batch].copy()
        query = adata[adata.obs["batch"] == query_batch].copy()
        return reference, query, query.obs["cell_type"].astype(str).to_numpy(), "fine"
    if direction.startswith("demo:"):
        adata = _read(symphony)
        batch = direction.split(":")[1]
        reference = adata[adata.obs["batch"] != batch].copy()
        query = adata[adata.obs["batch"] == batch].copy()
        return reference, query, query.obs["cell_type"].astype(str).to_numpy(), "fine"
    ref_name, query_name = (symphony, tech) if direction == "symphony->3tech" else (tech, symphony)
    reference, query = _read(ref_name), _read(query_name)
    truth = query.obs["cell_type"].astype(str).to_numpy()
    if query_name == symphony:
        truth = np.asarray([COARSE.get(label) for label in truth], dtype=object)
    return reference, query, truth, "coarse"


def _to_level(predictions, level: str) -> np.ndarray:
    predictions = np.asarray(predictions).astype(str)
    if level == "fine":
        return predictions
    return np.asarray([COARSE.get(p, p) for p in predictions], dtype=object)


def scores(predictions, truth, level: str, *, novelty=None) -> dict:
    predicted = _to_level(predictions, level)
    known = np.asarray([t is not None for t in truth])
    truth_known = np.asarray(truth[known]).astype(str)
    correct = predicted[known] == truth_known
    per_class = {label: float(correct[truth_known == label].mean())
                 for label in np.unique(truth_known)}
    sizes = {label: int((truth_known == label).sum()) for label in per_class}
    out = {"accuracy": float(correct.mean()), "per_class": per_class, "class_sizes": sizes,
           "min_class": min(v for c, v in per_class.items() if sizes[c] >= MIN_CLASS_CELLS),
           "n_cells": int(known.sum()), "n_left_out": int((~known).sum())}
    if novelty is not None and (~known).any():
        from sklearn.metrics import roc_auc_score

        out["novelty_auroc_left_out"] = float(roc_auc_score(~known, np.asarray(novelty)))
    return out


def _query_without_labels(query):
    query = query.copy()
    for key in ("cell_type", "cell_type_broad"):
        if key in query.obs:
            del query.obs[key]
    return query


def run_fadvi(method: str, reference, query, *, seed: int, coarse_key: str | None) -> dict:
    from fadvi_core import ReferenceModel, annotate

    started = time.perf_counter()
    if method == "fadvi_core_joint":
        out = annotate(query, reference, labels_key="cell_type", reference_batch_key="batch",
                       batch_key="batch", coarse_labels_key=coarse_key, seed=seed)
        timing = {"train_s": time.perf_counter() - started}
    else:
        model = ReferenceModel.train(reference, labels_key="cell_type",
                                     reference_batch_key="batch", coarse_labels_key=coarse_key,
                                     seed=seed)
        built = time.perf_counter()
        out = model.annotate(query, batch_key="batch", seed=seed)
        timing = {"reference_s": built - started, "map_s": time.perf_counter() - built}
    record = out.uns["fadvi"]
    return {"predictions": out.obs["fadvi_prediction"].astype(str).to_numpy(),
            "resolved": out.obs["fadvi_prediction_resolved"].astype(str).to_numpy(),
            "agreement": float(out.obs["fadvi_agreement"].mean()),
            "novelty": out.obs["fadvi_novelty"].to_numpy() if "fadvi_novelty" in out.obs else None,
            "epochs": record["settings"]["training"].get("epochs"),
            "genes_shared": record["genes"]["n_shared"], "genes_used": len(record["genes"]["used"]),
            **timing}


def run_scanvi(reference, query, *, seed: int, args) -> dict:
    import scvi

    from fadvi_core import select_genes

    scvi.settings.seed = seed
    genes = select_genes(reference, n_top_genes=2000, batch_key="batch")
    reference = reference[:, genes].copy()
    started = time.perf_counter()
    scvi.model.SCVI.setup_anndata(reference, batch_key="batch", labels_key="cell_type")
    vae = scvi.model.SCVI(reference)
    vae.train(max_epochs=args.scvi_epochs, accelerator="cpu", enable_progress_bar=False)
    model = scvi.model.SCANVI.from_scvi_model(vae, unlabeled_category=C.UNLABELED)
    model.train(max_epochs=args.scanvi_epochs, accelerator="cpu", enable_progress_bar=False)
    built = time.perf_counter()
    query = query.copy()
    query.obs["cell_type"] = C.UNLABELED
    scvi.model.SCANVI.prepare_query_anndata(query, model)
    mapped = scvi.model.SCANVI.load_query_data(query, model)
    mapped.train(max_epochs=args.query_epochs, accelerator="cpu", enable_progress_bar=False,
                 plan_kwargs={"weight_decay": 0.0})
    predictions = mapped.predict(query)
    return {"predictions": np.asarray(predictions).astype(str), "reference_s": built - started,
            "map_s": time.perf_counter() - built}


def resolved_scores(resolved, truth, coarse_of: dict[str, str]) -> dict:
    """Share of cells whose resolved prediction is right at its level, and at the coarse one."""
    truth = np.asarray(truth).astype(str)
    fine_right = resolved == truth
    coarse_right = np.asarray([coarse_of.get(t) == r for r, t in zip(resolved, truth)])
    return {"right_at_its_level": float((fine_right | coarse_right).mean()),
            "resolved_to_coarse": float((coarse_right & ~fine_right).mean())}


def map_10k(args) -> dict:
    """Seconds to map 10,000 query cells onto a saved symphony reference (one seed)."""
    import anndata as ad
    from scipy import sparse

    from fadvi_core import ReferenceModel

    reference, tech = _read("pbmc_symphony"), _read("pbmc3tech_savercat")
    rng = np.random.default_rng(0)
    picks = rng.choice(tech.n_obs, 10_000, replace=True)
    counts = sparse.csr_matrix(tech.X[picks])
    counts.data = rng.binomial(counts.data.astype(np.int64), 0.9).astype(np.float32)
    query = ad.AnnData(X=counts, obs=tech.obs.iloc[picks].reset_index(drop=True), var=tech.var)
    query.obs_names = [f"cell{i}" for i in range(query.n_obs)]
    keep = np.asarray(query.X.sum(axis=1)).ravel() > 0
    query = query[keep].copy()
    model = ReferenceModel.train(reference, labels_key="cell_type", reference_batch_key="batch")
    started = time.perf_counter()
    out = model.annotate(query, batch_key="batch")
    fadvi_s = time.perf_counter() - started
    truth = query.obs["cell_type"].astype(str).to_numpy()
    result = {"n_cells": int(query.n_obs), "fadvi_core_map_s": fadvi_s,
              "fadvi_core_accuracy": float((_to_level(out.obs["fadvi_prediction"], "coarse")
                                            == truth).mean())}
    scanvi = run_scanvi(reference, query.copy(), seed=0, args=args)
    result |= {"scanvi_map_s": scanvi["map_s"],
               "scanvi_accuracy": float((_to_level(scanvi["predictions"], "coarse")
                                         == truth).mean())}
    return result


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--directions", nargs="+", default=list(DIRECTIONS), choices=DIRECTIONS)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--scvi-epochs", type=int, default=100)
    p.add_argument("--scanvi-epochs", type=int, default=20)
    p.add_argument("--query-epochs", type=int, default=100)
    p.add_argument("--map-10k", action="store_true")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "reference"))
    return p.parse_args(argv)


def main(argv=None) -> None:
    import torch

    args = parse_args(argv)
    C.quiet()
    torch.set_num_threads(args.threads)
    runs = []
    for direction in args.directions:
        reference, query, truth, level = direction_data(direction)
        coarse_key = "cell_type_broad" if direction.startswith("demo:") else None
        unlabelled = _query_without_labels(query)
        for seed in args.seeds:
            for method in args.methods:
                if method == "scanvi_map":
                    result = run_scanvi(reference.copy(), unlabelled, seed=seed, args=args)
                else:
                    result = run_fadvi(method, reference.copy(), unlabelled, seed=seed,
                                       coarse_key=coarse_key)
                result |= scores(result["predictions"], truth, level,
                                 novelty=result.get("novelty"))
                if coarse_key and "resolved" in result:
                    coarse_of = dict(zip(reference.obs["cell_type"].astype(str),
                                         reference.obs[coarse_key].astype(str)))
                    result["resolved_scores"] = resolved_scores(result["resolved"], truth,
                                                                coarse_of)
                for key in ("predictions", "resolved", "novelty"):
                    result.pop(key, None)
                runs.append({"direction": direction, "method": method, "seed": seed, **result})
                print(json.dumps({k: v for k, v in runs[-1].items() if k != "per_class"}),
                      flush=True)
    payload = {"command": C.command_line(), "versions": C.versions(), "runs": runs,
               "map_10k": map_10k(args) if args.map_10k else None}
    Path(args.out + ".json").write_text(json.dumps(payload, indent=1))
    Path(args.out + ".md").write_text(markdown(payload))
    print(markdown(payload))


def _mean(runs, key):
    return C.mean_sd([r.get(key) for r in runs])


def markdown(payload: dict) -> str:
    runs = payload["runs"]
    lines = ["# Annotation from a labelled reference", "", f"Command: `{payload['command']}`", "",
             "Mean ± sd over seeds. `min class`: the lowest per-class accuracy among classes of at least 10 query cells; seconds: "
             "joint = all training, map = the query step alone (after the reference).", "",
             "`resolved right`: share of cells whose `fadvi_prediction_resolved` is right at its "
             "level (fine type, or the coarse type where the prediction set spans one); demo only.",
             "",
             "| direction | method | accuracy | min class | resolved right | agreement "
             "| novelty AUROC (left out) | seconds |", "|---|---|---|---|---|---|---|---|"]
    for direction in dict.fromkeys(r["direction"] for r in runs):
        for method in dict.fromkeys(r["method"] for r in runs):
            group = [r for r in runs if r["direction"] == direction and r["method"] == method]
            if not group:
                continue
            seconds = _mean(group, "train_s") if "train_s" in group[0] else _mean(group, "map_s")
            resolved = C.mean_sd([r["resolved_scores"]["right_at_its_level"] for r in group
                                  if "resolved_scores" in r])
            lines.append(f"| {direction} | {method} | {C.fmt(_mean(group, 'accuracy'))} | "
                         f"{C.fmt(_mean(group, 'min_class'))} | {C.fmt(resolved)} | "
                         f"{C.fmt(_mean(group, 'agreement'))}"
                         f" | {C.fmt(_mean(group, 'novelty_auroc_left_out'))} | "
                         f"{C.fmt(seconds, 1)} |")
    lines += ["", "Per class (mean over seeds):", ""]
    for direction in dict.fromkeys(r["direction"] for r in runs):
        for method in dict.fromkeys(r["method"] for r in runs):
            group = [r for r in runs if r["direction"] == direction and r["method"] == method]
            if group:
                classes = group[0]["per_class"]
                sizes = group[0]["class_sizes"]
                text = ", ".join(f"{c} (n={sizes[c]}) "
                                 f"{np.mean([g['per_class'][c] for g in group]):.3f}"
                                 for c in classes)
                lines.append(f"- {direction}, {method}: {text}")
    if payload.get("map_10k"):
        m = payload["map_10k"]
        lines += ["", f"Mapping {m['n_cells']} query cells onto a saved symphony reference "
                  f"(seed 0): fadvi_core {m['fadvi_core_map_s']:.1f} s (accuracy "
                  f"{m['fadvi_core_accuracy']:.3f}), SCANVI {m['scanvi_map_s']:.1f} s "
                  f"(accuracy {m['scanvi_accuracy']:.3f})."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
