"""Benchmark the latent viewer against a naive pyqtgraph scatter, offscreen.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/viewer.py --sizes 100000 1000000 \
        --out benchmarks/results/viewer

For each size, random clustered data (20 Gaussian clusters, a 20-category
``cell_type`` and a 3-category ``batch``) is drawn in a 1200 x 800 window by

* ``latent_view``: the real :class:`fadvi_gui.panels.latent_view.LatentView`, and
* ``naive``: one ``pg.ScatterPlotItem`` with a brush per point (pen ``None``, 3 px).

Each (implementation, size) runs in its own process, so one cannot slow the
other, and under a wall-time cap (the naive scatter at a million points may not
finish). Timings include the synchronous repaint of the plot, measured with
``time.perf_counter``:

* first draw: from handing over the cells and coordinates to the first painted frame;
* pan/zoom frame: one pan or zoom step and its repaint, the median of 10 (for
  ``latent_view`` also the full-resolution frame drawn once the view is still);
* recolour: switching the colouring from ``batch`` to the 20-category ``cell_type``, with repaint;
* lasso: selecting the cells inside a lasso of ~200 vertices that holds ~30 % of
  them, highlighting them, and repainting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WINDOW = (1200, 800)
N_CLUSTERS = 20
FRAMES = 10
REPEATS = 3


def make_data(n: int, seed: int = 0):
    """Clustered coordinates ``(n, 2)``, cluster codes and an obs frame."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, size=(N_CLUSTERS, 2))
    spread = rng.uniform(0.8, 2.5, size=N_CLUSTERS)
    code = rng.integers(0, N_CLUSTERS, n)
    coords = (centres[code] + rng.normal(size=(n, 2)) * spread[code, None]).astype(np.float32)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical.from_codes(code, [f"type {i:02d}" for i in range(N_CLUSTERS)]),
            "batch": pd.Categorical.from_codes(rng.integers(0, 3, n), ["run 1", "run 2", "run 3"]),
        },
        index=pd.RangeIndex(n).astype(str),
    )
    return coords, code, obs


def lasso_polygon(coords: np.ndarray, fraction: float = 0.3, vertices: int = 200) -> np.ndarray:
    """A wobbly loop around the data's centre that holds about ``fraction`` of the points."""
    centre = np.median(coords, axis=0)
    angle = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    wobble = 1.0 + 0.08 * np.sin(5 * angle)
    shape = np.column_stack([np.cos(angle), np.sin(angle)]) * wobble[:, None]
    from matplotlib.path import Path as MplPath

    sample = coords[:: max(1, len(coords) // 50_000)]
    low, high = 0.0, float(np.abs(coords - centre).max()) * 2
    for _ in range(30):
        radius = (low + high) / 2
        inside = MplPath(centre + shape * radius).contains_points(sample).mean()
        low, high = (radius, high) if inside < fraction else (low, radius)
    return centre + shape * (low + high) / 2


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run_latent_view(n: int) -> dict:
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from fadvi_gui.panels.latent_view import LatentView

    coords, _code, obs = make_data(n)
    view = LatentView()
    view.resize(*WINDOW)
    view.show()
    app.processEvents()
    canvas = view.canvas()
    repaint = canvas.viewport().repaint

    def first() -> None:
        view.set_cells(obs, batch_key="batch", labels_key="batch")
        view.set_available_spaces(["z_l"])
        view.set_embedding("z_l", "umap", coords)
        repaint()

    result = {"first_draw_s": _timed(first)}
    box = canvas.view_box(0)
    moving, still = [], []
    for i in range(FRAMES):
        def step(i=i) -> None:
            if i % 2:
                box.scaleBy((0.9, 0.9))
            else:
                box.translateBy(x=0.3, y=0.2)
            box.sigRangeChangedManually.emit(box.state["mouseEnabled"])  # as a drag or wheel does
            repaint()

        moving.append(_timed(step))
        still.append(_timed(lambda: (canvas._on_settle_timeout(), repaint())))
    result["pan_zoom_frame_s"] = statistics.median(moving)
    result["pan_zoom_frame_max_s"] = max(moving)
    result["preview_while_moving"] = n > _preview_points()
    if result["preview_while_moving"]:
        result["still_full_frame_s"] = statistics.median(still)
    recolour = []
    for _ in range(REPEATS):
        view.set_colour_by("batch")
        repaint()
        recolour.append(_timed(lambda: (view.set_colour_by("cell_type"), repaint())))
    result["recolour_20_s"] = statistics.median(recolour)
    polygon = lasso_polygon(coords)
    lasso = []
    for _ in range(REPEATS):
        view.clear_selection()
        repaint()
        lasso.append(_timed(lambda: (view.select_polygon(polygon), repaint())))
    result["lasso_s"] = statistics.median(lasso)
    result["lasso_selected_fraction"] = len(view.selected_indices()) / n
    return result


def _preview_points() -> int:
    from fadvi_gui.plotting.scatter_item import PREVIEW_POINTS

    return PREVIEW_POINTS


def run_naive(n: int) -> dict:
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    import pyqtgraph as pg
    from matplotlib.path import Path as MplPath

    from fadvi_gui.plotting.palettes import categorical_palette

    coords, code, _obs = make_data(n)
    batch = np.random.default_rng(1).integers(0, 3, n)
    widget = pg.PlotWidget(background="w")
    widget.resize(*WINDOW)
    widget.show()
    app.processEvents()
    repaint = widget.viewport().repaint
    brushes = [pg.mkBrush(*row) for row in categorical_palette(N_CLUSTERS)]
    grey = pg.mkBrush(225, 225, 225)

    item = pg.ScatterPlotItem(pen=None, size=3, pxMode=True)

    def first() -> None:
        item.setData(x=coords[:, 0], y=coords[:, 1], brush=[brushes[c] for c in batch])
        widget.addItem(item)
        widget.autoRange()
        repaint()

    result = {"first_draw_s": _timed(first)}
    box = widget.getViewBox()
    frames = []
    for i in range(FRAMES):
        def step(i=i) -> None:
            if i % 2:
                box.scaleBy((0.9, 0.9))
            else:
                box.translateBy(x=0.3, y=0.2)
            repaint()

        frames.append(_timed(step))
    result["pan_zoom_frame_s"] = statistics.median(frames)
    result["pan_zoom_frame_max_s"] = max(frames)
    result["recolour_20_s"] = _timed(lambda: (item.setBrush([brushes[c] for c in code]), repaint()))
    polygon = lasso_polygon(coords)

    def lasso() -> None:
        inside = MplPath(polygon).contains_points(coords)
        item.setBrush([brushes[c] if sel else grey for c, sel in zip(code, inside)])
        repaint()

    result["lasso_s"] = _timed(lasso)
    return result


def _child(kind: str, n: int) -> None:
    result = (run_latent_view if kind == "latent_view" else run_naive)(n)
    print("RESULT " + json.dumps(result))


def _measure(kind: str, n: int, cap_s: float) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(n)], env=env, capture_output=True,
            text=True, timeout=cap_s,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"did not finish within {cap_s:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return {"status": "failed", "stderr": done.stderr[-2000:]}
    result = json.loads(lines[-1][len("RESULT "):])
    result["status"] = "ok"
    result["process_wall_s"] = round(time.perf_counter() - start, 1)
    return result


def _machine() -> dict:
    import pyqtgraph
    from qtpy import API_NAME, QT_VERSION

    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "qt": f"{API_NAME} {QT_VERSION}",
        "pyqtgraph": pyqtgraph.__version__,
        "numpy": np.__version__,
    }


