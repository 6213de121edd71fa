"""The on-device trainer section of the report (issue 10, docs/trainer.md).

* ``step_trainer``: for the default MLP 64-16-10 and logreg trainer configurations
  (pezo-pool), the fixed-point golden trainer, its float twin and the ordinary float
  ZO run over ``seeds`` seeds at full length (``compare_fixed``), the golden model's
  training steps per second on this CPU timed alone (``golden_steps_per_second``) and
  the RTL's clocks per step from the ``cycles_per_step`` callable (the report passes
  the simulation of sim/tb_trainer.py); cached on the sources they depend on.
* ``markdown``: per model, fixed vs float test accuracy, the golden steps/s and the RTL
  clocks per step; for a ``trainer`` design synthesized by the report (rows of
  ``doc["results"]``), its resources and Fmax per target and steps/s at that Fmax
  (the MLP's clocks per step).
"""

from __future__ import annotations

from collections.abc import Callable

from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import (DEFAULT_STEPS, FIXED_RUNS, FIXED_TOLERANCE_POINTS, compare_fixed,
                                        golden_steps_per_second)

#: What the section's numbers depend on: every golden model (and, for the cycles per
#: step, the RTL and its testbench).
TRAINER_SOURCES = ("ref/*.py", "ref/gaussian/*.py", "ref/train/*.py")
RTL_SOURCES = ("hw/*.py", "hw/gaussian/*.py", "sim/tb_trainer.py")
#: The registry name of the trainer RTL (hw/designs.py) whose synthesis rows are shown.
TRAINER_DESIGN = "trainer"
MODELS = ("mlp", "logreg")
#: The configuration whose cycles per step give the steps/s at Fmax of the RTL rows.
RTL_MODEL = "mlp"


def step_trainer(cache: Cache, seeds: int = 5, steps: int = DEFAULT_STEPS, workers: int | None = None,
                 cycles_per_step: Callable[[TrainerConfig], int] | None = None, rate_steps: int = 1000) -> dict:
    """{"seeds", "steps", "models": {model: compare_fixed result + "golden_steps_per_s"
    (timed alone over ``rate_steps`` steps) (+ "cycles_per_step" when ``cycles_per_step``
    is given)}} (cached)."""
    key = cache_key(kind="trainer", seeds=seeds, steps=steps, cycles=cycles_per_step is not None,
                    rate_steps=rate_steps,
                    sources=source_digest(TRAINER_SOURCES + (RTL_SOURCES if cycles_per_step else ())))
    hit = cache.get(key)
    if hit is not None:
        return {**hit, "cached": True}
    out: dict = {"seeds": seeds, "steps": steps, "models": {}}
    for model in MODELS:
        tcfg = TrainerConfig(model=model)
        result = compare_fixed(tcfg, range(seeds), steps, workers=workers or 1,
                               progress=lambda line, m=model: print(f"  trainer {m}: {line}", flush=True))
        result["golden_steps_per_s"] = golden_steps_per_second(tcfg, rate_steps)
        if cycles_per_step is not None:
            result["cycles_per_step"] = cycles_per_step(tcfg)
        out["models"][model] = result
    cache.put(key, out)
    return out


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _rtl_rows(doc: dict, cycles: int | None) -> list[list[object]]:
    """One row per (target, P) where the report synthesized the trainer design."""
    rows = []
    for target, by_p in doc.get("results", {}).items():
        for p, designs in by_p.items():
            r = designs.get(TRAINER_DESIGN)
            if r is None:
                continue
            fmax = r.get("fmax_mhz")
            rate = f"{fmax * 1e6 / cycles:.0f}" if fmax and cycles else "-"
            rows.append([target, p[1:], *("-" if r.get(k) is None else r[k] for k in ("luts", "ffs", "bram", "dsp")),
                         "-" if fmax is None else f"{fmax:.1f}", cycles or "-", rate])
    return rows


def markdown(doc: dict) -> list[str]:
    """The section's Markdown lines (nothing when the report skipped it)."""
    t = doc.get("trainer")
    if t is None or t.get("skipped"):
        return []
    if "error" in t:
        return ["## On-device trainer", "", f"FAILED: {t['error']}", ""]
    lines = ["## On-device trainer (fixed-point golden model, docs/trainer.md)", "",
             f"Digits, source pezo-pool, {t['steps']} steps, batch 64, seeds 0-{t['seeds'] - 1}: the fixed-point "
             "golden trainer (the RTL's arithmetic), its float twin (same network, init, minibatches and z, "
             "float64) and the ordinary float ZO run of `pezo train` (tanh, cross-entropy) with the same source "
             f"and steps; target: fixed within {FIXED_TOLERANCE_POINTS} points of the twin. "
             "Same numbers: `pezo train --fixed --seeds 5 [--model logreg]`.", "",
             _row(["model", "parameters", "eps, lr", *(label for _, label in FIXED_RUNS), "fixed - twin",
                   "golden steps/s (this CPU)", "RTL clocks / step (simulation)"]),
             "|---" * (len(FIXED_RUNS) + 6) + "|"]
    for model, r in t["models"].items():
        cfg = r["config"]
        n = TrainerConfig(model=model).n_params
        accs = [f"{100 * r['runs'][name]['test_acc_mean']:.2f} %" if name in r["runs"] else "-"
                for name, _ in FIXED_RUNS]
        verdict = "PASS" if abs(r["gap_points"]) <= FIXED_TOLERANCE_POINTS else "MISS"
        lines.append(_row([model, n, f"2^-{cfg['eps_shift']}, 2^-{cfg['lr_shift']}", *accs,
                           f"{r['gap_points']:+.2f} {verdict}", f"{r['golden_steps_per_s']:.0f}",
                           r.get("cycles_per_step", "-")]))
    cycles = t["models"].get(RTL_MODEL, {}).get("cycles_per_step")
    rows = _rtl_rows(doc, cycles)
    lines.append("")
    if not rows:
        return lines + [f"The report synthesized no `{TRAINER_DESIGN}` design: its resources, Fmax, cycles per "
                        "step and steps/s at Fmax are not measured here.", ""]
    lines += [f"`{TRAINER_DESIGN}` RTL ({RTL_MODEL} configuration); cycles per step measured in simulation; "
              "steps/s = Fmax / cycles per step.", "",
              _row(["target", "P", "LUTs", "FFs", "BRAM", "DSP", "Fmax MHz", "cycles / step", "steps/s at Fmax"]),
              "|---" * 9 + "|"]
    return lines + [_row(r) for r in rows] + [""]
