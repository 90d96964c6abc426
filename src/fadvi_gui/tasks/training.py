"""Worker functions for training: the training copy of the data, the model, its latent spaces."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import fadvi_core
from fadvi_core import FADVI
from fadvi_gui.model.choices import DataChoices, TrainingSettings, unlabeled_category_for
from fadvi_gui.model.keys import LATENT_KEYS
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_core import TrainingProgress
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

    reserve_core_for_ui()
    train_adata = prepare_training_data(adata, choices)
    scvi.settings.seed = settings.seed
    model = FADVI(train_adata, **settings.model_kwargs)

    def on_progress(progress: TrainingProgress) -> None:
        last = progress.epoch_end and progress.epoch + 1 >= progress.max_epochs
        control.report(progress, force=progress.epoch_end or progress.step == 1 or last)

    model.train(
        max_epochs=settings.max_epochs,
        accelerator=settings.device,
        train_size=settings.train_size,
        batch_size=settings.batch_size,
        early_stopping=settings.early_stopping,
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


__all__ = ["compute_latents", "prepare_training_data", "train_model"]
