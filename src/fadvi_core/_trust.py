"""`FADVI` methods that say how far to trust its predictions.

Calibrated probabilities (`_calibration`), prediction sets (`_conformal`), novelty scores
(`_novelty`) and the disentanglement report (`_disentanglement`). The work lives in those
files; these methods fetch the cells and the fitted calibration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scvi import settings

from . import _calibration, _conformal, _disentanglement, _novelty
from ._calibration import Calibration, CalibrationError
from ._data import CellData

_CALIBRATION_CHUNK = 1024


class TrustMixin:
    """Calibration, prediction sets, novelty and disentanglement for `FADVI`."""

    calibration_: Calibration | None = None

    def _fit_calibration(self) -> None:
        """Fit `calibration_` on the held-out labelled cells after `train`.

        Keeps a calibration the model already has (e.g. from the reference of a query model)
        when no validation cell is labelled.
        """
        # Forward passes only: chunks larger than a minibatch give the same numbers, sooner.
        fitted = _calibration.fit(
            self.module, CellData(self.adata_manager), self.train_indices_,
            self.validation_indices_, max(settings.batch_size, _CALIBRATION_CHUNK), self._device,
            int(settings.seed or 0), previous=self.calibration_)
        if fitted is not None:
            self.calibration_ = fitted

    def _require_calibration(self, what: str) -> Calibration:
        if self.calibration_ is None:
            raise CalibrationError(
                f"{what} needs labelled cells held out from training, and this model has none. "
                "Train with a validation share (train_size below 1, e.g. 0.9) on data where some "
                f"validation cells are labelled (at least {_calibration.MIN_CALIBRATION_CELLS}).")
        return self.calibration_

    @property
    def temperature_(self) -> float:
        """The fitted temperature dividing the label head's logits (1 when not calibrated)."""
        return 1.0 if self.calibration_ is None else self.calibration_.temperature

    def predict_sets(self, adata: AnnData | None = None, indices: list[int] | None = None,
                     alpha: float = 0.1, *, batch_size: int | None = None) -> pd.DataFrame:
        """Split-conformal prediction sets of cell types.

        For cells of the types that were labelled, the set holds the true type for at least
        ``1 - alpha`` of cells (in expectation over the held-out labelled cells it was calibrated
        on). The predicted type is always in the set, unless the cell's novelty score
        (`get_novelty_scores`) is above 0.5 (most of its neighbours unlabelled) and higher than
        that of all but ``alpha / 5`` of the held-out labelled cells: then the set is empty, a
        candidate for a type nobody labelled. A set with several types
        names the plausible alternatives. `fadvi_core._conformal` gives the method and why.

        Parameters
        ----------
        adata, indices
            Cells to predict (default: the training AnnData, all cells).
        alpha
            Error rate to allow, between 0 and 1 (0.1: the set misses the true type for at most
            10% of cells).

        Returns
        -------
        Boolean DataFrame ``(n_cells, n_classes)`` indexed by ``obs_names``, one column per
        cell type, True where the type is in the cell's set.

        Raises
        ------
        CalibrationError
            When the model kept no labelled cells out of training.
        """
        calibration = self._require_calibration("Prediction sets")
        _conformal.check_alpha(alpha)
        adata, data = self._cell_data(adata, indices)
        by_novelty = calibration.validation_novelty is not None
        z_l, z_b, logits, _ = _calibration.label_space(
            self.module, data, batch_size or settings.batch_size, self._device,
            with_batch_space=by_novelty)
        if by_novelty:
            gate, validation_gate = (_novelty.novelty_scores(z_l, z_b, calibration),
                                     calibration.validation_novelty)
            floor = _novelty.GATE_FLOOR
        else:  # files from before the novelty gate
            gate, validation_gate = (_novelty.distance_to_prototypes(z_l, calibration.class_means),
                                     calibration.prototype_distances)
            floor = 0.0
        sets = _conformal.prediction_sets(
            _calibration.softmax(logits, calibration.temperature), gate,
            calibration.conformal_scores, validation_gate, alpha, gate_floor=floor)
        return pd.DataFrame(sets, index=adata.obs_names[data.indices],
                            columns=list(self.label_classes))

    def get_novelty_scores(self, adata: AnnData | None = None, indices: list[int] | None = None,
                           batch_size: int | None = None) -> pd.Series:
        """How unlike every labelled cell type each cell is; higher means more likely a type
        that no labelled cell has.

        The score is the share of unlabelled cells among the cell's 30 nearest training cells in
        z_l and z_b (from the batches where cells were labelled), plus a tenth of its cosine
        distance in z_l to the nearest class prototype: from 0 to 1.2, near 1 where nobody
        labelled any cell nearby. `fadvi_core._novelty` says why it was chosen. It depends only
        on the model and the cell (no sampling), so scores can be compared across files mapped
        onto the same model.

        Returns
        -------
        Series ``(n_cells,)`` named ``"fadvi_novelty"``, indexed by ``obs_names``.

        Raises
        ------
        CalibrationError
            When the model has no labelled-cell statistics (trained without labelled cells).
        """
        calibration = self._require_calibration("Novelty scores")
        adata, data = self._cell_data(adata, indices)
        z_l, z_b, _, _ = _calibration.label_space(
            self.module, data, batch_size or settings.batch_size, self._device,
            with_batch_space=calibration.neighbours is not None)
        scores = _novelty.novelty_scores(z_l, z_b, calibration)
        return pd.Series(scores, index=adata.obs_names[data.indices], name="fadvi_novelty")

    def get_disentanglement_report(self, *, seed: int = 0,
                                   batch_size: int | None = None) -> pd.DataFrame:
        """How well batch and cell type can be told from each latent space, and how correlated
        the spaces are, on the model's AnnData.

        Returns
        -------
        Tidy DataFrame with columns ``space`` (``"b"``, ``"l"``, ``"r"``, or a pair such as
        ``"b-l"``), ``measure`` (``"balanced_accuracy"``, ``"mean_abs_correlation"``,
        ``"max_abs_correlation"``), ``target`` (``"batch"``, ``"label"`` or ``""``), ``value``,
        ``chance`` (one over the number of classes; NaN for correlations), ``ideal``
        (``"high"``, ``"chance"`` or ``"zero"``) and ``n_cells``. Balanced accuracies come from
        a logistic regression trained on 70% of the cells and scored on the other 30%.
        """
        latents = {space: self.get_latent_representation(representation=space,
                                                         batch_size=batch_size)
                   for space in _disentanglement.SPACES}
        data = CellData(self.adata_manager)
        batches = np.asarray(self.batch_categories, dtype=object)[
            data.fields["batch"].reshape(-1).numpy()]
        classes = self.module.label_classes_of(data.fields["labels"]).cpu().numpy()
        names = np.asarray(self.label_classes + [None], dtype=object)
        labels = names[np.where(classes >= 0, classes, len(self.label_classes))]
        return _disentanglement.report(latents, batches, labels, seed=seed)
