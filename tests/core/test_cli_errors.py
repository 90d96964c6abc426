"""Every failure of the command line is one line with the fix, exit status 1; maps new batches."""

from __future__ import annotations

import os

import anndata
import numpy as np
import pytest

import fadvi_core.__main__ as cli
from fadvi_core.__main__ import main

from .conftest import make_adata


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fadvi: ")
    return lines[0]


@pytest.mark.parametrize("content", [b"cell,gene\n1,2\n", b"\x89HDF\r\n\x1a\n" + bytes(200)])
def test_a_non_h5ad_or_damaged_file_is_one_line(tmp_path, capsys, content):
    source = tmp_path / "cells.h5ad"
    source.write_bytes(content)
    assert main(["train", str(source), "--out", str(tmp_path / "m")]) == 1
    line = _one_line_error(capsys)
    assert str(source) in line and "not a readable .h5ad file" in line


def test_a_folder_or_missing_file_is_named(tmp_path, capsys):
    assert main(["predict", str(tmp_path), str(tmp_path), "--out", str(tmp_path / "o.h5ad")]) == 1
    assert "a folder" in _one_line_error(capsys)
    assert main(["train", str(tmp_path / "nope.h5ad"), "--out", str(tmp_path / "m")]) == 1
    assert f"No such file: {tmp_path / 'nope.h5ad'}. Check the path." in _one_line_error(capsys)
    source = tmp_path / "d.h5ad"
    make_adata().write_h5ad(source)
    assert main(["predict", str(tmp_path / "no_model"), str(source), "--out", "o.h5ad"]) == 1
    assert f"No FADVI model file at {tmp_path / 'no_model'}" in _one_line_error(capsys)


@pytest.mark.parametrize("error, words", [
    (MemoryError(), "Not enough memory"),
    (RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"), "Not enough memory"),
    (TypeError("unsupported operand\ntype(s)"),
     "Unexpected TypeError: unsupported operand type(s)"),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), "Unexpected RuntimeError"),
])
def test_any_exception_is_one_line_with_exit_1(tmp_path, capsys, monkeypatch, error, words):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli.anndata, "read_h5ad", fail)
    assert main(["train", str(tmp_path / "d.h5ad"), "--out", str(tmp_path / "m")]) == 1
    line = _one_line_error(capsys)
    assert words in line and "--debug" in line


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(cli.anndata, "read_h5ad", fail)
    assert main(["train", str(tmp_path / "d.h5ad"), "--out", str(tmp_path / "m"), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().endswith("fadvi: Unexpected TypeError: boom. Check "
                                                       "the input file and options; rerun with "
                                                       "--debug to see where it happened, and "
                                                       "report it if the input is fine.")


def test_refuses_to_overwrite_its_input(tmp_path, capsys, trained):
    model, _ = trained
    model.save(tmp_path / "m")
    source = tmp_path / "d.h5ad"
    make_adata().write_h5ad(source)
    before = source.read_bytes()
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(source)]) == 1
    assert "Refusing to overwrite the input file" in _one_line_error(capsys)
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(tmp_path)]) == 1
    assert "is a folder; give a file name, e.g." in _one_line_error(capsys)
    assert source.read_bytes() == before


def _new_batch_data(tmp_path):
    query = make_adata(seed=3)
    query.obs["batch"] = query.obs["batch"].astype(str).map({"batch_0": "site_x",
                                                             "batch_1": "site_y"})
    path = tmp_path / "query.h5ad"
    query.write_h5ad(path)
    return path


def test_new_batches_are_mapped_by_the_map_command(tmp_path, capsys, trained):
    model, _ = trained
    model.save(tmp_path / "m")
    source = _new_batch_data(tmp_path)
    out = tmp_path / "annotated.h5ad"
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(out)]) == 1
    line = _one_line_error(capsys)
    assert "site_x" in line and "fadvi map" in line
    assert not out.exists()
    assert main(["map", str(tmp_path / "m"), str(source), "--out", str(out), "--max-epochs", "1",
                 "--batch-size", "32", "--save-model", str(tmp_path / "mapped")]) == 0
    annotated = anndata.read_h5ad(out)
    assert set(annotated.obs["fadvi_prediction"]) <= set(model.label_classes)
    assert np.all(annotated.obs["fadvi_confidence"] > 0)
    assert (tmp_path / "mapped" / "fadvi_model.npz").exists()
    current = os.umask(0)
    os.umask(current)
    assert out.stat().st_mode & 0o777 == 0o666 & ~current  # usual permissions, not 0600


def test_predict_ignores_labels_the_model_does_not_know(tmp_path, trained):
    model, _ = trained
    model.save(tmp_path / "m")
    data = make_adata(seed=4)
    data.obs["labels"] = data.obs["labels"].replace({"label_2": "a_new_type"})
    source = tmp_path / "d.h5ad"
    data.write_h5ad(source)
    out = tmp_path / "annotated.h5ad"
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(out)]) == 0
    annotated = anndata.read_h5ad(out)
    assert set(annotated.obs["fadvi_prediction"]) <= set(model.label_classes)
    assert "a_new_type" in set(annotated.obs["labels"])  # the user's labels are kept as they were
