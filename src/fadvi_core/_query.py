"""Reference mapping: extend a trained model to new batches of cells."""

from __future__ import annotations

import torch
from anndata import AnnData

from ._checks import check_genes_match

# Parameters that depend on the number of batches; with new batches they grow along one axis.
_BATCH_HEADS = ("batch_head.", "adversaries.adv_batch_from_l.", "adversaries.adv_batch_from_r.")


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
