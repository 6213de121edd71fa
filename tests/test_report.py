"""The report machinery: required keys, best-baseline choice and headline arithmetic on
records built in the test (no measured number is typed in: the checks relate the
outputs to the inputs), plus a full reduced report run (slow)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from matplotlib.text import Text

from pezo.flow.comparison import COMPARISON, HEADLINE_DESIGN
from pezo.flow.markdown import cell, render, table
from pezo.flow.plots import (BELOW_BAR, fmax_figure, pareto_figure, pareto_front, power_figure, resources_figure,
                             training_figure, write_plots)
from pezo.flow.report import PAPER, ReportSettings, headline, plan, run_report, summarise, write_csv

ROW_KEYS = {"luts", "ffs", "fmax_mhz", "power_rel", "carry", "lutram", "bram", "dsp"}


def fake_records(scale: dict[str, int], designs=COMPARISON) -> list[dict]:
    """Records shaped like measure.py's, with LUTs/FFs/power proportional to ``scale``."""
    records = []
    for target in ("xilinx7", "ice40"):
        for p in (8, 1):
            for s in designs:
                k = scale.get(s.name, 6) * p
                rec = {"design": s.name, "block": s.block, "target": target, "parallel": p,
                       "synth": {"luts": 10 * k, "lut_logic": 9 * k, "lutram": k, "ff": 7 * k, "carry": k,
                                 "mux": 0, "bram": 0, "dsp": 0}}
                if target == "xilinx7":
                    rec["power"] = {"units_per_clock": 3.0 * k}
                else:
                    rec["pnr"] = {"fmax_mhz": 100.0 / k, "device": "iCE40UP5K-SG48"}
                records.append(rec)
    return records


SCALE = {"pezo-pool": 2, "pezo-stream": 3, "uniform-none": 4, "clt": 9, "clt6": 5, "box-muller": 7, "icdf": 8,
         "rademacher": 1, "lfsr-floor": 1, "paper-pool": 2, "paper-rotate": 3, "gaussian-pool": 3}
QUALITY = {f"p{p}": {"clt": {"meets_bar": False}, "clt6": {"meets_bar": False}, "box-muller": {"meets_bar": True},
                   "icdf": {"meets_bar": True}}
           for p in (8, 1)}


def test_summary_has_required_keys_per_target_and_design():
    summary = summarise(fake_records(SCALE), QUALITY, COMPARISON)
    for target in ("xilinx7", "ice40"):
        for p in ("p8", "p1"):
            for s in COMPARISON:
                assert ROW_KEYS <= set(summary["results"][target][p][s.name])
    assert {"lut_reduction_pct", "ff_reduction_pct", "power_reduction_pct"} <= set(summary["headline"])


def test_best_gaussian_is_cheapest_that_meets_the_bar():
    summary = summarise(fake_records(SCALE), QUALITY, COMPARISON)
    # clt6 has the fewest LUTs of the Gaussian baselines but is below the bar
    assert summary["best_gaussian"]["xilinx7"]["p8"] == "box-muller"
    quality_all = {p: {n: {"meets_bar": True} for n in q} for p, q in QUALITY.items()}
    assert summarise(fake_records(SCALE), quality_all, COMPARISON)["best_gaussian"]["xilinx7"]["p8"] == "clt6"


def test_headline_reductions_follow_from_the_rows():
    summary = summarise(fake_records(SCALE), QUALITY, COMPARISON)
    rows = summary["results"]["xilinx7"]["p8"]
    ours, ref = rows[HEADLINE_DESIGN], rows["box-muller"]
    h = summary["headline"]
    assert h["lut_reduction_pct"] == pytest.approx(100 * (1 - ours["luts"] / ref["luts"]))
    assert h["ff_reduction_pct"] == pytest.approx(100 * (1 - ours["ffs"] / ref["ffs"]))
    assert h["power_reduction_pct"] == pytest.approx(100 * (1 - ours["power_total"] / ref["power_total"]))
    assert h["power_dyn_reduction_pct"] == pytest.approx(100 * (1 - ours["power_units"] / ref["power_units"]))
    assert ours["power_total"] > ours["power_units"] > 0, "total = dynamic + a positive static term"
    assert ref["power_rel"] == pytest.approx(1.0)
    assert h["lut_target_pass"] == (h["lut_reduction_pct"] >= PAPER["lut_reduction_pct"])


def test_headline_without_qualifying_baseline_is_not_a_pass():
    h = headline({"xilinx7": {"p8": {}}}, {"xilinx7": {"p8": None}})
    assert h["lut_reduction_pct"] is None and h["lut_target_pass"] is False


