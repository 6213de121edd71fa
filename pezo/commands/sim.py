"""``pezo sim``: the cocotb regression (every case of every sim/tb_*.py), one line per case."""

from __future__ import annotations

import argparse

from pezo.errors import PezoError
from pezo.sim.regression import Outcome, regression


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the cocotb regression on Icarus Verilog (build/sim/<case>/)")
    p.add_argument("--waves", action="store_true", help="record FST waves: build/sim/<case>/top.fst")
    p.add_argument("--quick", action="store_true", help="skip the cases marked not quick")
    p.add_argument("--case", metavar="TEXT", default="", help="run only the cases whose name contains TEXT")
    p.set_defaults(func=run)


def _print(outcome: Outcome) -> None:
    status = "PASS" if outcome.passed else "FAIL"
    print(f"{status}  {outcome.case:<28} {outcome.seconds:6.1f} s  {outcome.detail}", flush=True)


def run(args: argparse.Namespace) -> int:
    outcomes = regression(quick=args.quick, select=args.case, waves=args.waves, report=_print)
    if not outcomes:
        raise PezoError(f"no simulation case matches {args.case!r}" if args.case else "no simulation cases found in sim/tb_*.py")
    failed = [o.case for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} cases passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    if args.waves:
        print("waves: build/sim/<case>/top.fst; open one with `gtkwave build/sim/<case>/top.fst` "
              "or `surfer build/sim/<case>/top.fst`")
    return 1 if failed else 0
