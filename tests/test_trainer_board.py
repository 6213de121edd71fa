"""``pezo build --design trainer``: the trainer's board top (hw/trainer_link.py) gives
Verilog and constraints for the Arty A7, and (slow) bitstreams for the iCEBreaker (the
MLP 64-16-10 trainer on the default engine fits the UP5K and meets its 12 MHz clock) and
the ULX3S."""

from __future__ import annotations

import re

import pytest

from pezo.cli import main


def test_build_arty_a7_writes_trainer_verilog(tmp_path, capsys):
    assert main(["build", "--board", "arty_a7", "--design", "trainer", "--out", str(tmp_path)]) == 0
    verilog = (tmp_path / "top.v").read_text()
    assert "uart_rx" in verilog and "module top" in verilog


@pytest.mark.slow
@pytest.mark.parametrize("board, bitstream, clock", [("icebreaker", "top.bin", "12.00"), ("ulx3s", "top.bit", "25.00")])
def test_build_trainer_bitstream_places_and_meets_the_board_clock(board, bitstream, clock, tmp_path, capsys):
    assert main(["build", "--board", board, "--design", "trainer", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / bitstream).stat().st_size > 0
    assert re.search(rf"fmax \S+: [\d.]+ MHz \(meets the {re.escape(clock)} MHz clock\)", out)
