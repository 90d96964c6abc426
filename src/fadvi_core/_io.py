"""Saving, loading and query mapping in a format that cannot run code.

A saved model is one ``.npz`` file: every tensor of the module as a plain numeric array, and the
settings, registry and history as JSON text. Nothing in it is trusted: each array's header is
checked against its stored size before it is read (``allow_pickle=False``), the metadata against
a schema (`_schema`), the sizes against the stored tensors on the ``meta`` device before a module
is allocated, and the weights must be finite. A crafted file can at most fail to load, with
`ModelFileError`. Files are written with `write_atomically`.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from anndata import AnnData, read_h5ad

from . import _schema
from ._atomic import write_atomically
from ._checks import check_genes_match
from ._schema import ModelFileError
from ._stopping import StopReason

FORMAT = "fadvi-core-model"
FORMAT_VERSION = 1
MODEL_FILE = "fadvi_model.npz"
DATA_FILE = "adata.h5ad"
MAX_METADATA_BYTES = 256 << 20
_TENSOR_DTYPES = {"<f2", "<f4", "<f8", "<i8", "<i4", "|b1", "|u1", "|i1"}


def _to_json(value):
    if isinstance(value, np.ndarray):
        kind = "object" if value.dtype.kind in "OUS" else str(value.dtype)
        return {"__ndarray__": _to_json(value.tolist()), "dtype": kind}
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _from_json(value, where: str = "the metadata"):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return _schema.array_from_json(value, where)
        return {k: _from_json(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def model_path(dir_path: str | os.PathLike, prefix: str | None = None) -> Path:
    return Path(dir_path) / f"{prefix or ''}{MODEL_FILE}"


def write_model(model, dir_path, *, prefix=None, overwrite=False, save_anndata=False) -> Path:
    """Write ``model`` (and optionally its AnnData) into ``dir_path``; return the model file."""
    path = model_path(dir_path, prefix)
    data_path = Path(dir_path) / f"{prefix or ''}{DATA_FILE}"
    for target in [path] + ([data_path] if save_anndata else []):
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} already exists; pass overwrite=True to replace it.")
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "init_params": _to_json(model.init_params_), "registry": _to_json(model.registry_),
        "is_trained": bool(model.is_trained_),
        "training_was_stopped": bool(model.training_was_stopped),
        "stop_reason": _stop_reason_json(getattr(model, "stop_reason_", None)),
        "history": {name: frame.iloc[:, 0].tolist() for name, frame in (model.history_ or {}).items()},
        "calibration": None if model.calibration_ is None else model.calibration_.to_json(),
    }
    arrays = {f"tensor/{name}": value.detach().cpu().numpy()
              for name, value in model.module.state_dict().items()}
    arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda temporary: np.savez(temporary, **arrays))
    if save_anndata:
        write_atomically(data_path, model.adata.write_h5ad)
    return path


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, after checking that its header matches its stored size."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported array format {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(member, max_header_size=10_000)
        if dtype.str not in _TENSOR_DTYPES:
            raise ValueError(f"{info.filename} has unsupported type {dtype.str}")
        n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if member.tell() + n_bytes != info.file_size:
            raise ValueError(f"{info.filename} is not the size its header says")
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if sum(info.file_size for info in members) > max(4 * size, MAX_METADATA_BYTES):
            raise ValueError("the archive unpacks to far more than its size")
        arrays = {}
        for info in members:
            if not info.filename.endswith(".npy") or info.filename[:-4] in arrays:
                raise ValueError(f"unexpected member {info.filename[:60]!r}")
            arrays[info.filename[:-4]] = _read_member(archive, info)
    return arrays


def read_model(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and metadata of a model file, refusing anything that is not plain, finite data."""
    if not path.is_file():
        raise FileNotFoundError(f"No FADVI model file at {path}. Save one with model.save().")
    try:
        arrays = _read_arrays(path)
        raw = arrays.pop("metadata")
        if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_METADATA_BYTES:
            raise ValueError("the metadata is not text")
        metadata = json.loads(raw.tobytes().decode())
    except Exception as error:  # noqa: BLE001 - any failure means the file is unusable
        raise ModelFileError(f"{path} is not a FADVI model file, or it is damaged "
                             f"({type(error).__name__}: {str(error)[:200]}). "
                             "Only files written by FADVI.save can be loaded.") from None
    _schema.check_header(metadata, FORMAT, FORMAT_VERSION)
    tensors = {}
    for name, value in arrays.items():
        if not name.startswith("tensor/"):
            raise ModelFileError(f"{path} holds an unexpected entry {name[:60]!r}; it was not "
                                 "written by FADVI.save.")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(
                f"{path} holds NaN or infinite weights ({name.removeprefix('tensor/')}), so "
                "every prediction would be NaN. The training diverged or the file is damaged: "
                "train again, e.g. with a lower learning rate, and save again.")
        tensors[name.removeprefix("tensor/")] = torch.from_numpy(np.array(value))
    return tensors, metadata


def _init_kwargs(metadata: dict, model_cls) -> dict:
    return _schema.init_kwargs(metadata, model_cls, model_cls._module_cls)


