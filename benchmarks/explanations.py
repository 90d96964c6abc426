"""Do the attributed genes of a cell type name its markers? Baselines x methods, all shared files.

For each dataset, fadvi_core trains on every label (``cell_type``). For each class, up to
``--cells-per-class`` cells predicted correctly are attributed with Integrated Gradients
(``"ig"``) and GradientShap (``"gs"``) from each baseline of `fadvi_core._baselines` (``zero``,
``other_classes``, ``runner_up``). A class's genes are ranked by mean attribution over its cells
(`FADVI.get_ranked_features_by_label`); the score of a class is the share of its top
``--top-attributed`` (20) genes that are among its top ``--top-markers`` (50) Wilcoxon markers
(scanpy ``rank_genes_groups`` on log1p(CP10k) counts grouped by the true ``cell_type``, one vs
rest). Classes with fewer than 5 cells are skipped. The table gives the mean over classes.

The marker rule (the default explanation, IG from ``other_classes``): every class's top 20 hold
at least 3 of its top Wilcoxon markers; for the PBMC monocytes also the canonical ones
(`CANONICAL`). ``marker_hits`` counts them per class.

Run from the repository root with the benchmark venv::

    PYTHONPATH=src .bench-venv/bin/python benchmarks/explanations.py --max-epochs 30
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

BASELINES = ("zero", "other_classes", "runner_up")
DEFAULT = "ig/other_classes"  # what `FADVI.predict(interpretability="ig")` uses
MIN_MARKERS = 3
CANONICAL = {  # CD14 monocytes, as the blood files name them
    ("pbmc_symphony", "Mono_CD14"): ("LYZ", "CD14", "S100A8", "S100A9", "FCN1", "VCAN", "CST3"),
    ("pbmc3tech_savercat", "Monocytes"): ("LYZ", "CD14", "S100A8", "S100A9", "FCN1", "VCAN",
                                          "CST3"),
}
METHODS = ("ig", "gs")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=list(C.DATASETS), choices=C.DATASETS)
    p.add_argument("--max-epochs", type=int, default=30)
    p.add_argument("--cells-per-class", type=int, default=30)
    p.add_argument("--top-attributed", type=int, default=20)
    p.add_argument("--top-markers", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=C.RESULTS_DIR / "explanations.json")
    return p.parse_args(argv)


def wilcoxon_markers(adata, top: int) -> dict[str, set[str]]:
    import scanpy as sc

    data = adata.copy()
    sc.pp.normalize_total(data, target_sum=1e4)
    sc.pp.log1p(data)
    sc.tl.rank_genes_groups(data, "cell_type", method="wilcoxon")
    names = data.uns["rank_genes_groups"]["names"]
    return {group: set(names[group][:top]) for group in names.dtype.names}


def run_dataset(name: str, args) -> dict:
    import scvi
    import torch

    from fadvi_core import FADVI

    torch.set_num_threads(args.threads)
    adata = C.load_dataset(name)
    markers = wilcoxon_markers(adata, args.top_markers)
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="cell_type")
    scvi.settings.seed = args.seed
    model = FADVI(adata)
    start = time.perf_counter()
    model.train(max_epochs=args.max_epochs, batch_size=128, accelerator="cpu")
    train_s = time.perf_counter() - start
    truth = adata.obs["cell_type"].astype(str).to_numpy()
    predicted = model.predict()
    rng = np.random.default_rng(args.seed)
    cells = []
    for label in model.label_classes:
        right = np.flatnonzero((truth == label) & (predicted == label))
        if len(right) >= 5:
            cells.extend(np.sort(rng.choice(right, min(len(right), args.cells_per_class),
                                            replace=False)))
    cells = np.asarray(cells)
    scores, tops = {}, {}
    for method in METHODS:
        for baseline in BASELINES:
            start = time.perf_counter()
            out = model.predict(indices=cells, interpretability=method,
                                interpretability_args={"baselines": baseline, "seed": args.seed}
                                if method == "gs" else {"baselines": baseline})
            seconds = time.perf_counter() - start
            ranked = model.get_ranked_features_by_label(out["attributions"], out["predictions"],
                                                        top_n=args.top_attributed)
            per_class, hits, canonical = {}, {}, {}
            for label, rows in ranked.groupby("label"):
                genes = list(rows["gene"])
                hits[label] = len(set(genes) & markers[label])
                per_class[label] = hits[label] / len(genes)
                tops[f"{method}/{baseline}/{label}"] = genes[:10]
                if (name, label) in CANONICAL:
                    canonical[label] = sorted(set(genes) & set(CANONICAL[name, label]))
            scores[f"{method}/{baseline}"] = {
                "mean_share": float(np.mean(list(per_class.values()))),
                "per_class": per_class, "marker_hits": hits,
                "min_marker_hits": int(min(hits.values())), "canonical_hits": canonical,
                "seconds": seconds}
            print(f"{name} {method} {baseline}: {scores[f'{method}/{baseline}']['mean_share']:.3f}"
                  f" ({seconds:.1f} s)", flush=True)
    return {"train_seconds": train_s, "n_cells_attributed": int(len(cells)), "scores": scores,
            "top10_genes": tops}


def write_markdown(path: Path, result: dict) -> None:
    lines = ["# Explanations: do the top attributed genes of a class name its markers?", "",
             f"Command: `{result['command']}`", "",
             f"Share of each class's top {result['args']['top_attributed']} attributed genes "
             f"among its top {result['args']['top_markers']} Wilcoxon markers (scanpy, one vs "
             "rest, true labels), mean over classes with at least 5 correctly predicted cells; "
             f"up to {result['args']['cells_per_class']} cells per class; fadvi_core trained "
             f"{result['args']['max_epochs']} epochs on all labels (short runs for a shared "
             "2-core machine).", "",
             "| dataset | method | " + " | ".join(BASELINES) + " |",
             "|---|---|" + "---|" * len(BASELINES)]
    for name, data in result["datasets"].items():
        for method in METHODS:
            cells = [f"{data['scores'][f'{method}/{b}']['mean_share']:.3f}" for b in BASELINES]
            lines.append(f"| {name} | {method} | " + " | ".join(cells) + " |")
    lines += ["", f"The marker rule, default explanation (`{DEFAULT}`): known markers (top "
              f"{result['args']['top_markers']} Wilcoxon) among each class's top "
              f"{result['args']['top_attributed']}, at least {MIN_MARKERS} for every class:", ""]
    for name, data in result["datasets"].items():
        score = data["scores"][DEFAULT]
        verdict = "holds" if score["min_marker_hits"] >= MIN_MARKERS else "FAILS"
        lines.append(f"- {name}: min {score['min_marker_hits']} ({verdict}); "
                     + ", ".join(f"{k} {v}" for k, v in sorted(score["marker_hits"].items())))
        for label, genes in score["canonical_hits"].items():
            lines.append(f"  - {label}, canonical CD14-monocyte markers in the top "
                         f"{result['args']['top_attributed']}: {len(genes)} of 7 "
                         f"({', '.join(genes)})")
    lines += ["", "Top 10 genes per class, Integrated Gradients:", ""]
    for name, data in result["datasets"].items():
        for key, genes in data["top10_genes"].items():
            method, baseline, label = key.split("/", 2)
            if method == "ig" and baseline in ("zero", "other_classes"):
                lines.append(f"- {name} {label} ({baseline}): {', '.join(genes)}")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    args = parse_args(argv)
    C.quiet()
    result = {"command": C.command_line(), "versions": C.versions(),
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "datasets": {name: run_dataset(name, args) for name in args.datasets}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    write_markdown(args.out.with_suffix(".md"), result)
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
