"""The on-device trainer section of the report (pezo/flow/trainer_section.py)."""

from __future__ import annotations

from pezo.flow.cache import Cache
from pezo.flow.trainer_section import markdown, step_trainer
from pezo.ref.train.fixed_config import TrainerConfig


def _section(tmp_path, **kwargs) -> dict:
    return step_trainer(Cache(tmp_path), seeds=2, steps=10, rate_steps=20, **kwargs)


def test_step_trainer_measures_both_models_and_is_cached(tmp_path):
    first = _section(tmp_path, cycles_per_step=lambda tcfg: 1000 + tcfg.n_params)
    assert set(first["models"]) == {"mlp", "logreg"} and "cached" not in first
    for model, r in first["models"].items():
        assert set(r["runs"]) == {"fixed", "twin", "float"} and len(r["runs"]["fixed"]["test_acc"]) == 2
        assert r["golden_steps_per_s"] > 0
        assert r["cycles_per_step"] == 1000 + TrainerConfig(model=model).n_params
    again = _section(tmp_path, cycles_per_step=lambda tcfg: 1000 + tcfg.n_params)
    assert again["cached"] and again["models"]["mlp"]["runs"] == first["models"]["mlp"]["runs"]


def _doc(trainer: dict, results: dict | None = None) -> dict:
    return {"trainer": trainer, "results": results or {}}


def test_markdown_shows_accuracies_gap_verdict_and_rate_per_model(tmp_path):
    t = _section(tmp_path)
    lines = markdown(_doc(t))
    text = "\n".join(lines)
    for model in ("mlp", "logreg"):
        r = t["models"][model]
        row = next(line for line in lines if line.startswith(f"| {model} |"))
        assert f"{100 * r['runs']['twin']['test_acc_mean']:.2f} %" in row
        assert f"{r['gap_points']:+.2f} {'PASS' if abs(r['gap_points']) <= 1.5 else 'MISS'}" in row
        assert row.endswith(f"| {r['golden_steps_per_s']:.0f} | - |")
    assert "synthesized no `trainer` design" in text


def _rtl_row(**kw) -> dict:
    return {"luts": 5000, "ffs": 3000, "bram": 20, "dsp": 4, "fmax_mhz": 24.0, "device": "UP5K", "errors": {},
            **kw}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip("|").split("|")]


def _columns(lines: list[str], target: str) -> dict[str, str]:
    """The RTL table's row of ``target`` as {header: cell}."""
    header = next(line for line in lines if line.startswith("| target |"))
    row = next(line for line in lines if line.startswith(f"| {target} |"))
    return dict(zip(_cells(header), _cells(row), strict=True))


def test_markdown_rtl_rows_put_each_number_in_its_column(tmp_path):
    t = _section(tmp_path)
    t["models"]["mlp"]["cycles_per_step"] = 4000
    t["models"]["mlp"]["golden_steps_per_s"] = 123.4
    t["rtl"] = {"ice40": _rtl_row(),
                "ecp5": _rtl_row(luts=7000, fmax_mhz=None, device=None,
                                 errors={"pnr": {"error": "does not fit", "log": None}}),
                "xilinx7": _rtl_row(fmax_mhz=None, device=None, bram=3, dsp=0)}
    # a trainer row among the comparison's results is not one of the section's rows
    lines = markdown(_doc(t, {"gowin": {"p8": {"trainer": _rtl_row(luts=1)}}}))
    assert next(line for line in lines if line.startswith("| mlp |")).endswith("| 4000 |")
    assert _columns(lines, "ice40") == {
        "target": "ice40", "LUTs": "5000", "FFs": "3000", "BRAM": "20", "DSP": "4", "device": "UP5K",
        "Fmax MHz": "24.0", "cycles / step": "4000", "steps/s at Fmax": "6000", "golden steps/s (CPU)": "123",
        "notes": ""}
    ecp5 = _columns(lines, "ecp5")
    assert (ecp5["LUTs"], ecp5["Fmax MHz"], ecp5["steps/s at Fmax"]) == ("7000", "-", "-")
    assert ecp5["notes"] == "pnr FAILED: does not fit"
    xilinx7 = _columns(lines, "xilinx7")
    assert (xilinx7["BRAM"], xilinx7["DSP"], xilinx7["Fmax MHz"]) == ("3", "0", "-")
    assert xilinx7["notes"].startswith("no Fmax: pnr.py places and routes")
    assert not any(line.startswith("| gowin |") for line in lines)


def test_markdown_without_rtl_rows_says_so_also_when_training_failed():
    for t in ({"error": "boom"}, {"error": "boom", "rtl": {}}):
        assert "synthesized no `trainer` design" in "\n".join(markdown({"trainer": t}))
    lines = markdown({"trainer": {"error": "boom", "rtl": {"ice40": _rtl_row()}}})
    assert _columns(lines, "ice40")["steps/s at Fmax"] == "-"   # no cycles per step measured


def test_trainer_jobs_cover_every_target_and_stay_out_of_the_comparison():
    from pezo.flow.comparison import COMPARISON
    from pezo.flow.measure import Measurement, StepFailure
    from pezo.flow.report import ReportSettings, plan
    from pezo.flow.synth import TARGETS
    from pezo.flow.trainer_section import TRAINER_DESIGN, is_trainer_record, trainer_jobs
    from pezo.hw.trainer import engine_trainer_config
    settings = ReportSettings()
    assert TRAINER_DESIGN not in [s.name for s in COMPARISON] + [s.block for s in COMPARISON]
    assert not any(job.block == TRAINER_DESIGN for job in plan(settings))
    jobs = trainer_jobs(settings.base, settings.targets)
    assert [job.target for job in jobs] == list(TARGETS)
    for job in jobs:
        assert (job.name, job.block, job.power) == (TRAINER_DESIGN, TRAINER_DESIGN, False)
        assert engine_trainer_config(type(settings.base)(**job.config)) == TrainerConfig()   # MLP 64-16-10, pezo-pool
        record = Measurement(job.name, job.block, job.target, job.config, "", StepFailure("x"),
                             extra=job.extra).to_dict()
        assert is_trainer_record(record) and record["parallel"] == settings.base.parallel
    assert not any(is_trainer_record(Measurement(j.name, j.block, j.target, j.config, "", StepFailure("x"),
                                                 extra=j.extra).to_dict()) for j in plan(settings))


def test_section_is_left_out_when_skipped_and_says_failed(tmp_path):
    assert markdown({"trainer": {"skipped": True}}) == []
    assert "FAILED: boom" in markdown({"trainer": {"error": "boom"}})


def test_report_measures_cycles_per_step_in_the_trainers_simulation(monkeypatch):
    from pezo.flow import report
    from pezo.sim import tb_trainer
    calls = []
    monkeypatch.setattr(tb_trainer, "measure_cycles_per_step", lambda tcfg, name: calls.append(name) or 42)
    assert report.trainer_cycles(TrainerConfig(model="logreg")) == 42
    assert calls == ["report_trainer_cycles_logreg"]
