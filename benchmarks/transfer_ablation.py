"""Why transfer fails when batches differ in cell-type mix: ablations of the FADVI loss.

Each variant changes one thing in fadvi_core's loss or schedule (an adversary off, class-balanced
adversaries, adversaries on labelled cells only, a warm-up of the gradient reversal, ...), trains
on the same cells and genes, and predicts the batch whose labels were hidden. Variants are applied
to the module after it is built, so the engine is measured as it is apart from that one change.

    PYTHONPATH=src .venv/bin/python benchmarks/transfer_ablation.py --datasets baron_mouse_pancreas
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

# name: (FADVI keyword arguments, module attributes, train keyword arguments)
NO_ADVERSARIES = {"alpha_lb": 0.0, "alpha_bl": 0.0, "alpha_rb": 0.0, "alpha_rl": 0.0}
BEFORE = {"cross_cov_within": "all", "label_balance_power": 0.0}  # the engine until now
VARIANTS = {
    "before": ({}, BEFORE, {}),
    "before_no_adv_batch_from_l": ({"alpha_lb": 0.0}, BEFORE, {}),
    "before_no_adv_label_from_b": ({"alpha_bl": 0.0}, BEFORE, {}),
    "before_no_adv_from_r": ({"alpha_rb": 0.0, "alpha_rl": 0.0}, BEFORE, {}),
    "before_no_adversaries": (NO_ADVERSARIES, BEFORE, {}),
    "before_no_cross_cov": ({"gamma": 0.0}, BEFORE, {}),
    "before_kl_warmup_10": ({}, BEFORE, {"plan_kwargs": {"n_epochs_kl_warmup": 10}}),
    "before_label_loss_10": ({"lambda_l": 10.0}, BEFORE, {}),
    "before_library_prior": ({"use_observed_lib_size": False}, BEFORE, {}),
    "within_batch": ({}, {"cross_cov_within": "batch", "label_balance_power": 0.0}, {}),
    "within_batch_no_adversaries": (
        NO_ADVERSARIES, {"cross_cov_within": "batch", "label_balance_power": 0.0}, {}),
    "within_batch_balanced_power_1": ({}, {"cross_cov_within": "batch",
                                           "label_balance_power": 1.0}, {}),
    "within_batch_balanced": ({}, {"cross_cov_within": "batch"}, {}),
    "now": ({}, {}, {}),  # within batch and type, balanced with power 0.5
    "now_no_adv_batch_from_l": ({"alpha_lb": 0.0}, {}, {}),
    "now_no_adv_label_from_b": ({"alpha_bl": 0.0}, {}, {}),
    "now_no_cross_cov": ({"gamma": 0.0}, {}, {}),
    "now_balanced_power_1": ({}, {"label_balance_power": 1.0}, {}),
    "now_kl_warmup_10": ({}, {}, {"plan_kwargs": {"n_epochs_kl_warmup": 10}}),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["baron_mouse_pancreas"], choices=C.DATASETS)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--hidden", nargs="*", default=None,
                   help="batches to hide (default: each of the dataset's hidden batches)")
    p.add_argument("--max-epochs", type=int, default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(C.RESULTS_DIR / "transfer_ablation"))
    return p.parse_args(argv)


def run_variant(name, base, hidden_idx, seed, args) -> dict:
    import scvi
    from sklearn.metrics import balanced_accuracy_score, silhouette_score

    from fadvi_core import FADVI

    model_kwargs, module_options, train_kwargs = VARIANTS[name]
    scvi.settings.seed = seed
    adata = base.copy()
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels_hidden",
                        unlabeled_category=C.UNLABELED)
    model = FADVI(adata, **model_kwargs)
    for key, value in module_options.items():
        setattr(model.module, key, value)
    start = time.perf_counter()
    model.train(max_epochs=args.max_epochs, batch_size=128, accelerator="cpu", train_size=0.9,
                enable_progress_bar=False, **train_kwargs)
    seconds = time.perf_counter() - start
    truth = adata.obs["cell_type"].astype(str).to_numpy()
    pred = np.asarray(model.predict(indices=hidden_idx)).astype(str)
    z_l = model.get_latent_representation(representation="label")
    return {"accuracy": float(np.mean(pred == truth[hidden_idx])),
            "balanced_accuracy": float(balanced_accuracy_score(truth[hidden_idx], pred)),
            "silhouette_label": float(silhouette_score(z_l, truth)),
            "train_s": seconds}


def main(argv=None):
    args = parse_args(argv)
    C.quiet()
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for ds in args.datasets:
        base = C.load_dataset(ds)
        for batch in args.hidden or C.hidden_batches(ds):
            data = base.copy()
            hidden_idx = C.hide_batch(data, batch)
            for name in args.variants:
                for seed in args.seeds:
                    row = {"dataset": ds, "hidden": batch, "variant": name, "seed": seed,
                           **run_variant(name, data, hidden_idx, seed, args)}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    out = Path(args.out)
    result = {"command": C.command_line(), "versions": C.versions(), "args": vars(args),
              "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    write_markdown(out.with_suffix(".md"), result)
    print(out.with_suffix(".md").read_text())


def write_markdown(path: Path, result: dict) -> None:
    rows = result["rows"]
    directions = sorted({(r["dataset"], r["hidden"]) for r in rows})
    lines = ["# Transfer ablations: what loses accuracy when batches differ in cell-type mix", "",
             f"Command: `{result['command']}`", "",
             f"{result['args']['max_epochs']} epochs, seeds {result['args']['seeds']}; "
             "hidden-batch accuracy, mean (min) over seeds, then balanced accuracy and the "
             "silhouette of z_l by cell type (means). `before` is the engine as it was "
             "(cross-covariance over all cells, every labelled cell weighted 1); `now` is "
             "the engine's default (cross-covariance within each batch and cell type, label "
             "terms weighted by class with power 0.5).", "",
             "| variant | " + " | ".join(f"{d} hide {h}" for d, h in directions) + " |",
             "|---|" + "---|" * len(directions)]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        cells = []
        for ds, hidden in directions:
            mine = [r for r in rows if (r["variant"], r["dataset"], r["hidden"])
                    == (variant, ds, hidden)]
            if not mine:
                cells.append("")
                continue
            acc = [r["accuracy"] for r in mine]
            cells.append(f"{np.mean(acc):.3f} ({np.min(acc):.3f}) / "
                         f"{np.mean([r['balanced_accuracy'] for r in mine]):.3f} / "
                         f"{np.mean([r['silhouette_label'] for r in mine]):.2f}")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
