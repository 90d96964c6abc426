"""FADVI on the command line: train a model, predict cell types, map new batches, annotate
a file from a labelled reference.

    fadvi train data.h5ad --batch-key batch --labels-key cell_type --out model_dir
    fadvi predict model_dir data.h5ad --out annotated.h5ad
    fadvi map model_dir new_batches.h5ad --out annotated.h5ad
    fadvi annotate query.h5ad --reference ref.h5ad --labels-key cell_type --out annotated.h5ad
    fadvi reference ref.h5ad --labels-key cell_type --out ref_model

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
from ._cli_record import run_record
from ._defaults import DEFAULT_TIME_BUDGET_S, PATIENCE, training_defaults
from ._device import _mps_available, idle_cores, set_torch_threads, usable_cores
from ._model import FADVI

DEFAULT_PRECISION = "32-true"
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")


def _write_h5ad(adata: anndata.AnnData, path: Path, source: Path) -> None:
    if path.resolve() == source.resolve():
        raise ValueError(f"Refusing to overwrite the input file {source}; choose another --out.")
    if path.is_dir():
        raise ValueError(f"--out {path} is a folder; give a file name, "
                         f"e.g. {path / 'annotated.h5ad'}.")
    write_atomically(path, lambda temporary: adata.write_h5ad(temporary))


def _check_accelerator(accelerator: str, devices: int | list[int] | str = "auto") -> None:
    """Fail at once, before any data is read, when the asked-for device is not here."""
    import torch

    if accelerator in ("gpu", "cuda"):
        found = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if not found:
            raise ValueError(f"--accelerator {accelerator}: torch sees no CUDA GPU on this machine. "
                             "Use --accelerator cpu (or auto), or install a CUDA build of torch.")
        wanted = len(devices) if isinstance(devices, list) else devices
        if isinstance(wanted, int) and wanted > found:
            raise ValueError(f"--devices {wanted}: only {found} CUDA GPU(s) are visible here. "
                             f"Use --devices {found} or fewer.")
    elif accelerator == "mps" and not _mps_available():
        raise ValueError("--accelerator mps: Apple's MPS is not available on this machine. "
                         "Use --accelerator cpu (or auto).")


def _train(args: argparse.Namespace) -> None:
    _check_accelerator(args.accelerator, args.devices)
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
                f"elbo {metrics.get('elbo_train', float('nan')):.1f}")
        accuracy = metrics.get("label_accuracy_train", float("nan"))
        if accuracy == accuracy:  # NaN when no training cell is labelled (query mapping)
            line += f"  label accuracy {accuracy:.3f}"
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
    _check_accelerator(args.accelerator)
    adata = anndata.read_h5ad(args.data)
    scvi.settings.seed = args.seed
    model = FADVI.load(args.model, adata=adata, accelerator=args.accelerator)
    _print_stop_reason(model, "The model's training ended")
    record = run_record(model, command="predict", seed=args.seed,
                        inputs={"model": str(args.model), "data": str(args.data)},
                        options={"accelerator": args.accelerator})
    _write_predictions(model, adata, Path(args.out), Path(args.data), record)


def _print_stop_reason(model: FADVI, words: str) -> None:
    reason = getattr(model, "stop_reason_", None)
    text = str(reason) if reason is not None else "not recorded in the model file"
    print(f"{words}: {text}", flush=True)


def _map(args: argparse.Namespace) -> None:
    _check_accelerator(args.accelerator)
    adata = anndata.read_h5ad(args.data)
    scvi.settings.seed = args.seed
    model = FADVI.load_query_data(adata, args.model, unfrozen=args.unfrozen)
    print(f"Mapping {adata.n_obs} cells onto the model (batches: "
          f"{', '.join(model.batch_categories)})", flush=True)
    model.train(max_epochs=args.max_epochs, accelerator=args.accelerator,
                batch_size=args.batch_size, progress_callback=_print_epochs)
    _print_stop_reason(model, "Mapping ended")
    if args.save_model:
        model.save(args.save_model, overwrite=args.overwrite)
        print(f"Saved the mapped model to {args.save_model}")
    record = run_record(model, command="map", seed=args.seed,
                        inputs={"model": str(args.model), "data": str(args.data)},
                        options={"accelerator": args.accelerator, "max_epochs": args.max_epochs,
                                 "batch_size": args.batch_size, "unfrozen": args.unfrozen})
    _write_predictions(model, adata, Path(args.out), Path(args.data), record)


def _write_predictions(model: FADVI, adata: anndata.AnnData, out: Path, source: Path,
                       record: dict) -> None:
    """Write predictions, confidence and latents, and ``record`` as ``uns["fadvi"]``, to ``out``."""
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
    adata.uns["fadvi"] = record
    _write_h5ad(adata, out, source)
    print(f"Wrote predictions for {adata.n_obs} cells to {out}")


def _add_train_command(commands) -> None:
    train = commands.add_parser(
        "train", help="train a model on an .h5ad of raw counts and save it in a folder",
        description="Train FADVI on raw counts and save the model into the --out folder "
                    "(as fadvi_model.npz). Training stops at --max-epochs, at the time budget, "
                    "or earlier by early stopping; the reason is printed.")
    train.add_argument("data", help=".h5ad file with raw counts (in X, or in --layer)")
    train.add_argument("--out", required=True, metavar="FOLDER",
                       help="folder to save the model in (created if needed; holds fadvi_model.npz)")
    train.add_argument("--layer", default=None,
                       help="layer holding the raw counts (default: X)")
    train.add_argument("--batch-key", default=None,
                       help="obs column naming each cell's batch (default: none, one batch)")
    train.add_argument("--labels-key", default=None,
                       help="obs column with the known cell types (default: none, no label head)")
    train.add_argument("--unlabeled-category", default="Unknown",
                       help="value in --labels-key that marks a cell as unlabelled "
                            "(default: %(default)s)")
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
    train.add_argument("--accelerator", default="auto", choices=ACCELERATORS,
                       help="where to train: auto uses a GPU when one is visible; gpu fails at "
                            "once if none is (default: %(default)s)")
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
                       help="read the counts from disk as needed, for files larger than memory "
                            "(default: off, read into memory)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a model already in --out (default: off, refuse)")
    train.set_defaults(run=_train)


def _add_predict_command(commands) -> None:
    predict = commands.add_parser(
        "predict", help="predict labels with a saved model and write a new .h5ad file",
        description="Predict the cell type of every cell with a trained model and write a NEW "
                    ".h5ad: obs['fadvi_prediction'], obs['fadvi_confidence'], the latents in "
                    "obsm['X_fadvi_b'|'X_fadvi_l'|'X_fadvi_r'] and settings, seed and versions in "
                    "uns['fadvi']. The input file is never changed. The data must have the "
                    "model's genes and batches (new batches: use 'fadvi map').")
    _add_model_data_out(predict, data_help=".h5ad file with the cells to predict")
    predict.add_argument("--seed", type=int, default=0,
                         help="random seed, recorded in uns['fadvi'] (default: %(default)s)")
    predict.add_argument("--accelerator", default="auto", choices=ACCELERATORS,
                         help="where to compute: auto uses a GPU when one is visible; gpu fails "
                              "at once if none is (default: %(default)s)")
    predict.set_defaults(run=_predict)


def _add_model_data_out(parser, *, data_help: str) -> None:
    """The arguments 'fadvi predict' and 'fadvi map' share: model folder, data file, --out."""
    parser.add_argument("model", help="folder of the trained model (the --out of 'fadvi train')")
    parser.add_argument("data", help=data_help)
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="new .h5ad file to write (a file, not a folder; never the input)")


def _add_map_command(commands) -> None:
    mapping = commands.add_parser(
        "map", help="map cells from new batches onto a trained model, then predict",
        description="Extend a trained model to batches it has not seen (FADVI.load_query_data), "
                    "train only the batch-specific weights briefly, and write predictions to a "
                    "new .h5ad as 'fadvi predict' does.")
    _add_model_data_out(mapping, data_help=".h5ad with the new cells (same genes as the model)")
    mapping.add_argument("--max-epochs", type=int, default=20,
                         help="passes through the new cells (default: %(default)s)")
    mapping.add_argument("--batch-size", type=int, default=128,
                         help="cells per minibatch (default: %(default)s)")
    mapping.add_argument("--unfrozen", action="store_true",
                         help="let every weight move, not only the batch-specific ones "
                              "(default: off)")
    mapping.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    mapping.add_argument("--accelerator", default="auto", choices=ACCELERATORS,
                         help="where to train: auto uses a GPU when one is visible; gpu fails "
                              "at once if none is (default: %(default)s)")
    mapping.add_argument("--save-model", default=None, metavar="FOLDER",
                         help="folder to save the mapped model in (default: not saved)")
    mapping.add_argument("--overwrite", action="store_true",
                         help="replace a model already in --save-model (default: off, refuse)")
    mapping.set_defaults(run=_map)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``fadvi`` and its commands (train, predict, map, annotate,
    reference)."""
    from ._cli_annotate import add_annotate_command, add_reference_command

    parser = argparse.ArgumentParser(
        prog="fadvi", description=__doc__.split("\n\nEvery")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'fadvi COMMAND --help' for every option of a command, with its default.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_command(commands)
    _add_predict_command(commands)
    _add_map_command(commands)
    add_annotate_command(commands)
    add_reference_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0, or 1 after a one-line message)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback when something fails; allowed anywhere on the line "
                             "(default: off, one line naming the problem and the fix)")
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
