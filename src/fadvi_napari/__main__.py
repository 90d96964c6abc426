"""``python -m fadvi_napari [PATH]``: napari with FADVI's panels docked and PATH (or the demo) open."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    """Start napari with the FADVI docks and open ``PATH``, or the built-in demo without one."""
    parser = argparse.ArgumentParser(
        prog="python -m fadvi_napari",
        description="Open single-cell data in napari with FADVI's panels docked.")
    parser.add_argument("path", nargs="?", help="an .h5ad file, a 10x .h5 file or a 10x folder "
                        "(default: the built-in demo)")
    args = parser.parse_args(argv)

    import napari

    from fadvi_napari._bridge import bridge_for
    from fadvi_napari._docking import show_docks

    viewer = napari.Viewer(title="FADVI in napari")
    show_docks(viewer)
    bridge = bridge_for(viewer)
    if args.path:
        bridge.open(args.path)
    else:
        bridge.open_demo()
    napari.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
