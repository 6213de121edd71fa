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


def test_markdown_rtl_rows_give_steps_per_second_at_fmax(tmp_path):
    t = _section(tmp_path)
    t["models"]["mlp"]["cycles_per_step"] = 4000
    row = {"luts": 5000, "ffs": 3000, "bram": 20, "dsp": 4, "fmax_mhz": 24.0}
    lines = markdown(_doc(t, {"ice40": {"p8": {"trainer": row, "engine": {"luts": 1}}},
                              "ecp5": {"p8": {"trainer": {**row, "fmax_mhz": None}}}}))
    assert next(line for line in lines if line.startswith("| mlp |")).endswith("| 4000 |")
    assert "| ice40 | 8 | 5000 | 3000 | 20 | 4 | 24.0 | 4000 | 6000 |" in lines
    assert "| ecp5 | 8 | 5000 | 3000 | 20 | 4 | - | 4000 | - |" in lines


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
