"""Open set when annotating from a reference: the reference lacks one type, the query has it.

For each case one cell type is removed from the reference, fadvi_core annotates the query by
joint training (``fadvi_core.annotate``'s defaults), and each candidate score is rated by its
AUROC for telling the query's cells of the removed type from the rest:

- ``novelty``: ``obs["fadvi_novelty"]`` as shipped; with a fully labelled reference this is the
  cosine distance to the nearest class prototype (the neighbour share is 0 for every cell);
- ``1-maxp``: one minus the confidence;
- ``knn_l``: mean Euclidean distance to the 15 nearest reference cells in z_l;
- ``knn_l_ratio``: ``knn_l`` divided by the median of the same distance among those reference
  cells' own neighbours (a local scale);
- ``knn1_l``: distance to the nearest reference cell in z_l.

    PYTHONPATH=src .bench-venv/bin/python benchmarks/reference_open_set.py --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import reference as R  # noqa: E402

CASES = ([("demo:5p", t) for t in ("B", "NK", "Mono_CD16", "DC", "T_CD8")]
         + [("symphony->3tech", "B")]
         + [("pancreas:mouse2->mouse1", t) for t in ("ductal", "endothelial", "macrophage",
                                                    "delta", "quiescent_stellate")]
         + [("pancreas:mouse1->mouse2", t) for t in ("endothelial", "macrophage", "delta",
                                                    "quiescent_stellate")])
NEIGHBOURS = 15


def candidates(model, joint, annotated) -> dict[str, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    z_l = model.get_latent_representation(joint.adata, representation="l")
    reference, query = z_l[:joint.n_reference], z_l[joint.n_reference:]
    search = NearestNeighbors(n_neighbors=NEIGHBOURS + 1).fit(reference)
    query_d, query_i = search.kneighbors(query, n_neighbors=NEIGHBOURS)
    reference_d, _ = search.kneighbors(reference)
    local = np.median(reference_d[:, 1:].mean(axis=1)[query_i], axis=1)
    return {"novelty": annotated.obs["fadvi_novelty"].to_numpy(),
            "1-maxp": 1 - annotated.obs["fadvi_confidence"].to_numpy(),
            "knn_l": query_d.mean(axis=1), "knn_l_ratio": query_d.mean(axis=1) / local,
            "knn1_l": query_d[:, 0]}


def main(argv=None) -> None:
    import torch
    from sklearn.metrics import roc_auc_score

    from fadvi_core import joint_annotation, joint_data
    from fadvi_core._annotate import train_joint

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", default=str(C.RESULTS_DIR / "reference_open_set"))
    args = parser.parse_args(argv)
    C.quiet()
    torch.set_num_threads(2)
    runs = []
    for direction, removed in CASES:
        reference, query, truth, level = R.direction_data(direction)
        if level == "coarse":
            removed_coarse = R.COARSE.get(removed, removed)
            novel = np.asarray([t == removed_coarse for t in truth])
            removed_fine = [k for k, v in R.COARSE.items() if v == removed_coarse] + [removed]
        else:
            novel, removed_fine = np.asarray(truth) == removed, [removed]
        reference = reference[~reference.obs["cell_type"].astype(str).isin(removed_fine)].copy()
        unlabelled = R._query_without_labels(query)
        for seed in args.seeds:
            joint = joint_data(unlabelled, reference, labels_key="cell_type",
                               reference_batch_key="batch", batch_key="batch")
            model = train_joint(joint, seed=seed)
            annotated = joint_annotation(model, joint, unlabelled, seed=seed)
            aurocs = {name: float(roc_auc_score(novel, score))
                      for name, score in candidates(model, joint, annotated).items()}
            runs.append({"direction": direction, "removed": removed, "seed": seed,
                         "n_novel": int(novel.sum()), "auroc": aurocs})
            print(json.dumps(runs[-1]), flush=True)
    payload = {"command": C.command_line(), "versions": C.versions(), "runs": runs}
    Path(args.out + ".json").write_text(json.dumps(payload, indent=1))
    Path(args.out + ".md").write_text(markdown(payload))
    print(markdown(payload))


def markdown(payload: dict) -> str:
    runs = payload["runs"]
    names = list(runs[0]["auroc"])
    lines = ["# Open set when annotating from a reference", "", f"Command: `{payload['command']}`",
             "", "AUROC for the query's cells of the type removed from the reference (mean over "
             "seeds); last rows: mean per file.", "",
             "| direction | removed (query cells) | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for case in dict.fromkeys((r["direction"], r["removed"]) for r in runs):
        group = [r for r in runs if (r["direction"], r["removed"]) == case]
        values = " | ".join(f"{np.mean([g['auroc'][n] for g in group]):.3f}" for n in names)
        lines.append(f"| {case[0]} | {case[1]} ({group[0]['n_novel']}) | {values} |")
    for prefix in ("demo", "symphony", "pancreas"):
        group = [r for r in runs if r["direction"].startswith(prefix)]
        if group:
            values = " | ".join(f"**{np.mean([g['auroc'][n] for g in group]):.3f}**"
                                for n in names)
            lines.append(f"| {prefix} (mean) | | {values} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
