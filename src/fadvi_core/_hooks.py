"""Plain-callable hooks that let a caller follow and stop long work.

The core never imports Qt: a GUI worker passes ordinary functions here and
turns what they receive into signals on its own side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised by chunked inference (prediction, attribution) when ``should_stop`` returned True."""


@dataclass(frozen=True)
class TrainingProgress:
    """What ``train(progress_callback=...)`` receives after every training step.

    ``metrics`` is empty within an epoch; at the last step of an epoch
    (``epoch_end`` is True) it holds that epoch's row of ``model.history``.
    """

    epoch: int  # 0-based index of the current epoch
    max_epochs: int
    step: int  # 1-based step within the epoch
    n_steps: int  # steps per epoch
    epoch_end: bool = False
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkProgress:
    """What chunked inference passes to ``progress_callback``: cells done out of total."""

    done: int
    total: int


TrainingCallback = Callable[[TrainingProgress], None]
ChunkCallback = Callable[[ChunkProgress], None]
StopCheck = Callable[[], bool]


def never_stop() -> bool:
    """Default ``should_stop``: keep going."""
    return False


def ignore_progress(_progress: object) -> None:
    """Default ``progress_callback``: report nothing."""