TARGETS_1M = {"first_draw_s": 1.0, "pan_zoom_frame_s": 0.05, "recolour_20_s": 0.3, "lasso_s": 0.3}
ROWS = [
    ("first draw", "first_draw_s"),
    ("pan/zoom frame (median)", "pan_zoom_frame_s"),
    ("pan/zoom frame (max)", "pan_zoom_frame_max_s"),
    ("full frame once still", "still_full_frame_s"),
    ("recolour, 20 categories", "recolour_20_s"),
    ("lasso ~30 %", "lasso_s"),
]


def _markdown(report: dict, command: str) -> str:
    lines = [
        "# Latent viewer benchmark",
        "",
        f"Command: `{command}`",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in report["machine"].items()),
        "",
        "Times in milliseconds; targets at 1M points: first draw <= 1000, pan/zoom frame <= 50, "
        "recolour <= 300, lasso <= 300. `latent_view` is the app's panel; `naive` is one "
        "pyqtgraph ScatterPlotItem with a brush per point. The machine is shared with other "
        "work (see the load average above), so an idle machine is faster.",
        "",
    ]
    header = "| measure | target at 1M | " + " | ".join(f"{kind} {n:,}" for kind, n, _ in report["runs"]) + " |"
    lines += [header, "|" + "---|" * (len(report["runs"]) + 2)]
    for title, key in ROWS:
        target = report["targets_1m_s"].get(key)
        cells = [f"<= {1000 * target:.0f}" if target else ""]
        for _kind, _n, result in report["runs"]:
            if result.get("status") != "ok":
                cells.append(result.get("status", "failed"))
            elif key in result:
                cells.append(f"{1000 * result[key]:.0f}")
            else:
                cells.append("n/a")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "While the user pans or zooms more than 250,000 shown points, the viewer draws an even "
        "subsample and says so in the plot's corner (\"Moving: showing 1 in k points\"); 150 ms "
        "after the view stops it draws every point (the \"full frame once still\" row).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--naive-cap-s", type=float, default=120.0, help="wall-time cap of one naive run")
    parser.add_argument("--out", type=Path, default=None, help="write OUT.json and OUT.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    report = {"machine": _machine(), "targets_1m_s": TARGETS_1M, "runs": []}
    for n in args.sizes:
        for kind in ("latent_view", "naive"):
            result = _measure(kind, n, 600.0 if kind == "latent_view" else args.naive_cap_s)
            print(kind, n, json.dumps(result), flush=True)
            report["runs"].append((kind, n, result))
    command = "QT_QPA_PLATFORM=offscreen python benchmarks/viewer.py " + " ".join(sys.argv[1:])
    report["command"] = command
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(_markdown(report, command))


if __name__ == "__main__":
    main()
