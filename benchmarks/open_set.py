"""Open-set annotation: is a cell type that nobody labelled flagged, and can the confidence be read
as an error rate?

For each dataset and each cell type in turn (``--types``, default every type with at least 20
cells), that type is never labelled and the labels of one batch are hidden (``Unknown``, the 5'
batch by default); every method trains on the same cells and genes for the same epochs, per seed.
Scores on the unlabelled cells (the hidden batch, plus the held-out type in every batch):

- ``auroc_novelty``: AUROC of fadvi_core's `get_novelty_scores` for "cell of the held-out type";
- ``auroc_1_minus_max_p``: the same for 1 - max probability, for every method (fadvi_core's
  calibrated probabilities; the reference's and SCANVI's raw ones);
- ``ece_hidden`` / ``ece_hidden_raw``: expected calibration error (15 bins) on the hidden batch's
  cells of labelled types, with fadvi_core's calibrated and raw (temperature 1) probabilities;
- ``ece_validation``: the same on the labelled validation cells (those the temperature is fitted
  on), and ``ece_validation_floor``, the mean ECE of a perfectly calibrated model on those cells
  (classes drawn from its own probabilities): what a sample that size shows by chance;
- ``coverage_90`` and ``mean_set_size``: share of those cells whose split-conformal set
  (``predict_sets(alpha=0.1)``) holds the true type, and the mean set size;
- ``empty_set_novel``: share of held-out-type cells with an empty set.

Run from the repository root with the benchmark venv::

    PYTHONPATH=src .bench-venv/bin/python benchmarks/open_set.py --max-epochs 30 --seeds 0 1 2
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

MIN_CELLS = 20


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=list(C.DATASETS), choices=C.DATASETS)
    p.add_argument("--methods", nargs="+", default=list(C.METHODS), choices=C.METHODS)
    p.add_argument("--types", nargs="*", default=None,
                   help=f"cell types to hold out (default: every type with >= {MIN_CELLS} cells)")
    p.add_argument("--max-epochs", type=int, default=30)
    p.add_argument("--scanvi-epochs", type=int, default=10)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=C.RESULTS_DIR / "open_set.json")
    return p.parse_args(argv)


def _ece_floor(probabilities, draws: int = 200) -> float:
    """Mean ECE of a perfectly calibrated model on these cells: classes drawn from the
    probabilities themselves. The calibration error a sample this size shows by chance alone."""
    from fadvi_core._calibration import expected_calibration_error

    rng = np.random.default_rng(0)
    cumulative = probabilities.cumsum(axis=1)
    errors = []
    for _ in range(draws):
        u = rng.random((len(probabilities), 1))
        drawn = np.minimum((u > cumulative).sum(axis=1), probabilities.shape[1] - 1)
        errors.append(expected_calibration_error(probabilities, drawn))
    return float(np.mean(errors))


def _fadvi_core_scores(model, truth, held, unlabelled, hidden_seen) -> dict:
    from sklearn.metrics import roc_auc_score

    from fadvi_core._calibration import expected_calibration_error, rescale

    soft = model.predict(soft=True)
    probabilities = soft.to_numpy()
    novel = truth == held
    classes = np.array([model.label_classes.index(t) for t in truth[hidden_seen]])
    sets = model.predict_sets(alpha=0.1).to_numpy()
    raw = rescale(probabilities[hidden_seen], 1.0 / model.temperature_)
    novelty = model.get_novelty_scores().to_numpy()
    validation = np.array([i for i in model.validation_indices_ if not unlabelled[i]])
    validation_classes = np.array([model.label_classes.index(t) for t in truth[validation]])
    return {
        "ece_validation": expected_calibration_error(probabilities[validation],
                                                     validation_classes),
        "ece_validation_floor": _ece_floor(probabilities[validation]),
        "n_validation": len(validation),
        "auroc_novelty": roc_auc_score(novel[unlabelled], novelty[unlabelled]),
        "auroc_1_minus_max_p": roc_auc_score(novel[unlabelled],
                                             1 - probabilities.max(axis=1)[unlabelled]),
        "ece_hidden": expected_calibration_error(probabilities[hidden_seen], classes),
        "ece_hidden_raw": expected_calibration_error(raw, classes),
        "coverage_90": float(sets[hidden_seen, classes].mean()),
        "mean_set_size": float(sets[hidden_seen].sum(axis=1).mean()),
        "empty_set_novel": float((sets[novel].sum(axis=1) == 0).mean()),
        "temperature": model.temperature_,
    }


def run_one(method, base, held, hidden_batch, args, seed) -> dict:
    import scvi
    import torch
    from sklearn.metrics import roc_auc_score

    torch.set_num_threads(args.threads)
    adata = base.copy()
    C.hide_batch(adata, hidden_batch)
    truth = adata.obs["cell_type"].astype(str).to_numpy()
    labels = adata.obs["labels_hidden"].to_numpy().copy()
    labels[truth == held] = C.UNLABELED
    adata.obs["labels_hidden"] = labels
    unlabelled = labels == C.UNLABELED
    hidden_seen = np.flatnonzero((adata.obs["batch"].to_numpy() == hidden_batch) & (truth != held))
    scvi.settings.seed = seed
    start = time.perf_counter()
    if method == "scanvi":
        model, _, _ = C.train_scanvi(adata, labels_key="labels_hidden", max_epochs=args.max_epochs,
                                     scanvi_mode="from_scvi", scanvi_epochs=args.scanvi_epochs)
    else:
        model, _, _ = C.train_fadvi(method, adata, labels_key="labels_hidden",
                                    max_epochs=args.max_epochs)
    seconds = time.perf_counter() - start
    if method == "fadvi_core":
        scores = _fadvi_core_scores(model, truth, held, unlabelled, hidden_seen)
    else:
        soft = model.predict(soft=True)
        p_max = np.asarray(soft).max(axis=1)
        scores = {"auroc_1_minus_max_p": roc_auc_score((truth == held)[unlabelled],
                                                       1 - p_max[unlabelled])}
    scores = {k: float(v) for k, v in scores.items()}
    print(f"{method} held={held} seed={seed} {seconds:.0f}s "
          + " ".join(f"{k}={v:.3f}" for k, v in scores.items()), flush=True)
    return {"method": method, "held_out": held, "seed": seed, "train_seconds": seconds, **scores}


def summarise(runs: list[dict]) -> dict:
    out = {}
    for dataset in sorted({r["dataset"] for r in runs}):
        for method in sorted({r["method"] for r in runs if r["dataset"] == dataset}):
            rows = [r for r in runs if r["dataset"] == dataset and r["method"] == method]
            keys = [k for k in rows[0] if k not in ("dataset", "method", "held_out", "seed")]
            out[f"{dataset}/{method}"] = {
                k: {"mean": float(np.mean([r[k] for r in rows])),
                    "min": float(np.min([r[k] for r in rows])),
                    "max": float(np.max([r[k] for r in rows]))} for k in keys}
    return out


def write_markdown(path: Path, result: dict) -> None:
    a = result["args"]
    lines = ["# Open-set annotation: flagging a cell type nobody labelled", "",
             f"Command: `{result['command']}`", "",
             f"Each held-out type never labelled, labels of one batch hidden "
             f"({', '.join(f'{k}: {v}' for k, v in C.DEFAULT_HIDDEN.items())}; on the "
             f"pancreas each mouse in turn, `dataset/hidden mouse`), seeds "
             f"{sorted({r['seed'] for r in result['runs']})} (of {a['seeds']} asked; the results "
             f"are rewritten after every held-out type), {a['max_epochs']} epochs (SCANVI: SCVI {a['max_epochs']} + SCANVI "
             f"{a['scanvi_epochs']}); short runs sized for a shared 2-core machine. AUROC over the "
             "unlabelled cells for 'held-out type'; mean (min) over held-out types and seeds.", "",
             "ECE validation: on the labelled validation cells the temperature was fitted on, mean "
             "(max); its chance floor is the mean ECE a perfectly calibrated model shows on the "
             "same cells (classes drawn from its own probabilities).", "",
             "| dataset | method | AUROC novelty | AUROC 1-max p | ECE hidden (raw) | "
             "ECE validation (chance floor) | coverage at 90% | mean set size | "
             "empty sets, unseen type |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cell(stats, key, digits=3):
        if key not in stats:
            return "n/a"
        return f"{stats[key]['mean']:.{digits}f} ({stats[key]['min']:.{digits}f})"

    for key, stats in result["summary"].items():
        dataset, method = key.rsplit("/", 1)
        ece = "n/a" if "ece_hidden" not in stats else (
            f"{stats['ece_hidden']['mean']:.3f} ({stats['ece_hidden_raw']['mean']:.3f})")
        validation = "n/a" if "ece_validation" not in stats else (
            f"{stats['ece_validation']['mean']:.3f} / {stats['ece_validation']['max']:.3f} "
            f"({stats['ece_validation_floor']['mean']:.3f})")
        lines.append(f"| {dataset} | {method} | {cell(stats, 'auroc_novelty')} | "
                     f"{cell(stats, 'auroc_1_minus_max_p')} | {ece} | {validation} | "
                     f"{cell(stats, 'coverage_90')} | {cell(stats, 'mean_set_size', 2)} | "
                     f"{cell(stats, 'empty_set_novel')} |")
    lines += ["", "Per held-out type (fadvi_core novelty AUROC, mean over seeds):", ""]
    for dataset in sorted({r["dataset"] for r in result["runs"]}):
        for held in sorted({r["held_out"] for r in result["runs"] if r["dataset"] == dataset}):
            rows = [r for r in result["runs"] if r["dataset"] == dataset
                    and r["held_out"] == held]
            parts = []
            for method in sorted({r["method"] for r in rows}):
                mine = [r for r in rows if r["method"] == method]
                key = "auroc_novelty" if method == "fadvi_core" else "auroc_1_minus_max_p"
                parts.append(f"{method} {np.mean([r[key] for r in mine]):.3f}")
            lines.append(f"- {dataset} {held}: " + ", ".join(parts))
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    args = parse_args(argv)
    C.quiet()
    runs = []
    header = {"command": C.command_line(), "versions": C.versions(),
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bases = {name: C.load_dataset(name) for name in args.datasets}
    # Seed by seed, so that a run cut short still covers every dataset and held-out type.
    for seed in args.seeds:
        for name, base in bases.items():
            counts = base.obs["cell_type"].value_counts()
            types = args.types or sorted(counts.index[counts >= MIN_CELLS])
            directions = C.hidden_batches(name)
            for held in [t for t in types if t in counts.index]:
                for hidden in directions:
                    label = name if len(directions) == 1 else f"{name}/{hidden}"
                    for method in args.methods:
                        run = run_one(method, base, held, hidden, args, seed)
                        runs.append({"dataset": label, **run})
                result = {**header, "runs": runs, "summary": summarise(runs)}
                args.out.write_text(json.dumps(result, indent=1))  # after every held-out type
                write_markdown(args.out.with_suffix(".md"), result)
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
