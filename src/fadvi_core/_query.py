"""Reference mapping: extend a trained model to new batches of cells."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import torch
from anndata import AnnData

from ._checks import check_genes_match

# Parameters that depend on the number of batches; with new batches they grow along one axis.
_BATCH_HEADS = ("batch_head.", "adversaries.adv_batch_from_l.", "adversaries.adv_batch_from_r.")


def _categories(registry: dict, key: str) -> list[str]:
    state = registry["field_registries"][key]["state_registry"]
    return [str(name) for name in state.get("categorical_mapping", [])]


def check_no_new_batches(adata: AnnData, registry: dict, model_dir=None) -> None:
    """Raise ``ValueError`` saying how to map them when ``adata`` holds batches the model lacks."""
    batch_key = registry["setup_args"].get("batch_key")
    if batch_key is None:
        return
    if batch_key not in adata.obs:
        raise ValueError(
            f"The data has no batch column '{batch_key}', which the model was trained with. "
            f"Add it (adata.obs['{batch_key}'] = ...), using the model's batch names for cells "
            "from those batches.")
    known = set(_categories(registry, "batch"))
    new = sorted(set(adata.obs[batch_key].dropna().astype(str)) - known)
    if not new:
        return
    where = f"'{model_dir}'" if model_dir is not None else "reference_model"
    shown = ", ".join(new[:5]) + (" ..." if len(new) > 5 else "")
    raise ValueError(
        f"The data has {len(new)} batch{'es' if len(new) > 1 else ''} the model was not trained "
        f"on ({shown}). Map new batches onto the model first: "
        f"model = FADVI.load_query_data(adata, {where}); model.train(max_epochs=20), "
        "or on the command line: fadvi map MODEL_DIR DATA.h5ad --out ANNOTATED.h5ad.")


@contextmanager
def known_labels_only(adata: AnnData, registry: dict) -> Iterator[None]:
    """While registering, show labels the model does not know (and missing ones) as unlabelled.

    The column is put back afterwards, so ``adata`` keeps its own labels.
    """
    setup_args = registry["setup_args"]
    key, unlabeled = setup_args.get("labels_key"), setup_args.get("unlabeled_category")
    if key is None or key not in adata.obs or unlabeled is None:
        yield
        return
    original = adata.obs[key]
    as_text = original.astype(str)
    known = as_text.isin(_categories(registry, "labels")) & original.notna().to_numpy()
    if known.all() and not pd.api.types.is_numeric_dtype(original):
        yield
        return
    adata.obs[key] = pd.Categorical(as_text.where(known, str(unlabeled)))
    try:
        yield
    finally:
        adata.obs[key] = original


def _copy_overlap(target: torch.Tensor, source: torch.Tensor) -> None:
    region = tuple(slice(0, min(a, b)) for a, b in zip(target.shape, source.shape))
    target[region] = source[region]


def _freeze_all_but_new_batches(module, reference_state: dict) -> None:
    """Leave trainable only what concerns batches: batch heads and new-batch columns."""
    for name, parameter in module.named_parameters():
        trainable = name.startswith(_BATCH_HEADS)
        old_shape = reference_state[name].shape
        grows = parameter.shape != old_shape
        if grows and not trainable:
            mask = torch.ones_like(parameter)
            mask[tuple(slice(0, n) for n in old_shape)] = 0
            parameter.register_hook(lambda grad, mask=mask: grad * mask)
            trainable = True
        parameter.requires_grad_(trainable)
    module.frozen_modules = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)]


def map_query(cls, adata: AnnData, reference, *, unfrozen: bool = False):
    """Register ``adata`` against ``reference``'s registry and return a model ready to train."""
    if not reference.is_trained_:
        raise ValueError("The reference model is not trained; train it before mapping data.")
    check_genes_match(reference.var_names, adata.var_names)
    registry = reference.registry_
    # New batches extend the model; new labels are treated as unlabelled, not new classes.
    with known_labels_only(adata, registry):
        cls.setup_anndata(adata, source_registry=registry, extend_categories=True,
                          allow_missing_labels=True, **registry["setup_args"])
    params = reference.init_params_
    model = cls(adata, **params.get("non_kwargs", {}),
                **params.get("kwargs", {}).get("model_kwargs", {}))
    reference_state = reference.module.state_dict()
    with torch.no_grad():
        for name, value in model.module.state_dict().items():
            _copy_overlap(value, reference_state[name].to(value.device))
    if not unfrozen:
        _freeze_all_but_new_batches(model.module, reference_state)
    model.module.eval()
    model.is_trained_ = True
    return model
