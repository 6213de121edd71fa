"""``pezo stats``: the perturbation statistics of every source against the Gaussian
noise floor and the issue-7 targets (ref/stats.py defines each statistic)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pezo.commands.options import add_config_options, config_from_options
from pezo.errors import PezoError
from pezo.ref.stats import DEFAULT_STEPS, STATS, format_value, measure_sources, target_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="perturbation statistics of every source against the Gaussian floor",
                       description="Measure coverage, |E[z]|^2, the eigenvalues of E[zz^T], the SPSA cosine, "
                                   "lane and step correlation and overlapping step streams of every "
                                   "perturbation source at d = 8 * pool_size, beside the gaussian source "
                                   "measured the same way (the noise floor), with a verdict per target.")
    add_config_options(p)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="steps measured (default: %(default)s)")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_options(args)
    if args.json and not Path(args.json).resolve().parent.is_dir():
        raise PezoError(f"cannot write {args.json}: its folder does not exist")
    result = measure_sources(cfg, args.steps, progress=not args.no_progress)
    print("\n".join(table(result)))
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        except OSError as exc:
            raise PezoError(f"cannot write {args.json}: {exc.strerror}") from None
        print(f"wrote {args.json}")
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

