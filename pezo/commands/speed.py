"""``pezo speed``: words per second of the bit-exact engine models against numpy's
``standard_normal``, measured in one run (:func:`pezo.ref.train.compare.model_speed`)."""

from __future__ import annotations

import argparse

from pezo.commands.options import check_output_file, positive_int, write_json
from pezo.ref.train.compare import NUMPY, TIMING_STEPS, model_speed

DEFAULT_PRESETS = ["default", "p1", "stream"]
#: the digits MLP of the training flow (64-16-10: 1210 parameters) and a larger model
DEFAULT_PARAMS = [1210, 16384]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speed", help="words/s of the bit-exact engine models vs numpy standard_normal",
                       description="Time the bit-exact perturbation of new steps (a new model per run: the pool "
                                   "fill, LFSR words, addressing and scaling, nothing cached before; the fill once "
                                   "per run, as in training) against numpy's standard_normal from one reused "
                                   "Generator, in the same process; best of several rounds. It is the model's "
                                   "speed, not the hardware's.")
    p.add_argument("--preset", action="append", metavar="NAME",
                   help=f"engine preset to time (repeatable; default: {', '.join(DEFAULT_PRESETS)})")
    p.add_argument("--params", action="append", type=positive_int, metavar="N",
                   help=f"parameters per step (repeatable; default: {', '.join(map(str, DEFAULT_PARAMS))})")
    p.add_argument("--steps", type=positive_int, default=TIMING_STEPS,
                   help="new steps per timed run (default: %(default)s)")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.json:
        check_output_file(args.json, "--json")
    presets = args.preset or DEFAULT_PRESETS
    result = model_speed(presets, args.params or DEFAULT_PARAMS, args.steps)
    print(f"words/s: z of {result['steps']} new steps per run from a new model (pool fill, LFSR words, "
          f"addressing, scaling), best of {result['rounds']} rounds; numpy: standard_normal(n), one Generator")
    print(f"{'params':>8} {'numpy':>10}" + "".join(f" {name:>18}" for name in presets))
    for n, rates in result["rates"].items():
        cells = "".join(f" {rates[name] / 1e6:>8.1f} M ({result['vs_numpy'][n][name]:>4.2f}x)" for name in presets)
        print(f"{n:>8} {rates[NUMPY] / 1e6:>8.1f} M{cells}")
    if args.json:
        write_json(args.json, result)
    return 0
