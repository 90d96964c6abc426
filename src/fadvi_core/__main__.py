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
from ._defaults import DEFAULT_TIME_BUDGET_S, PATIENCE, training_defaults
from ._device import idle_cores, set_torch_threads, usable_cores
from ._model import FADVI

DEFAULT_PRECISION = "32-true"


def _write_h5ad(adata: anndata.AnnData, path: Path, source: Path) -> None:
    if path.resolve() == source.resolve():
        raise ValueError(f"Refusing to overwrite the input file {source}; choose another --out.")
    if path.is_dir():
        raise ValueError(f"--out {path} is a folder; give a file name, "
                         f"e.g. {path / 'annotated.h5ad'}.")
    write_atomically(path, lambda temporary: adata.write_h5ad(temporary))


def _train(args: argparse.Namespace) -> None:
    set_torch_threads(args.threads)
    adata = anndata.read_h5ad(args.data, backed="r" if args.backed else None)
    FADVI.setup_anndata(adata, layer=args.layer, batch_key=args.batch_key,
                        labels_key=args.labels_key, unlabeled_category=args.unlabeled_category)
    scvi.settings.seed = args.seed
    model = FADVI(adata)
    defaults = training_defaults(adata.n_obs, adata.n_vars, time_budget_s=args.time_budget,
                                 has_labels=args.labels_key is not None,
                                 batch_size=args.batch_size)
    options = defaults.train_kwargs() | {"early_stopping": args.early_stopping}
    if args.max_epochs is not None:
        options["max_epochs"] = args.max_epochs
    print(f"Training for at most {options['max_epochs']} epochs (about "
          f"{defaults.seconds_per_epoch:.1f} s each, time budget {args.time_budget:.0f} s)"
          + (f", early stopping on {defaults.early_stopping_monitor}" if args.early_stopping
             else ""), flush=True)
    if defaults.note:
        print(defaults.note, flush=True)
    model.train(**options, accelerator=args.accelerator, devices=args.devices,
                strategy=args.strategy, precision=args.precision, threads=args.threads,
                progress_callback=_print_epochs)
    if model.global_rank_ != 0:  # other DDP ranks hold the same weights
        return
    print(f"Training ended: {model.stop_reason_}", flush=True)
    model.save(args.out, overwrite=args.overwrite)
    print(f"Saved the model to {args.out}")


def _print_epochs(progress) -> None:
    if progress.epoch_end:
        metrics = progress.metrics
        line = (f"epoch {progress.epoch + 1}/{progress.max_epochs}  "
                f"elbo {metrics.get('elbo_train', float('nan')):.1f}  "
                f"label accuracy {metrics.get('label_accuracy_train', float('nan')):.3f}")
        if "label_accuracy_validation" in metrics:
            line += f" (validation {metrics['label_accuracy_validation']:.3f})"
        print(line, flush=True)


def _threads(value: str) -> int:
    """``--threads``: a count, or "auto" for the idle usable cores."""
    if value == "auto":
        return idle_cores()
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"--threads {value!r}: use a count of at least 1 or auto")
    return count


def _devices(value: str) -> int | list[int] | str:
    """``--devices``: "auto", a count ("2") or device indices ("0,1")."""
    if value == "auto":
        return value
    try:
        return [int(v) for v in value.split(",")] if "," in value else int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--devices {value!r}: use 'auto', a count such as 2, or indices such as 0,1") from None


def _predict(args: argparse.Namespace) -> None:
    adata = anndata.read_h5ad(args.data)
    model = FADVI.load(args.model, adata=adata, accelerator=args.accelerator)
    _write_predictions(model, adata, Path(args.out), Path(args.data))


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
    if model.calibration_ is not None:  # a model trained with held-out labelled cells
        sets = model.predict_sets(alpha=0.1)
        adata.obs["fadvi_set_size"] = sets.sum(axis=1).to_numpy()
        adata.obs["fadvi_novelty"] = model.get_novelty_scores().to_numpy()
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
    train.add_argument("--max-epochs", type=int, default=None,
                       help="cap on passes through the data (default: what fits --time-budget, "
                            "at most 400)")
    train.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET_S,
                       metavar="SECONDS",
                       help="stop before an epoch that would end after this many seconds "
                            "(default: %(default).0f)")
    train.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=True,
                       help="stop when validation label accuracy (ELBO without labels) has not "
                            f"improved for {PATIENCE} epochs (default: on)")
    train.add_argument("--batch-size", type=int, default=128,
                       help="cells per minibatch (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.add_argument("--accelerator", default="auto",
                       help="auto, cpu, gpu or mps (default: %(default)s)")
    train.add_argument("--devices", type=_devices, default="auto",
                       help="auto (one device), a count such as 2, or indices such as 0,1 "
                            "(default: %(default)s)")
    train.add_argument("--strategy", default="auto",
                       help="auto, or ddp for one process per device (default: %(default)s)")
    train.add_argument("--precision", default=DEFAULT_PRECISION,
                       help="32-true, bf16-mixed or 16-mixed (GPU) (default: %(default)s)")
    train.add_argument("--threads", type=_threads, default="auto",
                       help="CPU threads, or auto: the usable cores that are not busy with other "
                            f"programs (default: auto; {usable_cores()} usable cores here)")
    train.add_argument("--backed", action="store_true",
                       help="read the counts from disk as needed, for files larger than memory")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out")
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
