"""What a task function receives first: a way to report progress and to notice a stop request."""

from __future__ import annotations

from typing import Any, Protocol


class Control(Protocol):
    """The worker's handle, given to every task function as its first argument.

    ``fadvi_gui.tasks.Control`` implements it; tests may pass any object
    with these two methods.
    """

    def report(self, value: Any, *, force: bool = False) -> None:
        """Send ``value`` (e.g. a ``fadvi_core.TrainingProgress``) to the UI thread."""

    def should_stop(self) -> bool:
        """Return True once the user asked the task to stop."""