def _restore_history(model, metadata: dict) -> None:
    model.history_ = {name: pd.DataFrame({name: values}, index=pd.RangeIndex(len(values), name="epoch"))
                      for name, values in metadata.get("history", {}).items()}
    model.is_trained_ = metadata.get("is_trained", True)
    model.training_was_stopped = metadata.get("training_was_stopped", False)
    reason = metadata.get("stop_reason")
    model.stop_reason_ = None if reason is None else StopReason(**reason)


def _stop_reason_json(reason: StopReason | None) -> dict | None:
    if reason is None:
        return None
    return {"kind": reason.kind, "epochs": int(reason.epochs), "detail": str(reason.detail)}


def _build(cls, adata, registry, kwargs: dict, tensors: dict):
    """Build the model once its settings are known to fit the stored weights, and load them."""
    _schema.check_size(kwargs, registry, sum(value.numel() for value in tensors.values()))
    try:
        model = cls(adata, registry=None if adata is not None else registry, **kwargs)
    except Exception as error:  # noqa: BLE001 - settings that fit no model
        raise ModelFileError(f"The model file's settings do not describe a valid model "
                             f"({type(error).__name__}: {str(error)[:200]}). Save the model "
                             "again from the original training run.") from None
    expected = {name: tuple(value.shape) for name, value in model.module.state_dict().items()}
    stored = {name: tuple(value.shape) for name, value in tensors.items()}
    if stored != expected:
        names = sorted(set(stored) ^ set(expected)) or sorted(
            name for name in stored if stored[name] != expected[name])
        raise ModelFileError(f"The model file's weights do not fit its own settings (first "
                             f"difference: {names[0][:80]}); it is damaged. Save the model again "
                             "from the original training run.")
    model.module.load_state_dict(tensors)
    return model


class SaveLoadMixin:
    """`save`, `load` and `load_query_data` for `FADVI`."""

    def save(self, dir_path: str, prefix: str | None = None, overwrite: bool = False,
             save_anndata: bool = False, **kwargs) -> None:
        """Save the model to ``dir_path/[prefix]fadvi_model.npz`` (atomically).

        With ``save_anndata`` the AnnData goes to ``dir_path/[prefix]adata.h5ad``.
        """
        write_model(self, dir_path, prefix=prefix, overwrite=overwrite, save_anndata=save_anndata)

    @classmethod
    def load(cls, dir_path: str, adata: AnnData | None = None, accelerator: str = "auto",
             device: int | str = "auto", prefix: str | None = None, **kwargs):
        """Load a model saved with `save`, attached to ``adata`` (or the saved AnnData, if any).

        Cell-type labels in ``adata`` that the model does not know are ignored (treated as
        unlabelled); batches it does not know must be mapped with `load_query_data` first.

        Raises
        ------
        ModelFileError
            When the file is not a FADVI model, is damaged or holds non-finite weights.
        ValueError
            When ``adata``'s genes differ from the model's or it holds new batches.
        """
        from ._device import resolve_device

        from ._query import check_no_new_batches, known_labels_only

        tensors, metadata = read_model(model_path(dir_path, prefix))
        _schema.check_registry(metadata.get("registry"))
        registry = _from_json(metadata["registry"], "the registry")
        _schema.check_history(metadata)
        kwargs = _init_kwargs(metadata, cls)
        data_path = Path(dir_path) / f"{prefix or ''}{DATA_FILE}"
        if adata is None and data_path.exists():
            adata = read_h5ad(data_path)
        if adata is not None:
            genes = registry["field_registries"]["X"]["state_registry"]["column_names"]
            check_genes_match(genes, adata.var_names)
            check_no_new_batches(adata, registry, dir_path)
            with known_labels_only(adata, registry):
                try:
                    cls.setup_anndata(adata, source_registry=registry, allow_missing_labels=True,
                                      **registry["setup_args"])
                except (KeyError, TypeError, AttributeError, IndexError) as error:
                    raise ModelFileError(
                        f"The model file's data registry cannot be used ({type(error).__name__}: "
                        f"{str(error)[:200]}); it is damaged. Save the model again.") from None
        model = _build(cls, adata, registry, kwargs, tensors)
        model.module.to(resolve_device(accelerator, device)).eval()
        _restore_history(model, metadata)
        model.calibration_ = _schema.check_calibration(
            metadata, n_classes=len(model.label_classes),
            n_latent_l=model.module.label_head.net[0].in_features,
            n_latent_b=model.module.batch_head.net[0].in_features)
        return model

    @classmethod
    def load_query_data(cls, adata: AnnData, reference_model, *, unfrozen: bool = False):
        """A model for new cells (new batches allowed, same genes) built on a trained one.

        ``reference_model`` is a trained `FADVI` or the directory it was saved to. The returned
        model carries the reference's weights, with new batch-specific weights added. Train it
        briefly on the query (``model.train(max_epochs=...)``); unless ``unfrozen``, only
        batch-specific weights move, so z_l, the label head and hence the predictions for the
        reference classes stay those of the reference model. Labels missing from ``adata``, and
        labels the reference does not know, are treated as unlabelled (no new classes).
        """
        from ._query import map_query

        if isinstance(reference_model, (str, os.PathLike)):
            reference_model = cls.load(reference_model, adata=None)
        model = map_query(cls, adata, reference_model, unfrozen=unfrozen)
        # Kept when training on the query has no labelled validation cells to refit it on.
        model.calibration_ = reference_model.calibration_
        return model
