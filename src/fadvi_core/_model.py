"""FADVI: the user-facing model (setup, training, latent spaces, predictions)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from scvi import REGISTRY_KEYS, settings
from scvi.data import AnnDataManager
from scvi.data.fields import (CategoricalJointObsField, CategoricalObsField, LabelsWithUnlabeledObsField,
                              LayerField, NumericalJointObsField, NumericalObsField)
from scvi.model._utils import _init_library_size, get_max_epochs_heuristic
from scvi.model.base import BaseModelClass

from . import _baselines, _calibration, _expression, _interpretability, _io
from ._checks import check_genes_match, validate_input
from ._data import CellData, iterate_chunks
from ._device import fabric_arguments
from ._module import FADVAE
from ._stopping import EarlyStopping, StopReason
from ._training import FitOptions, PlanSettings, fit, history_frames, split_indices
from ._trust import TrustMixin


REPRESENTATIONS = {"full": "full", "b": "b", "batch": "b", "l": "l", "label": "l", "r": "r",
                   "residual": "r", "lr": "lr", "label_residual": "lr"}
PREDICTION_MODES = {"b": "b", "batch": "b", "l": "l", "label": "l"}
_IGNORED_TRAINER_KWARGS = {"enable_progress_bar", "log_every_n_steps", "enable_checkpointing",
                           "logger", "enable_model_summary", "simple_progress_bar"}


def _precision(precision: str | int) -> str:
    """Lightning's name for ``precision``; short forms such as 32 or "bf16" are accepted."""
    aliases = {"32": "32-true", "bf16": "bf16-mixed", "16": "16-mixed", "64": "64-true"}
    name = aliases.get(str(precision), str(precision))
    known = ("32-true", "bf16-mixed", "16-mixed", "bf16-true", "64-true")
    if name not in known:
        raise ValueError(f"precision={precision!r} is not supported; use one of {list(known)}.")
    return name


def _validation_interval(check_val_every_n_epoch: int | None, early_stopping: bool) -> int | None:
    """Epochs between validation passes, None for none: scvi-tools validates by default only
    when early stopping needs it."""
    if check_val_every_n_epoch is not None:
        return check_val_every_n_epoch
    return 1 if early_stopping else None


def _choice(name: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"{name}={value!r} is not supported; use one of {list(options)}.")


