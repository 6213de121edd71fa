"""``pezo speed``: the model-speed table and JSON, one-line errors."""

from __future__ import annotations

import json

import pytest

from pezo.cli import main
from pezo.ref.train.compare import NUMPY, TIMING_ROUNDS


def test_speed_prints_a_row_per_size_and_writes_rates_and_ratios(tmp_path, capsys):
    out = tmp_path / "speed.json"
    assert main(["speed", "--preset", "default", "--preset", "stream", "--params", "100", "--params", "700",
                 "--steps", "4", "--json", str(out)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:4]]
    assert [row[0] for row in rows] == ["100", "700"]
    data = json.loads(out.read_text())
    assert data["steps"] == 4 and data["rounds"] == TIMING_ROUNDS
    for n in ("100", "700"):
        rates = data["rates"][n]
        assert set(rates) == {NUMPY, "default", "stream"} and all(r > 0 for r in rates.values())
        assert data["vs_numpy"][n]["stream"] == rates["stream"] / rates[NUMPY]


@pytest.mark.parametrize("argv, message", [
    (["--preset", "nope"], "invalid preset='nope'"),
    (["--params", "0"], "argument --params: must be at least 1, got 0"),
    (["--preset", "small", "--steps", "300"], "invalid steps=300: preset small addresses 256 steps"),
])
def test_bad_input_is_one_line_with_exit_2(argv, message, capsys):
    assert main(["speed", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