def test_outputs_written_from_a_summary(tmp_path):
    doc = {"regenerate": "make report", "paper": PAPER, "quality": {}, "regression": {"skipped": True},
           "training": {"skipped": True}, "plan": {"xilinx7": [8, 1]},
           **summarise(fake_records(SCALE), QUALITY, COMPARISON)}
    doc["plots"] = write_plots(doc, tmp_path)
    write_csv(tmp_path / "report.csv", doc)
    text = render(doc)
    assert "48.6" in text and "12.7" in text and "make report" in text and "estimate" in text
    assert ("PASS" in text) or ("MISS" in text)
    rows = list(csv.DictReader(open(tmp_path / "report.csv")))
    assert len(rows) == 2 * 2 * len(COMPARISON)
    for name in doc["plots"].values():
        assert (tmp_path / name).stat().st_size > 0


def test_every_missing_fmax_cell_says_why():
    """A failed P&R points at the reason below the table, a target without open P&R says
    so; no Fmax cell of a measured design is a bare '-'."""
    records = fake_records(SCALE)
    failed = next(r for r in records if r["target"] == "ice40" and r["design"] == HEADLINE_DESIGN)
    failed["pnr"] = {"error": "nextpnr-gowin failed with status 1; log: pnr/nextpnr.log"}
    doc = {"regenerate": "make report", "paper": PAPER, "quality": {}, "regression": {"skipped": True},
           "training": {"skipped": True}, "plan": {"xilinx7": [8, 1]}, **summarise(records, QUALITY, COMPARISON)}
    text = render(doc)
    fmax_column = 9
    cells = {(line.split("|")[1].strip(), line.split("|")[fmax_column + 1].strip()) for line in text.splitlines()
             if line.startswith("| ") and line.count("|") == 15}
    assert (HEADLINE_DESIGN, "P&R failed (below)") in cells
    assert "- pezo-pool pnr: nextpnr-gowin failed with status 1; log: pnr/nextpnr.log" in text
    assert ("lfsr-floor", "no open P&R") in cells
    assert all(fmax != "-" for _, fmax in cells)


def test_report_plan_synthesizes_p8_and_p1_on_xilinx7_with_equal_b():
    jobs = plan(ReportSettings())
    x7 = [j for j in jobs if j.target == "xilinx7"]
    assert {j.config["parallel"] for j in x7} == {1, 8}
    assert len({j.config["word_bits"] for j in jobs}) == 1
    assert {j.name for j in x7} == {s.name for s in COMPARISON}


def test_pareto_front_keeps_only_undominated_points():
    assert pareto_front([(3, 1.0), (1, 2.0), (2, 2.5), (4, 0.5)]) == [(1, 2.0), (3, 1.0), (4, 0.5)]


@pytest.mark.slow
def test_full_report_on_reduced_set_writes_every_output(tmp_path, monkeypatch):
    monkeypatch.setenv("PEZO_BUILD_DIR", str(tmp_path / "build"))
    designs = tuple(s for s in COMPARISON if s.name in ("pezo-pool", "clt6", "box-muller"))
    settings = ReportSettings(designs=designs, targets=("xilinx7",), parallels=(1,), regression=False,
                              train_seeds=1, train_steps=200)
    doc = run_report(settings, tmp_path / "report")
    saved = json.loads((tmp_path / "report" / "report.json").read_text())
    for name in ("report.md", "report.csv", "report.json"):
        assert (tmp_path / "report" / name).exists()
    rows = doc["results"]["xilinx7"]["p1"]
    assert rows["pezo-pool"]["luts"] > 0 and rows["pezo-pool"]["ffs"] > 0
    h = saved["headline"]
    assert h["parallel"] == 1 and h["baseline"] == saved["best_gaussian"]["xilinx7"]["p1"]
    if h["baseline"] is not None:
        ref = rows[h["baseline"]]
        assert h["lut_reduction_pct"] == pytest.approx(100 * (1 - rows["pezo-pool"]["luts"] / ref["luts"]))


def test_sweep_points_are_legal_and_distinct():
    from pezo.flow.sweep import SweepGrid, points
    from pezo.ref.config import preset
    grid = SweepGrid(pool_sizes=(64, 256), parallels=(1, 8), word_bits=(8, 16), strategies=("pool", "stream"))
    pts = points(grid, preset("default"))
    pool = [c for _, c in pts if c.strategy == "pool"]
    stream = [c for _, c in pts if c.strategy == "stream"]
    assert len(pool) == 2 * 2 * 2, "every pool point is distinct"
    assert len(stream) == 2 * 2, "pool size does not matter to stream and collapses"
    assert all(c.frac_bits <= c.word_bits - 4 for _, c in pts)