class FADVI(_io.SaveLoadMixin, TrustMixin, BaseModelClass):
    """Factor Disentanglement Variational Inference.

    Batch (``z_b``), label (``z_l``) and residual (``z_r``) latent spaces, kept apart by
    supervised heads, adversarial heads behind gradient reversal and a cross-covariance penalty.

    Parameters
    ----------
    adata
        AnnData registered with `FADVI.setup_anndata`.
    registry
        Registry of a saved model, to build the model without data.
    n_hidden, n_latent_b, n_latent_l, n_latent_r, n_layers, dropout_rate
        Network sizes.
    dispersion
        ``"gene"``, ``"gene-batch"``, ``"gene-label"`` or ``"gene-cell"``.
    gene_likelihood
        ``"zinb"``, ``"nb"`` or ``"poisson"``.
    use_observed_lib_size
        Use the observed library size as the scaling factor, else learn it.
    beta, lambda_b, lambda_l, alpha_bl, alpha_lb, alpha_rb, alpha_rl, gamma
        Weights of the KL, supervised, adversarial and cross-covariance terms.
    **model_kwargs
        Passed to `FADVAE` (e.g. ``log_variational``).
    """

    _module_cls = FADVAE

    def __init__(
        self,
        adata: AnnData | None = None,
        registry: dict | None = None,
        n_hidden: int = 128,
        n_latent_b: int = 30,
        n_latent_l: int = 30,
        n_latent_r: int = 10,
        n_layers: int = 2,
        dropout_rate: float = 0.1,
        dispersion: Literal["gene", "gene-batch", "gene-label", "gene-cell"] = "gene",
        gene_likelihood: Literal["zinb", "nb", "poisson"] = "zinb",
        use_observed_lib_size: bool = True,
        beta: float = 1.0,
        lambda_b: float = 50,
        lambda_l: float = 50,
        alpha_bl: float = 1.0,
        alpha_lb: float = 1.0,
        alpha_rb: float = 1.0,
        alpha_rl: float = 1.0,
        gamma: float = 1.0,
        **model_kwargs,
    ):
        _choice("dispersion", dispersion, ("gene", "gene-batch", "gene-label", "gene-cell"))
        _choice("gene_likelihood", gene_likelihood, ("zinb", "nb", "poisson"))
        if min(n_hidden, n_latent_b, n_latent_l, n_latent_r, n_layers) < 1:
            raise ValueError("n_hidden, n_latent_* and n_layers must all be at least 1.")
        super().__init__(adata, registry)
        stats = self.summary_stats
        fields = self.registry_["field_registries"]
        labels_state = fields[REGISTRY_KEYS.LABELS_KEY]["state_registry"]
        self.unlabeled_category_ = labels_state.get("unlabeled_category")
        codes = [str(name) for name in labels_state["categorical_mapping"]]
        self.label_classes = [name for name in codes if name != self.unlabeled_category_]
        code_to_class = [self.label_classes.index(n) if n in self.label_classes else -1
                         for n in codes]
        self.batch_categories = [str(name) for name in
                                 fields[REGISTRY_KEYS.BATCH_KEY]["state_registry"]["categorical_mapping"]]
        cat_state = fields.get(REGISTRY_KEYS.CAT_COVS_KEY, {}).get("state_registry", {})
        use_size_factor_key = self.registry_["setup_args"].get("size_factor_key") is not None
        library_log_means = library_log_vars = None
        if not use_observed_lib_size and not use_size_factor_key and adata is not None:
            library_log_means, library_log_vars = _init_library_size(self.adata_manager,
                                                                     stats.n_batch)
        self.module = FADVAE(
            n_input=stats.n_vars, n_batch=stats.n_batch, n_labels=len(codes),
            label_code_to_class=code_to_class,
            n_continuous_cov=stats.get("n_extra_continuous_covs", 0),
            n_cats_per_cov=list(cat_state.get("n_cats_per_key", [])),
            n_hidden=n_hidden, n_latent_b=n_latent_b, n_latent_l=n_latent_l,
            n_latent_r=n_latent_r, n_layers=n_layers, dropout_rate=dropout_rate,
            dispersion=dispersion, gene_likelihood=gene_likelihood,
            use_observed_lib_size=use_observed_lib_size, use_size_factor_key=use_size_factor_key,
            library_log_means=library_log_means, library_log_vars=library_log_vars,
            beta=beta, lambda_b=lambda_b, lambda_l=lambda_l, alpha_bl=alpha_bl,
            alpha_lb=alpha_lb, alpha_rb=alpha_rb, alpha_rl=alpha_rl, gamma=gamma,
            **model_kwargs,
        )
        self.training_was_stopped = False
        self.stop_reason_: StopReason | None = None
        self.init_params_ = self._get_init_params(locals())
        self._model_summary_string = (
            f"FADVI model: {len(self.label_classes)} cell types, {stats.n_batch} batches, "
            f"latent sizes b={n_latent_b} l={n_latent_l} r={n_latent_r}, "
            f"{gene_likelihood} likelihood, {dispersion} dispersion."
        )

    @classmethod
    def setup_anndata(
        cls,
        adata: AnnData,
        layer: str | None = None,
        batch_key: str | None = None,
        labels_key: str | None = None,
        unlabeled_category: str = "Unknown",
        size_factor_key: str | None = None,
        categorical_covariate_keys: list[str] | None = None,
        continuous_covariate_keys: list[str] | None = None,
        **kwargs,
    ) -> None:
        """Register ``adata`` for FADVI after checking it holds usable raw counts.

        Adds ``.uns['_scvi_uuid']``, ``.uns['_scvi_manager_uuid']``, ``.obs['_scvi_batch']`` and
        ``.obs['_scvi_labels']``; the data values are not modified. With ``batch_key`` or
        ``labels_key`` None, every cell gets the same batch or label.

        Raises
        ------
        ValueError
            With a plain-language message when the data is unusable (see `find_input_problems`).
        """
        setup_method_args = cls._get_setup_method_args(**locals())
        extra = list(categorical_covariate_keys or []) + list(continuous_covariate_keys or [])
        if size_factor_key is not None:
            extra.append(size_factor_key)
        # A query mapped onto a saved model may lack labels: they become unlabelled.
        is_query = "source_registry" in kwargs
        validate_input(adata, layer=layer, batch_key=batch_key,
                       labels_key=None if is_query else labels_key,
                       unlabeled_category=unlabeled_category, extra_keys=extra,
                       for_training=not is_query)
        anndata_fields = [
            LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=True),
            CategoricalObsField(REGISTRY_KEYS.BATCH_KEY, batch_key),
            # Without labels every cell shares one label, and none is "unlabelled".
            CategoricalObsField(REGISTRY_KEYS.LABELS_KEY, None) if labels_key is None else
            LabelsWithUnlabeledObsField(REGISTRY_KEYS.LABELS_KEY, labels_key, unlabeled_category),
            NumericalObsField(REGISTRY_KEYS.SIZE_FACTOR_KEY, size_factor_key, required=False),
            CategoricalJointObsField(REGISTRY_KEYS.CAT_COVS_KEY, categorical_covariate_keys),
            NumericalJointObsField(REGISTRY_KEYS.CONT_COVS_KEY, continuous_covariate_keys),
        ]
        adata_manager = AnnDataManager(fields=anndata_fields, setup_method_args=setup_method_args)
        adata_manager.register_fields(adata, **kwargs)
        cls.register_manager(adata_manager)

    # -- data access ------------------------------------------------------------------------

    @property
    def var_names(self) -> pd.Index:
        """Genes the model was trained on, in order."""
        return pd.Index(self.registry_["field_registries"][REGISTRY_KEYS.X_KEY]["state_registry"]
                        ["column_names"])

    def _cell_data(self, adata: AnnData | None, indices=None) -> tuple[AnnData, CellData]:
        if adata is not None:
            check_genes_match(self.var_names, adata.var_names)
        adata = self._validate_anndata(adata)
        data = CellData(self.get_anndata_manager(adata, required=True))
        if indices is not None:
            data = data.subset(np.asarray(indices))
        return adata, data

    @property
    def _device(self) -> torch.device:
        return next(self.module.parameters()).device

    # -- training ---------------------------------------------------------------------------

    def train(
        self,
        max_epochs: int | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        train_size: float | None = None,
        validation_size: float | None = None,
        shuffle_set_split: bool = True,
        batch_size: int = 128,
        early_stopping: bool = False,
        check_val_every_n_epoch: int | None = None,
        plan_kwargs: dict | None = None,
        datasplitter_kwargs: dict | None = None,
        progress_callback=None,
        should_stop=None,
        *,
        strategy: str = "auto",
        precision: str | int = "32-true",
        threads: int | None = None,
        time_budget_s: float | None = None,
        **trainer_kwargs,
    ) -> None:
        """Train the model; fills `history` and `stop_reason_`, leaves the model in evaluation mode.

        Parameters
        ----------
        max_epochs
            Passes through the data; by default scvi-tools' heuristic
            ``min(round(20000 / n_cells * 400), 400)``. `fadvi_core.training_defaults` gives a
            cap that fits a time budget instead.
        accelerator, devices, strategy
            As in scvi-tools: ``accelerator`` ``"auto"``, ``"cpu"``, ``"gpu"``/``"cuda"`` or
            ``"mps"``; ``devices`` ``"auto"`` (one device), a count or a list of indices;
            ``strategy`` ``"auto"`` or e.g. ``"ddp"``. Several devices, or ``"ddp"``, train in
            one process per device through Lightning Fabric (on CPUs with gloo); each rank ends
            with the same weights. ``"ddp"`` re-runs the calling script in the other ranks, so
            guard side effects (saving, printing) with ``model.global_rank_ == 0``.
        train_size, validation_size
            Fractions of cells to train on (default 0.9) and to validate on (default the rest).
        check_val_every_n_epoch
            Epochs between validation passes. By default, as in scvi-tools, every epoch with
            early stopping and none without it (the history then logs training metrics only).
        batch_size
            Cells per minibatch (per device).
        early_stopping
            Stop when ``early_stopping_monitor`` (default ``"elbo_validation"``; e.g.
            ``"label_accuracy_validation"``) stops improving for ``early_stopping_patience``
            epochs (default 45) by ``early_stopping_min_delta``; ``early_stopping_mode``
            ``"min"``/``"max"`` (default: maximise accuracies, minimise losses).
        plan_kwargs
            ``lr``, ``weight_decay``, ``eps``, ``n_epochs_kl_warmup``, ``n_steps_kl_warmup``.
        progress_callback
            Called with a `TrainingProgress` after every training step (on rank 0).
        should_stop
            Checked after every step; when it returns True training ends there without a
            validation pass, the model stays usable and ``training_was_stopped`` is True.
        precision
            Lightning precision: ``"32-true"`` (default) or ``"bf16-mixed"`` (bfloat16 matrix
            products; for GPUs and CPUs with bfloat16 support), ``"16-mixed"`` on GPUs.
        threads
            Torch threads on a CPU; default torch's current count. Either is lowered to the
            usable cores (``os.sched_getaffinity``), shared among DDP ranks.
        time_budget_s
            Stop before an epoch that would end after this many seconds of training.
        """
        stopping_options = {k: trainer_kwargs.pop(f"early_stopping_{k}") for k in
                            ("monitor", "patience", "min_delta", "mode")
                            if f"early_stopping_{k}" in trainer_kwargs}
        unknown = set(trainer_kwargs) - _IGNORED_TRAINER_KWARGS
        if unknown:
            raise TypeError(f"train() got unsupported options {sorted(unknown)}.")
        if batch_size < 2:
            raise ValueError("batch_size must be at least 2 (batch norm needs two cells).")
        if max_epochs is not None and max_epochs < 1:
            raise ValueError(f"max_epochs must be at least 1, got {max_epochs}.")
        if check_val_every_n_epoch is not None and (
                not isinstance(check_val_every_n_epoch, int) or check_val_every_n_epoch < 1):
            raise ValueError("check_val_every_n_epoch must be a whole number of epochs, at least "
                             f"1, got {check_val_every_n_epoch!r}.")
        plan = PlanSettings.from_kwargs(plan_kwargs)
        n_obs = self.adata.n_obs
        max_epochs = max_epochs or get_max_epochs_heuristic(n_obs)
        seed = int(settings.seed or 0)
        train_indices, validation_indices = split_indices(
            n_obs, 0.9 if train_size is None else train_size, validation_size, seed,
            shuffle=shuffle_set_split)
        if early_stopping and len(validation_indices) == 0:
            stopping_options.setdefault("monitor", "elbo_train")
        stopper = EarlyStopping(**stopping_options) if early_stopping else None
        from lightning.fabric import Fabric  # imports torch._dynamo: only when training

        fabric = Fabric(**fabric_arguments(accelerator, devices, strategy),
                        precision=_precision(precision))
        data = CellData(self.adata_manager)
        options = FitOptions(max_epochs=max_epochs, batch_size=batch_size, plan=plan, seed=seed,
                             early_stopping=stopper, time_budget_s=time_budget_s,
                             threads=threads,
                             validate_every=_validation_interval(check_val_every_n_epoch,
                                                                 early_stopping))
        label_codes = np.asarray(self.adata_manager.get_from_registry(REGISTRY_KEYS.LABELS_KEY))
        self.module.balance_labels(label_codes.reshape(-1)[train_indices])
        result = fabric.launch(fit, self.module, data.subset(train_indices),
                               data.subset(validation_indices), options,
                               progress_callback, should_stop)
        if result.state is not None:  # ranks in other processes trained copies of the module
            self.module.load_state_dict(result.state)
        self.module.eval()
        self.history_ = history_frames(result.history)
        self.stop_reason_ = result.stop
        self.global_rank_ = result.rank
        self.train_indices_, self.validation_indices_ = train_indices, validation_indices
        self.test_indices_ = np.setdiff1d(np.arange(n_obs),
                                          np.concatenate([train_indices, validation_indices]))
        self.training_was_stopped = result.stop.kind == "user"
        self.is_trained_ = True
        self._fit_calibration()  # temperature, conformal scores, novelty statistics

    # -- outputs ----------------------------------------------------------------------------

    @torch.no_grad()
    def get_latent_representation(
        self,
        adata: AnnData | None = None,
        indices: list[int] | None = None,
        give_mean: bool = True,
        mc_samples: int = 5000,
        batch_size: int | None = None,
        return_dist: bool = False,
        representation: Literal["full", "b", "batch", "l", "label", "r", "residual", "lr",
                                "label_residual"] = "label",
        progress_callback=None,
        should_stop=None,
    ) -> dict[str, np.ndarray] | np.ndarray:
        """Latent coordinates of each cell.

        Returns
        -------
        ``(n_cells, n_latent)`` array, where ``n_latent`` is ``n_latent_b`` (``"b"``),
        ``n_latent_l`` (``"l"``), ``n_latent_r`` (``"r"``), ``n_latent_l + n_latent_r``
        (``"lr"``) or their sum (``"full"``, ordered b, l, r). With ``return_dist``, a dict with
        ``"mean"`` and ``"var"`` arrays of that shape and ``"dist"``, one sample per cell.
        """
        _choice("representation", representation, REPRESENTATIONS)
        parts = {"full": "blr", "lr": "lr"}.get(REPRESENTATIONS[representation],
                                               REPRESENTATIONS[representation])
        _, data = self._cell_data(adata, indices)
        self.module.eval()
        means, variances, samples = [], [], []
        for tensors in iterate_chunks(data, batch_size or settings.batch_size, self._device,
                                      progress_callback, should_stop):
            params = self.module.encoder(self.module.encoder_input(tensors[REGISTRY_KEYS.X_KEY]))
            chosen = [params["blr".index(p)] for p in parts]
            loc = torch.cat([p[0] for p in chosen], dim=1)
            scale = torch.cat([p[1] for p in chosen], dim=1)
            means.append(loc.cpu())
            variances.append(scale.pow(2).cpu())
            samples.append(torch.distributions.Normal(loc, scale).sample().cpu())
        mean, var, sample = (torch.cat(t).numpy() for t in (means, variances, samples))
        if return_dist:
            return {"mean": mean, "var": var, "dist": sample}
        return mean if give_mean else sample

    def predict(
        self,
        adata: AnnData | None = None,
        indices: list[int] | None = None,
        prediction_mode: Literal["b", "batch", "l", "label"] = "label",
        soft: bool = False,
        batch_size: int | None = None,
        return_numpy: bool = True,
        interpretability: Literal["ig", "gs"] | None = None,
        interpretability_args: dict | None = None,
        return_dict: bool = True,
        progress_callback=None,
        should_stop=None,
    ):
        """Predict each cell's label (from z_l) or batch (from z_b).

        ``interpretability_args`` go to the attribution method; their ``baselines`` may be
        ``"other_classes"`` (default for ``"ig"``: the mean profile of the other classes, so
        the genes shown are what sets the class apart), ``"runner_up"``, ``"zero"`` (default for
        ``"gs"``), a number or a counts array (see `fadvi_core._baselines`).

        Returns
        -------
        Hard: ``(n_cells,)`` array of category names. Soft: DataFrame ``(n_cells, n_classes)``
        of probabilities summing to 1 (for labels, calibrated: the logits are divided by the
        temperature `temperature_` fitted on held-out labelled cells after training),
        indexed by ``obs_names``, one column per class (a torch
        tensor when ``return_numpy`` is False). With ``interpretability``, also the
        ``(n_cells, n_genes)`` attributions: a dict ``{"predictions", "attributions"}``, or a
        tuple when ``return_dict`` is False.
        """
        _choice("prediction_mode", prediction_mode, PREDICTION_MODES)
        if interpretability is not None:
            _choice("interpretability", interpretability, ("ig", "gs"))
        space = PREDICTION_MODES[prediction_mode]
        if interpretability is not None:  # named baselines (default: other classes' profiles)
            interpretability_args = _baselines.resolve(self, space, interpretability,
                                                       interpretability_args)
        adata, data = self._cell_data(adata, indices)
        classes = self.label_classes if space == "l" else self.batch_categories
        probabilities, attributions = _interpretability.predict_and_attribute(
            self.module, data, space, batch_size or settings.batch_size, self._device,
            method=interpretability, method_args=interpretability_args,
            progress_callback=progress_callback, should_stop=should_stop)
        obs_names = adata.obs_names[data.indices]
        if space == "l":
            probabilities = _calibration.rescale(probabilities, self.temperature_)
        if soft:
            predictions = (pd.DataFrame(probabilities, index=obs_names, columns=classes)
                           if return_numpy else torch.as_tensor(probabilities))
        else:
            predictions = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
        if interpretability is None:
            return predictions
        if return_dict:
            return {"predictions": predictions, "attributions": attributions}
        return predictions, attributions

    def get_ranked_features(self, adata: AnnData | None = None,
                            attributions: np.ndarray | None = None,
                            top_n: int | None = None) -> pd.DataFrame:
        """Genes ranked by mean absolute attribution over all cells.

        Returns
        -------
        DataFrame with columns ``feature``, ``feature_idx``, ``attribution_mean``,
        ``attribution_std``, ``attribution_abs_mean``, ``n_cells``, most important first.
        """
        genes = self.var_names if adata is None else adata.var_names
        return _interpretability.rank_features(attributions, genes, top_n)

    def get_ranked_features_by_label(self, attributions: np.ndarray, predictions,
                                     adata: AnnData | None = None,
                                     top_n: int | None = None) -> pd.DataFrame:
        """For each predicted label, the genes that drive it (mean attribution over its cells).

        Returns
        -------
        Tidy DataFrame with columns ``label``, ``gene``, ``score``, ``rank`` (1 = strongest),
        ``attribution_std``, ``attribution_abs_mean`` and ``n_cells``.
        """
        genes = self.var_names if adata is None else adata.var_names
        return _interpretability.rank_features_by_label(attributions, predictions, genes, top_n)

    def get_normalized_expression(self, adata: AnnData | None = None, indices=None,
                                  transform_batch: str | int | None = None,
                                  gene_list: list[str] | None = None,
                                  library_size: float | Literal["latent"] = 1,
                                  n_samples: int = 1, n_samples_overall: int | None = None,
                                  batch_size: int | None = None, return_mean: bool = True,
                                  return_numpy: bool | None = None):
        """Decoded expression; see `fadvi_core._expression.normalized_expression`."""
        adata, data = self._cell_data(adata, indices)
        return _expression.normalized_expression(
            self, adata, data, transform_batch=transform_batch, gene_list=gene_list,
            library_size=library_size, n_samples=n_samples, n_samples_overall=n_samples_overall,
            batch_size=batch_size or settings.batch_size, return_mean=return_mean,
            return_numpy=return_numpy)
