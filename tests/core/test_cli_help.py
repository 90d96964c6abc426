"""The command line explains itself: help with defaults, a record of the run, early device checks."""

from __future__ import annotations

import argparse

import anndata
import pytest
import torch

import fadvi_core.__main__ as cli
from fadvi_core.__main__ import build_parser, main

from .conftest import make_adata


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("name", ["train", "predict", "map", "annotate", "reference"])
def test_every_option_says_its_default(name):
    command = _commands()[name]
    for action in command._actions:
        if action.option_strings and action.dest not in ("help", "out") and not action.required:
            assert "default" in (action.help or ""), f"fadvi {name} {action.option_strings[0]}"


def test_help_says_what_out_is_and_the_unlabelled_default():
    commands = _commands()
    train_out = commands["train"].format_help()
    assert "--out FOLDER" in train_out and "--unlabeled-category" in train_out
    assert "(default: Unknown)" in " ".join(train_out.split())
    assert "--out FILE" in commands["predict"].format_help()
    assert "new .h5ad file" in " ".join(commands["predict"].format_help().split())


def test_predict_records_the_run_and_says_why_training_stopped(tmp_path, capsys):
    source = tmp_path / "data.h5ad"
    make_adata().write_h5ad(source)
    assert main(["train", str(source), "--batch-key", "batch", "--labels-key", "labels",
                 "--max-epochs", "2", "--no-early-stopping", "--batch-size", "32",
                 "--out", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    out = tmp_path / "annotated.h5ad"
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(out), "--seed", "3"]) == 0
    assert "The model's training ended: reached the epoch cap after 2 epochs" in capsys.readouterr().out
    record = anndata.read_h5ad(out).uns["fadvi"]
    assert record["seed"] == 3
    assert record["settings"]["setup"]["labels_key"] == "labels"
    assert record["settings"]["setup"]["unlabeled_category"] == "Unknown"
    assert record["settings"]["model"]["n_latent_l"] == 30
    assert record["settings"]["training"]["epochs"] == 2
    assert record["settings"]["training"]["stop_reason"] == "reached the epoch cap after 2 epochs"
    assert record["settings"]["command"] == "predict"
    assert {"scvi-tools", "torch", "anndata"} <= set(record["versions"])


@pytest.mark.parametrize("command", ["train", "predict", "map"])
def test_gpu_without_a_gpu_fails_before_reading_data(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    read = []
    monkeypatch.setattr(cli.anndata, "read_h5ad", lambda *a, **k: read.append(a))
    args = {"train": ["train", "data.h5ad", "--out", str(tmp_path / "m")],
            "predict": ["predict", "model", "data.h5ad", "--out", str(tmp_path / "x.h5ad")],
            "map": ["map", "model", "data.h5ad", "--out", str(tmp_path / "x.h5ad")]}[command]
    assert main([*args, "--accelerator", "gpu"]) == 1
    assert not read
    assert "--accelerator gpu: torch sees no CUDA GPU" in capsys.readouterr().err
