"""``pezo report``: the comparison report of PeZO vs the Gaussian baselines.

Steps (each prints one line as it finishes; a failing step is recorded with its log
path and the report still completes):

1. Verilog of the default configuration into ``build/verilog/engine.v``;
2. the cocotb regression (``pezo.sim.regression``, quick cases unless ``full``), in a
   child process beside steps 3-4;
3. quality of every Gaussian baseline on 1e6 golden-model samples (cached);
4. synthesis of the comparison set (designs.py) per target and P (:func:`plan`), with
   nextpnr Fmax for ice40/ecp5 and the power estimate on xilinx7, in parallel over the
   cores, cached (measure.py);
5. training parity (``pezo.ref.train.compare.compare_sources``) with the settings
   stated in the report (cached), the fixed-point on-device trainer against its float
   twin (``pezo.flow.trainer_section``, cached) and the perturbation statistics of
   ``pezo stats`` (``pezo.flow.stats_section``, cached);
6. ``build/report/report.{md,csv,json}`` and PNG plots.

The headline is the default PeZO engine (``pezo-pool``) against the best Gaussian
baseline (the fewest LUTs among the Gaussian generators of designs.py that meet the
quality bar) at P = 8 and P = 1 on every target, BRAM and DSP beside every LUT count;
every design is also a ratio to ``lfsr-floor`` when the registry has it; a second table
says where the saving comes from (designs.py ``SAVINGS``), and a list says where PeZO
loses. A partial report (a subset of targets, or the regression or training skipped)
is written to ``build/report/partial/<what>/``, never over the complete one.

Every number in the outputs is measured by these steps; the paper's figures appear
only as the published reference they are.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pezo.errors import PezoError
from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.flow.comparison import (COMPARISON, FLOOR_DESIGN, GAUSSIAN_GENERATORS, HEADLINE_DESIGN, SAVINGS,
                               DesignSpec, quality)
from pezo.flow.measure import Job, run_jobs
from pezo.flow.power import static_units
from pezo.flow.regress import BackgroundRegression
from pezo.flow.stats_section import step_stats
from pezo.flow.trainer_section import step_trainer
from pezo.flow.synth import TARGETS
from pezo.ref.config import PezoConfig, preset
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import DEFAULT_STEPS as FIXED_STEPS
from pezo.ref.train.loop import TrainSettings
from pezo.toolchain import build_dir

#: The paper's published reductions for the random-number logic (PeZO vs Gaussian).
PAPER = {"lut_reduction_pct": 48.6, "ff_reduction_pct": 12.7, "power_reduction_pct_up_to": 86.0}
HEADLINE_TARGET = "xilinx7"
#: What the quality and training results depend on: the golden model.
MODEL_SOURCES = ("ref/*.py", "ref/gaussian/*.py")
REGENERATE = "make report   (or: .venv/bin/pezo report)"
#: The P values of the headline, on every target.
HEADLINE_PARALLELS = (8, 1)


@dataclass(frozen=True)
class ReportSettings:
    """What the report measures.

    ``targets`` x ``parallels`` for ``xilinx7``; the other targets at ``other_parallels``
    only unless ``full`` (P=8 synthesis of the Gaussian baselines takes minutes each in
    WebAssembly Yosys). Training: ``train_seeds`` seeds of ``train_steps`` steps, by
    default the settings of ``pezo train --compare --seeds 5``; the on-device trainer
    section runs ``train_seeds`` seeds of ``trainer_steps`` steps."""

    base: PezoConfig = field(default_factory=lambda: preset("default"))
    designs: tuple[DesignSpec, ...] = COMPARISON
    targets: tuple[str, ...] = tuple(TARGETS)
    parallels: tuple[int, ...] = (8, 1)
    other_parallels: tuple[int, ...] = (1,)
    full: bool = False
    regression: bool = True
    training: bool = True
    train_seeds: int = 5
    train_steps: int = TrainSettings.steps
    workers: int | None = None

    @property
    def trainer_steps(self) -> int:
        """Steps of the on-device trainer runs: its full length (``DEFAULT_STEPS`` of
        ref/train/fixed_train.py) at the default ``train_steps``, scaled with it otherwise."""
        return max(1, FIXED_STEPS * self.train_steps // TrainSettings.steps)

    def parallels_for(self, target: str) -> tuple[int, ...]:
        return self.parallels if (self.full or target == HEADLINE_TARGET) else self.other_parallels

    @property
    def partial(self) -> bool:
        """True when the report leaves out targets, designs, the regression or training."""
        return (set(self.targets) != set(TARGETS) or set(self.designs) != set(COMPARISON)
                or not self.regression or not self.training)

    def options(self) -> list[str]:
        """The ``pezo report`` options that measure these settings (defaults left out)."""
        default = ReportSettings()
        opts = []
        if set(self.targets) != set(TARGETS):
            opts += [f"--target {t}" for t in self.targets]
        base, ref = self.base.to_dict(), preset("default").to_dict()
        opts += [f"--set {k}={v}" for k, v in base.items() if ref.get(k) != v]
        opts += [flag for flag, on in (("--full", self.full), ("--no-regression", not self.regression),
                                       ("--no-training", not self.training)) if on]
        if self.training and self.train_seeds != default.train_seeds:
            opts.append(f"--train-seeds {self.train_seeds}")
        if self.training and self.train_steps != default.train_steps:
            opts.append(f"--train-steps {self.train_steps}")
        if self.workers is not None:
            opts.append(f"--jobs {self.workers}")
        return opts

    def regenerate(self) -> str:
        """The command line that regenerates this report."""
        opts = self.options()
        return f".venv/bin/pezo report {' '.join(opts)}" if opts else REGENERATE

    def out_dir(self) -> Path:
        """``build/report`` for a complete report, ``build/report/partial/<what>`` else."""
        if not self.partial:
            return build_dir("report")
        what = "-".join(o.replace("--", "").replace(" ", "-").replace("=", "-") for o in self.options()
                        if not o.startswith("--jobs")) or "designs"
        return build_dir("report", "partial", what)


def plan(settings: ReportSettings) -> list[Job]:
    """Every measurement job of the report."""
    jobs = []
    for target in settings.targets:
        for p in settings.parallels_for(target):
            base = settings.base.replace(parallel=p, pool_size=max(settings.base.pool_size, 2 * p))
            for s in settings.designs:
                jobs.append(Job(s.name, s.block, s.config(base).to_dict(), target, tag=f"p{p}",
                                extra={"parallel": p}))
    return jobs


def _say(line: str) -> None:
    print(line, flush=True)


def step_verilog(base: PezoConfig) -> dict:
    from pezo.hw.designs import verilog
    out = build_dir("verilog")
    (out / "engine.v").write_text(verilog("engine", base))
    base.save_toml(out / "engine.toml")
    return {"path": str(out / "engine.v")}


def step_quality(settings: ReportSettings, cache: Cache) -> dict:
    """{f"p{P}": {design: quality dict}} for the Gaussian baselines (cached)."""
    digest = source_digest(MODEL_SOURCES)
    out: dict[str, dict] = {}
    for p in sorted({p for t in settings.targets for p in settings.parallels_for(t)}, reverse=True):
        base = settings.base.replace(parallel=p, pool_size=max(settings.base.pool_size, 2 * p))
        for s in settings.designs:
            if not s.gaussian:
                continue
            cfg = s.config(base)
            key = cache_key(kind="quality", block=s.block, config=cfg.to_dict(), sources=digest)
            q = cache.get(key)
            if q is None:
                q = quality(s, cfg)
                cache.put(key, q)
            out.setdefault(f"p{p}", {})[s.name] = q
            _say(f"  quality {s.name} P={p}: {'meets' if q['meets_bar'] else 'BELOW'} the bar "
                 f"(KS {q['ks']:.4f}, {q['tail_count']} beyond 4 sigma in {q['n']} samples)")
    return out


def step_training(settings: ReportSettings, cache: Cache) -> dict:
    from pezo.ref.train.compare import compare_sources
    key = cache_key(kind="training", seeds=settings.train_seeds, steps=settings.train_steps,
                    sources=source_digest(MODEL_SOURCES + ("ref/train/*.py",)))
    hit = cache.get(key)
    if hit is not None:
        return {**hit, "cached": True}
    result = compare_sources(model="mlp", seeds=settings.train_seeds, steps=settings.train_steps,
                             progress=True, workers=settings.workers)
    cache.put(key, result)
    return result


def trainer_cycles(tcfg: TrainerConfig) -> int:
    """Clocks per training step of the ``ZoTrainer`` RTL for ``tcfg``, measured in
    simulation (sim/tb_trainer.py, one build directory per model)."""
    from pezo.sim.tb_trainer import measure_cycles_per_step
    return measure_cycles_per_step(tcfg, f"report_trainer_cycles_{tcfg.model}")


def _guard(name: str, fn: Callable[[], dict]) -> dict:
    began = time.monotonic()
    try:
        result = fn()
        _say(f"[{name}] done in {time.monotonic() - began:.0f} s")
        return result
    except PezoError as exc:
        _say(f"[{name}] FAILED: {exc}")
        return {"error": str(exc)}
    except Exception as exc:  # one failing step must not lose the rest of the report
        _say(f"[{name}] FAILED: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}


def _row(r: dict, gaussian: bool) -> dict:
    syn, pnr, pw = r.get("synth", {}), r.get("pnr"), r.get("power")
    row = {"luts": syn.get("luts"), "ffs": syn.get("ff"), "lut_logic": syn.get("lut_logic"),
           "lutram": syn.get("lutram"), "carry": syn.get("carry"), "bram": syn.get("bram"),
           "dsp": syn.get("dsp"), "fmax_mhz": None, "device": None, "power_units": None,
           "static_units": None, "power_total": None, "power_rel": None, "power_dyn_rel": None,
           "floor_ratio": None, "gaussian": gaussian, "meets_bar": None, "errors": {}}
    for step, data in (("synth", syn), ("pnr", pnr), ("power", pw)):
        if data and "error" in data:
            row["errors"][step] = {"error": data["error"], "log": data.get("log")}
    if "error" not in syn and syn:
        row["static_units"] = static_units(syn, r["target"])
    if pnr and "error" not in pnr:
        row["fmax_mhz"], row["device"] = pnr["fmax_mhz"], pnr["device"]
    if pw and "error" not in pw:
        row["power_units"] = pw["units_per_clock"]
        if row["static_units"] is not None:
            row["power_total"] = row["power_units"] + row["static_units"]
    return row


def _ratio(ours: float | None, ref: float | None) -> float | None:
    return None if ours is None or not ref else ours / ref


def summarise(records: list[dict], qualities: dict, designs: tuple[DesignSpec, ...],
              planned: dict[str, list[int]] | None = None) -> dict:
    """results[target][pP][design] rows, best Gaussian baselines, the headline rows of
    every target (``planned``: the P values measured per target; default: those seen),
    the paper comparison, the saving table and where PeZO loses."""
    gaussian = {s.name for s in designs if s.gaussian}
    generators = {s.name for s in designs if s.gaussian and s.block in GAUSSIAN_GENERATORS}
    results: dict[str, dict[str, dict[str, dict]]] = {}
    for r in records:
        p = f"p{r['parallel']}"
        row = _row(r, r["design"] in gaussian)
        if row["gaussian"]:
            row["meets_bar"] = qualities.get(p, {}).get(r["design"], {}).get("meets_bar")
        results.setdefault(r["target"], {}).setdefault(p, {})[r["design"]] = row
    order = {s.name: i for i, s in enumerate(designs)}
    results = {t: results[t] for t in sorted(results, key=lambda t: list(TARGETS).index(t) if t in TARGETS else 99)}
    for by_p in results.values():
        for p in by_p:
            by_p[p] = dict(sorted(by_p[p].items(), key=lambda kv: order.get(kv[0], len(order))))
    best: dict[str, dict[str, str | None]] = {}
    for target, by_p in results.items():
        for p, rows in by_p.items():
            ok = [(row["luts"], name) for name, row in rows.items()
                  if name in generators and row["meets_bar"] and row["luts"] is not None]
            name = min(ok)[1] if ok else None
            best.setdefault(target, {})[p] = name
            ref = rows[name] if name else {}
            floor = rows.get(FLOOR_DESIGN, {}).get("luts")
            for row in rows.values():
                row["power_rel"] = _ratio(row["power_total"], ref.get("power_total"))
                row["power_dyn_rel"] = _ratio(row["power_units"], ref.get("power_units"))
                row["floor_ratio"] = _ratio(row["luts"], floor)
    planned = planned or {t: sorted((int(p[1:]) for p in by_p), reverse=True) for t, by_p in results.items()}
    return {"results": results, "best_gaussian": best,
            "headline": headline(results, best),
            "headlines": headlines(results, best, planned),
            "savings": savings(results, best),
            "losses": losses(results, best, generators)}


def _reduction(ours: float | None, ref: float | None) -> float | None:
    if ours is None or not ref:
        return None
    return 100.0 * (1.0 - ours / ref)


NUMBERS = ("luts", "ffs", "bram", "dsp", "power_units", "power_total", "floor_ratio")


def headlines(results: dict, best: dict, planned: dict[str, list[int]]) -> list[dict]:
    """One row per target of TARGETS and P of HEADLINE_PARALLELS: pezo-pool and the best
    Gaussian baseline with their numbers and reductions, and a ``status``: "measured",
    "not measured" (not in this report's plan) or "no baseline" (none met the bar)."""
    out = []
    for target in TARGETS:
        for par in HEADLINE_PARALLELS:
            p = f"p{par}"
            rows = results.get(target, {}).get(p)
            row: dict = {"target": target, "parallel": par, "design": HEADLINE_DESIGN, "baseline": None}
            if rows is None or HEADLINE_DESIGN not in rows:
                row["status"] = "not measured" if par not in planned.get(target, []) else "failed"
                out.append(row)
                continue
            name = best.get(target, {}).get(p)
            ours, ref = rows[HEADLINE_DESIGN], rows.get(name, {}) if name else {}
            row.update(baseline=name, status="measured" if name else "no baseline",
                       ours={k: ours.get(k) for k in NUMBERS}, base={k: ref.get(k) for k in NUMBERS},
                       lut_reduction_pct=_reduction(ours.get("luts"), ref.get("luts")),
                       ff_reduction_pct=_reduction(ours.get("ffs"), ref.get("ffs")),
                       power_reduction_pct=_reduction(ours.get("power_total"), ref.get("power_total")))
            row["pezo_loses"] = (row["lut_reduction_pct"] is not None and row["lut_reduction_pct"] < 0)
            out.append(row)
    return out


def headline(results: dict, best: dict, p: str = "p8") -> dict:
    """The paper comparison: reductions (%) of pezo-pool vs the best Gaussian baseline on
    xilinx7 at P=8 (or at the largest P measured, when P=8 is not); ``measured`` is False
    when xilinx7 is not part of this report."""
    measured = results.get(HEADLINE_TARGET, {})
    if p not in measured and measured:
        p = max(measured, key=lambda key: int(key[1:]))
    rows = measured.get(p, {})
    name = best.get(HEADLINE_TARGET, {}).get(p)
    ours = rows.get(HEADLINE_DESIGN, {})
    ref = rows.get(name, {}) if name else {}
    out = {"target": HEADLINE_TARGET, "parallel": int(p[1:]), "design": HEADLINE_DESIGN,
           "baseline": name, "measured": bool(rows),
           "lut_reduction_pct": _reduction(ours.get("luts"), ref.get("luts")),
           "ff_reduction_pct": _reduction(ours.get("ffs"), ref.get("ffs")),
           "power_reduction_pct": _reduction(ours.get("power_total"), ref.get("power_total")),
           "power_dyn_reduction_pct": _reduction(ours.get("power_units"), ref.get("power_units"))}
    out["ours"] = {k: ours.get(k) for k in NUMBERS}
    out["baseline_numbers"] = {k: ref.get(k) for k in NUMBERS}
    out["lut_target_pass"] = out["lut_reduction_pct"] is not None and out["lut_reduction_pct"] >= PAPER["lut_reduction_pct"]
    out["ff_target_pass"] = out["ff_reduction_pct"] is not None and out["ff_reduction_pct"] >= PAPER["ff_reduction_pct"]
    return out


def savings(results: dict, best: dict) -> list[dict]:
    """Where the saving comes from: pezo-pool vs each design of designs.py ``SAVINGS``
    that was measured (``None`` = the best Gaussian generator), per target and P."""
    out = []
    for target, by_p in results.items():
        for p, rows in sorted(by_p.items(), key=lambda kv: -int(kv[0][1:])):
            ours = rows.get(HEADLINE_DESIGN)
            if ours is None:
                continue
            for name, what in SAVINGS:
                versus = best.get(target, {}).get(p) if name is None else name
                ref = rows.get(versus) if versus else None
                if ref is None:
                    continue
                out.append({"target": target, "parallel": int(p[1:]), "versus": versus, "what": what,
                            "ours_luts": ours["luts"], "their_luts": ref["luts"],
                            "lut_saving_pct": _reduction(ours["luts"], ref["luts"]),
                            "ff_saving_pct": _reduction(ours["ffs"], ref["ffs"]),
                            "power_saving_pct": _reduction(ours["power_total"], ref["power_total"])})
    return out


def losses(results: dict, best: dict, generators: set[str]) -> list[str]:
    """Plain statements of every place PeZO loses: a Gaussian generator that meets the
    bar, or a design of ``SAVINGS``, with fewer LUTs, FFs or less total power than
    pezo-pool; and pezo-pool using more BRAM or DSP than the best Gaussian baseline."""
    rivals = generators | {name for name, _ in SAVINGS if name}
    out = []
    for target, by_p in results.items():
        for p, rows in sorted(by_p.items(), key=lambda kv: -int(kv[0][1:])):
            ours = rows.get(HEADLINE_DESIGN)
            if ours is None:
                continue
            where = f"{target} P={p[1:]}"
            for name, row in rows.items():
                if name not in rivals or (name in generators and not row["meets_bar"]):
                    continue
                for key, what in (("luts", "fewer LUTs"), ("ffs", "fewer FFs"),
                                  ("power_total", "less power (estimate)")):
                    if row[key] is not None and ours[key] is not None and row[key] < ours[key]:
                        out.append(f"{where}: {name} needs {what} than {HEADLINE_DESIGN} "
                                   f"({_count(row[key])} vs {_count(ours[key])})")
            name = best.get(target, {}).get(p)
            if name:
                for key, what in (("bram", "block RAMs"), ("dsp", "DSPs")):
                    if (ours[key] or 0) > (rows[name][key] or 0):
                        out.append(f"{where}: {HEADLINE_DESIGN} uses more {what} than {name} "
                                   f"({ours[key]} vs {rows[name][key]})")
    return out


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


CSV_FIELDS = ("target", "parallel", "design", "luts", "lut_logic", "lutram", "ffs", "carry", "bram", "dsp",
              "floor_ratio", "fmax_mhz", "device", "power_units", "static_units", "power_total", "power_rel",
              "power_dyn_rel", "gaussian", "meets_bar", "best_gaussian", "errors")


def write_csv(path: Path, summary: dict) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for target, by_p in summary["results"].items():
            for p, rows in by_p.items():
                for design, row in rows.items():
                    w.writerow({**{k: row.get(k) for k in CSV_FIELDS if k in row}, "target": target,
                                "parallel": p[1:], "design": design,
                                "best_gaussian": summary["best_gaussian"][target][p] == design,
                                "errors": "; ".join(f"{k}: {v['error']}" for k, v in row["errors"].items())})


def run_report(settings: ReportSettings, out_dir: Path | None = None) -> dict:
    """Run every step and write the report; returns the report.json document."""
    out = Path(out_dir) if out_dir is not None else settings.out_dir()
    out.mkdir(parents=True, exist_ok=True)
    cache = Cache()
    began = time.monotonic()
    doc: dict = {"generated_by": "pezo report", "regenerate": settings.regenerate(), "paper": PAPER,
                 "config": settings.base.to_dict(), "full": settings.full, "partial": settings.partial,
                 "plan": {t: list(settings.parallels_for(t)) for t in settings.targets}}
    _say("[1/6] Verilog of the default configuration")
    doc["verilog"] = _guard("verilog", lambda: step_verilog(settings.base))
    _say("[2/6] cocotb regression (in the background, beside synthesis)")
    background = BackgroundRegression(settings.full, out / "regression.log", _say) if settings.regression else None
    _say("[3/6] Gaussian quality (golden model, bit-exact with the RTL)")
    qualities = _guard("quality", lambda: step_quality(settings, cache))
    doc["quality"] = qualities
    jobs = plan(settings)
    _say(f"[4/6] synthesis: {len(jobs)} jobs over {settings.workers or 'all'} cores (cached)")
    records = []
    for i, r in enumerate((m.to_dict() for m in run_jobs(jobs, settings.workers, cache)), 1):
        records.append(r)
        _say(f"  ({i}/{len(jobs)}) {_job_line(r)}")
    doc.update(summarise(records, qualities if "error" not in qualities else {}, settings.designs, doc["plan"]))
    doc["design_order"] = [s.name for s in settings.designs]
    if background is not None:
        _say("  waiting for the cocotb regression")
        doc["regression"] = _guard("regression", background.result)
    else:
        doc["regression"] = {"skipped": True}
    _say("[5/6] training parity")
    doc["training"] = (_guard("training", lambda: step_training(settings, cache)) if settings.training
                       else {"skipped": True})
    doc["training_settings"] = {"seeds": settings.train_seeds, "steps": settings.train_steps, "model": "mlp"}
    _say("[5/6] on-device trainer (fixed-point golden model vs float)")
    doc["trainer"] = (_guard("trainer", lambda: step_trainer(cache, settings.train_seeds, settings.trainer_steps,
                                                             workers=settings.workers or os.cpu_count(),
                                                             cycles_per_step=trainer_cycles))
                      if settings.training else {"skipped": True})
    _say("[5/6] perturbation statistics (pezo stats)")
    doc["stats"] = _guard("stats", lambda: step_stats(settings.base, cache))
    _say("[6/6] writing the report")
    from pezo.flow.plots import write_plots
    doc["plots"] = _guard("plots", lambda: write_plots(doc, out))
    doc["seconds"] = round(time.monotonic() - began, 1)
    (out / "report.json").write_text(json.dumps(doc, indent=1, default=str))
    write_csv(out / "report.csv", doc)
    from pezo.flow.markdown import render
    (out / "report.md").write_text(render(doc))
    _say(f"wrote {out / 'report.md'}, report.csv, report.json and plots in {doc['seconds']:.0f} s")
    return doc


def _job_line(r: dict) -> str:
    syn = r.get("synth", {})
    head = f"{r['target']:<8} P={r['parallel']:<2} {r['design']:<13}"
    if "error" in syn:
        return f"{head} synthesis FAILED: {syn['error']}"
    parts = [f"LUTs {syn['luts']}, FFs {syn['ff']}"]
    if "pnr" in r:
        parts.append(f"P&R FAILED ({r['pnr']['error']})" if "error" in r["pnr"] else f"Fmax {r['pnr']['fmax_mhz']:.1f} MHz")
    if "power" in r:
        parts.append("power FAILED" if "error" in r["power"] else f"power {r['power']['units_per_clock']:.0f} u/clk")
    when = "cached" if r.get("cached") else f"{r.get('seconds', 0):.0f} s"
    return f"{head} {', '.join(parts)} ({when})"
