"""The workbench's Qt-free pieces: withheld labels, annotation tables, voting, project files."""

from __future__ import annotations

import io
import json
import zipfile

import anndata
import numpy as np
import pandas as pd
import pytest

from fadvi_gui.model import annotation as notes
from fadvi_gui.model.clusters import majority_vote
from fadvi_gui.model.keys import UNANNOTATED
from fadvi_gui.model.project_io import ProjectFileError, read_project, write_project
from fadvi_gui.model.withheld import agreement, plan_withholding, withhold_labels


@pytest.fixture
def cells() -> anndata.AnnData:
    obs = pd.DataFrame({"batch": pd.Categorical(["a"] * 6 + ["b"] * 4),
                        "type": pd.Categorical(list("xxyyzz") + list("xyzx"))},
                       index=[f"cell{i}" for i in range(10)])
    return anndata.AnnData(X=np.ones((10, 3), dtype=np.float32), obs=obs)


def test_withheld_batch_is_scored_per_class(cells):
    record = withhold_labels(cells, labels_key="type", batch_key="batch", batches=["b"])
    assert list(cells.obs[record.column].astype(str)[6:]) == ["Unknown"] * 4
    assert list(cells.obs["type"].astype(str)[6:]) == list("xyzx")  # the original is untouched
    cells.obs["fadvi_prediction"] = pd.Categorical(list("xxyyzz") + list("xyxx"))
    scored = agreement(cells, record)
    assert scored.overall == pytest.approx(0.75) and scored.n_cells == 4
    assert scored.per_class.loc["z", "agree"] == 0 and scored.per_class.loc["x", "cells"] == 2
    assert "75% of 4 cells" in scored.sentence(record)


def test_withholding_everything_or_nothing_is_refused(cells):
    with pytest.raises(ValueError, match="hide every label"):
        plan_withholding(cells.obs, labels_key="type", batch_key="batch", batches=["a", "b"])
    with pytest.raises(ValueError, match="Choose the batches"):
        plan_withholding(cells.obs, labels_key="type")
    with pytest.raises(ValueError, match="between 0 and 1"):
        plan_withholding(cells.obs, labels_key="type", fraction=1.5)


def test_label_rename_merge(cells):
    values = notes.new_column(cells.obs)
    values = notes.label_cells(values, [0, 1], "T")
    values = notes.label_cells(values, [2], "NK")
    assert list(values[:4]) == ["T", "T", "NK", UNANNOTATED]
    merged = notes.merge_labels(values, ["T", "NK"], "Lymphoid")
    assert list(notes.label_counts(merged).index) == ["Lymphoid", UNANNOTATED]
    assert list(notes.rename_label(values, "T", "T cell")[:2]) == ["T cell", "T cell"]
    with pytest.raises(ValueError, match="Select cells first"):
        notes.label_cells(values, [], "T")


def test_tsv_import_matches_names(cells, tmp_path):
    path = tmp_path / "labels.tsv"
    path.write_text("barcode\tcelltype\tqc\ncell1\tB\t0.5\ncell9\tT\t1\nghost\tNK\t2\n")
    report = notes.match_table(cells.obs, notes.read_table(path))
    assert report.matched == 2 and report.unmatched == ["ghost"] and report.duplicates == []
    assert list(np.asarray(report.columns["celltype"])[[1, 9, 0]]) == ["B", "T", UNANNOTATED]
    assert report.columns["qc"][9] == 1.0
    (tmp_path / "one.csv").write_text("cell\ncell1\n")
    with pytest.raises(ValueError, match="needs the cell name in the first column"):
        notes.read_table(tmp_path / "one.csv")


def test_majority_vote_per_cluster():
    voted, table = majority_vote(["0", "0", "0", "1", "1"], ["B", "B", "T", "NK", "NK"])
    assert list(voted) == ["B", "B", "B", "NK", "NK"]
    assert table.loc["0", "agreement"] == pytest.approx(2 / 3) and table.loc["1", "cells"] == 2


def test_project_round_trip_and_refusals(cells, tmp_path):
    cells.obs["score"] = np.arange(10.0)
    cells.obs["flag"] = np.arange(10) < 3
    cells.obsm["X_fadvi_l"] = np.random.default_rng(0).normal(size=(10, 2))
    path = write_project(tmp_path / "p.fadvi", cells, state={"choices": {"labels_key": "type"}},
                         selection=np.array([1, 2]))
    project = read_project(path)
    assert list(project.obs["type"].astype(str)) == list(cells.obs["type"].astype(str))
    assert project.obs["flag"].dtype == bool and project.obs["score"][4] == 4.0
    np.testing.assert_array_equal(project.obsm["X_fadvi_l"], cells.obsm["X_fadvi_l"])
    assert list(project.selection) == [1, 2] and project.model_bytes is None

    # A project whose arrays need pickle to load is refused, not executed.
    buffer = io.BytesIO()
    np.savez(buffer, __cells__=np.array(["a"], dtype=object), __selection__=np.zeros(0))
    with zipfile.ZipFile(tmp_path / "evil.fadvi", "w") as archive:
        archive.writestr("project.json", json.dumps({"format": "fadvi-desktop-project", "version": 1}))
        archive.writestr("obs.npz", buffer.getvalue())
        archive.writestr("obsm.npz", buffer.getvalue())
    with pytest.raises(ProjectFileError, match="damaged"):
        read_project(tmp_path / "evil.fadvi")


class _StopAfter:
    """A task control that asks to stop once ``n`` progress reports were made."""

    def __init__(self, n: int) -> None:
        self.reports: list = []
        self.n = n

    def report(self, value, *, force: bool = False) -> None:
        self.reports.append(value)

    def should_stop(self) -> bool:
        return len(self.reports) >= self.n


def test_marker_genes_report_progress_and_stop_between_groups():
    from scvi.data import synthetic_iid

    from fadvi_gui.model.markers import MarkerRequest
    from fadvi_gui.tasks.markers import rank_markers

    adata = synthetic_iid(batch_size=60, n_genes=40, n_labels=3)
    request = MarkerRequest(groupby="labels", n_top=2)
    assert rank_markers(_StopAfter(2), adata, request) is None  # stopped after the first group
    control = _StopAfter(10**6)
    result = rank_markers(control, adata, request)
    assert result.groups == ["label_0", "label_1", "label_2"]
    assert result.mean.shape[0] == 3 and result.fraction.to_numpy().max() <= 1
    assert [p.done for p in control.reports] == [0, 1, 2, 3]
    selection = rank_markers(_StopAfter(10**6), adata,
                             MarkerRequest(selection=tuple(range(20)), n_top=3))
    assert selection.groups == ["selection"] and list(selection.mean.index) == ["selection", "rest"]
    with pytest.raises(ValueError, match="Nothing to compare"):
        rank_markers(_StopAfter(10**6), adata, MarkerRequest(selection=(1,)))
