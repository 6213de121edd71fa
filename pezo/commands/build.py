"""``pezo build --board NAME``: the full board flow of one design (see hw/boards.py).

iCE40, ECP5 and Gowin boards get a bitstream from the open tools (yowasp Yosys and
nextpnr, icepack/ecppack, Apicula's gowin_pack), with nextpnr's Fmax and utilisation
printed; the Arty A7 (Vivado only) gets Verilog, constraints and Vivado's build script. Files go
under ``build/boards/<board>/`` unless ``--out`` says otherwise. The last line says how
to load the bitstream into the board.
"""

from __future__ import annotations

import argparse

from pezo.commands.options import add_config_options, check_output_dir, config_from_options, config_label
from pezo.errors import PezoError
from pezo.hw.boards import BOARDS, SOURCE_DESIGNS, BoardBuild, board_spec, build_board, source_factory
from pezo.hw.trainer import engine_trainer_config
from pezo.hw.trainer_link import TrainerBoardTop

#: The design name that builds the trainer's board top instead of a source's.
TRAINER = "trainer"
from pezo.toolchain import build_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="board flow: bitstream (iCE40/ECP5 boards) or Verilog + constraints "
                            "(Xilinx/Gowin boards)",
                       description=f"Build a board top. Known boards: {', '.join(BOARDS)}.")
    p.add_argument("--board", required=True, metavar="NAME", help=f"one of: {', '.join(BOARDS)}")
    p.add_argument("--size", metavar="SIZE",
                   help="FPGA size of boards that come in several: ulx3s 12F, 25F, 45F or 85F (default: 85F)")
    add_config_options(p)
    p.add_argument("--design", default="engine", metavar="NAME",
                   help=f"perturbation source from the registry: {', '.join(SOURCE_DESIGNS)} "
                        "(default: %(default)s, the PeZO engine), or trainer: the on-device ZO trainer "
                        "(MLP 64-16-10 on the PeZO engine of the chosen config) behind a UART protocol "
                        "(hw/trainer_link.py)")
    p.add_argument("--seed-in", default="0", metavar="N",
                   help="runtime seed the top sends after reset (default: 0, the master seed)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: build/boards/<board>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    board = board_spec(args.board, args.size)
    trainer = args.design == TRAINER
    source = None if trainer else source_factory(args.design)
    seed_in = _seed_in(args.seed_in)
    cfg = config_from_options(args)
    top = TrainerBoardTop(board, engine_trainer_config(cfg)) if trainer else None
    out = check_output_dir(args.out, "--out") if args.out else build_dir("boards", board.name)
    where = "bitstream" if board.tools else "Verilog + constraints"
    print(f"board {board.name}: {board.description}", flush=True)
    print(f"design {args.design}, {config_label(args)} (P={cfg.parallel}, B={cfg.word_bits}, "
          f"strategy {cfg.strategy}); building the {where} in {out} ...", flush=True)
    result = build_board(board, cfg, out, source, seed_in=seed_in, top=top)
    _print_result(result)
    return 0


def _seed_in(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise PezoError(f"--seed-in expects an integer, got {text!r}") from None


def _print_result(result: BoardBuild) -> None:
    for kind, path in result.files.items():
        if not path.exists():
            raise PezoError(f"the {result.board.name} flow did not write its {kind} ({path})")
        print(f"{kind}: {path}")
    for net, (achieved, constraint) in result.fmax.items():
        verdict = "meets" if achieved >= constraint else "FAILS"
        print(f"fmax {net}: {achieved:.2f} MHz ({verdict} the {constraint:.2f} MHz clock)")
    if result.utilization:
        print("utilization: " + ", ".join(f"{cell} {used}/{available} ({100 * used / available:.0f}%)"
                                          for cell, (used, available) in result.utilization.items()))
    board = result.board
    if board.program:
        made = "" if board.tools else f" (after the vendor build script has made {board.bitstream})"
        print(f"program the board{made}: cd {result.directory} && "
              + board.program.format(bitstream=board.bitstream))
