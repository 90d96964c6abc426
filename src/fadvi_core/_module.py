"""FADVAE: the torch module behind FADVI (inference, generative, loss)."""

from __future__ import annotations

import torch
from scvi import REGISTRY_KEYS
from scvi.distributions import NegativeBinomial, Poisson, ZeroInflatedNegativeBinomial
from scvi.module.base import BaseModuleClass, LossOutput, auto_move_data
from torch import nn
from torch.distributions import Normal, kl_divergence
from torch.nn import functional as F

from ._likelihood import NONZERO_KEY, log_likelihood_per_cell
from ._nn import (Classifier, CovariateMLP, TripleEncoder, cross_covariance_penalty, one_hot,
                  reverse_gradient)

SPACES = ("b", "l", "r")
ADVERSARIAL_HEADS = {  # name: (latent space, predicted target)
    "adv_label_from_b": ("b", "label"),
    "adv_batch_from_l": ("l", "batch"),
    "adv_batch_from_r": ("r", "batch"),
    "adv_label_from_r": ("r", "label"),
}

# The cross-covariance penalty is measured within groups of cells ("all": none, "batch",
# "batch_and_type"): covariance between the spaces that comes from cell types being mixed
# differently in different batches is biology, not entanglement. Rare classes weigh more in the
# label terms: (mean class count / class count) ** power. Chosen on the three shared datasets
# (benchmarks/results/transfer_ablation.md).
CROSS_COV_WITHIN = "batch_and_type"
LABEL_BALANCE_POWER = 0.5


