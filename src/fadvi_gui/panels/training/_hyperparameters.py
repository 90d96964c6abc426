"""FADVI's hyperparameters as the documented API gives them: default, range and meaning.

One :class:`Param` per ``FADVI.__init__`` argument; the training panel builds
a widget for each. ``advanced`` ones go into the folded "Advanced" group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its argument name, label, default and tooltip."""

    name: str
    label: str
    default: Any
    tooltip: str
    kind: Literal["int", "float", "choice", "bool"]
    minimum: float = 0
    maximum: float = 1_000
    step: float = 1
    choices: tuple[str, ...] = ()
    advanced: bool = False


MODEL_PARAMS: tuple[Param, ...] = (
    Param("n_latent_l", "Label latent", 30, "Dimensionality of the label latent space z_l (cell-type variation).", "int", 2, 256),
    Param("n_latent_b", "Batch latent", 30, "Dimensionality of the batch latent space z_b (batch variation).", "int", 2, 256),
    Param("n_latent_r", "Residual latent", 10, "Dimensionality of the residual latent space z_r (everything else).", "int", 1, 256),
    Param("n_hidden", "Hidden units", 128, "Number of nodes per hidden layer.", "int", 8, 2048, 16),
    Param("n_layers", "Hidden layers", 2, "Number of hidden layers used for encoder and decoder networks.", "int", 1, 8),
    Param("gene_likelihood", "Likelihood", "zinb", "Distribution of the counts: 'zinb' zero-inflated negative binomial, 'nb' negative binomial, 'poisson' Poisson.", "choice", choices=("zinb", "nb", "poisson")),
    Param("lambda_l", "Label weight", 50.0, "Weight for the label classification loss (lambda_l).", "float", 0, 10_000, 5),
    Param("dropout_rate", "Dropout", 0.1, "Dropout rate for the neural networks.", "float", 0, 0.9, 0.05, advanced=True),
    Param("dispersion", "Dispersion", "gene", "'gene': constant per gene across cells; 'gene-batch': differs between batches; 'gene-label': differs between labels; 'gene-cell': differs for every gene in every cell.", "choice", choices=("gene", "gene-batch", "gene-label", "gene-cell"), advanced=True),
    Param("use_observed_lib_size", "Observed lib. size", True, "If checked, use the observed library size for RNA as the scaling factor in the mean of the conditional distribution.", "bool", advanced=True),
    Param("beta", "KL weight", 1.0, "Weight for the KL divergence in the ELBO.", "float", 0, 100, 0.1, advanced=True),
    Param("lambda_b", "Batch weight", 50.0, "Weight for the batch classification loss (lambda_b).", "float", 0, 10_000, 5, advanced=True),
    Param("alpha_bl", "Adv. label from z_b", 1.0, "Weight for the adversarial loss that stops the batch latents predicting the label (alpha_bl).", "float", 0, 1_000, 0.1, advanced=True),
    Param("alpha_lb", "Adv. batch from z_l", 1.0, "Weight for the adversarial loss that stops the label latents predicting the batch (alpha_lb).", "float", 0, 1_000, 0.1, advanced=True),
    Param("alpha_rb", "Adv. batch from z_r", 1.0, "Weight for the adversarial loss that stops the residual latents predicting the batch (alpha_rb).", "float", 0, 1_000, 0.1, advanced=True),
    Param("alpha_rl", "Adv. label from z_r", 1.0, "Weight for the adversarial loss that stops the residual latents predicting the label (alpha_rl).", "float", 0, 1_000, 0.1, advanced=True),
    Param("gamma", "Cross-cov. weight", 1.0, "Weight for the cross-correlation penalty that decorrelates z_b, z_l and z_r (gamma).", "float", 0, 1_000, 0.1, advanced=True),
)
