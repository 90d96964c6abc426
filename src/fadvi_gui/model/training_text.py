"""Training plans and outcomes in plain words: the expected time before, the stop reason after."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fadvi_core import StopReason, TrainingDefaults

#: Logged metrics as the panel names them.
METRIC_WORDS = {
    "label_accuracy_validation": "validation accuracy",
    "label_accuracy_train": "training accuracy",
    "elbo_validation": "validation loss",
    "elbo_train": "training loss",
}


def metric_words(name: str) -> str:
    """Return a logged metric's name in words ("validation accuracy")."""
    return METRIC_WORDS.get(name, name.replace("_", " "))


def rough_duration(seconds: float) -> str:
    """Return ``seconds`` as a person says it: "1.2 s", "40 s", "2 min", "1 h 10 min"."""
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{round(seconds)} s" if seconds < 20 else f"{5 * round(seconds / 5)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def estimate_text(plan: TrainingDefaults) -> str:
    """Say how long training with ``plan`` takes, before it starts.

    Parameters
    ----------
    plan
        The options training will use (`fadvi_gui.tasks.training.plan_training`): the epoch
        cap, the measured ``seconds_per_epoch``, early stopping and its monitor.

    Returns
    -------
    str
        E.g. "About 2 min (up to 13 epochs of ~9 s; stops earlier when validation accuracy
        stops improving).", with the plan's ``note`` after it when the budget is tight.
    """
    total = plan.max_epochs * plan.seconds_per_epoch
    if plan.time_budget_s:
        total = min(total, plan.time_budget_s)
    epochs = f"{plan.max_epochs} epoch{'s' if plan.max_epochs != 1 else ''}"
    detail = f"{epochs} of ~{rough_duration(plan.seconds_per_epoch)}"
    if plan.early_stopping:
        detail = (f"up to {detail}; stops earlier when "
                  f"{metric_words(plan.early_stopping_monitor)} stops improving")
    text = f"About {rough_duration(total)} ({detail})."
    return f"{text}\n{plan.note}" if plan.note else text


def stop_text(reason: StopReason, *, history: dict | None = None, monitor: str = "",
              mode: str = "max", time_budget_s: float | None = None) -> str:
    """Say why training ended, from the model's ``stop_reason_``.

    Parameters
    ----------
    reason
        ``model.stop_reason_``.
    history
        ``model.history_`` (metric name to a one-column DataFrame or a list), to name the
        best value when early stopping ended the run.
    monitor, mode
        The early-stopping metric and whether larger (``"max"``) or smaller is better.
    time_budget_s
        The time budget of the run, if it had one.

    Returns
    -------
    str
        E.g. "Stopped at epoch 14: validation accuracy stopped improving (best 0.985 at
        epoch 4).", "Reached the 30-epoch cap.", "Time budget of 10 min used after 12 epochs.",
        "Cancelled during epoch 3; the model trained so far is kept."
    """
    epochs = reason.epochs
    if reason.kind == "max_epochs":
        return f"Reached the {epochs}-epoch cap."
    if reason.kind == "time_budget":
        budget = f" of {rough_duration(time_budget_s)}" if time_budget_s else ""
        return f"Time budget{budget} used after {epochs} epoch{'s' if epochs != 1 else ''}."
    if reason.kind == "user":
        return f"Cancelled during epoch {epochs}; the model trained so far is kept."
    metric = metric_words(monitor) if monitor else "the monitored metric"
    text = f"Stopped at epoch {epochs}: {metric} stopped improving"
    best = _best(_values(history, monitor), mode)
    if best is not None:
        value, epoch = best
        shown = f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"  # accuracy or loss
        text += f" (best {shown} at epoch {epoch + 1})"
    return text + "."


def _values(history: dict | None, monitor: str) -> Sequence[float]:
    if not history or monitor not in history:
        return []
    values = history[monitor]
    if hasattr(values, "to_numpy"):
        values = values.to_numpy().ravel()
    return [float(v) for v in values]


def _best(values: Sequence[float], mode: str) -> tuple[float, int] | None:
    """The best non-NaN value and its epoch (the first, on ties), or None."""
    finite = [(v, i) for i, v in enumerate(values) if not math.isnan(v)]
    if not finite:
        return None
    if mode == "max":
        return max(finite, key=lambda pair: (pair[0], -pair[1]))
    return min(finite, key=lambda pair: (pair[0], pair[1]))


__all__ = ["estimate_text", "metric_words", "rough_duration", "stop_text"]
