"""Command line for servers: ``fadvi train`` and ``fadvi predict``.

    fadvi train data.h5ad --batch-key batch --labels-key cell_type --out model_dir
    fadvi predict model_dir data.h5ad --out annotated.h5ad
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import anndata
import scvi

from ._model import FADVI


def _write_h5ad(adata: anndata.AnnData, path: Path, source: Path) -> None:
    if path.resolve() == source.resolve():
        raise SystemExit(f"Refusing to overwrite the input file {source}; choose another --out.")
    handle, temporary = tempfile.mkstemp(suffix=".h5ad", dir=path.parent or ".")
    os.close(handle)
    try:
        adata.write_h5ad(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _train(args: argparse.Namespace) -> None:
    adata = anndata.read_h5ad(args.data)
    FADVI.setup_anndata(adata, layer=args.layer, batch_key=args.batch_key,
                        labels_key=args.labels_key, unlabeled_category=args.unlabeled_category)
    scvi.settings.seed = args.seed
    model = FADVI(adata)
    model.train(max_epochs=args.max_epochs, accelerator=args.accelerator,
                batch_size=args.batch_size, early_stopping=args.early_stopping,
                progress_callback=_print_epochs)
    model.save(args.out, overwrite=args.overwrite)
    print(f"Saved the model to {args.out}")


def _print_epochs(progress) -> None:
    if progress.epoch_end:
        accuracy = progress.metrics.get("label_accuracy_train", float("nan"))
        print(f"epoch {progress.epoch + 1}/{progress.max_epochs}  "
              f"elbo {progress.metrics.get('elbo_train', float('nan')):.1f}  "
              f"label accuracy {accuracy:.3f}", flush=True)


def _predict(args: argparse.Namespace) -> None:
    adata = anndata.read_h5ad(args.data)
    model = FADVI.load(args.model, adata=adata, accelerator=args.accelerator)
    soft = model.predict(soft=True)
    adata.obs["fadvi_prediction"] = soft.idxmax(axis=1).astype("category")
    adata.obs["fadvi_confidence"] = soft.max(axis=1).to_numpy()
    for space in ("b", "l", "r"):
        adata.obsm[f"X_fadvi_{space}"] = model.get_latent_representation(representation=space)
    for key in [k for k in adata.obs if k.startswith("_scvi_")]:
        del adata.obs[key]
    for key in [k for k in adata.uns if k.startswith("_scvi_")]:
        del adata.uns[key]
    _write_h5ad(adata, Path(args.out), Path(args.data))
    print(f"Wrote predictions for {adata.n_obs} cells to {args.out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fadvi", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model on an .h5ad of raw counts")
    train.add_argument("data")
    train.add_argument("--out", required=True, help="directory for the model")
    train.add_argument("--layer", default=None)
    train.add_argument("--batch-key", default=None)
    train.add_argument("--labels-key", default=None)
    train.add_argument("--unlabeled-category", default="Unknown")
    train.add_argument("--max-epochs", type=int, default=None)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--early-stopping", action="store_true")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--accelerator", default="auto")
    train.add_argument("--overwrite", action="store_true")
    train.set_defaults(run=_train)
    predict = commands.add_parser("predict", help="predict labels and write a new .h5ad")
    predict.add_argument("model")
    predict.add_argument("data")
    predict.add_argument("--out", required=True, help="new .h5ad to write")
    predict.add_argument("--accelerator", default="auto")
    predict.set_defaults(run=_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, KeyError, FileNotFoundError, FileExistsError) as error:
        print(f"fadvi: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
