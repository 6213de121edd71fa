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

With an ``executor`` (:func:`dask_executor`: a Dask distributed cluster) the synthesis
and training of every point run on the cluster's workers, which need pezo and its
tools installed but no shared folder: they return the records as values, and the
cache stays on this machine.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.errors import PezoError
from pezo.flow.measure import Job, StepFailure, default_workers, run_jobs
from pezo.flow.plots import pareto_plot
from pezo.flow.synth import check_target
from pezo.flow.workers import worker_pool
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


def training_accuracies(runs: dict[str, tuple[dict | None, str]], grid: SweepGrid, cache: Cache,
                        executor: Executor) -> Iterator[tuple[str, float]]:
    """(name, mean test accuracy) of each short run ``name: (overrides, source)``, from
    the cache or computed on ``executor`` (and cached here), in the order of ``runs``."""
    digest = source_digest(("ref/*.py", "ref/train/*.py"))
    keys = {name: cache_key(kind="sweep-train", source=source, overrides=overrides, steps=grid.train_steps,
                            seeds=grid.train_seeds, sources=digest)
            for name, (overrides, source) in runs.items()}
    hits = {name: cache.get(key) for name, key in keys.items()}
    futures = {name: executor.submit(_train, overrides, source, grid.train_steps, grid.train_seeds)
               for name, (overrides, source) in runs.items() if hits[name] is None}
    try:
        for name in runs:
            if hits[name] is None:
                hits[name] = {"acc": futures[name].result()}
                cache.put(keys[name], hits[name])
            yield name, hits[name]["acc"]
    finally:
        for future in futures.values():
            future.cancel()


@contextmanager
def dask_executor(address: str) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on the Dask distributed scheduler at
    ``address``; a missing package or an unreachable scheduler is a one-line error."""
    try:
        from distributed import Client
    except ImportError:
        raise PezoError("--scheduler needs Dask: pip install distributed") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise PezoError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()


def run_sweep(grid: SweepGrid, base: PezoConfig | None = None, workers: int | None = None,
              out_dir: Path | None = None, executor: Executor | None = None) -> list[dict]:
    """Run the sweep on ``workers`` local processes, or on ``executor`` (see the module
    docstring); writes sweep.csv and pareto.png; returns the CSV rows."""
    base = base or preset("default")
    out = Path(out_dir) if out_dir is not None else build_dir("sweep")
    out.mkdir(parents=True, exist_ok=True)
    cache = Cache()
    workers = workers or default_workers()
    pts = points(grid, base)
    jobs = [Job("engine", "engine", cfg.to_dict(), target, pnr=False, power=False, tag="sweep",
                extra={"label": label(cfg)})
            for target, cfg in pts]
    where = "on the Dask cluster" if executor is not None else f"over {workers} processes"
    print(f"sweep: {len(jobs)} points, synthesis {where} (cached)", flush=True)
    records = {}
    for i, r in enumerate(run_jobs(jobs, workers, cache, executor), 1):
        records[(r.target, r.extra["label"])] = r
        syn = r.synth
        status = f"FAILED: {syn.error}" if r.failed else f"LUTs {syn.luts}, FFs {syn.ff}"
        print(f"  ({i}/{len(jobs)}) {r.target} {r.extra['label']}: {status}{' (cached)' if r.cached else ''}",
              flush=True)
    print(f"sweep: training ({grid.train_seeds} seed(s) x {grid.train_steps} steps per point, cached)", flush=True)
    configs = {label(cfg): cfg for _, cfg in pts}
    runs = {"gaussian": (None, "gaussian"),
            **{name: ({f: getattr(cfg, f) for f in _TRAIN_FIELDS}, training_source(cfg))
               for name, cfg in configs.items()}}
    accs: dict[str, float] = {}
    with (worker_pool(workers) if executor is None else _borrowed(executor)) as pool:
        for i, (name, acc) in enumerate(training_accuracies(runs, grid, cache, pool)):
            accs[name] = acc
            if i:
                print(f"  ({i}/{len(configs)}) {name}: test accuracy {100 * acc:.2f} % "
                      f"(gaussian {100 * accs['gaussian']:.2f} %)", flush=True)
    gaussian_acc = accs["gaussian"]
    rows = []
    for target, cfg in pts:
        syn = records[(target, label(cfg))].synth
        figures = {} if isinstance(syn, StepFailure) else asdict(syn)
        acc = accs[label(cfg)]
        rows.append({"label": label(cfg), "target": target, "strategy": cfg.strategy, "pool_size": cfg.pool_size,
                     "parallel": cfg.parallel, "word_bits": cfg.word_bits, "frac_bits": cfg.frac_bits,
                     "luts": figures.get("luts"), "ffs": figures.get("ff"), "carry": figures.get("carry"),
                     "bram": figures.get("bram"), "dsp": figures.get("dsp"), "test_acc": acc,
                     "gaussian_acc": gaussian_acc, "acc_gap_pts": 100.0 * (acc - gaussian_acc),
                     "error": syn.error if isinstance(syn, StepFailure) else ""})
    with open(out / "sweep.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(rows)
    pareto_plot(rows, out / "pareto.png")
    print(f"wrote {out / 'sweep.csv'} and {out / 'pareto.png'}", flush=True)
    return rows


@contextmanager
def _borrowed(executor: Executor) -> Iterator[Executor]:
    """An executor the caller owns (not shut down here)."""
    yield executor
