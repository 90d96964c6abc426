"""The one object that owns the data, the model and the results, and runs work on them.

The session is the only writer of the AnnData, the model and the results: panels and
wiring send requests and redraw from its signals. A new dataset is one event
(:attr:`Session.data_loaded`) that every panel answers by returning to its empty state;
the end of any job is one event (:attr:`Session.job_ended`) that every status line answers.
Every long step runs as a :class:`~fadvi_gui.session.workers.Job` of a
:class:`~fadvi_gui.session.jobs.JobKind`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd
from qtpy.QtCore import QObject, Signal

from fadvi_gui.model import results
from fadvi_gui.model.choices import DataChoices, TrainingSettings
from fadvi_gui.model.embedding import METHODS, SPACES, embedding_key
from fadvi_gui.model.keys import LATENT_KEYS, PREDICTION_KEY, THRESHOLDED_KEY
from fadvi_gui.session.jobs import JobKind, blocker, wait_text
from fadvi_gui.session.project import ProjectFiles
from fadvi_gui.session.reference import ReferenceAnnotation
from fadvi_gui.session.workbench import Workbench
from fadvi_gui.session.workers import Job, wait_for_workers
from fadvi_gui.tasks import data as data_tasks
from fadvi_gui.tasks import training as training_tasks

if TYPE_CHECKING:
    from anndata import AnnData


class Session(QObject):
    """Holds the open dataset, its setup choices, the trained model and its results.

    Signals
    -------
    data_loaded(object)
        New data is in memory (a file was opened, or cells were dropped); carries
        the AnnData. Any previous model and results are gone.
    choices_changed(object)
        The setup choices (:class:`~fadvi_gui.model.choices.DataChoices`) changed; checks follow.
    problems_changed(list)
        The input checks for the current choices finished; carries a list of
        ``fadvi_core.InputProblem``, errors first.
    training_started(object)
        Carries the :class:`~fadvi_gui.model.choices.TrainingSettings` of the run.
    training_progress(object)
        Carries a ``fadvi_core.TrainingProgress`` (every epoch end, and steps
        at most every 50 ms).
    training_ended(str)
        ``"finished"``, ``"cancelled"`` or ``"failed"``.
    model_trained(object)
        A model is ready for use (also after a cancelled run); carries the FADVI model.
    latents_ready(dict)
        Carries ``{"X_fadvi_l": (n_cells, n_latent_l), "X_fadvi_b": ..., "X_fadvi_r": ...}``;
        they are in ``adata.obsm`` already, and embeddings of older latents are gone.
    reference_model_changed(object)
        A model was loaded from disk (kept across files, for mapping new data onto it).
    predictions_changed(str)
        Predictions of ``"label"`` or ``"batch"`` were written into the data.
    cells_changed()
        ``obs`` gained or changed columns (predictions, accepted labels, a saved selection).
    job_ended(str, str)
        A job ended; carries its kind and outcome (``"finished"``, ``"cancelled"``, ``"failed"``).
    saved(str)
        The annotated file was written; carries its path.
    busy_changed(str)
        What is running, in words ("Training the model"); empty when idle.
    error(str, str)
        Something failed; carries a plain message and technical details (a traceback).
    """

    data_loaded = Signal(object)
    choices_changed = Signal(object)
    problems_changed = Signal(list)
    training_started = Signal(object)
    training_progress = Signal(object)
    training_ended = Signal(str)
    model_trained = Signal(object)
    latents_ready = Signal(dict)
    reference_model_changed = Signal(object)
    predictions_changed = Signal(str)
    cells_changed = Signal()
    saved = Signal(str)
    busy_changed = Signal(str)
    job_ended = Signal(str, str)
    error = Signal(str, str)

    #: The class of the jobs :meth:`create_job` makes; a host with its own worker threads
    #: (the napari plugin) sets a subclass of :class:`Job`.
    job_class: type[Job] = Job

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.adata: AnnData | None = None
        self.path: Path | None = None
        self.choices = DataChoices()
        self.problems: list = []
        self.checks_current = False
        self.model = None
        #: A model loaded from disk, kept across opened files so new data can be mapped onto it.
        self.reference_model = None
        self.latents: dict | None = None
        self.training_settings: TrainingSettings | None = None
        #: The confidence threshold of the prediction review, saved in ``uns["fadvi"]``.
        self.review_threshold: float | None = None
        #: Set by :meth:`shut_down`: no follow-up work (latents, embeddings) is started.
        self.shutting_down = False
        self._jobs: dict[JobKind, Job] = {}
        self._check_generation = 0
        #: Annotation columns, withheld labels and their undo history (`session.workbench`).
        self.workbench = Workbench(self)
        #: Save Project / Open Project (`session.projects`).
        self.projects = ProjectFiles(self)
        #: File > Annotate with Reference... (`session.reference`).
        self.reference = ReferenceAnnotation(self)

    # ------------------------------------------------------------------ state
    @property
    def is_busy(self) -> bool:
        """True while any job runs."""
        return bool(self._jobs)

    @property
    def is_training(self) -> bool:
        """True while a training job runs."""
        return JobKind.TRAIN in self._jobs

    @property
    def can_train(self) -> bool:
        """True when data is loaded, checks for the current choices passed, and nothing else runs."""
        return (
            self.adata is not None
            and self.checks_current
            and not any(p.severity == "error" for p in self.problems)
            and self.blocker(JobKind.TRAIN) is None
        )

    def is_running(self, kind: JobKind | str) -> bool:
        """True while a job of ``kind`` (``JobKind.TRAIN``, ``"predict"``...) runs."""
        return kind in self._jobs

    def blocker(self, kind: JobKind | str) -> JobKind | None:
        """Return the running job kind that stops a ``kind`` job from starting, or None."""
        return blocker(JobKind(kind), self._jobs.keys())

    def blocked_reason(self, kind: JobKind | str) -> str:
        """Return what to tell the user while ``kind`` cannot start ("" when it can)."""
        running = self.blocker(kind)
        return wait_text(running) if running is not None else ""

    def busy_text(self) -> str:
        """Return what is running, in words, or an empty string."""
        return "; ".join(job.name for job in self._jobs.values())

    # ------------------------------------------------------------------- jobs
    def run_job(
        self, kind: JobKind | str, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Job:
        """Start ``func(control, *args, **kwargs)`` on a worker thread.

        Later panels (predictions, explanations) use this too, so their work
        shows in the status bar, reports errors the same way and is cancelled
        when the window closes. To connect ``progress`` before the worker can
        emit it, use :meth:`create_job`, connect, then :meth:`start_job`.

        Parameters
        ----------
        kind
            A short key; only one job of each kind runs at a time.
        name
            What the job does, in words, for the status bar and error messages.

        Returns
        -------
        Job
            Started; connect to its ``succeeded``/``cancelled``/``progress`` signals.

        Raises
        ------
        RuntimeError
            If a job of the same kind is still running.
        """
        job = self.create_job(kind, name, func, *args, **kwargs)
        self.start_job(job)
        return job

    def create_job(
        self, kind: JobKind | str, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Job:
        """Return a job for ``func`` that errors and the status bar already know, not yet started."""
        kind = JobKind(kind)
        if kind in self._jobs:
            raise RuntimeError(f"{self._jobs[kind].name} is still running. Wait for it or cancel it.")
        job = self.job_class(name, func, *args, **kwargs)
        job.kind = kind
        job.failed.connect(lambda message, details: self.error.emit(f"{name} failed: {message}", details))
        job.ended.connect(lambda outcome: self._on_job_ended(kind, job, outcome))
        return job

    def start_job(self, job: Job) -> None:
        """Start a job made by :meth:`create_job`."""
        if job.kind in self._jobs:
            raise RuntimeError(f"{self._jobs[job.kind].name} is still running. Wait for it or cancel it.")
        self._jobs[job.kind] = job
        job.start()
        self.busy_changed.emit(self.busy_text())

    def cancel(self, kind: JobKind | str) -> None:
        """Ask the running job of ``kind`` to stop (no-op if none runs)."""
        if kind in self._jobs:
            self._jobs[kind].cancel()

    def cancel_all(self) -> None:
        """Ask every running job to stop."""
        for job in list(self._jobs.values()):
            job.cancel()

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until all worker threads are done; True if they finished in time."""
        return wait_for_workers(timeout_ms)

    def shut_down(self) -> None:
        """Stop every job and start no follow-up work (the window is closing)."""
        self.shutting_down = True
        self.cancel_all()

    def _on_job_ended(self, kind: JobKind, job: Job, outcome: str) -> None:
        if self._jobs.get(kind) is job:
            del self._jobs[kind]
        self.job_ended.emit(kind.value, outcome)
        self.busy_changed.emit(self.busy_text())

    # ------------------------------------------------------------------- data
    def open(self, path: str | Path, *, demo: bool = False) -> None:
        """Read ``path`` in a worker; :attr:`data_loaded` follows, or :attr:`error`.

        With ``demo``, one batch's labels are withheld (:func:`fadvi_gui.tasks.data.read_demo`).
        """
        if self.is_training:
            self.error.emit("Cancel training before opening another file.", "")
            return
        path = Path(path)
        read = data_tasks.read_demo if demo else data_tasks.read_data
        job = self.run_job(JobKind.LOAD, f"Opening {path.name}", read, path)
        job.succeeded.connect(lambda adata: self._set_data(adata, path))

    def _set_data(self, adata: AnnData, path: Path | None) -> None:
        self.adata = adata
        self.path = path
        self.model = None
        self.latents = None
        if all(key in adata.obsm for key in LATENT_KEYS):  # a file this app saved
            self.latents = {key: np.asarray(adata.obsm[key]) for key in LATENT_KEYS}
        self.problems = []
        self.checks_current = False
        self.workbench.reset(adata)
        self.reference.data_replaced(adata)
        self.data_loaded.emit(adata)

    def drop_cells(self, mask: ArrayLike) -> None:
        """Remove the cells where ``mask`` is True from the data in memory (the file is untouched).

        Parameters
        ----------
        mask
            Boolean array of shape ``(n_cells,)``.
        """
        if self.adata is None or self.is_training:
            return
        self._set_data(self.adata[~mask].copy(), self.path)

    def set_choices(self, choices: DataChoices) -> None:
        """Store how the data maps onto the model and re-run the input checks in a worker."""
        self.choices = choices
        self.checks_current = False
        self.choices_changed.emit(choices)
        if self.adata is None:
            return
        self._check_generation += 1
        generation = self._check_generation
        self.cancel(JobKind.CHECK)
        # A check of older choices may still run; ours starts when it ends.
        if JobKind.CHECK in self._jobs:
            self._jobs[JobKind.CHECK].ended.connect(lambda _o: self._start_check(generation))
        else:
            self._start_check(generation)

    def _start_check(self, generation: int) -> None:
        if generation != self._check_generation or self.adata is None:
            return
        job = self.run_job(JobKind.CHECK, "Checking the data", data_tasks.check_input, self.adata,
                           self.choices)
        job.succeeded.connect(lambda problems: self._on_check_succeeded(generation, problems))

    def _on_check_succeeded(self, generation: int, problems: list) -> None:
        if generation != self._check_generation:
            return
        self.problems = problems = self.reference.explain_problems(problems)
        self.checks_current = True
        self.problems_changed.emit(problems)

    # --------------------------------------------------------------- training
    def train(self, settings: TrainingSettings) -> None:
        """Train a new model on the current data and choices in a worker."""
        if not self.can_train:
            self.error.emit("Training cannot start yet: fix the problems listed under the data first.", "")
            return
        self.training_settings = settings
        job = self.create_job(
            JobKind.TRAIN, "Training the model", training_tasks.train_model, self.adata,
            self.choices, settings,
        )
        job.progress.connect(self.training_progress)
        job.succeeded.connect(self._on_train_model_ready)
        job.cancelled.connect(self._on_train_model_ready)
        job.ended.connect(self.training_ended)
        self.start_job(job)
        self.training_started.emit(settings)

    def cancel_training(self) -> None:
        """Stop training after the current step; the model trained so far is kept."""
        self.cancel(JobKind.TRAIN)

    def _on_train_model_ready(self, model: Any) -> None:
        if model is None:
            return
        self.set_reference_model(model)
        self.adopt_model(model)

    def set_reference_model(self, model: Any) -> None:
        """Keep ``model`` (loaded or trained) across opened files, to map new data onto it."""
        self.reference_model = model
        self.reference_model_changed.emit(model)

    def adopt_model(self, model: Any, *, latents: dict | None = None) -> None:
        """Use ``model`` (trained, or mapped onto the open data) for the open data.

        The model's cells must be the session's cells, in the same order. ``latents`` are the
        model's latent spaces when already known (a reopened project); otherwise they are
        computed again.
        """
        self.model = model
        self.latents = latents
        self.model_trained.emit(model)

    # ---------------------------------------------------------------- results
    def compute_latents(self) -> None:
        """Compute the three latent spaces in a worker; :attr:`latents_ready` follows."""
        if self.model is None:
            return
        job = self.run_job(JobKind.LATENTS, "Computing latent spaces",
                           training_tasks.compute_latents, self.model)
        job.succeeded.connect(self._on_latents_computed)

    def _on_latents_computed(self, latents: dict) -> None:
        self._store_latents(latents)

    def _store_latents(self, latents: dict) -> None:
        """Write ``latents`` into ``obsm``, drop embeddings of older latents, then tell."""
        if self.adata is not None:
            for key, value in latents.items():
                self.adata.obsm[key] = np.asarray(value)
            for space in SPACES:
                for method in METHODS:
                    self.adata.obsm.pop(embedding_key(space, method), None)
        self.latents = latents
        self.latents_ready.emit(latents)

    def parameters(self) -> dict[str, Any]:
        """Return the setup and training settings, as stored in ``uns["fadvi"]`` on save."""
        out: dict[str, Any] = {"setup": self.choices.as_dict()}
        if self.training_settings is not None and self.model is not None:
            settings = self.training_settings
            out["model"] = dict(settings.model_kwargs)
            out["training"] = {
                "max_epochs": settings.max_epochs,
                "time_budget_s": settings.time_budget_s if settings.max_epochs is None else None,
                "batch_size": settings.batch_size,
                "train_size": settings.train_size,
                "early_stopping": settings.early_stopping,
                "seed": settings.seed,
                "device": settings.device,
                "stopped_early_by_user": bool(getattr(self.model, "training_was_stopped", False)),
            }
            reason = getattr(self.model, "stop_reason_", None)
            if reason is not None:
                out["training"]["stop_reason"] = str(reason)
        if self.review_threshold is not None:
            out["review"] = {"confidence_threshold": float(self.review_threshold)}
        if self.path is not None:
            out["source_file"] = str(self.path)
        return out

    def save_as(self, path: str | Path) -> None:
        """Write the annotated data to a new ``.h5ad``, atomically.

        It holds latents (``obsm["X_fadvi_l"]``, ``_b``, ``_r``) and embeddings in ``obsm``,
        predictions, confidence and accepted labels in ``obs``, and settings, seed and package
        versions in ``uns["fadvi"]`` (see :func:`fadvi_gui.model.results_io.save_annotated_h5ad`).

        Refuses to write over the file that was opened, so the input stays untouched.
        """
        if self.adata is None:
            return
        path = Path(path)
        if self.path is not None and path.resolve() == self.path.resolve():
            self.error.emit(
                "Choose a different file name: the file you opened is never overwritten, "
                "so your original data stays as it was.",
                "",
            )
            return
        seed = self.training_settings.seed if self.training_settings is not None else None
        if self.reference.active:  # the query's cells only, as opened
            job = self.reference.save_as(path, params=self.parameters(), seed=seed)
            job.succeeded.connect(lambda _written: self.saved.emit(str(path)))
            return
        job = self.run_job(
            JobKind.SAVE, f"Saving {path.name}", data_tasks.save_annotated, self.adata, path,
            latents=self.latents, model=self.model, params=self.parameters(), seed=seed,
            source=self.path,
        )
        job.succeeded.connect(lambda latents: self._on_save_written(path, latents))

    def _on_save_written(self, path: Path, latents: dict) -> None:
        if latents and self.latents is None:
            self._store_latents(latents)
        self.saved.emit(str(path))

    # --------------------------------------------------- writes into the data
    def set_embedding(self, space: str, method: str, coords: np.ndarray) -> bool:
        """Store a 2-D embedding of ``space`` in ``obsm``; False if it does not fit the data."""
        if self.adata is None or len(coords) != self.adata.n_obs:
            return False
        self.adata.obsm[embedding_key(space, method)] = np.asarray(coords, dtype=np.float32)
        return True

    def write_predictions(self, probabilities: pd.DataFrame, *, indices: ArrayLike | None, mode: str) -> None:
        """Write predictions of ``mode`` (see :func:`fadvi_gui.model.results.write_predictions`)."""
        if self.adata is None:
            return
        results.write_predictions(self.adata, probabilities, indices=indices, mode=mode)
        if mode == "label":
            self._write_thresholded()
        self.predictions_changed.emit(mode)
        self.cells_changed.emit()

    def set_review_threshold(self, threshold: float) -> None:
        """Mark predictions below ``threshold`` as uncertain (``obs["fadvi_prediction_thresholded"]``)."""
        self.review_threshold = float(threshold)
        if self._write_thresholded():
            self.cells_changed.emit()

    def _write_thresholded(self) -> bool:
        adata = self.adata
        if adata is None or PREDICTION_KEY not in adata.obs or self.review_threshold is None:
            return False
        shown = results.thresholded(adata.obs[PREDICTION_KEY], adata.obs[results.CONFIDENCE_KEY],
                                    self.review_threshold)
        adata.obs[THRESHOLDED_KEY] = pd.Categorical(shown.to_numpy(dtype=object))
        return True

    def accept_predictions(self, indices: ArrayLike | None, threshold: float) -> int:
        """Copy confident predictions into ``obs["fadvi_accepted_label"]``; return how many.

        Raises
        ------
        ValueError
            If there are no predictions to accept (the message says what to do).
        """
        if self.adata is None:
            return 0
        c = self.choices
        n = results.accept_predictions(
            self.adata, labels_key=c.labels_key, unlabeled_category=c.unlabeled_category,
            threshold=threshold, indices=indices, replace_labelled=indices is not None)
        self.cells_changed.emit()
        return n

    def write_obs_columns(self, columns: pd.DataFrame) -> None:
        """Write ``columns`` (one row per cell, in order) into ``obs``, e.g. prediction sets."""
        if self.adata is None or len(columns) != self.adata.n_obs:
            return
        for name in columns:
            self.adata.obs[name] = columns[name].to_numpy()
        self.cells_changed.emit()
        self.predictions_changed.emit("label")  # the review shows the sets and novelty

    def flag_cells(self, name: str, indices: ArrayLike) -> None:
        """Add a True/False ``obs`` column ``name``, True at the positions ``indices``."""
        if self.adata is None:
            return
        mask = np.zeros(self.adata.n_obs, dtype=bool)
        mask[np.asarray(indices, dtype=np.int64)] = True
        self.adata.obs[name] = mask
        self.cells_changed.emit()
