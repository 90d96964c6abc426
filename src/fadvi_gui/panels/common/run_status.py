"""Progress bar and status line of a panel that runs chunked work (predict, explain)."""

from __future__ import annotations

from qtpy.QtWidgets import QLabel, QProgressBar


def show_chunk_progress(bar: QProgressBar, progress) -> None:
    """Show a ``fadvi_core.ChunkProgress`` (cells done out of total) on ``bar``."""
    bar.setRange(0, max(int(progress.total), 1))
    bar.setValue(int(progress.done))
    bar.setFormat(f"{progress.done:,} / {progress.total:,} cells")


def show_run_ended(bar: QProgressBar, label: QLabel, outcome: str, message: str,
                   texts: dict[str, str]) -> None:
    """Stop a busy ``bar``, fill it on success, and put ``message`` (or the outcome's text)
    in ``label``; ``outcome`` is ``"finished"``, ``"cancelled"`` or ``"failed"``."""
    if bar.maximum() == 0:
        bar.setRange(0, 1)
    if outcome == "finished":
        bar.setValue(bar.maximum())
    label.setText(message or texts.get(outcome, outcome))