class FADVAE(BaseModuleClass):
    """Variational autoencoder with batch, label and residual latent spaces.

    Parameters
    ----------
    n_input
        Number of genes.
    n_batch
        Number of batches.
    n_labels
        Number of label codes in the registry, the unlabelled category included.
    label_code_to_class
        For each label code, its index among the real classes, or -1 for the unlabelled code.
    n_continuous_cov, n_cats_per_cov
        Extra covariates fed to the decoder with the batch.
    library_log_means, library_log_vars
        Per-batch prior of the log library size, shape ``(1, n_batch)``; used only when
        ``use_observed_lib_size`` is False and no size factor is given.
    Other parameters are those of `FADVI`.
    """

    def __init__(
        self,
        n_input: int,
        n_batch: int,
        n_labels: int,
        label_code_to_class: list[int],
        *,
        n_continuous_cov: int = 0,
        n_cats_per_cov: list[int] | None = None,
        n_hidden: int = 128,
        n_latent_b: int = 30,
        n_latent_l: int = 30,
        n_latent_r: int = 10,
        n_layers: int = 2,
        dropout_rate: float = 0.1,
        dispersion: str = "gene",
        gene_likelihood: str = "zinb",
        use_observed_lib_size: bool = True,
        use_size_factor_key: bool = False,
        library_log_means=None,
        library_log_vars=None,
        beta: float = 1.0,
        lambda_b: float = 50,
        lambda_l: float = 50,
        alpha_bl: float = 1.0,
        alpha_lb: float = 1.0,
        alpha_rb: float = 1.0,
        alpha_rl: float = 1.0,
        gamma: float = 1.0,
        log_variational: bool = True,
    ):
        super().__init__()
        self.n_batch, self.n_labels = n_batch, n_labels
        self.n_cats_per_cov = list(n_cats_per_cov or [])
        self.dispersion, self.gene_likelihood = dispersion, gene_likelihood
        self.use_observed_lib_size = use_observed_lib_size or use_size_factor_key
        self.use_size_factor_key = use_size_factor_key
        self.log_variational = log_variational
        self.weights = {
            "kl": beta, "batch_loss": lambda_b, "label_loss": lambda_l,
            "adv_label_from_b": alpha_bl, "adv_batch_from_l": alpha_lb,
            "adv_batch_from_r": alpha_rb, "adv_label_from_r": alpha_rl, "cross_cov": gamma,
        }
        # Where batches differ in cell-type mix, batch and type are confounded: the penalty
        # compares cells within their batch and type, and the label terms weight rare classes
        # up (benchmarks/results/transfer_ablation.md).
        self.cross_cov_within = CROSS_COV_WITHIN
        self.label_balance_power = LABEL_BALANCE_POWER
        self.register_buffer("label_code_to_class", torch.tensor(label_code_to_class))
        n_classes = int((self.label_code_to_class >= 0).sum())
        self.n_classes = n_classes
        # Set from the training cells by `balance_labels`; not saved (training only).
        self.register_buffer("label_class_weights", torch.ones(n_classes), persistent=False)
        latents = (n_latent_b, n_latent_l, n_latent_r)

        self.encoder = TripleEncoder(n_input, latents, n_hidden, n_layers, dropout_rate)
        if not self.use_observed_lib_size:
            self.library_encoder = CovariateMLP(n_input, 0, n_hidden, 1, dropout_rate)
            self.library_mean = nn.Linear(n_hidden, 1)
            self.library_log_var = nn.Linear(n_hidden, 1)
            means = torch.zeros(1, n_batch) if library_log_means is None else torch.as_tensor(
                library_log_means, dtype=torch.float32)
            variances = torch.ones(1, n_batch) if library_log_vars is None else torch.as_tensor(
                library_log_vars, dtype=torch.float32)
            self.register_buffer("library_log_means", means.reshape(1, n_batch))
            self.register_buffer("library_log_vars", variances.reshape(1, n_batch))

        n_covariates = n_batch + sum(self.n_cats_per_cov) + n_continuous_cov
        self.decoder = CovariateMLP(sum(latents), n_covariates, n_hidden, n_layers, 0.0)
        self.scale_head = nn.Linear(n_hidden, n_input)
        self.dropout_head = nn.Linear(n_hidden, n_input)
        if dispersion == "gene-cell":
            self.dispersion_head = nn.Linear(n_hidden, n_input)
        else:
            columns = {"gene": 1, "gene-batch": n_batch, "gene-label": n_labels}[dispersion]
            self.px_r = nn.Parameter(torch.randn(n_input, columns))

        self.batch_head = Classifier(n_latent_b, n_batch, n_hidden, dropout_rate)
        self.label_head = Classifier(n_latent_l, n_classes, n_hidden, dropout_rate)
        n_targets = {"batch": n_batch, "label": n_classes}
        self.adversaries = nn.ModuleDict({
            name: Classifier(latents[SPACES.index(space)], n_targets[target], n_hidden,
                             dropout_rate)
            for name, (space, target) in ADVERSARIAL_HEADS.items()
        })

    # -- inputs -----------------------------------------------------------------------------

    def _get_inference_input(self, tensors: dict[str, torch.Tensor]) -> dict:
        return {"x": tensors[REGISTRY_KEYS.X_KEY]}

    def _get_generative_input(self, tensors: dict, inference_outputs: dict) -> dict:
        size_factor = tensors.get(REGISTRY_KEYS.SIZE_FACTOR_KEY)
        library = inference_outputs["library"]
        if self.use_size_factor_key and size_factor is not None:
            library = torch.log(size_factor)
        return {
            "z": inference_outputs["z"],
            "library": library,
            "batch_index": tensors[REGISTRY_KEYS.BATCH_KEY],
            "labels": tensors[REGISTRY_KEYS.LABELS_KEY],
            "cat_covs": tensors.get(REGISTRY_KEYS.CAT_COVS_KEY),
            "cont_covs": tensors.get(REGISTRY_KEYS.CONT_COVS_KEY),
        }

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoders see: log1p counts (or raw counts without ``log_variational``).

        Computed as ``log(x + 1)``: torch's CPU ``log1p`` is not vectorised (five times slower),
        and for counts the two agree to float32 precision.
        """
        return torch.log(x + 1.0) if self.log_variational else x

    # -- model ------------------------------------------------------------------------------

    @auto_move_data
    def inference(self, x: torch.Tensor, n_samples: int = 1) -> dict:
        """Encode counts ``x`` into q(z_b), q(z_l), q(z_r) and the library size."""
        encoded = self.encoder_input(x)
        # The three spaces side by side: one sample and one KL for all of them.
        loc, scale = self.encoder.forward_joint(encoded)
        sizes = self.encoder.sizes
        # validate_args=False: the encoders' outputs are valid by construction, and the checks
        # cost host syncs.
        q_joint = Normal(loc, scale, validate_args=False)
        qz = {name: Normal(part_loc, part_scale, validate_args=False) for name, part_loc, part_scale
              in zip(SPACES, loc.split(sizes, dim=-1), scale.split(sizes, dim=-1))}
        sample_shape = torch.Size([n_samples]) if n_samples > 1 else torch.Size()
        z = q_joint.rsample(sample_shape)
        outputs = {"qz": qz, "qz_joint": q_joint, "z": z,
                   "z_parts": dict(zip(SPACES, z.split(sizes, dim=-1)))}
        if self.use_observed_lib_size:
            outputs["library"] = torch.log(x.sum(dim=1, keepdim=True))
            outputs["ql"] = None
        else:
            hidden = self.library_encoder(encoded, None)
            ql = Normal(self.library_mean(hidden),
                        torch.sqrt(torch.exp(self.library_log_var(hidden)) + 1e-4),
                        validate_args=False)
            outputs["ql"] = ql
            outputs["library"] = ql.rsample(sample_shape)
        return outputs

    def decoder_covariates(self, batch_index, cat_covs=None, cont_covs=None) -> torch.Tensor:
        """Categorical covariates (one-hot), continuous ones, then the one-hot batch.

        The batch comes last so that a query with new batches only appends columns.
        """
        parts = [one_hot(cat_covs[:, i], n) for i, n in enumerate(self.n_cats_per_cov)]
        if cont_covs is not None:
            parts.append(cont_covs.float())
        parts.append(one_hot(batch_index, self.n_batch))
        return torch.cat(parts, dim=1)

    def train(self, mode: bool = True):
        """Switch train/eval mode; modules in ``frozen_modules`` stay in eval mode."""
        super().train(mode)
        for module in getattr(self, "frozen_modules", []):
            module.eval()
        return self

    @auto_move_data
    def generative(self, z, library, batch_index, labels=None, cat_covs=None, cont_covs=None,
                   transform_batch: int | None = None) -> dict:
        """Decode ``[z_b, z_l, z_r]`` and the batch into the count distribution ``px``."""
        if transform_batch is not None:
            batch_index = torch.full_like(batch_index, int(transform_batch))
        covariates = self.decoder_covariates(batch_index, cat_covs, cont_covs)
        leading = z.shape[:-1]
        if z.dim() == 3:  # (n_samples, n_cells, n_latent)
            covariates = covariates.expand(z.shape[0], -1, -1).reshape(-1, covariates.shape[-1])
        hidden = self.decoder(z.reshape(-1, z.shape[-1]), covariates)
        scale = F.softmax(self.scale_head(hidden), dim=-1).reshape(*leading, -1)
        dropout = self.dropout_head(hidden).reshape(*leading, -1)
        rate = torch.exp(library) * scale
        if self.dispersion == "gene-cell":
            px_r = self.dispersion_head(hidden).reshape(*leading, -1)
        elif self.dispersion == "gene":
            px_r = self.px_r[:, 0]
        else:
            codes = batch_index if self.dispersion == "gene-batch" else labels
            n = self.px_r.shape[1]
            px_r = F.linear(one_hot(codes, n), self.px_r)
        theta = torch.exp(px_r)
        if self.gene_likelihood == "zinb":
            px = ZeroInflatedNegativeBinomial(mu=rate, theta=theta, zi_logits=dropout, scale=scale,
                                              validate_args=False)
        elif self.gene_likelihood == "nb":
            px = NegativeBinomial(mu=rate, theta=theta, scale=scale, validate_args=False)
        else:
            px = Poisson(rate=rate, scale=scale, validate_args=False)
        return {"px": px}

    def _cross_cov_groups(self, batch, classes, labelled, label_logits) -> torch.Tensor | None:
        """One-hot groups the cross-covariance is measured within (`CROSS_COV_WITHIN`)."""
        if self.cross_cov_within == "all":
            return None
        if self.cross_cov_within == "batch" or self.n_classes == 0:
            return one_hot(batch, self.n_batch)
        # Batch and type: the known type, else the label head's guess (no gradient through it).
        types = torch.where(labelled, classes, label_logits.detach().argmax(-1))
        return one_hot(batch * self.n_classes + types, self.n_batch * self.n_classes)

    def balance_labels(self, label_codes) -> None:
        """Weight the label terms' cells by ``(mean count / class count) ** label_balance_power``
        over the training cells' ``label_codes``; power 0 leaves every labelled cell at 1."""
        if self.n_classes == 0:
            return
        classes = self.label_code_to_class.cpu()[torch.as_tensor(label_codes).reshape(-1).long()]
        counts = torch.bincount(classes[classes >= 0], minlength=self.n_classes).float()
        present = counts > 0
        weights = torch.ones(self.n_classes)
        weights[present] = (counts[present].mean() / counts[present]) ** self.label_balance_power
        self.label_class_weights.copy_(weights)

    def label_classes_of(self, label_codes: torch.Tensor) -> torch.Tensor:
        """Class index for each cell, -1 where the cell is unlabelled."""
        return self.label_code_to_class[label_codes.reshape(-1).long()]

    def loss(self, tensors, inference_outputs, generative_outputs, kl_weight: float = 1.0
             ) -> LossOutput:
        """ELBO plus supervised, adversarial and cross-covariance terms, averaged over cells."""
        x = tensors[REGISTRY_KEYS.X_KEY]
        batch = tensors[REGISTRY_KEYS.BATCH_KEY].reshape(-1).long()
        classes = self.label_classes_of(tensors[REGISTRY_KEYS.LABELS_KEY])
        labelled = classes >= 0

        reconstruction = -log_likelihood_per_cell(generative_outputs["px"], x,
                                                  tensors.get(NONZERO_KEY))
        kl_z = _kl_from_standard_normal(inference_outputs["qz_joint"])
        kl_local = self.weights["kl"] * kl_z
        ql = inference_outputs["ql"]
        if ql is not None:
            batch_one_hot = one_hot(batch, self.n_batch)
            means = F.linear(batch_one_hot, self.library_log_means)
            variances = F.linear(batch_one_hot, self.library_log_vars)
            kl_local = kl_local + kl_divergence(ql, Normal(means, variances.sqrt())).sum(-1)

        z = inference_outputs["z_parts"]
        # Label terms average over labelled cells: weights, not boolean indexing (no host sync).
        weights = labelled.to(x.dtype)
        n_labelled = weights.sum()
        weights = weights * self.label_class_weights[classes.clamp(min=0)]
        label_mean = (classes.clamp(min=0), weights, weights.sum().clamp(min=1e-6))
        terms = {"batch_loss": F.cross_entropy(self.batch_head(z["b"]), batch)}
        label_logits = self.label_head(z["l"])
        terms["label_loss"] = _weighted_cross_entropy(label_logits, *label_mean)
        # The adversaries see the latent spaces through one gradient reversal of the joint z.
        reversed_z = dict(zip(SPACES, reverse_gradient(inference_outputs["z"]).split(
            self.encoder.sizes, dim=-1)))
        for name, (space, target) in ADVERSARIAL_HEADS.items():
            logits = self.adversaries[name](reversed_z[space])
            terms[name] = (F.cross_entropy(logits, batch) if target == "batch"
                           else _weighted_cross_entropy(logits, *label_mean))
        terms["cross_cov"] = cross_covariance_penalty(
            inference_outputs["z"], self.encoder.sizes,
            self._cross_cov_groups(batch, classes, labelled, label_logits))

        loss = torch.mean(reconstruction + kl_weight * kl_local)
        loss = loss + sum(self.weights[name] * value for name, value in terms.items())
        correct = ((label_logits.argmax(-1) == classes) & labelled).sum().to(x.dtype)
        metrics = {name: value.detach() for name, value in terms.items()}
        metrics["label_accuracy"] = correct / n_labelled  # NaN when no cell is labelled
        metrics["n_labelled"] = n_labelled
        return LossOutput(loss=loss, reconstruction_loss=reconstruction, kl_local=kl_local,
                          extra_metrics=metrics)

    @torch.inference_mode()
    def sample(self, tensors: dict, n_samples: int = 1) -> torch.Tensor:
        """Draw counts from the generative model, ``(n_cells, n_genes)`` or with a sample axis."""
        inference_outputs = self.inference(tensors[REGISTRY_KEYS.X_KEY], n_samples=n_samples)
        generative_input = self._get_generative_input(tensors, inference_outputs)
        return self.generative(**generative_input)["px"].sample()


def _kl_from_standard_normal(q: Normal) -> torch.Tensor:
    """KL(q || N(0, 1)) summed over the last axis: ``(scale^2 + loc^2 - 1) / 2 - log(scale)``."""
    return (0.5 * (q.scale.square() + q.loc.square() - 1.0) - q.scale.log()).sum(-1)


def _weighted_cross_entropy(logits, target, weights, denominator) -> torch.Tensor:
    """Cross-entropy averaged with per-cell ``weights`` (1 labelled, 0 not) over
    ``denominator`` cells; 0, with a zero gradient, when no cell is labelled."""
    return (F.cross_entropy(logits, target, reduction="none") * weights).sum() / denominator
