"""When training ends: early stopping on a logged metric, and the recorded reason."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

StopKind = Literal["max_epochs", "early_stopping", "time_budget", "user"]

# Metrics where larger is better; early stopping maximises these when mode is "auto".
_MAXIMISED_PREFIXES = ("label_accuracy",)


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``mode`` ``"min"`` wants the metric to fall, ``"max"`` to rise; ``"auto"`` maximises
    accuracies and minimises losses.
    """

    monitor: str = "elbo_validation"
    patience: int = 45
    min_delta: float = 0.0
    mode: Literal["auto", "min", "max"] = "auto"
    best: float = math.nan
    best_epoch: int = -1
    wait: int = 0

    def __post_init__(self):
        if self.mode not in ("auto", "min", "max"):
            raise ValueError(f"early_stopping_mode={self.mode!r}; use 'auto', 'min' or 'max'.")
        if self.mode == "auto":
            self.mode = "max" if self.monitor.startswith(_MAXIMISED_PREFIXES) else "min"
        if self.patience < 1:
            raise ValueError(f"early_stopping_patience must be at least 1, got {self.patience}.")

    def should_stop(self, history: dict[str, list[float]]) -> bool:
        """Record the latest value of ``monitor`` and say whether patience has run out.

        Raises
        ------
        ValueError
            When ``monitor`` is not a logged metric.
        """
        if self.monitor not in history:
            raise ValueError(f"early_stopping_monitor '{self.monitor}' is not logged; "
                             f"choose one of: {', '.join(sorted(history))}.")
        value = history[self.monitor][-1]
        sign = 1.0 if self.mode == "min" else -1.0
        if math.isnan(value):  # e.g. no labelled validation cells this epoch
            self.wait += 1
        elif math.isnan(self.best) or sign * value < sign * self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, len(history[self.monitor]) - 1, 0
        else:
            self.wait += 1
        return self.wait >= self.patience


@dataclass(frozen=True)
class StopReason:
    """Why training ended: ``kind`` and the number of ``epochs`` run; ``str()`` says it in words."""

    kind: StopKind
    epochs: int
    detail: str = ""

    def __str__(self) -> str:
        text = {
            "max_epochs": f"reached the epoch cap after {self.epochs} epochs",
            "early_stopping": f"early stopping at epoch {self.epochs}",
            "time_budget": f"stopped by the time budget after {self.epochs} epochs",
            "user": f"stopped on request during epoch {self.epochs}",
        }[self.kind]
        return f"{text} ({self.detail})" if self.detail else text
