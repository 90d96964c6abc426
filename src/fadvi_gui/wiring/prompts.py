"""What the wiring may ask of the window: messages, questions and file names.

The wiring takes a :class:`Prompts` instead of the window, so it never reaches into
menus, docks or the status bar; tests pass any object with these methods.
"""

from __future__ import annotations

from typing import Any, Protocol


class Prompts(Protocol):
    """Talk to the user; the main window implements it."""

    def show_error(self, message: str, details: str = "") -> Any:
        """Show a non-blocking error with ``details`` behind a button."""

    def ask_yes_no(self, title: str, text: str) -> bool:
        """Ask a question; True for yes."""

    def ask_save_path(self, title: str, suggestion: str, filters: str) -> str:
        """Ask for a file name to write; empty when the user cancelled.

        ``suggestion`` is a file name, proposed in the user's last-used folder (or documents);
        the dialog itself asks before replacing the exact file chosen.
        """

    def ask_open_path(self, title: str, filters: str) -> str:
        """Ask for an existing file to read, in the last-used folder; empty when cancelled."""

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        """Show ``text`` in the status bar for ``timeout_ms``."""


__all__ = ["Prompts"]
