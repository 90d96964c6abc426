"""Training with two DDP processes on CPU (gloo) gives a model that predicts like one process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

SCRIPT = textwrap.dedent('''
    import json, sys
    import anndata, numpy as np, pandas as pd, scvi
    from fadvi_core import FADVI

    mode, out = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    n_cells, n_genes = 300, 60
    labels = rng.integers(0, 3, n_cells)
    batches = rng.integers(0, 2, n_cells)
    programme = np.ones((3, n_genes))
    for k in range(3):
        programme[k, k * 20:(k + 1) * 20] = 6.0
    means = programme[labels] * np.where(batches[:, None] == 1, 1.5, 1.0) * 2
    adata = anndata.AnnData(rng.poisson(means).astype(np.float32))
    truth = np.array(["a", "b", "c"])[labels]
    adata.obs["batch"] = np.array(["b0", "b1"])[batches]
    adata.obs["labels"] = np.where(batches == 1, "Unknown", truth)
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(adata, n_hidden=32, n_latent_b=4, n_latent_l=4, n_latent_r=2, n_layers=1)
    options = {"accelerator": "cpu", "devices": 2, "strategy": "ddp"} if mode == "ddp" else {}
    model.train(max_epochs=30, batch_size=32, threads=1, check_val_every_n_epoch=1, **options)
    hidden = batches == 1
    predictions = model.predict()
    weights = sum(float(v.double().sum()) for v in model.module.state_dict().values())
    with open(f"{out}/{mode}_rank{model.global_rank_}.json", "w") as handle:
        json.dump({"predictions": predictions.tolist(), "weights": weights,
                   "accuracy": float((predictions[hidden] == truth[hidden]).mean()),
                   "epochs": len(model.history["elbo_train"]),
                   "validation": model.history["elbo_validation"].iloc[:, 0].tolist()}, handle)
''')


def _run(script, mode, tmp_path):
    """Run the script in its own process group; a hung rank fails the test instead of hanging it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    log = tmp_path / f"{mode}.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, str(script), mode, str(tmp_path)], env=env,
                                   stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=600)
            ranks = 2 if mode == "ddp" else 1
            deadline = time.monotonic() + 120  # the other rank may still be writing its file
            while (len(list(tmp_path.glob(f"{mode}_rank*.json"))) < ranks
                   and time.monotonic() < deadline):
                time.sleep(0.5)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    assert returncode == 0, log.read_text()[-3000:]


def test_two_cpu_processes_train_a_model_that_predicts_like_one(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    _run(script, "single", tmp_path)
    _run(script, "ddp", tmp_path)
    single, rank0, rank1 = (json.loads((tmp_path / name).read_text()) for name in
                            ("single_rank0.json", "ddp_rank0.json", "ddp_rank1.json"))
    # Every rank ends with the same weights, the same history and the same predictions.
    assert rank0["weights"] == rank1["weights"]
    assert rank0["validation"] == rank1["validation"] and rank0["epochs"] == 30
    assert rank0["predictions"] == rank1["predictions"]
    # Two processes learn the hidden batch's labels as well as one does.
    assert single["accuracy"] > 0.9 and rank0["accuracy"] > 0.9
    agreement = np.mean(np.array(single["predictions"]) == np.array(rank0["predictions"]))
    assert agreement > 0.9