def test_every_sweep_point_trains_with_a_source_of_its_strategy():
    from pezo.flow.sweep import SweepGrid, points, training_source
    from pezo.ref.config import preset
    from pezo.ref.train.sources import make_source
    grid = SweepGrid(pool_sizes=(64,), parallels=(1, 8), word_bits=(16,), strategies=("pool", "stream", "none"))
    for _, cfg in points(grid, preset("default")):
        source = make_source(training_source(cfg), seed=0, cfg=cfg)
        assert source.cfg.strategy == cfg.strategy


# The reframed report (issue 8.6) and its fixes (issue 9.6)


def _doc(scale=SCALE, quality=QUALITY, **extra) -> dict:
    planned = {"xilinx7": [8, 1], "ice40": [8, 1]}
    doc = {"regenerate": "make report", "paper": PAPER, "quality": {}, "regression": {"skipped": True},
           "training": {"skipped": True}, "plan": planned, "design_order": [s.name for s in COMPARISON],
           **summarise(fake_records(scale), quality, COMPARISON, planned)}
    doc.update(extra)
    return doc


def test_report_renders_the_on_device_trainer_section():
    assert "## On-device trainer\n\nFAILED: boom" in render(_doc(trainer={"error": "boom"}))


def test_headline_has_every_target_and_both_p_with_bram_and_dsp():
    doc = _doc()
    rows = {(h["target"], h["parallel"]): h for h in doc["headlines"]}
    assert set(rows) == {(t, p) for t in ("xilinx7", "ice40", "ecp5", "gowin") for p in (8, 1)}
    assert rows["xilinx7", 8]["status"] == "measured" and rows["xilinx7", 8]["baseline"] == "box-muller"
    assert {"luts", "ffs", "bram", "dsp"} <= set(rows["ice40", 1]["ours"])
    assert rows["gowin", 8]["status"] == rows["ecp5", 1]["status"] == "not measured"
    text = render(doc)
    assert "not measured in this run" in text
    assert "no Gaussian baseline" not in text, "unmeasured targets are not 'no baseline met the bar'"


def test_report_states_where_pezo_loses():
    scale = {**SCALE, "box-muller": 1}  # a baseline cheaper than pezo-pool
    doc = _doc(scale)
    loses = [h for h in doc["headlines"] if h["status"] == "measured"]
    assert loses and all(h["pezo_loses"] for h in loses)
    assert any("box-muller needs fewer LUTs than pezo-pool" in line for line in doc["losses"])
    assert "**PeZO loses**" in render(doc)
    assert not any("box-muller" in line for line in _doc()["losses"]), "no loss claimed where PeZO wins"


def test_floor_ratio_and_savings_rows_appear_once_their_designs_are_measured():
    from pezo.flow.comparison import DesignSpec
    picked = tuple(s for s in COMPARISON if s.name in ("pezo-pool", "box-muller", "clt"))
    extra = (DesignSpec("lfsr-floor", "lfsr_floor"), DesignSpec("rademacher", "rademacher"))
    scale = {"pezo-pool": 2, "box-muller": 7, "clt": 9, "lfsr-floor": 1, "rademacher": 1}
    summary = summarise(fake_records(scale, picked + extra), QUALITY, picked + extra)
    rows = summary["results"]["xilinx7"]["p8"]
    assert rows["pezo-pool"]["floor_ratio"] == pytest.approx(rows["pezo-pool"]["luts"] / rows["lfsr-floor"]["luts"])
    versus = {s["versus"] for s in summary["savings"]}
    assert versus == {"box-muller", "rademacher"}, "gaussian-pool is not measured, so it has no row"
    without = summarise(fake_records(scale, picked), QUALITY, picked)
    assert {s["versus"] for s in without["savings"]} == {"box-muller"}
    assert without["results"]["xilinx7"]["p8"]["pezo-pool"]["floor_ratio"] is None
    assert not any(s["versus"] == "box-muller" for s in summarise(fake_records(scale, picked), {}, picked)["savings"])


def test_table_cells_escape_pipes_so_the_training_checks_table_holds():
    lines = table(["check", "target"], [["pezo-pool accuracy", "|gap| <= 1.00"]])
    assert lines[2] == "| pezo-pool accuracy | \\|gap\\| <= 1.00 |"
    assert all(line.replace("\\|", "").count("|") == 3 for line in lines[:3])
    assert cell("a\nb|c") == "a b\\|c"


