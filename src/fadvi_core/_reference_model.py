"""A reference you can keep: a FADVI model trained on a labelled file, with its model card.

A reference model is a folder:

- ``fadvi_model.npz``: the model, in the engine's safe format (`_io`);
- ``reference_card.json``: the model card (genes and their ids, classes with their cell counts,
  the training file's name, size and SHA-256, validation accuracy and ECE, versions, date);
- ``reference_cells.npz``: z_l and the label of up to `_annotate.MAX_VOTING_CELLS` reference
  cells, for the kNN vote of ``fadvi_agreement``.

Nothing in it can run code: JSON checked field by field, arrays read without pickle.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import sparse

from . import _reference as ref
from ._annotate import _record, file_sha256, train_joint, voting_cells
from ._defaults import DEFAULT_TIME_BUDGET_S
from ._genes import GeneMatch, match_genes
from ._genes import identifier_columns as _identifier_columns
from ._schema import ModelFileError

CARD_FILE = "reference_card.json"
CELLS_FILE = "reference_cells.npz"
CARD_FORMAT = "fadvi-reference-card"
MAP_EPOCHS = 10  # passes over the query when mapping: only batch weights learn
_MAX_CARD_BYTES = 64 << 20
_CARD_FIELDS = {"format": str, "format_version": int, "labels_key": str, "classes": dict,
                "genes": list, "gene_ids": dict, "data": dict, "batches": list,
                "validation": dict, "versions": dict, "created": str}


def _validation_quality(model, labels_key: str) -> dict:
    """Accuracy and expected calibration error on the held-out labelled cells."""
    from ._calibration import expected_calibration_error

    indices = np.asarray(getattr(model, "validation_indices_", []), dtype=int)
    labels = model.adata.obs[labels_key].astype(str).to_numpy()[indices]
    labelled = np.isin(labels, model.label_classes)
    if not labelled.any():
        return {"accuracy": None, "ece": None, "n_cells": 0}
    soft = model.predict(model.adata, indices=indices[labelled], soft=True)
    classes = soft.columns.get_indexer(labels[labelled])
    accuracy = float((soft.to_numpy().argmax(axis=1) == classes).mean())
    return {"accuracy": accuracy, "ece": expected_calibration_error(soft.to_numpy(), classes),
            "n_cells": int(labelled.sum())}


def _empty_query(genes: pd.Index) -> AnnData:
    return AnnData(X=sparse.csr_matrix((0, len(genes)), dtype=np.float32),
                   var=pd.DataFrame(index=genes))


class ReferenceModel:
    """A trained reference and its card; `annotate` maps a query onto it.

    Build one with `ReferenceModel.train`, keep it with `save`, open it with `load`.
    """

    def __init__(self, model, card: dict, latent: np.ndarray, labels: np.ndarray,
                 model_sha256: str | None = None):
        self.model, self.card = model, card
        self.latent, self.labels = latent, labels
        self.model_sha256 = model_sha256

    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])

    @classmethod
    def train(cls, reference: AnnData, *, labels_key: str, reference_batch_key: str | None = None,
              reference_layer: str | None = None, coarse_labels_key: str | None = None,
              n_top_genes: int | None = ref.DEFAULT_GENES,
              time_budget_s: float = DEFAULT_TIME_BUDGET_S, max_epochs: int | None = None,
              seed: int = 0, source: str | os.PathLike | None = None, progress_callback=None,
              should_stop=None) -> ReferenceModel:
        """Train a reference model on ``reference``'s labelled cells (``source``: its file)."""
        stand_in = _empty_query(pd.Index(reference.var_names.astype(str)))
        joint = ref.joint_data(stand_in, reference, labels_key=labels_key,
                               reference_batch_key=reference_batch_key,
                               reference_layer=reference_layer,
                               coarse_labels_key=coarse_labels_key, n_top_genes=n_top_genes)
        model = train_joint(joint, time_budget_s=time_budget_s, max_epochs=max_epochs, seed=seed,
                            progress_callback=progress_callback, should_stop=should_stop)
        return cls.from_model(model, data=reference, labels_name=labels_key,
                              coarse_labels_key=coarse_labels_key, coarse_of=joint.coarse_of,
                              source=source, seed=seed)

    @classmethod
    def from_model(cls, model, *, data: AnnData | None = None, labels_name: str | None = None,
                   coarse_labels_key: str | None = None, coarse_of: dict[str, str] | None = None,
                   source: str | os.PathLike | None = None, seed: int = 0) -> ReferenceModel:
        """The reference of a trained model with labels (the app's, or `train`'s).

        ``data`` is the file the model's genes came from (its gene ids go on the card; default
        the model's AnnData); ``coarse_labels_key`` an obs column of the model's AnnData whose
        labels are the coarse level.
        """
        from ._cli_record import package_versions

        setup = model.registry_["setup_args"]
        labels_key = setup.get("labels_key")
        if labels_key is None or not model.label_classes:
            raise ValueError("This model was trained without cell-type labels, so it cannot be "
                             "a reference. Train it with a labels column.")
        if setup.get("categorical_covariate_keys") or setup.get("continuous_covariate_keys"):
            raise ValueError("This model uses covariates, which a query file would need too; a "
                             "reference model is trained without covariates.")
        adata, data = model.adata, model.adata if data is None else data
        labels = adata.obs[labels_key].astype(str).to_numpy()
        labelled = np.flatnonzero(np.isin(labels, model.label_classes))
        voters = labelled[voting_cells(len(labelled), seed)]
        latent = model.get_latent_representation(adata, indices=voters, representation="l")
        classes = list(model.label_classes)
        counts = pd.Series(labels[labelled]).value_counts()
        if coarse_of is None and coarse_labels_key is not None:
            coarse_of = ref.coarse_labels(
                pd.Series(labels[labelled]),
                pd.Series(adata.obs[coarse_labels_key].astype(str).to_numpy()[labelled]))
        genes = model.var_names
        positions = pd.Index(data.var_names.astype(str)).get_indexer(genes)
        id_columns = _identifier_columns(data) if (positions >= 0).all() else {}
        gene_ids = {name: [str(v) for v in data.var[name].to_numpy()[positions]]
                    for name in data.var.columns if f"var['{name}']" in id_columns}
        path = Path(source) if source is not None else None
        card = {
            "format": CARD_FORMAT, "format_version": 1, "labels_key": labels_name or labels_key,
            "coarse_labels_key": coarse_labels_key, "coarse_of": coarse_of,
            "classes": {name: int(counts.get(name, 0)) for name in classes},
            "genes": [str(g) for g in genes], "gene_ids": gene_ids,
            "data": {"name": path.name if path else "(in memory)", "n_cells": data.n_obs,
                     "n_genes": data.n_vars,
                     "sha256": file_sha256(path) if path and path.is_file() else None},
            "batches": [b.removeprefix("reference: ") for b in model.batch_categories],
            "validation": _validation_quality(model, labels_key),
            "versions": package_versions(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        return cls(model, card, latent.astype(np.float32),
                   pd.Index(classes).get_indexer(labels[voters]).astype(np.int64))

    def save(self, dir_path: str | os.PathLike, overwrite: bool = False) -> None:
        """Write the model, the card and the voting cells into ``dir_path`` (each atomically)."""
        from ._atomic import write_atomically

        folder = Path(dir_path)
        if (folder / CARD_FILE).exists() and not overwrite:
            raise FileExistsError(f"{folder} already holds a reference model; pass "
                                  "overwrite=True (--overwrite) to replace it.")
        self.model.save(folder, overwrite=overwrite)
        text = json.dumps(self.card, indent=1).encode()
        write_atomically(folder / CARD_FILE, lambda temporary: Path(temporary).write_bytes(text))
        write_atomically(folder / CELLS_FILE, lambda temporary: np.savez(
            temporary, latent=self.latent, labels=self.labels))

    @classmethod
    def load(cls, dir_path: str | os.PathLike) -> ReferenceModel:
        """Open a reference model folder; `ModelFileError` says what is wrong with it."""
        from ._io import MODEL_FILE, _read_arrays
        from ._model import FADVI

        folder = Path(dir_path)
        if not (folder / CARD_FILE).is_file():
            raise ModelFileError(f"{folder} is not a reference model folder (no {CARD_FILE}). "
                                 "Make one with 'fadvi reference' or ReferenceModel.train.")
        card = read_card(folder / CARD_FILE)
        model = FADVI.load(folder, adata=None)
        if list(model.var_names) != card["genes"] or list(model.label_classes) != list(
                card["classes"]):
            raise ModelFileError(f"{folder}: the card's genes or classes are not the model's; "
                                 "the folder mixes two references. Save the reference again.")
        try:
            arrays = _read_arrays(folder / CELLS_FILE)
            latent, labels = arrays["latent"], arrays["labels"]
        except Exception as error:  # noqa: BLE001 - any failure means the file is unusable
            raise ModelFileError(f"{folder / CELLS_FILE} is missing or damaged "
                                 f"({type(error).__name__}). Save the reference again.") from None
        n_latent = model.module.label_head.net[0].in_features
        if (latent.ndim != 2 or latent.shape[1] != n_latent or labels.shape != latent.shape[:1]
                or latent.dtype.kind != "f" or labels.dtype.kind != "i"
                or not np.isfinite(latent).all() or labels.min(initial=0) < 0
                or labels.max(initial=0) >= len(card["classes"]) or len(labels) == 0):
            raise ModelFileError(f"{folder / CELLS_FILE} does not fit the model. Save the "
                                 "reference again.")
        return cls(model, card, latent, labels, file_sha256(folder / MODEL_FILE))

    def query_data(self, query: AnnData, *, batch_key: str | None = None,
                   layer: str | None = None) -> tuple[AnnData, GeneMatch]:
        """``query``'s counts on this reference's genes (missing genes zero), with the batch
        ("query: ...") and label columns the model reads, and how the genes matched."""
        genes = pd.Index(self.card["genes"])
        stand_in = AnnData(X=sparse.csr_matrix((0, len(genes)), dtype=np.float32),
                           var=pd.DataFrame(self.card["gene_ids"], index=genes))
        match = match_genes(stand_in, query)
        ref.check_counts(query, layer, "data")
        counts = sparse.csr_matrix(ref.counts_of(query, layer, "data", "--layer"), dtype=np.float32)
        picked = counts[:, match.query_index].tocoo()
        matrix = sparse.csr_matrix((picked.data, (picked.row, match.reference_index[picked.col])),
                                   shape=(query.n_obs, len(genes)), dtype=np.float32)
        # The columns the model was set up with (the engine's own, or the app's).
        setup = self.model.registry_["setup_args"]
        obs = pd.DataFrame(index=pd.Index(query.obs_names.astype(str)))
        if setup.get("batch_key") is not None:
            obs[setup["batch_key"]] = pd.Categorical(ref.batch_names(
                query, batch_key, "query: ", "data", "--batch-key (batch_key)"))
        obs[setup["labels_key"]] = pd.Categorical([setup["unlabeled_category"]] * query.n_obs)
        layers = {setup["layer"]: matrix.copy()} if setup.get("layer") else None
        data = AnnData(X=matrix, obs=obs, var=pd.DataFrame(index=genes), layers=layers)
        ref.refuse_empty_query_cells(data)
        return data, match

    def map(self, data: AnnData, *, max_epochs: int = MAP_EPOCHS, seed: int = 0,
            progress_callback=None, should_stop=None):
        """A FADVI model for ``data`` (from `query_data`) with the reference's weights frozen
        and only the query's batch weights trained for ``max_epochs``."""
        import scvi

        from ._model import FADVI

        scvi.settings.seed = seed
        model = FADVI.load_query_data(data, self.model)
        model.train(max_epochs=max_epochs, progress_callback=progress_callback,
                    should_stop=should_stop)
        return model

    def annotate(self, query: AnnData, *, batch_key: str | None = None, layer: str | None = None,
                 max_epochs: int = MAP_EPOCHS, seed: int = 0, progress_callback=None,
                 should_stop=None) -> AnnData:
        """Map ``query`` onto this reference (only its batch weights learn); an annotated copy."""
        data, match = self.query_data(query, batch_key=batch_key, layer=layer)
        model = self.map(data, max_epochs=max_epochs, seed=seed,
                         progress_callback=progress_callback, should_stop=should_stop)
        return self.annotation(model, query, match, seed=seed, max_epochs=max_epochs)

    def annotation(self, model, query: AnnData, match: GeneMatch, *, seed: int = 0,
                   max_epochs: int = MAP_EPOCHS) -> AnnData:
        """The annotated copy of ``query`` by ``model`` from `map` (what `annotate` returns)."""
        data = model.adata
        genes = data.var_names
        frame, latents = ref.query_annotation(
            model, data, np.arange(data.n_obs), reference_latent=self.latent,
            reference_labels=np.asarray(self.classes, dtype=object)[self.labels],
            coarse_of=self.card.get("coarse_of"))
        frame.index = query.obs_names
        described = {"name": self.card["data"]["name"], "sha256": self.card["data"]["sha256"],
                     "n_cells": self.card["data"]["n_cells"], "model_sha256": self.model_sha256}
        record = _record(model, mode="mapping onto a reference model", reference=described,
                         genes=match, used=list(genes), seed=seed,
                         options={"max_epochs": max_epochs})
        return ref.annotated_copy(query, frame, latents, record)

    def describe(self) -> str:
        """The model card as a few plain lines."""
        card = self.card
        classes = ", ".join(f"{name} ({n})" for name, n in card["classes"].items())
        quality = card["validation"]
        accuracy = "n/a" if quality.get("accuracy") is None else f"{quality['accuracy']:.3f}"
        ece = "n/a" if quality.get("ece") is None else f"{quality['ece']:.3f}"
        sha = card["data"].get("sha256") or "not recorded"
        return "\n".join([
            f"Reference: {card['data']['name']} ({card['data']['n_cells']} cells, "
            f"{card['data']['n_genes']} genes; SHA-256 {sha[:16]})",
            f"Labels: '{card['labels_key']}', {len(card['classes'])} classes: {classes}",
            f"Genes used: {len(card['genes'])}; batches: {', '.join(card['batches'])}",
            f"Validation accuracy {accuracy}, ECE {ece} "
            f"({quality.get('n_cells', 0)} held-out cells)",
            f"Made {card['created']} with fadvi-desktop "
            f"{card['versions'].get('fadvi-desktop', '?')}"])


def read_card(path: Path) -> dict:
    """Read and check a model card; `ModelFileError` names the first field that is wrong."""
    def fail(what: str):
        raise ModelFileError(f"{path} is not a valid reference card ({what}). Save the "
                             "reference again.")
    if path.stat().st_size > _MAX_CARD_BYTES:
        fail("far too large")
    try:
        card = json.loads(path.read_bytes().decode())
    except (ValueError, UnicodeDecodeError, RecursionError):
        fail("not JSON text")
    if not isinstance(card, dict):
        fail("not an object")
    for name, kind in _CARD_FIELDS.items():
        if not isinstance(card.get(name), kind) or isinstance(card.get(name), bool):
            fail(f"field '{name}' missing or not a {kind.__name__}")
    if card["format"] != CARD_FORMAT or card["format_version"] != 1:
        fail("unknown format or version")
    if not all(isinstance(g, str) for g in card["genes"]) or not card["genes"]:
        fail("genes")
    classes = card["classes"]
    if len(classes) < 2 or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                   for n in classes.values()):
        fail("classes")
    for name, values in card["gene_ids"].items():
        if not isinstance(values, list) or len(values) != len(card["genes"]) or not all(
                isinstance(v, str) for v in values):
            fail(f"gene ids '{name[:40]}'")
    coarse = card.get("coarse_of")
    if coarse is not None and (not isinstance(coarse, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in coarse.items())):
        fail("coarse_of")
    quality = card["validation"]
    if not all(quality.get(k) is None or (isinstance(quality.get(k), (int, float))
                                          and not isinstance(quality.get(k), bool))
               for k in ("accuracy", "ece")):
        fail("validation")
    if not all(isinstance(v, str) for v in card["versions"].values()) or not all(
            isinstance(b, str) for b in card["batches"]):
        fail("versions or batches")
    data = card["data"]
    if not isinstance(data.get("name"), str) or not all(
            isinstance(data.get(k), int) and not isinstance(data.get(k), bool)
            for k in ("n_cells", "n_genes")):
        fail("data")
    if data.get("sha256") is not None and not isinstance(data["sha256"], str):
        fail("data sha256")
    return card
