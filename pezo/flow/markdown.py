"""The Markdown text of the report, from the report.json document (report.py).

Every table goes through :func:`table`, which escapes the characters that would break a
Markdown table cell (``|``, line breaks); counts print as integers, measured fractions
with a fixed number of digits.
"""

from __future__ import annotations

from pezo.flow import stats_section, trainer_section


def _fmt(value: object, digits: int = 1) -> str:
    """A table value: integers as integers, floats with ``digits`` decimals, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _count(value: object) -> str:
    """A count (cells, samples, numbers per step): an integer when it is one."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _fmt(value, 2)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def cell(value: object) -> str:
    """``value`` as the text of one Markdown table cell (pipes escaped, one line)."""
    return " ".join(str(value).splitlines()).replace("|", "\\|")


def table(header: list[str], rows: list[list[object]]) -> list[str]:
    """A Markdown table, every cell escaped by :func:`cell`."""
    line = lambda cells: "| " + " | ".join(cell(c) for c in cells) + " |"  # noqa: E731
    return [line(header), "|" + "---|" * len(header)] + [line(r) for r in rows] + [""]


def render(doc: dict) -> str:
    """Every section of the report as Markdown."""
    lines = ["# PeZO hardware report", ""]
    if doc.get("partial"):
        lines += ["**Partial report**: it measures only what its options ask for (below) and is written "
                  "beside the complete report, not over it.", ""]
    lines += [f"Regenerate with: `{doc['regenerate']}` (results are cached under `build/cache/`; "
              "`pezo report --full` also synthesizes P=8 for every target and runs every simulation case).", ""]
    lines += (_headline(doc) + _paper(doc) + _savings(doc) + _losses(doc) + _resources(doc) + _quality(doc)
              + _regression(doc) + _training(doc) + trainer_section.markdown(doc) + stats_section.markdown(doc)
              + _notes(doc))
    return "\n".join(lines) + "\n"


def _numbers(n: dict) -> str:
    return f"{_fmt(n.get('luts'))} / {_fmt(n.get('ffs'))} / {_fmt(n.get('bram'))} / {_fmt(n.get('dsp'))}"


def _headline(doc: dict) -> list[str]:
    rows = []
    for h in doc.get("headlines", []):
        where = [h["target"], h["parallel"]]
        if h["status"] in ("not measured", "failed"):
            why = ("not measured in this run" + ("" if doc.get("full") else " (`pezo report --full` measures it)")
                   if h["status"] == "not measured" else "pezo-pool failed to synthesize (see below)")
            rows.append(where + ["-", "-", "-", "-", "-", "-", why])
            continue
        ours, base = h["ours"], h["base"]
        floor = f"{_fmt(ours.get('floor_ratio'), 2)} / {_fmt(base.get('floor_ratio'), 2)}"
        if h["status"] == "no baseline":
            note = "no Gaussian baseline measured here meets the quality bar"
        else:
            note = "**PeZO loses** (more LUTs)" if h["pezo_loses"] else "PeZO wins"
        rows.append(where + [_numbers(ours), h["baseline"] or "-", _numbers(base) if h["baseline"] else "-",
                             _pct(h.get("lut_reduction_pct")), _pct(h.get("ff_reduction_pct")), floor, note])
    return ["## Headline: default PeZO engine vs the best Gaussian baseline, every target", "",
            "pezo-pool (default preset) against the Gaussian generator (icdf, Box-Muller, CLT-k) with the "
            "fewest LUTs among those that meet the quality bar, at the same target, word width and P. "
            "Numbers are LUTs / FFs / BRAM / DSP; block RAM and DSP are not in the LUT counts. "
            "x floor = LUTs / those of lfsr-floor (bare LFSRs of the same output bits per clock; "
            "'-' where it was not measured).", ""] + table(
        ["target", "P", "pezo-pool", "best baseline", "baseline", "LUT reduction", "FF reduction",
         "x floor (ours / baseline)", "verdict"], rows)