def _training(finals: dict[str, list[float]]) -> dict:
    steps = list(range(0, 1001, 100))
    return {"settings": {"model": "mlp", "n_params": 1210, "steps": 1000, "seeds": [0, 1, 2]},
            "sources": {name: {"test_acc_mean": float(np.mean(f)), "test_acc_std": float(np.std(f)),
                               "test_acc_per_seed": f, "fresh_per_step": 1210.0, "words_per_s": 1e6,
                               "curves": {"step": steps, "test_acc_mean": [np.mean(f) - (np.mean(f) - 0.1) * np.exp(-s / 80)
                                                                          for s in steps]}}
                        for name, f in finals.items()},
            "checks": [{"name": "pezo-pool accuracy", "measured": "+0.1", "target": "|gap| <= 1.00", "passed": True}]}


def test_training_section_counts_as_integers_plot_listed_once_table_intact(tmp_path):
    doc = _doc(training=_training({"gaussian": [0.90, 0.91, 0.92], "pezo-pool": [0.89, 0.90, 0.91]}))
    doc["plots"] = write_plots(doc, tmp_path)
    text = render(doc)
    assert "1210.00" not in text and "| 1210 |" in text
    assert text.count("training.png") == 1
    check_row = next(line for line in text.splitlines() if line.startswith("| pezo-pool accuracy"))
    assert check_row.replace("\\|", "").count("|") == 5, "four cells"


def test_training_plot_zooms_so_a_one_point_difference_is_visible():
    fig = training_figure(_doc(training=_training({"gaussian": [0.90, 0.91, 0.92],
                                                    "pezo-pool": [0.89, 0.90, 0.91]})))
    curves, finals = fig.axes
    for ax in (curves, finals):
        lo, hi = ax.get_ylim()
        assert hi - lo <= 10.0, "1 point spans at least a tenth of the axis (the curves plateau here)"
    assert len(finals.collections[0].get_offsets()) == 3, "one dot per seed"


def test_resource_plots_show_bram_dsp_mark_below_bar_and_share_one_order():
    doc = _doc()
    fig = resources_figure(doc, "xilinx7")
    ax = fig.axes[0]
    assert {"LUTs", "FFs", "BRAM", "DSP"} <= set(ax.get_legend().get_texts()[i].get_text() for i in range(4))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "clt" + BELOW_BAR in labels and "box-muller" in labels and "pezo-pool" in labels
    order = [s.name for s in COMPARISON]
    bare = [lab.replace(BELOW_BAR, "") for lab in labels]
    assert bare == [n for n in order if n in bare]
    fmax = [t.get_text() for t in fmax_figure(doc).axes[0].get_xticklabels()]
    assert fmax == [n for n in order if n in fmax]
    power = [t.get_text().replace(BELOW_BAR, "") for t in power_figure(doc).axes[0].get_xticklabels()]
    assert power == [n for n in order if n in power]


def test_power_plot_has_the_one_line():
    ax = power_figure(_doc()).axes[0]
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in ax.get_lines())


def test_pareto_labels_do_not_overlap():
    """Eight sweep points crowded within 1 % of the LUT axis (a ninth far away sets the
    scale): every label is placed clear of the others."""
    rows = [{"luts": 1000 + 3 * i, "acc_gap_pts": 0.01 * (i % 3), "label": f"pool N={64 << i} P=8 B=16"}
            for i in range(8)] + [{"luts": 5000, "acc_gap_pts": 2.0, "label": "clt P=8"}]
    fig = pareto_figure(rows)
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]   # label text, without leader line
    assert len(boxes) == 9
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    frame = ax.get_window_extent(renderer)
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes), "labels inside the axes"


def test_partial_report_has_its_own_folder_and_regenerate_gives_its_options(monkeypatch, tmp_path):
    monkeypatch.setenv("PEZO_BUILD_DIR", str(tmp_path))
    full = ReportSettings()
    assert not full.partial and full.out_dir() == tmp_path / "report"
    assert full.regenerate().startswith("make report")
    part = ReportSettings(targets=("gowin",), regression=False, training=False)
    assert part.partial and part.out_dir() != full.out_dir()
    assert part.out_dir().parent == tmp_path / "report" / "partial"
    assert part.regenerate() == ".venv/bin/pezo report --target gowin --no-regression --no-training"
    from pezo.ref.config import preset
    tuned = ReportSettings(base=preset("default").replace(word_bits=20), train_seeds=2)
    assert "--set word_bits=20" in tuned.regenerate() and "--train-seeds 2" in tuned.regenerate()


def test_partial_report_does_not_claim_missing_baselines(monkeypatch):
    doc = _doc()
    doc["results"] = {"gowin": {}}
    summary = summarise([r for r in fake_records(SCALE) if r["target"] == "ice40"], QUALITY, COMPARISON,
                        {"ice40": [1]})
    doc.update(summary, partial=True)
    text = render(doc)
    assert "no Gaussian baseline" not in text.replace("no Gaussian baseline measured here", "")
    assert "xilinx7 is not part of this report" in text
