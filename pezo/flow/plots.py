"""PNG plots of the report (matplotlib, Agg back end): resources per target (LUTs and FFs,
block RAM and DSP beside them), Fmax, power estimate, training parity, and the sweep's
Pareto front.

Every plot lists designs in one order, the report's (``doc["design_order"]``, the
comparison set's); a Gaussian baseline below the quality bar is hatched and labelled
"(below bar)". Each ``*_figure`` function returns the matplotlib figure, so tests can
read back what it shows; :func:`write_plots` saves them.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402
import numpy as np  # noqa: E402

BELOW_BAR = " (below bar)"
#: Hatch of the bars of a Gaussian baseline below the quality bar.
BELOW_HATCH = "//"


def design_order(doc: dict) -> list[str]:
    """The report's design order: ``doc["design_order"]``, then any other design in the
    order it first appears in the results."""
    order = list(doc.get("design_order", []))
    for by_p in doc["results"].values():
        for rows in by_p.values():
            order += [n for n in rows if n not in order]
    return order


def _label(name: str, row: dict | None) -> str:
    below = row is not None and row.get("gaussian") and row.get("meets_bar") is False
    return name + (BELOW_BAR if below else "")


def _bars(ax, labels: list[str], series: dict[str, list[float | None]], ylabel: str, title: str,
          hatched: list[bool] | None = None, offset: int = 0, total: int | None = None) -> None:
    """Grouped bars: ``series`` name -> one value per label (None = no bar); the group
    has ``total`` slots of which these take ``offset``.. (for a twin axis)."""
    total = total or len(series)
    width = 0.8 / max(1, total)
    hatched = hatched or [False] * len(labels)
    for i, (name, values) in enumerate(series.items()):
        xs = [j + (offset + i) * width for j in range(len(labels))]
        bars = ax.bar(xs, [v or 0 for v in values], width, label=name, color=f"C{offset + i}")
        for bar, hatch in zip(bars, hatched):
            if hatch:
                bar.set_hatch(BELOW_HATCH)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def resources_figure(doc: dict, target: str):
    """LUTs and FFs (left axis) with block RAM and DSP (right axis) per design, one
    panel per P of ``target``."""
    by_p = doc["results"][target]
    ps = sorted(by_p, key=lambda p: -int(p[1:]))
    fig, axes = plt.subplots(1, len(ps), figsize=(7 * len(ps), 4.5), squeeze=False)
    for ax, p in zip(axes[0], ps):
        rows = by_p[p]
        names = [n for n in design_order(doc) if n in rows]
        labels = [_label(n, rows[n]) for n in names]
        hatched = [lab.endswith(BELOW_BAR) for lab in labels]
        _bars(ax, labels, {"LUTs": [rows[n]["luts"] for n in names], "FFs": [rows[n]["ffs"] for n in names]},
              "LUTs, FFs", f"{target}, P={p[1:]}", hatched, 0, 4)
        blocks = ax.twinx()
        _bars(blocks, labels, {"BRAM": [rows[n]["bram"] for n in names], "DSP": [rows[n]["dsp"] for n in names]},
              "block RAM, DSP", f"{target}, P={p[1:]}", hatched, 2, 4)
        handles = ax.get_legend_handles_labels()[0] + blocks.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def fmax_figure(doc: dict):
    """nextpnr Fmax per design, one bar per (target, P) measured; None if none was."""
    fmax = {(t, p, n): r["fmax_mhz"] for t, by_p in doc["results"].items() for p, rows in by_p.items()
            for n, r in rows.items() if r["fmax_mhz"] is not None}
    if not fmax:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    keys = sorted({(t, p) for t, p, _ in fmax}, key=lambda k: (k[0], -int(k[1][1:])))
    names = [n for n in design_order(doc) if any(n == m for _, _, m in fmax)]
    _bars(ax, names, {f"{t} P={p[1:]}": [fmax.get((t, p, n)) for n in names] for t, p in keys},
          "MHz", "Fmax (nextpnr)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def power_figure(doc: dict):
    """Total power estimate relative to the best Gaussian baseline (a line at 1.0 marks
    it) per design; None if no power was estimated."""
    power = {(t, p): rows for t, by_p in doc["results"].items() for p, rows in by_p.items()
             if any(r["power_rel"] is not None for r in rows.values())}
    if not power:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = [n for n in design_order(doc) if any(n in rows for rows in power.values())]
    first = next(iter(power.values()))
    labels = [_label(n, first.get(n)) for n in names]
    _bars(ax, labels, {f"{t} P={p[1:]}": [rows.get(n, {}).get("power_rel") for n in names]
                       for (t, p), rows in power.items()},
          "total power / best Gaussian baseline's", "Power ESTIMATE (dynamic + static)",
          [lab.endswith(BELOW_BAR) for lab in labels])
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="best Gaussian baseline (1.0)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def training_figure(doc: dict):
    """Left: mean test accuracy over the second half of training, the y axis zoomed to
    the curves' range there. Right: final test accuracy of every seed (dots) and the
    mean (bar) per source, zoomed to their range, so a 1-point difference is visible.
    None without training results."""
    sources = doc.get("training", {}).get("sources")
    if not sources:
        return None
    fig, (curves, finals) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    shown = []
    for i, (name, d) in enumerate(sources.items()):
        c = d["curves"]
        steps, acc = np.array(c["step"]), 100 * np.array(c["test_acc_mean"])
        tail = steps >= steps[-1] / 2 if len(steps) > 1 else np.ones(len(steps), bool)
        curves.plot(steps[tail], acc[tail], label=name, color=f"C{i}")
        shown.append(acc[tail])
        seeds = 100 * np.array(d.get("test_acc_per_seed", [d["test_acc_mean"]]))
        jitter = np.linspace(-0.15, 0.15, len(seeds)) if len(seeds) > 1 else np.zeros(1)
        finals.scatter(i + jitter, seeds, s=14, color=f"C{i}")
        finals.hlines(100 * d["test_acc_mean"], i - 0.3, i + 0.3, color=f"C{i}", linewidth=2)
        shown.append(seeds)
    _zoom(curves, np.concatenate(shown[0::2]))
    _zoom(finals, np.concatenate(shown[1::2]))
    curves.set_xlabel("step (second half of training)")
    curves.set_ylabel("test accuracy (%), mean over seeds")
    curves.set_title("Training parity: curves (zoomed)")
    curves.legend(fontsize="small")
    curves.grid(alpha=0.3)
    finals.set_xticks(range(len(sources)), list(sources), rotation=30, ha="right")
    finals.set_ylabel("final test accuracy (%)")
    finals.set_title("Final accuracy per seed (dots) and mean (bar)")
    finals.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _zoom(ax, values: np.ndarray) -> None:
    """y limits = the values' range plus 10 % each side (at least 0.5 points)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = max(0.1 * (hi - lo), 0.5)
    ax.set_ylim(lo - pad, hi + pad)


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_plots(doc: dict, out: Path) -> dict[str, str]:
    """Write every plot of a report document into ``out``; {name: file name}."""
    written: dict[str, str] = {}
    for target in doc["results"]:
        _save(resources_figure(doc, target), out / f"resources_{target}.png")
        written[f"resources {target}"] = f"resources_{target}.png"
    for name, file, make in (("fmax", "fmax.png", fmax_figure), ("power estimate", "power.png", power_figure),
                             ("training", "training.png", training_figure)):
        fig = make(doc)
        if fig is not None:
            _save(fig, out / file)
            written[name] = file
    return written


