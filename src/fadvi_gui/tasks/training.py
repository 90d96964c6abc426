"""Worker functions for training: the training copy of the data, the model, its latent spaces."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

import fadvi_core
from fadvi_core import FADVI
from fadvi_gui.model.choices import DataChoices, TrainingSettings, unlabeled_category_for
from fadvi_gui.model.keys import LATENT_KEYS
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_core import TrainingDefaults, TrainingProgress
    from fadvi_gui.tasks._control import Control


def prepare_training_data(adata: AnnData, choices: DataChoices) -> AnnData:
    """Return the registered training copy of ``adata`` for ``choices``; ``adata`` is unchanged.

    The app's choices, spelled as :func:`fadvi_core.prepare_training_data` arguments, so a
    notebook that calls that function with the saved ``uns["fadvi"]["settings"]["setup"]``
    trains on the same data.

    Returns
    -------
    AnnData
        ``(n_cells, n_selected_genes)``, set up with ``FADVI.setup_anndata``.
    """
    return fadvi_core.prepare_training_data(
        adata,
        layer=choices.layer,
        batch_key=choices.batch_key,
        labels_key=choices.labels_key,
        unlabeled_category=unlabeled_category_for(choices),
        categorical_covariate_keys=choices.categorical_covariate_keys,
        continuous_covariate_keys=choices.continuous_covariate_keys,
        n_top_genes=choices.n_top_genes,
        hvg_batch_key=choices.batch_key if choices.hvg_batch_aware else None,
    )


def has_labelled_cells(adata: AnnData, choices: DataChoices) -> bool:
    """True when ``choices`` name a labels column and some cells carry a real label in it."""
    if choices.labels_key is None or choices.labels_key not in adata.obs:
        return False
    labels = adata.obs[choices.labels_key].astype(str)
    return bool((labels != unlabeled_category_for(choices)).any())


def stopping_monitor(adata: AnnData, choices: DataChoices,
                     settings: TrainingSettings) -> tuple[str, str]:
    """Return the metric early stopping follows and whether it should rise or fall.

    The validation label accuracy (``"max"``) when there are labelled and validation cells;
    the validation loss without labels; the training loss without validation cells.
    """
    if settings.train_size >= 1.0:
        return "elbo_train", "min"
    if has_labelled_cells(adata, choices):
        return "label_accuracy_validation", "max"
    return "elbo_validation", "min"


def plan_training(control: Control | None, adata: AnnData, choices: DataChoices,
                  settings: TrainingSettings) -> TrainingDefaults:
    """Return the options :func:`train_model` passes to ``FADVI.train``, and their expected time.

    Times a few real training steps of a same-sized module (about a second, then cached per
    size and device), so call it from a worker.

    Returns
    -------
    fadvi_core.TrainingDefaults
        ``max_epochs`` the settings' fixed count, or the cap that fits ``time_budget_s``
        (which is then passed on; ``None`` for a fixed count); early stopping as chosen, on
        :func:`stopping_monitor`; ``seconds_per_epoch`` measured on this machine.
    """
    import torch

    reserve_core_for_ui()
    n_genes = adata.n_vars if not choices.n_top_genes else min(choices.n_top_genes, adata.n_vars)
    kwargs = settings.model_kwargs
    device = {"auto": "cuda" if torch.cuda.is_available() else "cpu", "gpu": "cuda"}.get(
        settings.device, settings.device)
    defaults = fadvi_core.training_defaults(
        adata.n_obs, n_genes, time_budget_s=settings.time_budget_s,
        batch_size=settings.batch_size, n_hidden=int(kwargs.get("n_hidden", 128)),
        n_layers=int(kwargs.get("n_layers", 2)), device=device)
    monitor, mode = stopping_monitor(adata, choices, settings)
    changes = {"early_stopping": settings.early_stopping, "early_stopping_monitor": monitor,
               "early_stopping_mode": mode}
    if settings.max_epochs is not None:
        epochs = settings.max_epochs
        changes |= {"max_epochs": epochs, "time_budget_s": None, "note": "",
                    "max_seconds": epochs * defaults.seconds_per_epoch}
    return dataclasses.replace(defaults, **changes)


def train_model(
    control: Control, adata: AnnData, choices: DataChoices, settings: TrainingSettings
) -> FADVI:
    """Build and train a FADVI model, reporting every step through ``control``.

    Returns
    -------
    FADVI
        Trained, or trained-so-far when a stop was requested (then
        ``model.training_was_stopped`` is True); usable either way.
    """
    import scvi

    plan = plan_training(control, adata, choices, settings)
    train_adata = prepare_training_data(adata, choices)
    scvi.settings.seed = settings.seed
    model = FADVI(train_adata, **settings.model_kwargs)

    def on_progress(progress: TrainingProgress) -> None:
        last = progress.epoch_end and progress.epoch + 1 >= progress.max_epochs
        control.report(progress, force=progress.epoch_end or progress.step == 1 or last)

    model.train(
        **plan.train_kwargs(),
        accelerator=settings.device,
        train_size=settings.train_size,
        progress_callback=on_progress,
        should_stop=control.should_stop,
    )
    return model


def compute_latents(control: Control, model: FADVI) -> dict[str, np.ndarray]:
    """Return the three latent spaces keyed by their ``obsm`` name.

    Returns
    -------
    dict of str to ndarray
        ``X_fadvi_l`` ``(n_cells, n_latent_l)``, ``X_fadvi_b`` ``(n_cells, n_latent_b)``
        and ``X_fadvi_r`` ``(n_cells, n_latent_r)``.
    """
    reserve_core_for_ui()
    out = {}
    for key, representation in LATENT_KEYS.items():
        out[key] = np.asarray(
            model.get_latent_representation(
                representation=representation, should_stop=control.should_stop
            )
        )
    return out


__all__ = ["compute_latents", "has_labelled_cells", "plan_training", "prepare_training_data",
           "stopping_monitor", "train_model"]
