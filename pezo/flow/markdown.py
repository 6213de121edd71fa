"""The Markdown text of the report, from the report.json document (report.py)."""

from __future__ import annotations

from pezo.flow import stats_section


def _fmt(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def render(doc: dict) -> str:
    """Every section of the report as Markdown."""
    lines = ["# PeZO hardware report", "",
             f"Regenerate with: `{doc['regenerate']}` (results are cached under `build/cache/`; "
             "`pezo report --full` also synthesizes P=8 for every target and runs every simulation case).", ""]
    lines += _headline(doc) + _resources(doc) + _quality(doc) + _regression(doc) + _training(doc)
    lines += stats_section.markdown(doc) + _notes(doc)
    return "\n".join(lines) + "\n"


def _headline(doc: dict) -> list[str]:
    h, paper = doc["headline"], doc["paper"]
    base = h["baseline"] or "none (no Gaussian baseline met the quality bar)"
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    return [
        "## Headline: default PeZO engine vs the best Gaussian baseline", "",
        f"Target {h['target']}, P = {h['parallel']}, {h['design']} (default preset) vs **{base}** "
        "(fewest LUTs among the Gaussian baselines that meet the quality bar).", "",
        "| measure | paper (random-number logic) | ours | target |",
        "|---|---|---|---|",
        f"| LUT reduction | {paper['lut_reduction_pct']} % | {_pct(h['lut_reduction_pct'])} | "
        f"{verdict(h['lut_target_pass'])} (>= {paper['lut_reduction_pct']} %) |",
        f"| FF reduction | {paper['ff_reduction_pct']} % | {_pct(h['ff_reduction_pct'])} | "
        f"{verdict(h['ff_target_pass'])} (>= {paper['ff_reduction_pct']} %) |",
        f"| power reduction (estimate) | up to {paper['power_reduction_pct_up_to']} % | "
        f"{_pct(h['power_reduction_pct'])} | reported |", "",
        f"Block RAM / DSP (not in the LUT counts): {h['design']} {_fmt(h.get('ours', {}).get('bram'))} / "
        f"{_fmt(h.get('ours', {}).get('dsp'))}, {h['baseline'] or '-'} {_fmt(h.get('baseline_numbers', {}).get('bram'))} / "
        f"{_fmt(h.get('baseline_numbers', {}).get('dsp'))}. The paper's figures are for the random-number logic "
        "alone; ours compare whole sources (generator, reuse, scaling and output) at equal B and P.", "",
        "Power is a relative dynamic-power **estimate** from switching activity in simulation "
        "(toggle counts weighted by driver cell type and fanout on the mapped netlist), not a "
        "vendor power analysis.", ""]


def _resources(doc: dict) -> list[str]:
    lines = ["## Resources, Fmax and power estimate per target", "",
             "LUTs = logic LUTs + LUT-RAM in LUT equivalents (see `pezo/flow/cells.py`). Fmax from "
             "nextpnr (ice40/ecp5, design wrapped in a pin harness). power_rel = power estimate / the best "
             "Gaussian baseline's (same target and P). `*` marks a Gaussian baseline below the quality bar.", ""]
    for target, by_p in doc["results"].items():
        for p, rows in sorted(by_p.items(), key=lambda kv: -int(kv[0][1:])):
            best = doc["best_gaussian"][target][p]
            lines += [f"### {target}, P = {p[1:]} (best Gaussian baseline: {best or 'none'})", "",
                      "| design | LUTs | logic | LUT-RAM | FFs | carry | BRAM | DSP | Fmax MHz | device | power_rel (est.) |",
                      "|---|---|---|---|---|---|---|---|---|---|---|"]
            failures = []
            for name, row in rows.items():
                mark = " *" if row["gaussian"] and row["meets_bar"] is False else ""
                lines.append(f"| {name}{mark} | {_fmt(row['luts'])} | {_fmt(row['lut_logic'])} | "
                             f"{_fmt(row['lutram'])} | {_fmt(row['ffs'])} | {_fmt(row['carry'])} | "
                             f"{_fmt(row['bram'])} | {_fmt(row['dsp'])} | {_fmt(row['fmax_mhz'])} | "
                             f"{_fmt(row['device'])} | {_fmt(row['power_rel'], 2)} |")
                failures += [f"- {name} {step}: {e['error']}" for step, e in row["errors"].items()]
            lines += [""] + (["Failed steps:", ""] + failures + [""] if failures else [])
    return lines


def _quality(doc: dict) -> list[str]:
    q = doc.get("quality", {})
    if "error" in q:
        return ["## Gaussian quality", "", f"FAILED: {q['error']}", ""]
    lines = ["## Gaussian quality (golden model, bit-exact with the RTL)", "",
             "Bar: KS distance to N(0,1) <= 0.01 and the count beyond 4 sigma inside N(0,1)'s "
             "Poisson interval (and at least one), see `ref/gaussian/quality.py`.", "",
             "| P | design | samples | KS | beyond 4 sigma | interval | max abs | meets bar |",
             "|---|---|---|---|---|---|---|---|"]
    for p, rows in q.items():
        for name, d in rows.items():
            lines.append(f"| {p[1:]} | {name} | {d['n']} | {d['ks']:.4f} | {d['tail_count']} | "
                         f"{d['tail_lo']}..{d['tail_hi']} | {d['max_abs']:.2f} | "
                         f"{'yes' if d['meets_bar'] else 'NO (below bar)'} |")
    return lines + [""]


def _regression(doc: dict) -> list[str]:
    r = doc.get("regression", {})
    if r.get("skipped"):
        return ["## cocotb regression", "", "skipped (--no-regression)", ""]
    if "error" in r:
        return ["## cocotb regression", "", f"FAILED to run: {r['error']}", ""]
    lines = ["## cocotb regression", "",
             f"{r['passed']} of {r['total']} cases passed"
             + (" (quick cases; `pezo report --full` runs all)" if r.get("quick_only") else "") + ".", ""]
    lines += [f"- FAIL {f['case']}: {f['detail']}" for f in r["failed"]]
    return lines + [""]


def _training(doc: dict) -> list[str]:
    t, s = doc.get("training", {}), doc.get("training_settings", {})
    if t.get("skipped"):
        return ["## Training parity", "", "skipped (--no-training)", ""]
    if "error" in t:
        return ["## Training parity", "", f"FAILED: {t['error']}", ""]
    st = t.get("settings", {})
    lines = ["## Training parity (ZO-SGD on scikit-learn digits)", "",
             f"Model {st.get('model')} ({st.get('n_params')} parameters), {st.get('steps')} steps, "
             f"seeds {st.get('seeds')}, batch {st.get('batch')}, ZO lr {st.get('lr')}, eps {st.get('eps')}; "
             f"the same run as `pezo train --compare --seeds {s.get('seeds')} --steps {s.get('steps')}`.", "",
             "| source | test acc (mean +- std) | fresh numbers / step | words/s |", "|---|---|---|---|"]
    for name, d in t.get("sources", {}).items():
        rate = "-" if d.get("words_per_s") is None else f"{d['words_per_s'] / 1e6:.1f} M"
        lines.append(f"| {name} | {100 * d['test_acc_mean']:.2f} +- {100 * d['test_acc_std']:.2f} % | "
                     f"{d['fresh_per_step']:.2f} | {rate} |")
    lines += ["", "| check | measured | target | result |", "|---|---|---|---|"]
    for c in t.get("checks", []):
        lines.append(f"| {c['name']} | {c['measured']} | {c['target']} | {'PASS' if c['passed'] else 'MISS'} |")
    return lines + ["", "![training curves](training.png)", ""]


def _notes(doc: dict) -> list[str]:
    plan = ", ".join(f"{t}: P={'/'.join(map(str, ps))}" for t, ps in doc.get("plan", {}).items())
    plots = doc.get("plots", {})
    images = [f"![{name}]({path})" for name, path in plots.items() if name != "error"]
    return ["## How it was measured", "",
            f"- Synthesis plan: {plan}. Yosys (yowasp) `synth_*` per family, numbers from `stat -json`; "
            "logs and netlists under `build/synth/<target>/<design>-p<P>/`.",
            "- Every design has the same word width B and throughput P (words per clock).",
            "- Power: Icarus simulation of the mapped xilinx7 netlist (Yosys cell models), same workload for "
            "every design (start(0), wait for z.valid, start(1), wait, then 256 clocks with ready=1); "
            "weights in `pezo/flow/power.py`. An estimate, not a vendor power analysis.",
            f"- Report time: {doc.get('seconds', 0):.0f} s.", ""] + (["## Plots", ""] + images + [""] if images else [])
