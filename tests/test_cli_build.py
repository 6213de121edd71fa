"""``pezo build`` output that needs no tool run: the programming command of every board
and the ULX3S sizes."""

from __future__ import annotations

import pytest

from pezo.commands.build import _print_result
from pezo.hw.boards import BOARDS, BoardBuild, board_spec


@pytest.mark.parametrize("name", list(BOARDS))
def test_every_board_says_how_to_program_it(name, tmp_path, capsys):
    board = BOARDS[name]
    _print_result(BoardBuild(board, tmp_path, {}))
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("program the board") and f"cd {tmp_path} && " in line
    assert ("iceprog" in line or "openFPGALoader" in line) and board.bitstream in line


@pytest.mark.parametrize("size, device", [("12F", "LFE5U-12F"), ("25F", "LFE5U-25F"), ("45F", "LFE5U-45F"),
                                          ("85F", "LFE5U-85F")])
def test_ulx3s_size_picks_the_fpga(size, device):
    board = board_spec("ulx3s", size)
    assert board.make_platform().device == device and size in board.description
    assert board.constraints == BOARDS["ulx3s"].constraints  # same pins on every size
