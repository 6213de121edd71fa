"""``pezo build --board NAME``: the full board flow of one design (see hw/boards.py).

iCE40 and ECP5 boards get a bitstream from the yowasp Yosys/nextpnr/pack tools, with
nextpnr's Fmax and utilisation printed; vendor-only boards (Arty A7: Vivado; Tang
Nano 9K: Gowin IDE) get Verilog, constraints and the vendor's build script. Files go
under ``build/boards/<board>/`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pezo.commands.options import add_config_options, config_from_options
from pezo.errors import PezoError
from pezo.hw.boards import BOARDS, SOURCE_DESIGNS, BoardBuild, board_spec, build_board, source_factory
from pezo.toolchain import build_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="board flow: bitstream (iCE40/ECP5 boards) or Verilog + constraints "
                            "(Xilinx/Gowin boards)",
                       description=f"Build a board top. Known boards: {', '.join(BOARDS)}.")
    p.add_argument("--board", required=True, metavar="NAME", help=f"one of: {', '.join(BOARDS)}")
    add_config_options(p)
    p.add_argument("--design", default="engine", metavar="NAME",
                   help=f"perturbation source from the registry: {', '.join(SOURCE_DESIGNS)} "
                        "(default: %(default)s, the PeZO engine)")
    p.add_argument("--seed-in", default="0", metavar="N",
                   help="runtime seed the top sends after reset (default: 0, the master seed)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: build/boards/<board>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    board = board_spec(args.board)
    source = source_factory(args.design)
    seed_in = _seed_in(args.seed_in)
    cfg = config_from_options(args)
    out = Path(args.out) if args.out else build_dir("boards", board.name)
    where = "bitstream" if board.tools else "Verilog + constraints"
    print(f"board {board.name}: {board.description}", flush=True)
    print(f"design {args.design}, {_config_label(args)} (P={cfg.parallel}, B={cfg.word_bits}, "
          f"strategy {cfg.strategy}); building the {where} in {out} ...", flush=True)
    result = build_board(board, cfg, out, source, seed_in=seed_in)
    _print_result(result)
    return 0


def _seed_in(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise PezoError(f"--seed-in expects an integer, got {text!r}") from None


def _config_label(args: argparse.Namespace) -> str:
    label = f"config {args.config}" if args.config else f"preset {args.preset}"
    return label + "".join(f" --set {item}" for item in args.set)


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
