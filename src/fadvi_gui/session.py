"""The one object that owns the data, the model and the results, and runs work on them.

Panels never hold the AnnData or the model: they send requests to the
:class:`Session` (through the main window's wiring) and redraw from its
signals. Every long step runs as a :class:`~fadvi_gui.workers.Job`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Signal

from fadvi_gui import tasks
from fadvi_gui.choices import DataChoices, TrainingSettings
from fadvi_gui.workers import Job, wait_for_workers

if TYPE_CHECKING:
    from anndata import AnnData


class Session(QObject):
    """Holds the open dataset, its setup choices, the trained model and its results.

    Signals
    -------
    data_loaded(object)
        New data is in memory (a file was opened, or cells were dropped); carries
        the AnnData. Any previous model and results are gone.
    problems_changed(list)
        The input checks for the current choices finished; carries a list of
        ``fadvi_core.InputProblem``, errors first.
    training_started(object)
        Carries the :class:`~fadvi_gui.choices.TrainingSettings` of the run.
    training_progress(object)
        Carries a ``fadvi_core.TrainingProgress`` (every epoch end, and steps
        at most every 50 ms).
    training_ended(str)
        ``"finished"``, ``"cancelled"`` or ``"failed"``.
    model_trained(object)
        A model is ready for use (also after a cancelled run); carries the FADVI model.
    latents_ready(dict)
        Carries ``{"X_fadvi_l": (n_cells, n_latent_l), "X_fadvi_b": ..., "X_fadvi_r": ...}``.
    saved(str)
        The annotated file was written; carries its path.
    busy_changed(str)
        What is running, in words ("Training the model"); empty when idle.
    error(str, str)
        Something failed; carries a plain message and technical details (a traceback).
    """

    data_loaded = Signal(object)
    problems_changed = Signal(list)
    training_started = Signal(object)
    training_progress = Signal(object)
    training_ended = Signal(str)
    model_trained = Signal(object)
    latents_ready = Signal(dict)
    saved = Signal(str)
    busy_changed = Signal(str)
    error = Signal(str, str)

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
        #: Set when the window closes: no follow-up work (latents, embeddings) is started.
        self.shutting_down = False
        self._jobs: dict[str, Job] = {}
        self._check_generation = 0

    # ------------------------------------------------------------------ state
    @property
    def is_busy(self) -> bool:
        """True while any job runs."""
        return bool(self._jobs)

    @property
    def is_training(self) -> bool:
        """True while a training job runs."""
        return "train" in self._jobs

    @property
    def can_train(self) -> bool:
        """True when data is loaded, checks for the current choices passed, and nothing else runs."""
        return (
            self.adata is not None
            and self.checks_current
            and not any(p.severity == "error" for p in self.problems)
            and not {"load", "train", "save"} & self._jobs.keys()
        )

    def is_running(self, kind: str) -> bool:
        """True while a job of ``kind`` (``"train"``, ``"predict"``, ``"save"``...) runs."""
        return kind in self._jobs

    def busy_text(self) -> str:
        """Return what is running, in words, or an empty string."""
        return "; ".join(job.name for job in self._jobs.values())

    # ------------------------------------------------------------------- jobs
    def run_job(
        self, kind: str, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
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
        self, kind: str, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Job:
        """Return a job for ``func`` that errors and the status bar already know, not yet started."""
        if kind in self._jobs:
            raise RuntimeError(f"{self._jobs[kind].name} is still running. Wait for it or cancel it.")
        job = Job(name, func, *args, **kwargs)
        job.kind = kind
        job.failed.connect(lambda message, details: self.error.emit(f"{name} failed: {message}", details))
        job.ended.connect(lambda _outcome: self._on_job_ended(kind, job))
        return job

    def start_job(self, job: Job) -> None:
        """Start a job made by :meth:`create_job`."""
        if job.kind in self._jobs:
            raise RuntimeError(f"{self._jobs[job.kind].name} is still running. Wait for it or cancel it.")
        self._jobs[job.kind] = job
        job.start()
        self.busy_changed.emit(self.busy_text())

    def cancel(self, kind: str) -> None:
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

    def _on_job_ended(self, kind: str, job: Job) -> None:
        if self._jobs.get(kind) is job:
            del self._jobs[kind]
        self.busy_changed.emit(self.busy_text())

    # ------------------------------------------------------------------- data
    def open(self, path: str | Path) -> None:
        """Read ``path`` in a worker; :attr:`data_loaded` follows, or :attr:`error`."""
        if self.is_training:
            self.error.emit("Cancel training before opening another file.", "")
            return
        path = Path(path)
        job = self.run_job("load", f"Opening {path.name}", tasks.read_data, path)
        job.succeeded.connect(lambda adata: self._set_data(adata, path))

    def _set_data(self, adata: AnnData, path: Path | None) -> None:
        self.adata = adata
        self.path = path
        self.model = None
        self.latents = None
        self.problems = []
        self.checks_current = False
        self.data_loaded.emit(adata)

    def drop_cells(self, mask) -> None:
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
        if self.adata is None:
            return
        self._check_generation += 1
        generation = self._check_generation
        self.cancel("check")
        # A check of older choices may still run; ours starts when it ends.
        if "check" in self._jobs:
            self._jobs["check"].ended.connect(lambda _o: self._start_check(generation))
        else:
            self._start_check(generation)

    def _start_check(self, generation: int) -> None:
        if generation != self._check_generation or self.adata is None:
            return
        job = self.run_job("check", "Checking the data", tasks.check_input, self.adata, self.choices)
        job.succeeded.connect(lambda problems: self._on_check_succeeded(generation, problems))

    def _on_check_succeeded(self, generation: int, problems: list) -> None:
        if generation != self._check_generation:
            return
        self.problems = problems
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
            "train", "Training the model", tasks.train_model, self.adata, self.choices, settings
        )
        job.progress.connect(self.training_progress)
        job.succeeded.connect(self._on_train_model_ready)
        job.cancelled.connect(self._on_train_model_ready)
        job.ended.connect(self.training_ended)
        self.start_job(job)
        self.training_started.emit(settings)

    def cancel_training(self) -> None:
        """Stop training after the current step; the model trained so far is kept."""
        self.cancel("train")

    def _on_train_model_ready(self, model: Any) -> None:
        if model is None:
            return
        self.reference_model = model
        self.adopt_model(model)

    def adopt_model(self, model: Any) -> None:
        """Use ``model`` (trained, or mapped onto the open data) for the open data.

        The model's cells must be the session's cells, in the same order.
        """
        self.model = model
        self.latents = None
        self.model_trained.emit(model)

    # ---------------------------------------------------------------- results
    def compute_latents(self) -> None:
        """Compute the three latent spaces in a worker; :attr:`latents_ready` follows."""
        if self.model is None:
            return
        job = self.run_job("latents", "Computing latent spaces", tasks.compute_latents, self.model)
        job.succeeded.connect(self._on_latents_computed)

    def _on_latents_computed(self, latents: dict) -> None:
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
                "batch_size": settings.batch_size,
                "train_size": settings.train_size,
                "early_stopping": settings.early_stopping,
                "seed": settings.seed,
                "device": settings.device,
                "stopped_early_by_user": bool(getattr(self.model, "training_was_stopped", False)),
            }
        if self.review_threshold is not None:
            out["review"] = {"confidence_threshold": float(self.review_threshold)}
        if self.path is not None:
            out["source_file"] = str(self.path)
        return out

    def save_as(self, path: str | Path) -> None:
        """Write the annotated data to a new ``.h5ad``, atomically.

        It holds latents (``obsm["X_fadvi_l"]``, ``_b``, ``_r``) and embeddings in ``obsm``,
        predictions, confidence and accepted labels in ``obs``, and settings, seed and package
        versions in ``uns["fadvi"]`` (see :func:`fadvi_gui.results_io.save_annotated_h5ad`).

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
        job = self.run_job(
            "save", f"Saving {path.name}", tasks.save_annotated, self.adata, path,
            latents=self.latents, model=self.model, params=self.parameters(), seed=seed,
            source=self.path,
        )
        job.succeeded.connect(lambda latents: self._on_save_written(path, latents))

    def _on_save_written(self, path: Path, latents: dict) -> None:
        if latents and self.latents is None:
            self.latents = latents
            self.latents_ready.emit(latents)
        self.saved.emit(str(path))
