"""Saving, loading and query mapping in a format that cannot run code.

A saved model is one ``.npz`` file: every tensor of the module as a plain numeric array, and the
settings, registry and history as JSON text. It is read with ``allow_pickle=False``, so a
crafted file can at most fail to load. Files are written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from anndata import AnnData, read_h5ad

from ._checks import check_genes_match

FORMAT = "fadvi-core-model"
FORMAT_VERSION = 1
MODEL_FILE = "fadvi_model.npz"
DATA_FILE = "adata.h5ad"


class ModelFileError(ValueError):
    """The file is not a FADVI model this version can read."""


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


def _from_json(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            dtype = object if value["dtype"] == "object" else np.dtype(value["dtype"])
            return np.asarray(value["__ndarray__"], dtype=dtype)
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _write_atomically(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def model_path(dir_path: str | os.PathLike, prefix: str | None = None) -> Path:
    return Path(dir_path) / f"{prefix or ''}{MODEL_FILE}"


def write_model(model, dir_path, *, prefix=None, overwrite=False, save_anndata=False) -> Path:
    """Write ``model`` (and optionally its AnnData) into ``dir_path``; return the model file."""
    path = model_path(dir_path, prefix)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "init_params": _to_json(model.init_params_), "registry": _to_json(model.registry_),
        "is_trained": bool(model.is_trained_),
        "training_was_stopped": bool(model.training_was_stopped),
        "history": {name: frame.iloc[:, 0].tolist() for name, frame in (model.history_ or {}).items()},
    }
    arrays = {f"tensor/{name}": value.detach().cpu().numpy()
              for name, value in model.module.state_dict().items()}
    arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    _write_atomically(path, lambda file: np.savez(file, **arrays))
    if save_anndata:
        data_path = Path(dir_path) / f"{prefix or ''}{DATA_FILE}"
        if data_path.exists() and not overwrite:
            raise FileExistsError(f"{data_path} already exists; pass overwrite=True.")
        handle, temporary = tempfile.mkstemp(suffix=".h5ad", dir=dir_path)
        os.close(handle)
        try:
            model.adata.write_h5ad(temporary)
            os.replace(temporary, data_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return path


def read_model(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and metadata of a model file, refusing anything that is not plain data."""
    if not path.is_file():
        raise FileNotFoundError(f"No FADVI model file at {path}. Save one with model.save().")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        metadata = json.loads(arrays.pop("metadata").tobytes().decode())
    except Exception as error:  # noqa: BLE001 - any failure means the file is unusable
        raise ModelFileError(f"{path} is not a FADVI model file, or it is damaged ({error}). "
                             "Only files written by FADVI.save can be loaded.") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a FADVI model file.")
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(f"{path} was saved by a newer version of fadvi_core; upgrade it.")
    tensors = {name.removeprefix("tensor/"): torch.from_numpy(np.array(value))
               for name, value in arrays.items() if name.startswith("tensor/")}
    return tensors, metadata


def _init_kwargs(metadata: dict) -> dict:
    params = _from_json(metadata["init_params"])
    return {**params.get("non_kwargs", {}), **params.get("kwargs", {}).get("model_kwargs", {})}


def _restore_history(model, metadata: dict) -> None:
    import pandas as pd

    model.history_ = {name: pd.DataFrame({name: values}, index=pd.RangeIndex(len(values), name="epoch"))
                      for name, values in metadata.get("history", {}).items()}
    model.is_trained_ = metadata.get("is_trained", True)
    model.training_was_stopped = metadata.get("training_was_stopped", False)


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

        Raises
        ------
        ValueError
            When the file is not a FADVI model or ``adata``'s genes differ from the model's.
        """
        from ._device import resolve_device

        tensors, metadata = read_model(model_path(dir_path, prefix))
        registry = _from_json(metadata["registry"])
        data_path = Path(dir_path) / f"{prefix or ''}{DATA_FILE}"
        if adata is None and data_path.exists():
            adata = read_h5ad(data_path)
        if adata is not None:
            genes = registry["field_registries"]["X"]["state_registry"]["column_names"]
            check_genes_match(genes, adata.var_names)
            cls.setup_anndata(adata, source_registry=registry, allow_missing_labels=True,
                              **registry["setup_args"])
        model = cls(adata, registry=None if adata is not None else registry,
                    **_init_kwargs(metadata))
        try:
            model.module.load_state_dict(tensors)
        except RuntimeError as error:
            raise ModelFileError(f"The model file does not fit this model: {error}") from None
        model.module.to(resolve_device(accelerator, device)).eval()
        _restore_history(model, metadata)
        return model

    @classmethod
    def load_query_data(cls, adata: AnnData, reference_model, *, unfrozen: bool = False):
        """A model for new cells (new batches allowed, same genes) built on a trained one.

        ``reference_model`` is a trained `FADVI` or the directory it was saved to. The returned
        model carries the reference's weights, with new batch-specific weights added. Train it
        briefly on the query (``model.train(max_epochs=...)``); unless ``unfrozen``, only
        batch-specific weights move, so z_l, the label head and hence the predictions for the
        reference classes stay those of the reference model. Labels missing from ``adata`` are
        treated as unlabelled.
        """
        from ._query import map_query

        if isinstance(reference_model, (str, os.PathLike)):
            reference_model = cls.load(reference_model, adata=None)
        return map_query(cls, adata, reference_model, unfrozen=unfrozen)
