"""Calibration, prediction sets, novelty and the disentanglement report on small synthetic data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scvi

from fadvi_core import FADVI, ModelFileError
from fadvi_core._calibration import (CalibrationError, expected_calibration_error,
                                     fit_temperature, softmax)
from fadvi_core._conformal import describe_sets, prediction_sets, threshold

from .conftest import SMALL, make_adata


@pytest.fixture(scope="module")
def trained():
    """A small model with enough held-out labelled cells (about 28) to calibrate on."""
    data = make_adata(n_per_batch=150)
    FADVI.setup_anndata(data, batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(data, **SMALL)
    model.train(max_epochs=3, batch_size=32)
    return model, data


def test_temperature_undoes_overconfident_logits():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(2000, 4)) * 2
    classes = np.array([rng.choice(4, p=p) for p in softmax(true_logits)])
    overconfident = true_logits * 3
    temperature = fit_temperature(overconfident, classes)
    assert temperature == pytest.approx(3, rel=0.15)
    before = expected_calibration_error(softmax(overconfident), classes)
    after = expected_calibration_error(softmax(overconfident, temperature), classes)
    assert after < 0.03 < before


def test_all_correct_validation_cells_do_not_drive_the_temperature_to_its_bound():
    # 60 cells, every one right: the likelihood alone prefers T -> 0 (probabilities 0 or 1).
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 3, size=60)
    logits = rng.normal(size=(60, 3))
    logits[np.arange(60), classes] += 3.0
    temperature = fit_temperature(logits, classes)
    assert 0.2 < temperature < 1.0
    probabilities = softmax(logits, temperature)
    assert probabilities.max(axis=1).min() < 0.99  # not every cell made certain


def test_sets_keep_the_predicted_type_unless_the_cell_is_unlike_any():
    probabilities = np.array([[0.55, 0.45, 0.0], [0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])
    novelty = np.array([0.01, 0.02, 0.9])
    # Validation cells: most right (score 0), a few wrong with the true type at p = 0.4.
    scores = np.r_[np.zeros(40), np.full(10, 0.6)]
    validation_novelty = np.linspace(0.0, 0.1, 50)
    sets = prediction_sets(probabilities, novelty, scores, validation_novelty, alpha=0.2)
    assert sets.tolist() == [[True, True, False], [True, False, False], [False, False, False]]
    # A file written before the gate: no set is emptied, the whole alpha goes to the class score.
    ungated = prediction_sets(probabilities, novelty, scores, None, alpha=0.2)
    assert ungated[:, 0].all()
    # Below the floor (most neighbours labelled) no set is emptied, whatever the validation.
    floored = prediction_sets(probabilities, novelty, scores, validation_novelty, alpha=0.2,
                              gate_floor=0.95)
    assert floored[:, 0].all()


def test_held_out_cells_are_scored_against_the_other_batches():
    from fadvi_core._calibration import Calibration
    from fadvi_core._novelty import NeighbourReference, novelty_across_batches

    # Batch 0's reference cells sit on the held-out cells but are unlabelled; batch 1's are
    # labelled and a little farther away.
    reference = NeighbourReference.from_cells(
        np.r_[np.zeros((30, 2)), np.full((30, 2), 0.5)], np.r_[np.ones(30), np.zeros(30)])
    calibration = Calibration(1.0, np.zeros(3), np.ones((1, 1)), 30, None, reference)
    held_out = np.zeros((3, 1))
    scores = novelty_across_batches(held_out, held_out, np.array([0, 0, 1]), calibration,
                                    np.r_[np.zeros(30), np.ones(30)])
    # Batch 0's cells see only batch 1 (labelled): 0; batch 1's see only batch 0: 1.
    np.testing.assert_allclose(scores, [0.1, 0.1, 1.1])


def test_conformal_threshold_is_the_finite_sample_quantile():
    scores = np.arange(1, 10) / 10  # nine held-out cells
    assert threshold(scores, 0.1) == pytest.approx(0.9)  # rank ceil(10 * 0.9) = 9
    assert threshold(scores, 0.5) == pytest.approx(0.5)  # rank 5
    assert math.isinf(threshold(scores[:8], 0.1))  # too few cells for 10%: every class
    with pytest.raises(ValueError, match="between 0 and 1"):
        threshold(scores, 10)


def test_sets_read_as_text():
    sets = np.array([[True, False, True], [False, False, False]])
    assert list(describe_sets(sets, ["T_CD4", "B", "T_CD8"])) == ["T_CD4 or T_CD8", ""]


def test_trained_model_is_calibrated_and_keeps_its_predictions(trained):
    model, data = trained
    assert model.calibration_ is not None and model.temperature_ > 0
    soft = model.predict(soft=True)
    assert np.allclose(soft.sum(axis=1), 1.0)
    assert (soft.idxmax(axis=1).to_numpy() == model.predict()).all()
    sets = model.predict_sets(alpha=0.2)
    assert sets.shape == soft.shape and sets.dtypes.eq(bool).all()
    scores = model.get_novelty_scores(indices=[0, 1, 2])
    assert list(scores.index) == list(data.obs_names[:3]) and scores.name == "fadvi_novelty"


def test_calibration_survives_save_and_load(trained, tmp_path):
    model, data = trained
    model.save(tmp_path)
    loaded = FADVI.load(tmp_path, adata=data)
    assert loaded.temperature_ == model.temperature_
    assert np.allclose(loaded.predict(soft=True), model.predict(soft=True))
    assert loaded.predict_sets().equals(model.predict_sets())
    assert np.allclose(loaded.get_novelty_scores(), model.get_novelty_scores())


def _rewrite_metadata(path, change) -> None:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    metadata = json.loads(arrays["metadata"].tobytes().decode())
    change(metadata)
    arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("change", [
    lambda m: m["calibration"].update(temperature=-1.0),
    lambda m: m["calibration"].update(conformal_scores=[0.1, 7.0]),
    lambda m: m["calibration"].update(class_means=[[1.0]]),
    lambda m: m["calibration"].pop("class_means"),
    lambda m: m["calibration"].update(prototype_distances=[0.1]),
    lambda m: m["calibration"].update(
        prototype_distances=m["calibration"]["conformal_scores"][:-1] + [3.0]),
    lambda m: m["calibration"]["neighbours"].update(n_cells=10**9),
    lambda m: m["calibration"]["neighbours"].update(latent="not base64!"),
    lambda m: m["calibration"]["neighbours"].update(unlabelled="AgI="),  # bytes 2, 2
    lambda m: m["calibration"].update(validation_novelty=[0.1]),
    lambda m: m["calibration"].update(
        validation_novelty=m["calibration"]["conformal_scores"][:-1] + [5.0]),
    lambda m: m["calibration"].pop("neighbours"),  # novelty of the gate without its reference
])
def test_a_damaged_calibration_is_refused_on_load(trained, tmp_path, change):
    model, data = trained
    model.save(tmp_path)
    _rewrite_metadata(tmp_path / "fadvi_model.npz", change)
    with pytest.raises(ModelFileError, match="calibration"):
        FADVI.load(tmp_path, adata=data)


def test_a_file_from_before_the_novelty_gate_still_gives_sets_and_scores(trained, tmp_path):
    model, data = trained
    model.save(tmp_path)

    def as_before(metadata):
        metadata["calibration"].pop("prototype_distances")
        metadata["calibration"].pop("neighbours")
        metadata["calibration"].pop("validation_novelty")

    _rewrite_metadata(tmp_path / "fadvi_model.npz", as_before)
    loaded = FADVI.load(tmp_path, adata=data)
    assert loaded.calibration_.prototype_distances is None
    assert (loaded.predict_sets(alpha=0.2).sum(axis=1) >= 1).all()
    scores = loaded.get_novelty_scores()  # the prototype part alone
    assert scores.between(0, 0.2).all() and scores.nunique() > 1


def test_a_file_from_before_the_novelty_gate_on_novelty_gates_on_prototype_distance(
        trained, tmp_path):
    model, data = trained
    model.save(tmp_path)
    _rewrite_metadata(tmp_path / "fadvi_model.npz",
                      lambda m: m["calibration"].pop("validation_novelty"))
    loaded = FADVI.load(tmp_path, adata=data)
    assert loaded.calibration_.validation_novelty is None
    assert loaded.calibration_.prototype_distances is not None
    assert loaded.predict_sets(alpha=0.2).shape == model.predict_sets(alpha=0.2).shape
    assert np.allclose(loaded.get_novelty_scores(), model.get_novelty_scores())


def test_a_file_without_calibration_still_loads(trained, tmp_path):
    model, data = trained
    model.save(tmp_path)
    _rewrite_metadata(tmp_path / "fadvi_model.npz", lambda m: m.pop("calibration"))
    loaded = FADVI.load(tmp_path, adata=data)
    assert loaded.temperature_ == 1.0
    with pytest.raises(CalibrationError, match="validation share"):
        loaded.predict_sets()


def test_without_held_out_cells_the_model_says_how_to_get_sets():
    data = make_adata()
    FADVI.setup_anndata(data, batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(data, **SMALL)
    model.train(max_epochs=1, batch_size=32, train_size=1.0)
    assert model.temperature_ == 1.0
    with pytest.raises(CalibrationError, match="train_size below 1"):
        model.get_novelty_scores()


def test_disentanglement_report_is_one_tidy_table(trained):
    model, _ = trained
    report = model.get_disentanglement_report()
    assert list(report.columns) == ["space", "measure", "target", "value", "chance", "ideal",
                                    "n_cells"]
    accuracy = report[report["measure"] == "balanced_accuracy"]
    assert set(zip(accuracy["space"], accuracy["target"])) == {
        (s, t) for s in "blr" for t in ("batch", "label")}
    assert accuracy["value"].between(0, 1).all()
    pairs = report[report["measure"] == "mean_abs_correlation"]
    assert set(pairs["space"]) == {"b-l", "b-r", "l-r"} and pairs["value"].between(0, 1).all()
    assert report.equals(model.get_disentanglement_report())


def test_command_line_predictions_carry_novelty_and_set_size(tmp_path):
    import anndata

    from fadvi_core.__main__ import main

    source = tmp_path / "data.h5ad"
    make_adata(n_per_batch=150).write_h5ad(source)
    assert main(["train", str(source), "--batch-key", "batch", "--labels-key", "labels",
                 "--max-epochs", "2", "--batch-size", "32", "--out", str(tmp_path / "m")]) == 0
    out = tmp_path / "annotated.h5ad"
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(out)]) == 0
    obs = anndata.read_h5ad(out).obs
    assert obs["fadvi_set_size"].between(0, 3).all()
    assert (obs["fadvi_novelty"] >= 0).all() and (obs["fadvi_novelty"] <= 2).all()


def test_class_contrast_baselines_credit_only_what_the_cell_has_more_of(trained):
    model, data = trained
    cells = list(range(12))
    contrast = model.predict(indices=cells, interpretability="ig",
                             interpretability_args={"n_steps": 8})["attributions"]
    zero = model.predict(indices=cells, interpretability="ig",
                         interpretability_args={"n_steps": 8, "baselines": "zero"})["attributions"]
    counts = np.asarray(data.X[cells].todense() if hasattr(data.X, "todense") else data.X[cells])
    assert contrast.shape == zero.shape == counts.shape
    assert (contrast[counts == 0] == 0).all()
    assert not np.allclose(contrast, zero)  # the default contrasts with the other classes
    for name in ("runner_up", "other_classes"):
        for method in ("ig", "gs"):
            out = model.predict(indices=cells, interpretability=method,
                                interpretability_args={"baselines": name})
            assert np.isfinite(out["attributions"]).all()
    with pytest.raises(ValueError, match="not a known baseline"):
        model.predict(indices=cells, interpretability="ig",
                      interpretability_args={"baselines": "mean"})


def test_novelty_is_high_where_nobody_labelled_a_cell_nearby():
    from fadvi_core._calibration import Calibration
    from fadvi_core._novelty import NeighbourReference, novelty_scores

    rng = np.random.default_rng(0)
    labelled = rng.normal(loc=(5.0, 0.0), size=(200, 2))
    unlabelled_type = rng.normal(loc=(5.0, 4.0), size=(100, 2))  # beside it, never labelled
    reference = NeighbourReference.from_cells(np.vstack([labelled, unlabelled_type]),
                                              np.r_[np.zeros(200, bool), np.ones(100, bool)])
    calibration = Calibration(1.0, np.zeros(20), labelled[:, :1].mean(axis=0, keepdims=True),
                              200, None, reference)
    cells = np.array([[5.0, 0.0], [5.0, 4.0], [5.2, -0.3]])
    scores = novelty_scores(cells[:, :1], cells[:, 1:], calibration)  # as z_l, z_b
    assert scores[1] > 0.9 and scores[0] < 0.1 and scores[2] < 0.1
    # The stored reference reads back exactly.
    again = NeighbourReference.from_json(reference.to_json(), n_dims=2)
    assert np.array_equal(again.latent, reference.latent)
    assert np.array_equal(again.unlabelled, reference.unlabelled)
