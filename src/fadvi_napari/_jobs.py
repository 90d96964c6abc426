"""The session's jobs on napari's worker threads, with a bar in napari's activity dock.

:class:`NapariJob` is the app's :class:`~fadvi_gui.session.Job` started through
``napari.qt.threading.create_worker`` (napari's subclass of the same superqt worker), so
napari lists it as a running task and shows its progress; :class:`NapariSession` is the
app's session making such jobs. Everything else (cancel, signals, outcomes) is the app's.
"""

from __future__ import annotations

from typing import Any

from napari.qt.threading import create_worker
from napari.utils import progress

from fadvi_gui.session import Job, Session

#: Steps of a determinate bar in the activity dock.
BAR_STEPS = 100


def progress_fraction(value: Any) -> float | None:
    """Return how far a job got, in [0, 1], from any progress value its task reports.

    Knows the engine's ``TrainingProgress`` (epoch, step), ``ChunkProgress`` (done, total)
    and the viewer's ``EmbeddingProgress`` (fraction); None for anything else.
    """
    if hasattr(value, "fraction"):
        fraction = float(value.fraction)
    elif hasattr(value, "done") and hasattr(value, "total"):
        fraction = value.done / value.total if value.total else 0.0
    elif hasattr(value, "max_epochs") and hasattr(value, "epoch"):
        within = value.step / value.n_steps if getattr(value, "n_steps", 0) else 0.0
        fraction = (value.epoch + within) / value.max_epochs if value.max_epochs else 0.0
    else:
        return None
    return min(max(fraction, 0.0), 1.0)


class NapariJob(Job):
    """A :class:`~fadvi_gui.session.Job` run by napari's worker, with an activity-dock bar.

    The bar (a ``napari.utils.progress``) is made when the job starts and closed when it
    ends, both on the UI thread, so even a job that ends at once leaves no bar behind. It
    starts indeterminate and turns determinate at the first progress value that
    :func:`progress_fraction` understands.
    """

    def __init__(self, name: str, func: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, func, *args, **kwargs)
        self.pbar: progress | None = None
        self.progress.connect(self._on_progress)
        self.ended.connect(self._on_ended)

    #: napari's worker, which the activity dock lists.
    worker_factory = staticmethod(create_worker)

    def start(self) -> None:
        """Queue the function on napari's worker threads, listed in the activity dock."""
        self.pbar = progress(total=0, desc=self.name)
        super().start()

    def _on_ended(self, _outcome: str) -> None:
        if self.pbar is not None:
            self.pbar.close()

    def _on_progress(self, value: Any) -> None:
        fraction = progress_fraction(value)
        bar = self.pbar
        if fraction is None or bar is None or bar.disable:
            return
        if bar.total != BAR_STEPS:
            bar.total = BAR_STEPS
        step = round(fraction * BAR_STEPS)
        if step > bar.n:
            bar.update(step - bar.n)


class NapariSession(Session):
    """The app's :class:`~fadvi_gui.session.Session`, running its jobs as :class:`NapariJob`."""

    job_class = NapariJob


__all__ = ["NapariJob", "NapariSession", "progress_fraction"]
