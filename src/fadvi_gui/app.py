"""Build the QApplication and the window from command-line arguments."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from qtpy.QtWidgets import QApplication

from fadvi_gui import __version__
from fadvi_gui.settings import APPLICATION, ORGANIZATION, SETTINGS_ENV


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Return the parsed command line: an optional file, ``--demo``, ``--settings``."""
    parser = argparse.ArgumentParser(
        prog="fadvi-gui",
        description="FADVI desktop: integrate single-cell batches and transfer cell-type labels.",
    )
    parser.add_argument("path", nargs="?", help="an .h5ad file, a 10x .h5 file or a 10x folder to open")
    parser.add_argument("--demo", action="store_true", help="open the built-in PBMC demo dataset")
    parser.add_argument("--settings", metavar="FILE.ini", help="keep settings in this INI file instead of the usual place")
    parser.add_argument("--version", action="version", version=f"fadvi-gui {__version__}")
    return parser.parse_args(argv)


def get_app(argv: Sequence[str] | None = None) -> QApplication:
    """Return the running QApplication, creating it (named FADVI/fadvi-gui) if needed."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    return app


def run(argv: Sequence[str] | None = None) -> int:
    """Start the app and return its exit code once the window closes."""
    args = parse_args(argv)
    if args.settings:
        os.environ[SETTINGS_ENV] = args.settings
    app = get_app()

    from fadvi_gui.main_window import MainWindow  # after QApplication: widgets need it

    window = MainWindow()
    window.show()
    if args.demo:
        window.open_demo()
    elif args.path:
        window.open_file(args.path)
    code = app.exec_()
    window.session.wait(10_000)
    return code
