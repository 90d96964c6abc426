"""Command line for servers: ``fadvi train`` and ``fadvi predict``.

    fadvi train data.h5ad --batch-key batch --labels-key cell_type --out model_dir
    fadvi predict model_dir data.h5ad --out annotated.h5ad
    fadvi map model_dir new_batches.h5ad --out annotated.h5ad

Every failure is reported as one line that names the problem and the fix, with exit status 1;
``--debug`` (anywhere on the line) shows the traceback as well.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import anndata
import scvi

from ._atomic import write_atomically
from ._cli_errors import describe_error
from ._model import FADVI


def _write_h5ad(adata: anndata.AnnData, path: Path, source: Path) -> None:
    if path.resolve() == source.resolve():
        raise ValueError(f"Refusing to overwrite the input file {source}; choose another --out.")
    if path.is_dir():
        raise ValueError(f"--out {path} is a folder; give a file name, "
                         f"e.g. {path / 'annotated.h5ad'}.")
    write_atomically(path, lambda temporary: adata.write_h5ad(temporary))


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


def _map(args: argparse.Namespace) -> None:
    adata = anndata.read_h5ad(args.data)
    scvi.settings.seed = args.seed
    model = FADVI.load_query_data(adata, args.model, unfrozen=args.unfrozen)
    print(f"Mapping {adata.n_obs} cells onto the model (batches: "
          f"{', '.join(model.batch_categories)})", flush=True)
    model.train(max_epochs=args.max_epochs, accelerator=args.accelerator,
                batch_size=args.batch_size, progress_callback=_print_epochs)
    if args.save_model:
        model.save(args.save_model, overwrite=args.overwrite)
        print(f"Saved the mapped model to {args.save_model}")
    _write_predictions(model, adata, Path(args.out), Path(args.data))


def _write_predictions(model: FADVI, adata: anndata.AnnData, out: Path, source: Path) -> None:
    soft = model.predict(soft=True)
    adata.obs["fadvi_prediction"] = soft.idxmax(axis=1).astype("category")
    adata.obs["fadvi_confidence"] = soft.max(axis=1).to_numpy()
    for space in ("b", "l", "r"):
        adata.obsm[f"X_fadvi_{space}"] = model.get_latent_representation(representation=space)
    for key in [k for k in adata.obs if k.startswith("_scvi_")]:
        del adata.obs[key]
    for key in [k for k in adata.uns if k.startswith("_scvi_")]:
        del adata.uns[key]
    _write_h5ad(adata, out, source)
    print(f"Wrote predictions for {adata.n_obs} cells to {out}")


def _add_map_command(commands) -> None:
    mapping = commands.add_parser(
        "map", help="map cells from new batches onto a trained model, then predict",
        description="Extend a trained model to batches it has not seen (FADVI.load_query_data), "
                    "train only the batch-specific weights briefly, and write predictions.")
    mapping.add_argument("model", help="directory of the trained model")
    mapping.add_argument("data", help=".h5ad with the new cells (same genes as the model)")
    mapping.add_argument("--out", required=True, help="new .h5ad to write")
    mapping.add_argument("--max-epochs", type=int, default=20)
    mapping.add_argument("--batch-size", type=int, default=128)
    mapping.add_argument("--unfrozen", action="store_true",
                         help="let every weight move, not only the batch-specific ones")
    mapping.add_argument("--seed", type=int, default=0)
    mapping.add_argument("--accelerator", default="auto")
    mapping.add_argument("--save-model", default=None, help="directory to save the mapped model")
    mapping.add_argument("--overwrite", action="store_true")
    mapping.set_defaults(run=_map)


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
    _add_map_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0, or 1 after a one-line message)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback when something fails (allowed anywhere)")
    args = parser.parse_args([arg for arg in argv if arg != "--debug"])
    try:
        args.run(args)
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - every failure gets one line
        if debug:
            traceback.print_exc()
        inputs = [args.data] if getattr(args, "data", None) else []
        message = describe_error(error, inputs=inputs)
        hint = "" if debug or "--debug" in message else " (--debug shows the traceback)"
        print(f"fadvi: {message}{hint}", file=sys.stderr)
        return 130 if isinstance(error, KeyboardInterrupt) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
