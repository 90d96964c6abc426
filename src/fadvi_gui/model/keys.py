"""Every name the app writes into an AnnData, and every loss term it draws, defined once.

``obs`` columns, ``obsm`` arrays and ``uns`` entries written by the app all start with
``fadvi`` (latents with ``X_fadvi``), so they are easy to find and never clash with the
user's own columns.
"""

from __future__ import annotations

# ------------------------------------------------------------------ latents
#: ``obsm`` keys of the three latent spaces, with the engine's ``representation`` names.
LATENT_KEYS: dict[str, str] = {"X_fadvi_l": "label", "X_fadvi_b": "batch", "X_fadvi_r": "residual"}
LATENT_L, LATENT_B, LATENT_R = LATENT_KEYS

# -------------------------------------------------------------- predictions
#: ``obs``: predicted label of each cell.
PREDICTION_KEY = "fadvi_prediction"
#: ``obs``: probability of the predicted label.
CONFIDENCE_KEY = "fadvi_confidence"
#: ``obsm``: probability of every class; class names in ``uns[PROBABILITY_CLASSES_KEY]``.
PROBABILITIES_KEY = "fadvi_probabilities"
PROBABILITY_CLASSES_KEY = "fadvi_probability_classes"
#: ``obs``: the prediction, or :data:`UNCERTAIN` below the review threshold.
THRESHOLDED_KEY = "fadvi_prediction_thresholded"
#: ``obs``: existing labels with accepted predictions filled in (the original column is untouched).
ACCEPTED_KEY = "fadvi_accepted_label"
#: The same four for predicting the batch from ``z_b``.
BATCH_PREDICTION_KEY = "fadvi_batch_prediction"
BATCH_CONFIDENCE_KEY = "fadvi_batch_confidence"
BATCH_PROBABILITIES_KEY = "fadvi_batch_probabilities"
BATCH_PROBABILITY_CLASSES_KEY = "fadvi_batch_probability_classes"
#: Shown instead of a label whose confidence is below the threshold.
UNCERTAIN = "Uncertain"
#: ``obs``: the conformal prediction set as text ("T_CD4 or T_CD8"), its size, the novelty
#: score, and the prediction with "Unknown" where the set is not exactly one type.
PREDICTION_SET_KEY = "fadvi_prediction_set"
SET_SIZE_KEY = "fadvi_set_size"
NOVELTY_KEY = "fadvi_novelty"
#: With a reference: the prediction at the level its set resolves, the reference cells' kNN vote
#: in z_l, and whether the vote agrees with the prediction (`fadvi_core.annotate`'s columns).
RESOLVED_KEY = "fadvi_prediction_resolved"
KNN_PREDICTION_KEY = "fadvi_knn_prediction"
AGREEMENT_KEY = "fadvi_agreement"
AT_ERROR_RATE_KEY = "fadvi_prediction_at_error_rate"
UNKNOWN = "Unknown"

# ---------------------------------------------------------------- workbench
#: ``uns``: which labels were withheld into which column (`fadvi_gui.model.withheld`).
WITHHELD_KEY = "fadvi_withheld"
#: ``obs``: the default manual annotation column.
ANNOTATION_KEY = "fadvi_annotation"
#: The value of cells not yet annotated in an annotation column.
UNANNOTATED = "Unlabelled"
#: ``obs``: Leiden clusters of ``z_l``, and the majority prediction within each cluster.
LEIDEN_KEY = "fadvi_leiden"
MAJORITY_KEY = "fadvi_majority_vote"

# -------------------------------------------------------------------- saving
#: ``uns``: settings, seed and package versions of a saved file.
UNS_KEY = "fadvi"
#: Prefix of scvi-tools' registry columns and entries, left out of saved files.
SCVI_PREFIX = "_scvi"

# ---------------------------------------------------------------- loss terms
#: Loss terms drawn as training curves, by their ``model.history`` name without
#: ``_train``/``_validation``, with their short labels.
LOSS_TERMS: dict[str, str] = {
    "reconstruction_loss": "reconstruction",
    "kl_local": "KL",
    "batch_loss": "batch",
    "label_loss": "label",
    "adv_label_from_b": "adv. label|z_b",
    "adv_batch_from_l": "adv. batch|z_l",
    "adv_batch_from_r": "adv. batch|z_r",
    "adv_label_from_r": "adv. label|z_r",
    "cross_cov": "cross-cov.",
}

__all__ = [
    "ACCEPTED_KEY", "BATCH_CONFIDENCE_KEY", "BATCH_PREDICTION_KEY", "BATCH_PROBABILITIES_KEY",
    "BATCH_PROBABILITY_CLASSES_KEY", "CONFIDENCE_KEY", "LATENT_B", "LATENT_KEYS", "LATENT_L",
    "LATENT_R", "LOSS_TERMS", "PREDICTION_KEY", "PROBABILITIES_KEY", "PROBABILITY_CLASSES_KEY",
    "SCVI_PREFIX", "THRESHOLDED_KEY", "UNCERTAIN", "UNS_KEY", "PREDICTION_SET_KEY",
    "SET_SIZE_KEY", "NOVELTY_KEY", "AT_ERROR_RATE_KEY", "UNKNOWN",
]
__all__ += ["ANNOTATION_KEY", "LEIDEN_KEY", "MAJORITY_KEY", "UNANNOTATED", "WITHHELD_KEY"]  # workbench