def _paper(doc: dict) -> list[str]:
    h, paper = doc["headline"], doc["paper"]
    if not h.get("measured", True):
        return ["## Against the paper's figures", "", f"{h['target']} is not part of this report.", ""]
    if h["baseline"] is None:
        return ["## Against the paper's figures", "",
                f"No Gaussian baseline measured on {h['target']} at P = {h['parallel']} meets the quality bar.", ""]
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    return ["## Against the paper's figures", "",
            f"Target {h['target']}, P = {h['parallel']}, {h['design']} vs **{h['baseline']}**. The paper's "
            "figures are for the random-number logic alone; ours compare whole sources (generator, reuse, "
            "scaling and output) at equal B and P, with the baselines' tables in block RAM and their "
            "products in DSPs.", ""] + table(
        ["measure", "paper (random-number logic)", "ours", "target"],
        [["LUT reduction", f"{paper['lut_reduction_pct']} %", _pct(h["lut_reduction_pct"]),
          f"{verdict(h['lut_target_pass'])} (>= {paper['lut_reduction_pct']} %)"],
         ["FF reduction", f"{paper['ff_reduction_pct']} %", _pct(h["ff_reduction_pct"]),
          f"{verdict(h['ff_target_pass'])} (>= {paper['ff_reduction_pct']} %)"],
         ["power reduction, total (estimate)", f"up to {paper['power_reduction_pct_up_to']} %",
          _pct(h["power_reduction_pct"]), "reported"],
         ["power reduction, dynamic (estimate)", "-", _pct(h.get("power_dyn_reduction_pct")), "reported"]]) + [
        "Power is a relative **estimate** (switching activity in simulation plus assumed block-RAM/DSP "
        "access energies and a per-family static term, see `pezo/flow/power.py`), not a vendor power "
        "analysis.", ""]


def _savings(doc: dict) -> list[str]:
    rows = [[s["target"], s["parallel"], s["versus"], s["what"], _fmt(s["ours_luts"]), _fmt(s["their_luts"]),
             _pct(s["lut_saving_pct"]), _pct(s["ff_saving_pct"]), _pct(s["power_saving_pct"])]
            for s in doc.get("savings", [])]
    head = ["## Where the saving comes from", "",
            "pezo-pool against designs that isolate one part of the saving (rows for the designs this report "
            "measured; a negative saving is a loss).", ""]
    if not rows:
        return head + ["No design of the saving table was measured.", ""]
    return head + table(["target", "P", "versus", "what the saving is", "pezo-pool LUTs", "their LUTs",
                         "LUT saving", "FF saving", "power saving (est.)"], rows)


def _losses(doc: dict) -> list[str]:
    losses = doc.get("losses", [])
    return ["## Where PeZO loses", ""] + ([f"- {line}" for line in losses] if losses else
                                         ["Nowhere in the designs measured here."]) + [""]


def _resources(doc: dict) -> list[str]:
    lines = ["## Resources, Fmax and power estimate per target", "",
             "LUTs = logic LUTs + LUT-RAM in LUT equivalents (see `pezo/flow/cells.py`). x floor = LUTs / "
             "lfsr-floor's. Fmax from nextpnr, the design wrapped in a pin harness (see `pezo/flow/pnr.py`): "
             "iCE40 and ECP5 place the synthesized netlist; Gowin places the core synthesized again with memories "
             "in LUT-RAM and multipliers in LUTs (the open nextpnr-gowin has no block-RAM or DSP placer), so its "
             "Fmax is of that mapping; xilinx7 has no open place-and-route (Vivado). Power: dynamic "
             "and total (dynamic + static) estimate per clock; rel = total / the best Gaussian baseline's "
             "(same target and P). `*` marks a Gaussian baseline below the quality bar.", ""]
    for target, by_p in doc["results"].items():
        for p, rows in sorted(by_p.items(), key=lambda kv: -int(kv[0][1:])):
            best = doc["best_gaussian"][target][p]
            lines += [f"### {target}, P = {p[1:]} (best Gaussian baseline: {best or 'none'})", ""]
            body, failures = [], []
            for name, row in rows.items():
                mark = " *" if row["gaussian"] and row["meets_bar"] is False else ""
                body.append([name + mark, _fmt(row["luts"]), _fmt(row["lut_logic"]), _fmt(row["lutram"]),
                             _fmt(row["ffs"]), _fmt(row["carry"]), _fmt(row["bram"]), _fmt(row["dsp"]),
                             _fmt(row.get("floor_ratio"), 2), _fmax(target, row), _fmt(row["device"]),
                             _fmt(row.get("power_units")), _fmt(row.get("power_total")),
                             _fmt(row["power_rel"], 2)])
                failures += [f"- {name} {step}: {e['error']}" for step, e in row["errors"].items()]
            lines += table(["design", "LUTs", "logic", "LUT-RAM", "FFs", "carry", "BRAM", "DSP", "x floor",
                            "Fmax MHz", "device", "power dyn", "power total", "power rel"], body)
            lines += (["Failed steps:", ""] + failures + [""] if failures else [])
    return lines


