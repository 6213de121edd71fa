"""``pezo sweep``: a design-space grid of the PeZO engine, cost vs training accuracy.

Grid axes: pool size N, P, word width B, strategy and target. Each point is the
engine built from the base config with those fields (F = min(base F, B - 4) so every
B is legal; pool size is irrelevant to ``stream``/``none`` and collapses there).
For each point: synthesis (measure.py, cached, in parallel over the local cores,
no place-and-route or power: the sweep is about area) and a short training run of the
engine's golden model (``compare_sources`` with the ``pezo-pool`` source for the pool
strategy, ``pezo-stream`` for stream/none, and the point's fields as overrides, cached) whose test accuracy minus that of ``gaussian``
(same settings and seeds) is the accuracy gap in points. Writes
``build/sweep/sweep.csv`` and ``build/sweep/pareto.png`` (LUTs vs accuracy gap).
"""

from __future__ import annotations

import csv
import itertools
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.flow.measure import Job, default_workers, run_jobs
from pezo.flow.plots import pareto_plot
from pezo.flow.synth import check_target
from pezo.ref.config import PezoConfig, preset
from pezo.toolchain import build_dir

CSV_FIELDS = ("label", "target", "strategy", "pool_size", "parallel", "word_bits", "frac_bits", "luts", "ffs",
              "carry", "bram", "dsp", "test_acc", "gaussian_acc", "acc_gap_pts", "error")


@dataclass(frozen=True)
class SweepGrid:
    """Values of each axis (the grid is their product) and the training settings."""

    pool_sizes: tuple[int, ...] = (64, 256, 1024)
    parallels: tuple[int, ...] = (1, 8)
    word_bits: tuple[int, ...] = (8, 16)
    strategies: tuple[str, ...] = ("pool", "stream")
    targets: tuple[str, ...] = ("xilinx7",)
    train_steps: int = 1000
    train_seeds: int = 1


def points(grid: SweepGrid, base: PezoConfig) -> list[tuple[str, PezoConfig]]:
    """(target, config) of every distinct grid point."""
    seen: dict[tuple, tuple[str, PezoConfig]] = {}
    for target, strategy, n, p, b in itertools.product(grid.targets, grid.strategies, grid.pool_sizes,
                                                       grid.parallels, grid.word_bits):
        check_target(target)
        pool = n if strategy == "pool" else max(base.pool_size, 2 * p)
        cfg = base.replace(strategy=strategy, pool_size=max(pool, 2 * p), parallel=p, word_bits=b,
                           frac_bits=min(base.frac_bits, b - 4), moment_bits=min(base.moment_bits, b),
                           repeat=min(base.repeat, b))
        seen[(target, tuple(sorted(cfg.to_dict().items())))] = (target, cfg)
    return list(seen.values())


def label(cfg: PezoConfig) -> str:
    pool = f" N={cfg.pool_size}" if cfg.strategy == "pool" else ""
    return f"{cfg.strategy}{pool} P={cfg.parallel} B={cfg.word_bits}"


_TRAIN_FIELDS = ("strategy", "pool_size", "parallel", "word_bits", "frac_bits", "moment_bits", "repeat")


def _train(overrides: dict | None, source: str, steps: int, seeds: int) -> float:
    from pezo.ref.train.compare import compare_sources
    result = compare_sources(model="mlp", seeds=seeds, steps=steps, sources=[source], progress=False,
                             pezo_overrides=overrides, workers=1)
    return float(result["sources"][source]["test_acc_mean"])


def training_source(cfg: PezoConfig) -> str:
    """The training source that runs the engine model of ``cfg``'s strategy."""
    return "pezo-pool" if cfg.strategy == "pool" else "pezo-stream"


def training_accuracy(overrides: dict | None, source: str, grid: SweepGrid, cache: Cache,
                      workers: int) -> float:
    """Cached mean test accuracy of one short run (see the module docstring)."""
    key = cache_key(kind="sweep-train", source=source, overrides=overrides, steps=grid.train_steps,
                    seeds=grid.train_seeds,
                    sources=source_digest(("ref/*.py", "ref/train/*.py")))
    hit = cache.get(key)
    if hit is None:
        hit = {"acc": _train(overrides, source, grid.train_steps, grid.train_seeds)}
        cache.put(key, hit)
    return hit["acc"]


def run_sweep(grid: SweepGrid, base: PezoConfig | None = None, workers: int | None = None,
              out_dir: Path | None = None) -> list[dict]:
    """Run the sweep; writes sweep.csv and pareto.png; returns the CSV rows."""
    base = base or preset("default")
    out = Path(out_dir) if out_dir is not None else build_dir("sweep")
    out.mkdir(parents=True, exist_ok=True)
    cache = Cache()
    workers = workers or default_workers()
    pts = points(grid, base)
    jobs = [Job("engine", "engine", cfg.to_dict(), target, pnr=False, power=False,
                tag=f"sweep-{cache_key(**cfg.to_dict())[:10]}", extra={"label": label(cfg)})
            for target, cfg in pts]
    print(f"sweep: {len(jobs)} points, synthesis over {workers} processes (cached)", flush=True)
    records = {}
    for i, r in enumerate(run_jobs(jobs, workers, cache), 1):
        records[(r["target"], r["label"])] = r
        syn = r["synth"]
        status = f"FAILED: {syn['error']}" if "error" in syn else f"LUTs {syn['luts']}, FFs {syn['ff']}"
        print(f"  ({i}/{len(jobs)}) {r['target']} {r['label']}: {status}{' (cached)' if r.get('cached') else ''}",
              flush=True)
    print(f"sweep: training ({grid.train_seeds} seed(s) x {grid.train_steps} steps per point, cached)", flush=True)
    configs = {label(cfg): cfg for _, cfg in pts}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        gauss = pool.submit(training_accuracy, None, "gaussian", grid, cache, 1)
        accs = {name: pool.submit(training_accuracy, {f: getattr(cfg, f) for f in _TRAIN_FIELDS},
                                  training_source(cfg), grid, cache, 1) for name, cfg in configs.items()}
        gaussian_acc = gauss.result()
        for i, (name, fut) in enumerate(accs.items(), 1):
            accs[name] = fut.result()
            print(f"  ({i}/{len(configs)}) {name}: test accuracy {100 * accs[name]:.2f} % "
                  f"(gaussian {100 * gaussian_acc:.2f} %)", flush=True)
    rows = []
    for target, cfg in pts:
        r = records[(target, label(cfg))]
        syn = r["synth"]
        acc = accs[label(cfg)]
        rows.append({"label": label(cfg), "target": target, "strategy": cfg.strategy, "pool_size": cfg.pool_size,
                     "parallel": cfg.parallel, "word_bits": cfg.word_bits, "frac_bits": cfg.frac_bits,
                     "luts": syn.get("luts"), "ffs": syn.get("ff"), "carry": syn.get("carry"),
                     "bram": syn.get("bram"), "dsp": syn.get("dsp"), "test_acc": acc,
                     "gaussian_acc": gaussian_acc, "acc_gap_pts": 100.0 * (acc - gaussian_acc),
                     "error": syn.get("error", "")})
    with open(out / "sweep.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(rows)
    pareto_plot(rows, out / "pareto.png")
    print(f"wrote {out / 'sweep.csv'} and {out / 'pareto.png'}", flush=True)
    return rows
