"""``pezo report``: synthesis, timing, power estimate, regression and training parity of
PeZO vs the Gaussian baselines, written to build/report/ (what ``make report`` runs)."""

from __future__ import annotations

import argparse

from pezo.commands.options import add_config_options, config_from_options, parse_sets, positive_int
from pezo.errors import PezoError
from pezo.flow.report import ReportSettings, run_report
from pezo.flow.synth import TARGETS, check_target


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the comparison report (Markdown, CSV, JSON, plots) in build/report/")
    add_config_options(p)
    p.add_argument("--target", action="append", metavar="FAMILY",
                   help=f"limit to these targets (repeatable; default: all of {', '.join(TARGETS)})")
    p.add_argument("--full", action="store_true",
                   help="P=8 on every target and every simulation case (slower)")
    p.add_argument("--no-regression", action="store_true", help="skip the cocotb regression")
    p.add_argument("--no-training", action="store_true", help="skip the training-parity runs")
    p.add_argument("--train-seeds", type=positive_int, default=ReportSettings.train_seeds, metavar="N", help="training seeds (default: %(default)s)")
    p.add_argument("--train-steps", type=positive_int, default=ReportSettings.train_steps, metavar="N", help="training steps (default: %(default)s)")
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N", help="parallel jobs (default: all cores)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if "parallel" in parse_sets(args.set):
        raise PezoError("the report measures fixed P values (P=8 and P=1; --full: P=8 everywhere), "
                        "so --set parallel has no effect; use `pezo synth --set parallel=N` for one P")
    targets = tuple(check_target(t) for t in args.target) if args.target else tuple(TARGETS)
    settings = ReportSettings(base=config_from_options(args), targets=targets, full=args.full,
                              regression=not args.no_regression, training=not args.no_training,
                              train_seeds=args.train_seeds, train_steps=args.train_steps, workers=args.jobs)
    run_report(settings)
    return 0
