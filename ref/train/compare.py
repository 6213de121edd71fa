"""The training-parity experiment: every perturbation source (and SGD) on the same
model, data, hyper-parameters and seeds, with the cost of each source measured in the
same process.

``compare_sources`` returns a JSON-ready dict::

    {"settings": {... hyper-parameters, n_params, seeds, pezo configs,
                  "numpy_standard_normal_words_per_s": float, "seconds": float},
     "sources": {name: {"test_acc_mean", "test_acc_std",      # fraction 0..1, over seeds
                        "initial_loss_mean", "final_loss_mean", # training loss, nats
                        "fresh_per_step",                       # fresh random numbers / step
                        "words_per_s",                          # z words generated / second
                        "curves": {"step": [...], "test_acc_mean": [...],
                                   "train_loss_mean": [...]}}},
     "checks": [{"name", "measured", "target", "passed"}, ...]}

``words_per_s`` is the rate at which a training run gets its perturbations: a source
built inside the timed region (nothing cached from an earlier call: no pool, no offset
or stride draws, no warm-up) gives z for the new steps 0, 1, ..., each computed from its
LFSR words, addressing and scaling (for a PeZO source ``EngineModel.perturbation_real``),
n_params words per step, over min(steps, TIMING_STEPS) steps, so a pool fill weighs at
least as much as in the training run (amortised over at most its steps). The reference
is numpy's ``Generator.standard_normal(n_params)`` from one Generator reused over the
run, timed the same way in the same process. ``words_per_s_vs_numpy`` is the ratio.
Only tables that depend on the configuration alone (the module-level caches of
ref/lfsr.py: the XOR networks the hardware has fixed) are shared between runs.
SGD draws no perturbation: fresh_per_step 0, words_per_s None.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial

import numpy as np
from tqdm import tqdm

from pezo.errors import ConfigError
from pezo.ref.config import preset
from pezo.ref.train.data import digits
from pezo.ref.train.loop import TrainResult, TrainSettings
from pezo.ref.train.models import make_model
from pezo.ref.train.run import METHODS, check_method, source_for, train
from pezo.ref.train.sources import PEZO_PRESETS, PerturbationSource, PezoSource

TIMING_ROUNDS = 5
TIMING_STEPS = 2000  # steps per timed run (at most the training run's steps)
ACC_TOLERANCE = 0.01   # 1 percentage point
FRESH_RATIO = 100.0
NUMPY = "numpy standard_normal"

#: builds a new generator of one run: ``generate(step)`` returns that step's z
Factory = Callable[[], Callable[[int], np.ndarray]]


def words_per_second(factories: dict[str, Factory], n: int, steps: int) -> dict[str, float]:
    """Words per second of each generator over a run of new steps (n words per step).

    Each round times, for every generator in turn, the construction of a new generator
    (``factory()``) and its steps 0 .. steps-1; TIMING_ROUNDS rounds, the best counts,
    so that all of them see the same machine load. Nothing is generated before the
    timed region, so every cache a generator keeps is filled inside it."""
    best = dict.fromkeys(factories, 0.0)
    for _ in range(TIMING_ROUNDS):
        for name, factory in factories.items():
            start = time.perf_counter()
            generate = factory()
            for step in range(steps):
                generate(step)
            best[name] = max(best[name], n * steps / (time.perf_counter() - start))
    return best


def model_speed(presets: list[str], sizes: list[int], steps: int = TIMING_STEPS) -> dict[str, object]:
    """Words per second of the bit-exact engine model of each preset
    (``engine_model(cfg, 0).perturbation_real``, a new model per run, as in
    :func:`words_per_second`) and of numpy's standard_normal, for n parameters per
    step, each n in ``sizes``::

        {"steps": int, "rounds": int,
         "rates": {n: {NUMPY: words/s, preset: words/s, ...}},
         "vs_numpy": {n: {preset: ratio, ...}}}
    """
    for name in presets:
        if steps > 1 << preset(name).step_bits:
            raise ConfigError("steps", steps, f"preset {name} addresses {1 << preset(name).step_bits} steps")
    rates, ratios = {}, {}
    for n in sizes:
        if n < 1:
            raise ConfigError("params", n, "must be at least 1")
        factories: dict[str, Factory] = {NUMPY: partial(_numpy_run, n)}
        factories.update({name: partial(_engine_run, name, n) for name in presets})
        rates[n] = words_per_second(factories, n, steps)
        ratios[n] = {name: rates[n][name] / rates[n][NUMPY] for name in presets}
    return {"steps": steps, "rounds": TIMING_ROUNDS, "rates": rates, "vs_numpy": ratios}


def _engine_run(name: str, n: int) -> Callable[[int], np.ndarray]:
    return partial(_generate, PezoSource(name, preset(name), 0), n)


def _numpy_run(n: int) -> Callable[[int], np.ndarray]:
    rng = np.random.default_rng(0)
    return lambda _step: rng.standard_normal(n)


def _source_run(method: str, overrides: dict[str, object] | None, n: int) -> Callable[[int], np.ndarray]:
    return partial(_generate, source_for(method, 0, overrides), n)


def _generate(source: PerturbationSource, n: int, step: int) -> np.ndarray:
    return source.generate(step, n)


def _job(method: str, settings: TrainSettings, seed: int,
         pezo_overrides: dict[str, object] | None) -> TrainResult:
    return train(method, settings, seed, pezo_overrides)


def _run_all(jobs: list[tuple[str, int]], settings: TrainSettings,
             pezo_overrides: dict[str, object] | None, workers: int,
             progress: bool) -> dict[tuple[str, int], TrainResult]:
    bar = tqdm(total=len(jobs), desc="training runs", unit="run", disable=not progress)
    results: dict[tuple[str, int], TrainResult] = {}
    if workers <= 1:
        for method, seed in jobs:
            bar.set_postfix_str(f"{method} seed {seed}")
            results[method, seed] = train(method, settings, seed, pezo_overrides)
            bar.update()
    else:
        with ProcessPoolExecutor(workers) as pool:
            futures = {pool.submit(_job, m, settings, s, pezo_overrides): (m, s) for m, s in jobs}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.set_postfix_str("{} seed {}".format(*futures[future]))
                bar.update()
    bar.close()
    return results


def _summary(runs: list[TrainResult]) -> dict[str, object]:
    acc = np.array([r.final_test_acc for r in runs])
    return {
        "test_acc_mean": float(acc.mean()),
        "test_acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
        "initial_loss_mean": float(np.mean([r.train_loss[0] for r in runs])),
        "final_loss_mean": float(np.mean([r.final_loss for r in runs])),
        "test_acc_per_seed": acc.tolist(),
        "train_seconds_mean": float(np.mean([r.seconds for r in runs])),
        "curves": {
            "step": list(runs[0].steps),
            "test_acc_mean": np.mean([r.test_acc for r in runs], axis=0).tolist(),
            "train_loss_mean": np.mean([r.train_loss for r in runs], axis=0).tolist(),
        },
    }


def diverged(summary: dict) -> bool:
    """Whether a source's mean training loss ended above where it started (the run
    diverged: its learning rate is too large for the model)."""
    return summary["final_loss_mean"] > summary["initial_loss_mean"]


def _miss_note(result: dict, name: str) -> str | None:
    """Why a source's accuracy check missed, where the result shows it, or None: a
    diverged run (its accuracy, or gaussian's, is noise), else a pool smaller than
    the model."""
    src = result["sources"]
    for who in ("gaussian", name):
        if diverged(src[who]):
            return (f"the {who} runs diverged (training loss {src[who]['initial_loss_mean']:.2f} -> "
                    f"{src[who]['final_loss_mean']:.2f} nats): the accuracies compare noise, not "
                    f"perturbations; lower --lr (ZO-SGD is stable only for lr below about 2/(L d))")
    cfg = result["settings"]["pezo_configs"].get(name)
    n = result["settings"]["n_params"]
    if cfg is None or cfg["strategy"] != "pool" or cfg["pool_size"] >= n:
        return None
    size = cfg["pool_size"]
    return (f"pool_size {size} < {n} parameters: each step's z has only {size} distinct values, "
            f"each shared by about {n / size:.1f} parameters (the offset is re-drawn for every "
            f"wrap, so the sharing changes from step to step); a larger pool "
            f"(e.g. --set pool_size={1 << (n - 1).bit_length()}) lowers the gradient-estimate noise")


def target_checks(result: dict) -> list[dict[str, object]]:
    """The three PeZO targets, each with its measured number and PASS (True) / MISS:

    * pezo-pool and pezo-stream mean test accuracy within 1 point of gaussian;
    * pezo-pool draws >= 100x fewer fresh numbers per step than gaussian;
    * pezo-pool and pezo-stream words/s >= numpy standard_normal words/s.
    Checks whose sources were not run are left out. A failed accuracy check carries a
    ``note`` where the result shows why: a diverged run, or a pool smaller than the
    model."""
    src = result["sources"]
    checks: list[dict[str, object]] = []
    if "gaussian" in src:
        ref = src["gaussian"]["test_acc_mean"]
        for name in ("pezo-pool", "pezo-stream"):
            if name in src:
                gap = 100.0 * (src[name]["test_acc_mean"] - ref)
                check = {"name": f"{name} test accuracy within 1.0 point of gaussian",
                         "measured": f"{gap:+.2f} points ({100 * src[name]['test_acc_mean']:.2f} % "
                                     f"vs {100 * ref:.2f} %)",
                         "target": "|gap| <= 1.00", "passed": abs(gap) <= 100.0 * ACC_TOLERANCE}
                note = _miss_note(result, name)
                if note and not check["passed"]:
                    check["note"] = note
                checks.append(check)
        if "pezo-pool" in src:
            ratio = src["gaussian"]["fresh_per_step"] / src["pezo-pool"]["fresh_per_step"]
            checks.append({"name": "pezo-pool fresh numbers per step vs gaussian",
                           "measured": f"{ratio:.1f}x fewer ({src['pezo-pool']['fresh_per_step']:.2f} "
                                       f"vs {src['gaussian']['fresh_per_step']:.0f})",
                           "target": f">= {FRESH_RATIO:.0f}x", "passed": ratio >= FRESH_RATIO})
    ref_rate = result["settings"]["numpy_standard_normal_words_per_s"]
    for name in ("pezo-pool", "pezo-stream"):
        if name in src:
            ours = src[name]["words_per_s"]
            checks.append({"name": f"{name} words/s vs numpy standard_normal",
                           "measured": f"{ours / 1e6:.1f} M/s vs {ref_rate / 1e6:.1f} M/s ({ours / ref_rate:.2f}x)",
                           "target": ">= 1.00x", "passed": ours >= ref_rate})
    return checks


def compare_sources(model: str = "mlp", seeds: int = 5, steps: int | None = None,
                    sources: list[str] | None = None, progress: bool = True,
                    settings: TrainSettings | None = None,
                    pezo_overrides: dict[str, object] | None = None,
                    workers: int | None = None) -> dict:
    """Train every method in ``sources`` (default: all sources and ``sgd``) for seeds
    0..seeds-1 and summarise; see the module docstring for the result.

    ``settings`` gives the hyper-parameters (``model`` and ``steps`` override it);
    ``pezo_overrides`` change fields of both pezo presets (e.g. ``{"pool_size": 2048}``);
    ``workers`` processes train in parallel (default: the CPU count), after the timing.
    """
    settings = (settings or TrainSettings()).replace(model=model, **({"steps": steps} if steps else {}))
    methods = [check_method(m) for m in (sources or METHODS)]
    if seeds < 1:
        raise ConfigError("seeds", seeds, "must be at least 1")
    data = digits()
    n = make_model(settings.model, data.n_features, data.n_classes, settings.hidden).n_params
    start = time.perf_counter()

    factories: dict[str, Factory] = {NUMPY: partial(_numpy_run, n)}
    fresh: dict[str, float] = {"sgd": 0.0}
    pezo_configs: dict[str, dict] = {}
    for method in methods:
        if method != "sgd":
            source = source_for(method, 0, pezo_overrides)
            if source.max_steps is not None and settings.steps > source.max_steps:
                raise ConfigError("steps", settings.steps,
                                  f"the {method} source addresses at most {source.max_steps} steps")
            factories[method] = partial(_source_run, method, pezo_overrides, n)
            fresh[method] = source.fresh_per_step(n, settings.steps)
            if isinstance(source, PezoSource):
                pezo_configs[method] = source.cfg.to_dict()
    rates = words_per_second(factories, n, min(settings.steps, TIMING_STEPS))

    slow_first = sorted(methods, key=lambda m: m != "pezo-stream")
    jobs = [(m, s) for m in slow_first for s in range(seeds)]
    results = _run_all(jobs, settings, pezo_overrides, workers or os.cpu_count() or 1, progress)
    summary = {}
    for method in methods:
        summary[method] = _summary([results[method, s] for s in range(seeds)])
        summary[method]["fresh_per_step"] = fresh[method]
        summary[method]["words_per_s"] = rates.get(method)
        summary[method]["words_per_s_vs_numpy"] = rates[method] / rates[NUMPY] if method in rates else None
    out = {
        "settings": {**settings.to_dict(), "n_params": n, "seeds": list(range(seeds)),
                     "pezo_presets": {m: PEZO_PRESETS[m] for m in pezo_configs},
                     "pezo_configs": pezo_configs,
                     "numpy_standard_normal_words_per_s": rates[NUMPY],
                     "timing_steps": min(settings.steps, TIMING_STEPS),
                     "seconds": time.perf_counter() - start},
        "sources": summary,
    }
    out["checks"] = target_checks(out)
    return out
