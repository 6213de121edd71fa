"""``pezo stats``: the perturbation statistics of every source against the Gaussian
noise floor and the issue-7 targets (ref/stats.py defines each statistic)."""

from __future__ import annotations

import argparse

from pezo.commands.options import add_config_options, check_output_file, config_from_options, write_json
from pezo.ref.stats import DEFAULT_STEPS, STATS, format_value, measure_sources, target_text
from pezo.ref.train.sources import SOURCES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="perturbation statistics of every source against the Gaussian floor",
                       description="Measure coverage, |E[z]|^2, the eigenvalues of E[zz^T], the SPSA cosine, "
                                   "lane and step correlation and overlapping step streams of every "
                                   "perturbation source at d = 8 * pool_size, beside the gaussian source "
                                   "measured the same way (the noise floor), with a verdict per target.")
    add_config_options(p)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="steps measured (default: %(default)s)")
    p.add_argument("--source", action="append", metavar="NAME",
                   help=f"measure only this source (repeatable; the floor is always measured): {', '.join(SOURCES)}")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_options(args)
    if args.json:
        check_output_file(args.json, "--json")
    result = measure_sources(cfg, args.steps, args.source or SOURCES, progress=not args.no_progress)
    print("\n".join(table(result)))
    if args.json:
        write_json(args.json, result)
    return 0


def table(result: dict) -> list[str]:
    """The stats table: one row per (source, statistic) with the floor, the target and
    PASS / MISS; the floor source itself is not listed."""
    cfg, floor_name = result["config"], result["floor"]
    floor = result["sources"][floor_name]
    limit = result["d"] // cfg["pool_size"]
    lines = [f"d = {result['d']} (8 x pool_size {cfg['pool_size']}), P = {cfg['parallel']}, "
             f"{result['steps']} steps; floor: {floor_name}",
             f"{'source':<14} {'statistic':<18} {'value':>10} {'floor':>10}  {'target':<18} verdict"]
    for name, stats in result["sources"].items():
        if name == floor_name:
            continue
        for stat in STATS:
            verdict = "PASS" if result["verdicts"][name][stat] else "MISS"
            lines.append(f"{name:<14} {stat:<18} {format_value(stats[stat]):>10} {format_value(floor[stat]):>10}  "
                         f"{target_text(stat, limit):<18} {verdict}")
    return lines