def _fmax(target: str, row: dict) -> str:
    """The Fmax cell: MHz, or why there is none (P&R failed: the reason is listed below
    the table; a target without open place-and-route)."""
    if row["fmax_mhz"] is not None:
        return _fmt(row["fmax_mhz"])
    if "pnr" in row["errors"]:
        return "P&R failed (below)"
    if "synth" in row["errors"]:
        return "-"
    from pezo.flow.pnr import DEVICES
    return "-" if target in DEVICES else "no open P&R"


def _quality(doc: dict) -> list[str]:
    q = doc.get("quality", {})
    if "error" in q:
        return ["## Gaussian quality", "", f"FAILED: {q['error']}", ""]
    rows = [[p[1:], name, _count(d["n"]), f"{d['ks']:.4f}", _count(d["tail_count"]),
             f"{d['tail_lo']}..{d['tail_hi']}", f"{d['max_abs']:.2f}", "yes" if d["meets_bar"] else "NO (below bar)"]
            for p, by_name in q.items() for name, d in by_name.items()]
    return ["## Gaussian quality (golden model, bit-exact with the RTL)", "",
            "Bar: KS distance to N(0,1) <= 0.01 and the count beyond 4 sigma inside N(0,1)'s "
            "Poisson interval (and at least one), see `ref/gaussian/quality.py`.", ""] + table(
        ["P", "design", "samples", "KS", "beyond 4 sigma", "interval", "max abs", "meets bar"], rows)


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


TRAINING_PLOT = "training.png"


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
             f"the same run as `pezo train --compare --seeds {s.get('seeds')} --steps {s.get('steps')}`.", ""]
    rows = []
    for name, d in t.get("sources", {}).items():
        rate = "-" if d.get("words_per_s") is None else f"{d['words_per_s'] / 1e6:.1f} M"
        if d.get("words_per_s_vs_numpy") is not None:
            rate += f" ({d['words_per_s_vs_numpy']:.2f}x numpy, new steps)"
        rows.append([name, f"{100 * d['test_acc_mean']:.2f} +- {100 * d['test_acc_std']:.2f} %",
                     _count(d["fresh_per_step"]), rate])
    lines += table(["source", "test acc (mean +- std)", "fresh numbers / step", "words/s"], rows)
    lines += table(["check", "measured", "target", "result"],
                   [[c["name"], c["measured"], c["target"], "PASS" if c["passed"] else "MISS"]
                    for c in t.get("checks", [])])
    if TRAINING_PLOT in doc.get("plots", {}).values():
        lines += [f"![training parity]({TRAINING_PLOT})", ""]
    return lines


def _notes(doc: dict) -> list[str]:
    plan = ", ".join(f"{t}: P={'/'.join(map(str, ps))}" for t, ps in doc.get("plan", {}).items())
    plots = doc.get("plots", {})
    images = [f"![{name}]({path})" for name, path in plots.items() if name != "error" and path != TRAINING_PLOT]
    return ["## How it was measured", "",
            f"- Synthesis plan: {plan}"
            + ("" if doc.get("full") else " (the default report synthesizes P=8 on xilinx7 only; "
               "`pezo report --full` adds P=8 on every target)")
            + ". Yosys (yowasp) `synth_*` per family, numbers from `stat -json`; "
            "logs and netlists under `build/synth/<target>/<design>-p<P>/`.",
            "- Every design has the same word width B and throughput P (words per clock), and every design is "
            "synthesized alike, as a competent engineer ships it: DSPs on every family (`synth_ice40 -dsp` for "
            "the UltraPlus), memories in block RAM where Yosys finds it cheaper, and the Gaussian baselines' "
            "ROM tables marked `rom_style = \"block\"`. Yosys still uses LUTs for Box-Muller's 2 n ln 2 table "
            "(B + 1 words, smaller than any block RAM) and for the small pipeline delay lines it packs into "
            "LUT-RAM/shift registers (counted in LUT-RAM).",
            "- Power: Icarus simulation of the mapped xilinx7 netlist (Yosys cell models), same workload for "
            "every design (start(0), wait for z.valid, start(1), wait, then 256 clocks with ready=1); "
            "dynamic = net toggles weighted by driver and fanout + clock pins + assumed block-RAM/DSP access "
            "energy; static = assumed leakage per occupied cell and family; weights and their basis in "
            "`pezo/flow/power.py`. An estimate, not a vendor power analysis.",
            f"- Report time: {doc.get('seconds', 0):.0f} s.", ""] + (["## Plots", ""] + images + [""] if images else [])
