"""Progress of work done in a few named steps (clustering, marker genes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepProgress:
    """``done`` of ``total`` steps, and what is being done now (``text``)."""

    done: int
    total: int
    text: str = ""


__all__ = ["StepProgress"]