def pareto_figure(rows: list[dict]):
    """LUTs vs training-accuracy gap to gaussian (points), Pareto front (line); every
    label placed where it overlaps no other label (see :func:`place_labels`)."""
    pts = [(r["luts"], r["acc_gap_pts"], r["label"]) for r in rows
           if r.get("luts") is not None and r.get("acc_gap_pts") is not None]
    fig, ax = plt.subplots(figsize=(9, 6))
    for luts, gap, _ in pts:
        ax.scatter(luts, gap, s=18, color="C0")
    front = pareto_front([(luts, abs(gap)) for luts, gap, _ in pts])
    if front:
        ax.plot([x for x, _ in front], [y for _, y in front], "k--", lw=1, label="Pareto front (|gap|)")
        ax.legend(fontsize="small")
    ax.set_xlabel("LUTs")
    ax.set_ylabel("test accuracy gap to gaussian (points)")
    ax.set_title("Sweep: cost vs training accuracy")
    ax.margins(0.15)
    fig.tight_layout()
    place_labels(ax, [(luts, gap, label) for luts, gap, label in pts])
    return fig


#: Label offsets (points) tried in turn: right or left of the marker, then stacked ever
#: further above and below it in steps of one label height.
_OFFSETS = [(dx, dy) for step in range(13) for dy in ((10 * step,) if step == 0 else (10 * step, -10 * step))
            for dx in (6, -6)]


def place_labels(ax, points: list[tuple[float, float, str]]) -> list:
    """Annotate each point with its label at the first offset of ``_OFFSETS`` where the
    label's box lies inside the axes and overlaps no label placed before (the last
    offset if none is free), with a thin leader line; returns the annotations."""
    ax.figure.canvas.draw()                      # fix the limits, so display boxes are final
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    placed, boxes = [], []
    for x, y, label in points:
        for dx, dy in _OFFSETS:
            ann = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=7,
                              ha="left" if dx >= 0 else "right", va="center",
                              arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"})
            ann.update_positions(renderer)
            box = Text.get_window_extent(ann, renderer).expanded(1.05, 1.2)   # the text, not its leader
            free = not any(box.overlaps(b) for b in boxes) and inside.contains(box.x0, box.y0) \
                and inside.contains(box.x1, box.y1)
            if free or (dx, dy) == _OFFSETS[-1]:
                break
            ann.remove()
        boxes.append(box)
        placed.append(ann)
    return placed


def pareto_plot(rows: list[dict], path: Path) -> None:
    """Save :func:`pareto_figure` of the sweep rows to ``path``."""
    _save(pareto_figure(rows), path)


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not dominated in (smaller x, smaller y), sorted by x."""
    front, best = [], float("inf")
    for x, y in sorted(points):
        if y < best:
            front.append((x, y))
            best = y
    return front
