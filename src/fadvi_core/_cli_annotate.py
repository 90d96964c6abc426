"""``fadvi annotate`` and ``fadvi reference``: annotating a file from a labelled reference.

    fadvi reference ref.h5ad --labels-key cell_type --out ref_model
    fadvi annotate query.h5ad --reference ref_model --out annotated.h5ad
    fadvi annotate query.h5ad --reference ref.h5ad --labels-key cell_type --out annotated.h5ad
"""

from __future__ import annotations

import argparse
from pathlib import Path

import anndata

from ._defaults import DEFAULT_TIME_BUDGET_S
from ._reference_model import MAP_EPOCHS


def _annotate(args: argparse.Namespace) -> None:
    from ._annotate import annotate
    from ._reference_model import ReferenceModel
    from .__main__ import _print_epochs, _write_h5ad

    reference = Path(args.reference)
    query = anndata.read_h5ad(args.data)
    if reference.is_dir():
        reference = ReferenceModel.load(reference)
        print(reference.describe(), flush=True)
        if args.labels_key and args.labels_key != reference.card["labels_key"]:
            print(f"Note: the reference model was trained on '{reference.card['labels_key']}'; "
                  f"--labels-key {args.labels_key} is not used.", flush=True)
    elif not reference.is_file():
        raise ValueError(f"--reference {reference}: no such file or folder. Give a labelled "
                         ".h5ad or the folder of a reference model ('fadvi reference').")
    elif args.labels_key is None:
        raise ValueError("--labels-key is needed with an .h5ad reference: name its obs column "
                         "of cell types.")
    annotated = annotate(
        query, reference, labels_key=args.labels_key,
        reference_batch_key=args.reference_batch_key, batch_key=args.batch_key, layer=args.layer,
        reference_layer=args.reference_layer, coarse_labels_key=args.coarse_labels_key,
        n_top_genes=args.n_top_genes, time_budget_s=args.time_budget, max_epochs=args.max_epochs,
        map_epochs=args.map_epochs, method=args.method, seed=args.seed,
        progress_callback=_print_epochs)
    record = annotated.uns["fadvi"]
    record["settings"]["inputs"] = {"data": str(args.data), "reference": str(args.reference)}
    genes = record["genes"]
    print(f"Genes: {genes['n_shared']} shared, {len(genes['used'])} used "
          f"({record['settings']['mode']})", flush=True)
    _write_h5ad(annotated, Path(args.out), Path(args.data))
    counts = annotated.obs["fadvi_prediction"].value_counts()
    print(f"Wrote {annotated.n_obs} annotated cells to {args.out}: "
          + ", ".join(f"{name} {n}" for name, n in counts.items()))


def _reference(args: argparse.Namespace) -> None:
    from ._reference_model import ReferenceModel
    from .__main__ import _print_epochs

    out = Path(args.out)
    if (out / "reference_card.json").exists() and not args.overwrite:
        raise FileExistsError(f"{out} already holds a reference model; add --overwrite to "
                              "replace it, or choose another --out.")
    data = anndata.read_h5ad(args.data)
    model = ReferenceModel.train(
        data, labels_key=args.labels_key, reference_batch_key=args.batch_key,
        reference_layer=args.layer, coarse_labels_key=args.coarse_labels_key,
        n_top_genes=args.n_top_genes, time_budget_s=args.time_budget, max_epochs=args.max_epochs,
        seed=args.seed, source=args.data, progress_callback=_print_epochs)
    model.save(out, overwrite=args.overwrite)
    print(model.describe())
    print(f"Saved the reference model to {out}")


def _shared_options(parser) -> None:
    parser.add_argument("--coarse-labels-key", default=None,
                        help="the reference's coarse cell-type column, for "
                             "obs['fadvi_prediction_resolved'] (default: none)")
    parser.add_argument("--n-top-genes", type=int, default=2000,
                        help="variable genes chosen on the reference (default: %(default)s)")
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET_S,
                        metavar="SECONDS", help="longest training (default: %(default).0f)")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="cap on training passes (default: what fits --time-budget)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")


def add_annotate_command(commands) -> None:
    annotate = commands.add_parser(
        "annotate", help="annotate an .h5ad with no labels from a labelled reference",
        description="Predict the cell types of QUERY's cells from a labelled reference (an .h5ad "
                    "with a labels column: joint training; or a folder from 'fadvi reference': "
                    "mapping in seconds). Genes are matched by symbols or Ensembl ids. Writes a "
                    "NEW .h5ad with obs['fadvi_prediction'], 'fadvi_confidence', 'fadvi_novelty', "
                    "'fadvi_prediction_set', 'fadvi_prediction_resolved', 'fadvi_agreement', the "
                    "latents in obsm and the record in uns['fadvi']. QUERY is never changed.")
    annotate.add_argument("data", metavar="QUERY", help=".h5ad with the cells to annotate")
    annotate.add_argument("--reference", required=True, metavar="REF",
                          help="labelled .h5ad, or the folder of a saved reference model")
    annotate.add_argument("--labels-key", default=None,
                          help="the reference's cell-type column (needed with an .h5ad; default: none, "
                               "a reference model knows its own)")
    annotate.add_argument("--out", required=True, metavar="FILE", help="new .h5ad to write")
    annotate.add_argument("--reference-batch-key", default=None,
                          help="the reference's batch column (default: one batch)")
    annotate.add_argument("--batch-key", default=None,
                          help="QUERY's batch column (default: one batch)")
    annotate.add_argument("--layer", default=None, help="QUERY's raw-count layer (default: X)")
    annotate.add_argument("--reference-layer", default=None,
                          help="the reference's raw-count layer (default: X)")
    annotate.add_argument("--map-epochs", type=int, default=None,
                          help="passes over QUERY when mapping onto a reference model "
                               f"(default: {MAP_EPOCHS})")
    annotate.add_argument("--method", choices=("joint", "map"), default="joint",
                          help="with an .h5ad reference: joint trains on both files together; "
                               "map trains on the reference alone, then maps QUERY onto it "
                               "(default: %(default)s)")
    _shared_options(annotate)
    annotate.set_defaults(run=_annotate)


def add_reference_command(commands) -> None:
    reference = commands.add_parser(
        "reference", help="train a reference model from a labelled .h5ad, with its model card",
        description="Train FADVI on a labelled .h5ad and save it into --out as a reference "
                    "model (weights, model card, reference cells) for 'fadvi annotate "
                    "--reference FOLDER'.")
    reference.add_argument("data", metavar="REF", help="labelled .h5ad of raw counts")
    reference.add_argument("--labels-key", required=True, help="the cell-type column")
    reference.add_argument("--out", required=True, metavar="FOLDER", help="folder to save into")
    reference.add_argument("--batch-key", default=None,
                           help="batch column (default: one batch)")
    reference.add_argument("--layer", default=None, help="raw-count layer (default: X)")
    reference.add_argument("--overwrite", action="store_true",
                           help="replace a reference model already in --out (default: off)")
    _shared_options(reference)
    reference.set_defaults(run=_reference)
