"""The schema of a model file's metadata: every value is checked before anything is built.

A model file is untrusted input. Its JSON metadata must have the expected keys and types, sizes
within bounds, and only the settings that `FADVI` and `FADVAE` accept; anything else raises
`ModelFileError` naming the offending entry.
"""

from __future__ import annotations

import inspect
import math
from typing import get_args

import numpy as np

from ._stopping import StopKind

# Generous upper bounds; the stored tensors must match the sizes in any case.
MAX_SIZES = {"n_hidden": 16_384, "n_layers": 64, "n_latent": 4_096}
MAX_GENES = 1_000_000
MAX_CATEGORIES = 100_000
_DTYPES = {"object", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "float16", "float32", "float64"}
# Module arguments that FADVI derives from the data, never from stored settings.
_DERIVED = {"self", "n_input", "n_batch", "n_labels", "label_code_to_class", "n_continuous_cov",
            "n_cats_per_cov", "use_size_factor_key", "library_log_means", "library_log_vars"}


class ModelFileError(ValueError):
    """The file is not a FADVI model this version can read."""


def _fail(where: str, problem: str):
    raise ModelFileError(f"The model file is damaged or was not written by FADVI: {where} "
                         f"{problem}. Save the model again from the original training run.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def array_from_json(value, where: str) -> np.ndarray:
    """An array encoded by the saver as ``{"__ndarray__": [...], "dtype": name}``."""
    dtype, items = value.get("dtype"), value.get("__ndarray__")
    if dtype not in _DTYPES or not isinstance(items, list):
        _fail(where, f"holds an array of unsupported type {str(dtype)[:40]!r}")
    if any(isinstance(item, (dict, list)) for item in items):
        _fail(where, "holds a nested array")
    try:
        return np.asarray(items, dtype=object if dtype == "object" else np.dtype(dtype))
    except (TypeError, ValueError, OverflowError):
        _fail(where, "holds values that do not fit its type")


def _parameters(function) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(function).parameters.items()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def _check_setting(name: str, value, default) -> None:
    where = f"the setting {name}"
    if name.startswith("n_"):
        bound = MAX_SIZES.get(name, MAX_SIZES["n_latent"])
        if not _is_int(value) or not 1 <= value <= bound:
            _fail(where, f"must be a whole number from 1 to {bound}, not {str(value)[:40]}")
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            _fail(where, "must be true or false")
    elif isinstance(default, (int, float)):
        if not _is_number(value) or value < 0 or value > 1e6:
            _fail(where, f"must be a number from 0 to 1e6, not {str(value)[:40]}")
        if name == "dropout_rate" and value >= 1:
            _fail(where, "must be below 1")
    elif isinstance(default, str):
        if not isinstance(value, str) or len(value) > 64:
            _fail(where, "must be a short text")
    elif value is not None and not isinstance(value, (bool, int, float, str)):
        _fail(where, "must be a single value")


def init_kwargs(metadata: dict, model_cls, module_cls) -> dict:
    """The validated keyword arguments to build the model with."""
    params = metadata.get("init_params")
    if not isinstance(params, dict):
        _fail("init_params", "is missing")
    top, nested = params.get("non_kwargs", {}), params.get("kwargs", {})
    model_kwargs = nested.get("model_kwargs", {}) if isinstance(nested, dict) else None
    if not isinstance(top, dict) or not isinstance(model_kwargs, dict):
        _fail("init_params", "has the wrong structure")
    allowed_top = {n: p for n, p in _parameters(model_cls.__init__).items()
                   if n not in ("self", "adata", "registry")}
    allowed_module = {n: p for n, p in _parameters(module_cls.__init__).items()
                      if n not in _DERIVED and n not in allowed_top}
    for settings, allowed in ((top, allowed_top), (model_kwargs, allowed_module)):
        for name, value in settings.items():
            if name not in allowed:
                _fail(f"the setting {str(name)[:40]!r}", "is not a setting of this FADVI version")
            _check_setting(name, value, allowed[name].default)
    return {**top, **model_kwargs}


def _mapping(fields: dict, key: str, where: str, *, required: bool = True) -> dict:
    value = fields.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        _fail(where, "is missing")
    return value


def _names(state: dict, key: str, where: str, limit: int) -> np.ndarray:
    value = state.get(key)
    if not isinstance(value, dict):
        _fail(where, "is missing")
    names = array_from_json(value, where)
    if names.ndim != 1 or not 1 <= len(names) <= limit:
        _fail(where, f"must have from 1 to {limit} names")
    return names


def check_registry(registry) -> None:
    """Check the parts of the data registry that sizes and names are taken from."""
    if not isinstance(registry, dict):
        _fail("registry", "is missing")
    setup_args = _mapping(registry, "setup_args", "registry.setup_args")
    for name, value in setup_args.items():
        ok = value is None or isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value))
        if not isinstance(name, str) or not ok:
            _fail(f"registry.setup_args[{str(name)[:40]!r}]", "must be a name or a list of names")
    fields = _mapping(registry, "field_registries", "registry.field_registries")
    x_state = _mapping(_mapping(fields, "X", "the gene registry"), "state_registry",
                       "the gene registry")
    genes = _names(x_state, "column_names", "the gene list", MAX_GENES)
    if x_state.get("n_vars") != len(genes):
        _fail("the gene list", f"has {len(genes)} genes but says n_vars="
                               f"{str(x_state.get('n_vars'))[:20]}")
    for key in ("batch", "labels"):
        field = _mapping(fields, key, f"the {key} registry")
        state = _mapping(field, "state_registry", f"the {key} registry")
        names = _names(state, "categorical_mapping", f"the list of {key} categories",
                       MAX_CATEGORIES)
        stats = _mapping(field, "summary_stats", f"the {key} registry")
        stat = stats.get(f"n_{key}" if key == "labels" else "n_batch")
        if stat != len(names):
            _fail(f"the {key} registry",
                  f"lists {len(names)} categories but counts {str(stat)[:20]}")


