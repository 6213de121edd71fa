"""The report machinery: required keys, best-baseline choice and headline arithmetic on
records built in the test (no measured number is typed in: the checks relate the
outputs to the inputs), plus a full reduced report run (slow)."""

from __future__ import annotations

import csv
import json

import pytest

from pezo.flow.designs import COMPARISON, HEADLINE_DESIGN
from pezo.flow.markdown import render
from pezo.flow.plots import pareto_front, write_plots
from pezo.flow.report import PAPER, ReportSettings, headline, plan, run_report, summarise, write_csv

ROW_KEYS = {"luts", "ffs", "fmax_mhz", "power_rel", "carry", "lutram", "bram", "dsp"}


def fake_records(scale: dict[str, int]) -> list[dict]:
    """Records shaped like measure.py's, with LUTs/FFs/power proportional to ``scale``."""
    records = []
    for target in ("xilinx7", "ice40"):
        for p in (8, 1):
            for s in COMPARISON:
                k = scale[s.name] * p
                rec = {"design": s.name, "block": s.block, "target": target, "parallel": p,
                       "synth": {"luts": 10 * k, "lut_logic": 9 * k, "lutram": k, "ff": 7 * k, "carry": k,
                                 "bram": 0, "dsp": 0}}
                if target == "xilinx7":
                    rec["power"] = {"units_per_clock": 3.0 * k}
                else:
                    rec["pnr"] = {"fmax_mhz": 100.0 / k, "device": "iCE40UP5K-SG48"}
                records.append(rec)
    return records


SCALE = {"pezo-pool": 2, "pezo-stream": 3, "uniform-none": 4, "clt": 9, "clt6": 5, "box-muller": 7,
         "lfsr-floor": 1, "paper-pool": 2, "paper-rotate": 3,
         "gaussian-pool": 3}
QUALITY = {f"p{p}": {"clt": {"meets_bar": False}, "clt6": {"meets_bar": False}, "box-muller": {"meets_bar": True}}
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
    assert h["power_reduction_pct"] == pytest.approx(100 * (1 - ours["power_units"] / ref["power_units"]))
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
