"""PNG plots of the report (matplotlib, Agg back end): resources per target, Fmax,
power estimate, training-parity curves, and the sweep's Pareto front."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _bars(ax, labels: list[str], series: dict[str, list[float | None]], ylabel: str, title: str) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [j + i * width for j in range(len(labels))]
        ax.bar(xs, [v or 0 for v in values], width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")


def write_plots(doc: dict, out: Path) -> dict[str, str]:
    """Write every plot of a report document into ``out``; {name: file name}."""
    written: dict[str, str] = {}
    for target, by_p in doc["results"].items():
        ps = sorted(by_p, key=lambda p: -int(p[1:]))
        fig, axes = plt.subplots(1, len(ps), figsize=(6 * len(ps), 4), squeeze=False)
        for ax, p in zip(axes[0], ps):
            rows = by_p[p]
            names = list(rows)
            _bars(ax, names, {"LUTs": [rows[n]["luts"] for n in names], "FFs": [rows[n]["ffs"] for n in names]},
                  "cells", f"{target}, P={p[1:]}")
        fig.tight_layout()
        fig.savefig(out / f"resources_{target}.png", dpi=100)
        plt.close(fig)
        written[f"resources {target}"] = f"resources_{target}.png"
    fmax = {(t, p, n): r["fmax_mhz"] for t, by_p in doc["results"].items() for p, rows in by_p.items()
            for n, r in rows.items() if r["fmax_mhz"] is not None}
    if fmax:
        fig, ax = plt.subplots(figsize=(8, 4))
        keys = sorted({(t, p) for t, p, _ in fmax})
        names = sorted({n for _, _, n in fmax})
        _bars(ax, names, {f"{t} P={p[1:]}": [fmax.get((t, p, n)) for n in names] for t, p in keys},
              "MHz", "Fmax (nextpnr)")
        fig.tight_layout()
        fig.savefig(out / "fmax.png", dpi=100)
        plt.close(fig)
        written["fmax"] = "fmax.png"
    power = {(t, p): rows for t, by_p in doc["results"].items() for p, rows in by_p.items()
             if any(r["power_rel"] is not None for r in rows.values())}
    if power:
        fig, ax = plt.subplots(figsize=(8, 4))
        names = sorted({n for rows in power.values() for n in rows})
        _bars(ax, names, {f"{t} P={p[1:]}": [rows.get(n, {}).get("power_rel") for n in names]
                          for (t, p), rows in power.items()},
              "relative to best Gaussian", "Dynamic power ESTIMATE (switching activity)")
        fig.tight_layout()
        fig.savefig(out / "power.png", dpi=100)
        plt.close(fig)
        written["power estimate"] = "power.png"
    sources = doc.get("training", {}).get("sources")
    if sources:
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, d in sources.items():
            c = d["curves"]
            ax.plot(c["step"], [100 * a for a in c["test_acc_mean"]], label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("Training parity (mean over seeds)")
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out / "training.png", dpi=100)
        plt.close(fig)
        written["training"] = "training.png"
    return written


def pareto_plot(rows: list[dict], path: Path) -> None:
    """LUTs vs training-accuracy gap to gaussian (points), Pareto front (line)."""
    pts = [(r["luts"], r["acc_gap_pts"], r["label"]) for r in rows
           if r.get("luts") is not None and r.get("acc_gap_pts") is not None]
    fig, ax = plt.subplots(figsize=(7, 5))
    for luts, gap, label in pts:
        ax.scatter(luts, gap, s=18)
        ax.annotate(label, (luts, gap), fontsize=6)
    front = pareto_front([(luts, abs(gap)) for luts, gap, _ in pts])
    if front:
        ax.plot([x for x, _ in front], [y for _, y in front], "k--", lw=1, label="Pareto front (|gap|)")
        ax.legend(fontsize="small")
    ax.set_xlabel("LUTs")
    ax.set_ylabel("test accuracy gap to gaussian (points)")
    ax.set_title("Sweep: cost vs training accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not dominated in (smaller x, smaller y), sorted by x."""
    front, best = [], float("inf")
    for x, y in sorted(points):
        if y < best:
            front.append((x, y))
            best = y
    return front
