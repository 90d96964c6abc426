"""``fadvi-gui`` and ``python -m fadvi_gui``: open the FADVI window."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the desktop app with the process's command-line arguments."""
    from fadvi_gui.app import run

    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
