"""The session: the only writer of the data, the model and the results, and the jobs that change them.

- :class:`Session` holds the open AnnData, the model and results, writes them, and emits a
  signal for every change; panels and wiring subscribe and redraw.
- :mod:`~fadvi_gui.session.jobs`: job kinds and the table of what blocks what.
- :mod:`~fadvi_gui.session.workers`: :class:`Job`, one task function on a worker thread.
"""

from __future__ import annotations

from fadvi_gui.session.jobs import JobKind
from fadvi_gui.session.session import Session
from fadvi_gui.session.workers import Job, JobCancelled, JobControl

__all__ = ["Job", "JobCancelled", "JobControl", "JobKind", "Session"]
