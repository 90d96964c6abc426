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
    Param("n_latent_l", "Label latent", 30, "How many numbers describe each cell's type: the size of the cell-type space (z_l).", "int", 2, 256),
    Param("n_latent_b", "Batch latent", 30, "How many numbers describe each cell's batch effect: the size of the batch space (z_b).", "int", 2, 256),
    Param("n_latent_r", "Residual latent", 10, "How many numbers describe what is neither type nor batch: the size of the residual space (z_r).", "int", 1, 256),
    Param("n_hidden", "Hidden units", 128, "Size of each layer of the neural networks (nodes per hidden layer); larger fits more detail, trains slower.", "int", 8, 2048, 16),
    Param("n_layers", "Hidden layers", 2, "Depth of the neural networks: hidden layers in the encoder and decoder.", "int", 1, 8),
    Param("gene_likelihood", "Likelihood", "zinb", "How the model expects counts to vary: 'zinb' zero-inflated negative binomial (the usual choice), 'nb' negative binomial, 'poisson' Poisson.", "choice", choices=("zinb", "nb", "poisson")),
    Param("lambda_l", "Label weight", 50.0, "How strongly the cell-type head is trained: higher follows your labels more closely (lambda_l).", "float", 0, 10_000, 5),
    Param("dropout_rate", "Dropout", 0.1, "Share of network units switched off at random during training, against overfitting (dropout rate).", "float", 0, 0.9, 0.05, advanced=True),
    Param("dispersion", "Dispersion", "gene", "How much the counts of a gene may scatter (dispersion): 'gene' the same in every cell; 'gene-batch' per batch; 'gene-label' per label; 'gene-cell' per gene and cell.", "choice", choices=("gene", "gene-batch", "gene-label", "gene-cell"), advanced=True),
    Param("use_observed_lib_size", "Observed lib. size", True, "Scale each cell by its total counts as measured (observed library size), rather than a learned one.", "bool", advanced=True),
    Param("beta", "KL weight", 1.0, "How closely the cell spaces are kept to a standard shape; higher is smoother, less detailed (KL weight, beta).", "float", 0, 100, 0.1, advanced=True),
    Param("lambda_b", "Batch weight", 50.0, "How strongly the batch head is trained to read the batch from z_b (lambda_b).", "float", 0, 10_000, 5, advanced=True),
    Param("alpha_bl", "No label in z_b", 1.0, "How hard cell-type information is pushed out of the batch space z_b (adversarial weight alpha_bl).", "float", 0, 1_000, 0.1, advanced=True),
    Param("alpha_lb", "No batch in z_l", 1.0, "How hard batch information is pushed out of the cell-type space z_l (adversarial weight alpha_lb).", "float", 0, 1_000, 0.1, advanced=True),
    Param("alpha_rb", "No batch in z_r", 1.0, "How hard batch information is pushed out of the residual space z_r (adversarial weight alpha_rb).", "float", 0, 1_000, 0.1, advanced=True),
    Param("alpha_rl", "No label in z_r", 1.0, "How hard cell-type information is pushed out of the residual space z_r (adversarial weight alpha_rl).", "float", 0, 1_000, 0.1, advanced=True),
    Param("gamma", "Cross-cov. weight", 1.0, "How strongly the three spaces z_b, z_l and z_r are kept unrelated to each other (cross-covariance penalty, gamma).", "float", 0, 1_000, 0.1, advanced=True),
)
