"""A Python script, written beside an exported ``.h5ad``, that trains the same model again.

It calls ``fadvi_core`` the way the app did: the same training data preparation, model
settings, seed and number of epochs, with the package versions noted, so a computational
colleague can reproduce (or scale up) an annotation made in the app.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fadvi_core import write_atomically

#: Appended to the ``.h5ad`` file's stem to name the script.
SCRIPT_SUFFIX = "_rerun.py"


def script_path(h5ad_path: str | os.PathLike) -> Path:
    """Return where the script of ``h5ad_path`` goes (``<stem>_rerun.py`` beside it)."""
    p = Path(h5ad_path)
    return p.with_name(f"{p.stem}{SCRIPT_SUFFIX}")


def rerun_script(h5ad_name: str, *, setup: dict[str, Any], model_kwargs: dict[str, Any],
                 training: dict[str, Any], epochs_trained: int | None,
                 versions: dict[str, str]) -> str:
    """Return the text of a script that retrains the model on ``h5ad_name`` (next to it).

    Parameters
    ----------
    h5ad_name
        File name of the exported data (it holds every column the app made, e.g. withheld or
        annotated labels).
    setup
        The data choices (``uns["fadvi"]["settings"]["setup"]``).
    model_kwargs, training
        ``FADVI(...)`` arguments and the training settings.
    epochs_trained
        Epochs the app's run actually trained (fixed in the script, so early stopping and the
        time budget need not be repeated); None to use ``training["max_epochs"]``.
    versions
        Package versions of the original run.
    """
    hvg_key = setup.get("batch_key") if setup.get("hvg_batch_aware", True) else None
    unlabelled = setup.get("unlabeled_category") or "__fadvi_every_cell_labelled__"
    epochs = epochs_trained or training.get("max_epochs")
    lines = [
        f'"""Retrain the FADVI model of {h5ad_name}, as the FADVI desktop app trained it.',
        "",
        "Versions of the original run:",
        *[f"    {name} {version}" for name, version in sorted(versions.items())],
        "Run it with the same versions for the same numbers; on a GPU server change `accelerator`.",
        '"""',
        "",
        "from pathlib import Path",
        "",
        "import anndata",
        "import scvi",
        "",
        "import fadvi_core",
        "from fadvi_core import FADVI",
        "",
        f"adata = anndata.read_h5ad(Path(__file__).with_name({h5ad_name!r}))",
        "train_data = fadvi_core.prepare_training_data(",
        "    adata,",
        f"    layer={setup.get('layer')!r},",
        f"    batch_key={setup.get('batch_key')!r},",
        f"    labels_key={setup.get('labels_key')!r},",
        f"    unlabeled_category={unlabelled!r},",
        f"    categorical_covariate_keys={list(setup.get('categorical_covariate_keys') or [])!r},",
        f"    continuous_covariate_keys={list(setup.get('continuous_covariate_keys') or [])!r},",
        f"    n_top_genes={setup.get('n_top_genes')!r},",
        f"    hvg_batch_key={hvg_key!r},",
        ")",
        f"scvi.settings.seed = {int(training.get('seed') or 0)}",
        f"model = FADVI(train_data, **{dict(model_kwargs)!r})",
        "model.train(",
        f"    max_epochs={epochs!r},",
        f"    batch_size={int(training.get('batch_size') or 128)},",
        f"    train_size={float(training.get('train_size') or 0.9)!r},",
        f"    accelerator={str(training.get('device') or 'auto')!r},",
        ")",
        f"model.save(str(Path(__file__).with_name({Path(h5ad_name).stem + '_model'!r})), overwrite=True)",
        "",
        'adata.obsm["X_fadvi_l"] = model.get_latent_representation(representation="label")',
        'adata.obs["fadvi_prediction"] = model.predict()',
        'print(adata.obs["fadvi_prediction"].value_counts())',
        "",
    ]
    return "\n".join(lines)


def write_rerun_script(h5ad_path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to :func:`script_path` of ``h5ad_path``, atomically; return the path."""
    target = script_path(h5ad_path)
    return write_atomically(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"),
                            create_folder=False)


__all__ = ["SCRIPT_SUFFIX", "rerun_script", "script_path", "write_rerun_script"]
