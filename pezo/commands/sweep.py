"""``pezo sweep``: design-space grid (pool size, P, B, strategy, target), cached, with a
Pareto plot of LUTs vs training-accuracy gap to gaussian (build/sweep/); on the local
cores, or on a Dask distributed cluster with ``--scheduler ADDRESS``."""

from __future__ import annotations

import argparse

from pezo.commands.options import add_config_options, config_from_options, positive_int
from pezo.errors import ConfigError
from pezo.flow.sweep import SweepGrid, run_sweep
from pezo.flow.synth import check_target
from pezo.ref.config import STRATEGIES


def _ints(text: str) -> tuple[int, ...]:
    return tuple(positive_int(v) for v in text.split(","))


def _words(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(","))


def register(sub: argparse._SubParsersAction) -> None:
    g = SweepGrid()
    p = sub.add_parser("sweep", help="design-space sweep (cached) -> build/sweep/sweep.csv and pareto.png")
    add_config_options(p)
    p.add_argument("--pool-size", type=_ints, default=g.pool_sizes, metavar="N,N", help="pool sizes")
    p.add_argument("--parallel", type=_ints, default=g.parallels, metavar="P,P", help="words per clock")
    p.add_argument("--word-bits", type=_ints, default=g.word_bits, metavar="B,B", help="word widths")
    p.add_argument("--strategy", type=_words, default=g.strategies, metavar="S,S", help="pool, stream, none")
    p.add_argument("--target", type=_words, default=g.targets, metavar="T,T", help="FPGA targets")
    p.add_argument("--train-steps", type=positive_int, default=g.train_steps, metavar="N",
                   help="training steps per point (default: %(default)s)")
    p.add_argument("--train-seeds", type=positive_int, default=g.train_seeds, metavar="N",
                   help="training seeds per point (default: %(default)s)")
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="parallel processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the points on this Dask distributed scheduler (e.g. tcp://host:8786) "
                        "instead of local processes; the cache stays here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for s in args.strategy:
        if s not in STRATEGIES:
            raise ConfigError("strategy", s, f"allowed values are {', '.join(STRATEGIES)}")
    for t in args.target:
        check_target(t)
    grid = SweepGrid(pool_sizes=args.pool_size, parallels=args.parallel, word_bits=args.word_bits,
                     strategies=args.strategy, targets=args.target, train_steps=args.train_steps,
                     train_seeds=args.train_seeds)
    base = config_from_options(args)
    if args.scheduler:
        from pezo.flow.sweep import dask_executor
        with dask_executor(args.scheduler) as executor:
            run_sweep(grid, base, args.jobs, executor=executor)
    else:
        run_sweep(grid, base, args.jobs)
    return 0
