"""``pezo train``: single runs, the comparison table and JSON, one-line errors."""

from __future__ import annotations

import csv
import json

import pytest

from pezo.cli import main


def test_train_prints_accuracy_per_evaluation_and_writes_json_and_curves(tmp_path, capsys):
    out, curves = tmp_path / "run.json", tmp_path / "run.csv"
    rc = main(["train", "--perturb", "pezo-pool", "--steps", "60", "--eval-every", "20", "--seed", "1",
               "--no-progress", "--json", str(out), "--curves", str(curves)])
    assert rc == 0
    text = capsys.readouterr().out
    assert [line.split()[0] for line in text.splitlines()[2:6]] == ["0", "20", "40", "60"]
    data = json.loads(out.read_text())
    assert data["settings"]["perturb"] == "pezo-pool" and data["settings"]["seed"] == 1
    assert data["curves"]["step"] == [0, 20, 40, 60]
    rows = list(csv.DictReader(curves.open()))
    assert [int(r["step"]) for r in rows] == [0, 20, 40, 60]
    assert float(rows[-1]["test_acc"]) == data["test_acc"]


def test_sgd_run_uses_lr_as_the_sgd_rate(tmp_path):
    out = tmp_path / "sgd.json"
    assert main(["train", "--perturb", "sgd", "--lr", "0.05", "--steps", "5", "--no-progress",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["settings"]["sgd_lr"] == 0.05


def test_compare_prints_table_and_checks_and_writes_the_json_keys(tmp_path, capsys):
    out = tmp_path / "compare.json"
    rc = main(["train", "--compare", "--seeds", "2", "--steps", "30", "--eval-every", "10",
               "--model", "logreg", "--workers", "1", "--no-progress", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    for name in ("gaussian", "uniform", "pezo-pool", "pezo-stream", "sgd", "numpy N(0,1)"):
        assert any(line.startswith(name) for line in text.splitlines())
    assert text.count("PASS") + text.count("MISS") == 5  # accuracy (pool, stream), fresh numbers, words/s (pool, stream)
    data = json.loads(out.read_text())
    for name in ("gaussian", "uniform", "pezo-pool", "pezo-stream"):
        for key in ("test_acc_mean", "test_acc_std", "fresh_per_step", "words_per_s"):
            assert isinstance(data["sources"][name][key], float)


@pytest.mark.parametrize("argv, message", [
    (["--perturb", "normal"], "invalid perturb='normal': known methods are gaussian"),
    (["--perturb", "gaussian", "--model", "cnn"], "invalid model='cnn': known models are mlp, logreg"),
    (["--perturb", "gaussian", "--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (["--perturb", "pezo-pool", "--set", "pool_size=3"], "invalid pool_size=3"),
    (["--perturb", "pezo-pool", "--set", "pool_size"], "--set expects FIELD=VALUE"),
    ([], "give exactly one --perturb"),
    (["--compare", "--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
    (["--fixed", "--perturb", "sgd"], "--fixed takes one --perturb source"),
    (["--fixed", "--lr", "0.1"], "--fixed does not take --lr"),
    (["--fixed", "--rtl"], "--fixed does not take --rtl"),
    (["--fixed", "--eps-shift", "40"], "invalid eps_shift=40: allowed values are 0..32"),
    (["--fixed", "--perturb", "pezo-pool", "--set", "strategy=stream"], "pezo-pool needs the pool strategy"),
    (["--perturb", "gaussian", "--lr-shift", "3"], "--lr-shift is an option of --fixed"),
])
def test_bad_input_is_one_line_with_exit_2(argv, message, capsys):
    assert main(["train", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pezo: error: ") and message in err


def test_pezo_steps_beyond_the_step_counter_are_refused(capsys):
    argv = ["train", "--no-progress", "--perturb", "pezo-pool", "--set", "step_bits=4", "--steps", "17"]
    assert main(argv) == 2
    assert "at most 16 steps" in capsys.readouterr().err


def test_perturb_pezo_is_the_pool_engine(capsys):
    # docs/design.md names the PeZO source `pezo`; it is the default (pool) variant
    from pezo.cli import build_parser
    args = build_parser().parse_args(["train", "--perturb", "pezo"])
    assert args.perturb == ["pezo-pool"]


def test_fixed_prints_the_golden_trainer_beside_twin_and_float_and_writes_json(tmp_path, capsys):
    out = tmp_path / "fixed.json"
    rc = main(["train", "--fixed", "--model", "logreg", "--steps", "20", "--eval-every", "10", "--seeds", "2",
               "--no-progress", "--json", str(out)])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("fixed-point trainer: logreg 64-10 (650 parameters), pezo-pool, 20 steps")
    data = json.loads(out.read_text())
    for label, name in (("fixed-point", "fixed"), ("float twin", "twin"), ("float ZO", "float")):
        row = next(line for line in lines[2:] if line.startswith(label))
        assert f"{100 * data['runs'][name]['test_acc_mean']:.2f}" in row
    assert data["seeds"] == [0, 1] and data["config"]["lr_shift"] == 10
    assert any(line.startswith("golden model: ") and "training steps/s" in line for line in lines)
