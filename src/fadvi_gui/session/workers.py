"""Run long work off the UI thread and bring its progress and outcome back by signal.

A :class:`Job` wraps one call of a plain function in a superqt worker (a
``QRunnable`` in the global thread pool). The function receives a
:class:`JobControl` that it hands to the engine as ``progress_callback`` and
``should_stop``; the control turns progress into a Qt signal, so the function
never touches a widget and the engine never sees Qt.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, Literal

from qtpy.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from fadvi_core import Cancelled

Outcome = Literal["finished", "cancelled", "failed"]

#: Least time between two progress signals that are not forced (seconds).
PROGRESS_INTERVAL_S = 0.05


class JobCancelled(Exception):
    """Raised inside a job's function to end it early as "cancelled".

    The engine's own ``fadvi_core.Cancelled`` is treated the same way.
    """


class JobControl:
    """What a job's function holds to report progress and check for cancellation.

    Both methods are safe to call from the worker thread and are plain
    callables, so they can be passed straight to the engine.

    Parameters
    ----------
    emit
        Called with each progress value that passes the rate limit; a Qt
        signal's ``emit``, so values cross to the UI thread queued.
    """

    def __init__(self, emit: Callable[[Any], None]) -> None:
        self._emit = emit
        self._stop = threading.Event()
        self._last_emit = 0.0

    def report(self, value: Any, *, force: bool = False) -> None:
        """Send ``value`` to the UI thread, at most every 50 ms unless ``force``."""
        now = time.monotonic()
        if force or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self._emit(value)

    def request_stop(self) -> None:
        """Ask the function to stop at its next check."""
        self._stop.set()

    def should_stop(self) -> bool:
        """Return True once a stop was requested."""
        return self._stop.is_set()


class Job(QObject):
    """One call of ``func(control, *args, **kwargs)`` on a worker thread.

    Parameters
    ----------
    name
        What the job does, in words for the status bar ("Training the model").
    func
        Called on the worker thread with a :class:`JobControl` first.
    *args, **kwargs
        Passed on to ``func``.

    Signals
    -------
    progress(object)
        A value the function reported.
    succeeded(object)
        The function returned and no stop was requested; carries its result.
    cancelled(object)
        A stop was requested (or :class:`JobCancelled` raised); carries the
        function's result, or None if it raised.
    failed(str, str)
        The function raised; carries a one-line message and the traceback.
    ended(str)
        Always last; carries the outcome ``"finished"``, ``"cancelled"`` or ``"failed"``.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    cancelled = Signal(object)
    failed = Signal(str, str)
    ended = Signal(str)

    #: Makes the thread worker: superqt's; the napari plugin's jobs use napari's.
    worker_factory = staticmethod(create_worker)

    def __init__(self, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.name = name
        self.kind = name
        self.control = JobControl(self.progress.emit)
        self.outcome: Outcome | None = None
        self._func = func
        self._args = args
        self._kwargs = kwargs
        self._worker = None

    @property
    def is_running(self) -> bool:
        """True from :meth:`start` until :attr:`ended` was emitted."""
        return self._worker is not None and self.outcome is None

    def start(self) -> None:
        """Queue the function on the global thread pool."""
        worker = self.worker_factory(
            self._call,
            _start_thread=False,
            _connect={
                "returned": self._on_worker_returned,
                "errored": self._on_worker_errored,
                "finished": self._on_worker_finished,
            },
        )
        self._worker = worker
        worker.start()

    def cancel(self) -> None:
        """Ask the function to stop; :attr:`ended` follows once it has."""
        self.control.request_stop()

    def _call(self) -> Any:
        return self._func(self.control, *self._args, **self._kwargs)

    def _on_worker_returned(self, result: Any) -> None:
        if self.control.should_stop():
            self.outcome = "cancelled"
            self.cancelled.emit(result)
        else:
            self.outcome = "finished"
            self.succeeded.emit(result)

    def _on_worker_errored(self, exc: BaseException) -> None:
        if isinstance(exc, (JobCancelled, Cancelled)):
            self.outcome = "cancelled"
            self.cancelled.emit(None)
            return
        self.outcome = "failed"
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.failed.emit(str(exc) or type(exc).__name__, details)

    def _on_worker_finished(self) -> None:
        if self.outcome is None:  # worker ended without returning (deleted object)
            self.outcome = "failed"
            self.failed.emit(f"{self.name} stopped unexpectedly.", "")
        self.ended.emit(self.outcome)


def wait_for_workers(timeout_ms: int = 10_000) -> bool:
    """Block until every worker thread has finished, at most ``timeout_ms``.

    Returns
    -------
    bool
        True if all workers finished in time.
    """
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
