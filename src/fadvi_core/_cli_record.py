"""What the command line writes into ``uns["fadvi"]``: settings, seed and versions.

The same record as the desktop app's Save As (``settings`` with ``setup``, ``model`` and
``training``, then ``seed`` and ``versions``), in values an ``.h5ad`` file can hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

#: Packages whose versions a result depends on (as the app records them).
VERSIONED = ("fadvi-desktop", "scvi-tools", "torch", "anndata", "scanpy", "numpy", "pandas", "captum")
#: Setup arguments of ``FADVI.setup_anndata`` kept in the record.
SETUP_KEYS = ("layer", "batch_key", "labels_key", "unlabeled_category",
              "categorical_covariate_keys", "continuous_covariate_keys")


def package_versions() -> dict[str, str]:
    """Return the installed version of each package in `VERSIONED` (missing ones left out)."""
    out = {}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def run_record(model, *, command: str, seed: int | None, inputs: Mapping[str, str],
               options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return ``uns["fadvi"]`` for a command-line run with ``model``.

    Parameters
    ----------
    model
        The trained ``FADVI`` model the predictions come from.
    command
        ``"predict"`` or ``"map"``.
    seed
        The random seed in effect (``scvi.settings.seed``).
    inputs
        The files used, e.g. ``{"model": ..., "data": ...}``.
    options
        The command's own options (accelerator, epochs of a mapping, ...).

    Returns
    -------
    dict
        ``{"settings": {"setup", "model", "training", "command", "inputs", "options"},
        "seed", "versions"}``, with only strings, numbers, booleans, lists and dicts.
    """
    setup_args = (getattr(model, "registry_", None) or {}).get("setup_args", {})
    params = (getattr(model, "init_params_", None) or {}).get("non_kwargs", {})
    reason = getattr(model, "stop_reason_", None)
    training = {"epochs": int(reason.epochs) if reason is not None else None,
                "stop_reason": str(reason) if reason is not None else None,
                "stopped_early_by_user": bool(getattr(model, "training_was_stopped", False))}
    settings = {"setup": {key: setup_args.get(key) for key in SETUP_KEYS},
                "model": dict(params), "training": training, "command": command,
                "inputs": dict(inputs), "options": dict(options or {})}
    return plain({"settings": settings, "seed": seed, "versions": package_versions()})


def plain(value: Any) -> Any:
    """Return ``value`` as ``write_h5ad`` stores it: dicts, lists, strings and numbers; None dropped.

    The app's Save As writes its record through this too (``fadvi_gui.model.results_io``).
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "biuf" else value.astype(str)
    if isinstance(value, (list, tuple, set)):
        items = [plain(v) for v in value if v is not None]
        if items and all(isinstance(v, (bool, int, float, np.number)) for v in items):
            return np.asarray(items)
        return np.asarray([str(v) for v in items], dtype=object)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