def check_history(metadata: dict) -> None:
    """Training history: names mapping to lists of numbers (or null)."""
    history = metadata.get("history", {})
    if not isinstance(history, dict) or not all(
            isinstance(values, list) and all(v is None or _is_number(v) or isinstance(v, float)
                                             for v in values)
            for values in history.values()):
        _fail("the training history", "is not a list of numbers per metric")
    for key in ("is_trained", "training_was_stopped"):
        if not isinstance(metadata.get(key, False), bool):
            _fail(key, "must be true or false")
    reason = metadata.get("stop_reason")
    if reason is not None and not (
            isinstance(reason, dict) and set(reason) == {"kind", "epochs", "detail"}
            and reason["kind"] in get_args(StopKind) and _is_int(reason["epochs"])
            and reason["epochs"] >= 0 and isinstance(reason["detail"], str)):
        _fail("stop_reason", "is not a known reason for the end of training")


def check_calibration(metadata: dict, *, n_classes: int, n_latent_l: int, n_latent_b: int):
    """The stored calibration (temperature, conformal scores, class statistics), or None.

    Files written before calibration existed have none; the model then predicts the raw
    softmax and cannot give prediction sets or novelty scores until trained again.
    """
    from ._calibration import Calibration

    value = metadata.get("calibration")
    if value is None:
        return None
    try:
        return Calibration.from_json(value, n_classes=n_classes, n_latent_l=n_latent_l,
                                     n_latent_b=n_latent_b)
    except ValueError as error:
        _fail("the calibration", str(error))


def check_header(metadata, format_name: str, version: int) -> None:
    """The format name and version, before anything else is read."""
    if not isinstance(metadata, dict) or metadata.get("format") != format_name:
        raise ModelFileError("This is not a FADVI model file. Only files written by FADVI.save "
                             "can be loaded.")
    found = metadata.get("format_version")
    if not _is_int(found) or found < 1:
        _fail("format_version", "must be a whole number")
    if found > version:
        raise ModelFileError("The model file was saved by a newer version of fadvi_core "
                             f"(format {found}, this one reads up to {version}); upgrade it.")


def check_size(kwargs: dict, registry: dict, n_stored: int) -> None:
    """Refuse settings whose network could not have as few weights as the file stores.

    A lower bound on the weights of any FADVI network with these settings (genes in and out
    through a hidden layer, the hidden layers, the latent and classifier heads) is compared with
    the number of stored values, before a module is allocated.
    """
    fields = registry["field_registries"]
    n_vars = len(fields["X"]["state_registry"]["column_names"])
    n_batch = len(fields["batch"]["state_registry"]["categorical_mapping"])
    n_labels = len(fields["labels"]["state_registry"]["categorical_mapping"])
    n_hidden, n_layers = kwargs.get("n_hidden", 128), kwargs.get("n_layers", 2)
    latents = sum(kwargs.get(f"n_latent_{s}", 1) for s in "blr")
    smallest = n_hidden * (2 * n_vars + (n_layers - 1) * n_hidden + latents
                           + n_batch + max(n_labels - 1, 1))
    if smallest > n_stored:
        _fail("the settings", f"describe a network of at least {smallest} weights, but the file "
                              f"stores {n_stored}")
