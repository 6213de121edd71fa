"""``pezo synth``: resources (Yosys) and, for ice40/ecp5, Fmax (nextpnr) of one design."""

from __future__ import annotations

import argparse
import json
import sys

from pezo.commands.options import add_config_options, config_from_options, config_given, config_label
from pezo.errors import PezoError
from pezo.flow.comparison import COMPARISON, DesignSpec, spec
from pezo.hw.designs import DESIGNS
from pezo.flow.measure import Job, Measurement, StepFailure, measure
from pezo.flow.synth import TARGETS, check_target


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="synthesize one design for an FPGA family: LUTs, FFs, carry, RAM, DSP, Fmax")
    p.add_argument("--target", required=True, metavar="FAMILY", help=f"one of {', '.join(TARGETS)}")
    p.add_argument("--design", default="engine", metavar="NAME",
                   help=f"one of {', '.join(dict.fromkeys([*DESIGNS, *(c.name for c in COMPARISON)]))}: a "
                        "registry block or a member of the comparison set, whose fields it fixes "
                        "(default: %(default)s)")
    p.add_argument("--no-pnr", action="store_true", help="skip place-and-route (ice40/ecp5)")
    p.add_argument("--no-power", action="store_true", help="skip the power estimate")
    p.add_argument("--json", action="store_true", help="print the whole record as JSON")
    add_config_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = check_target(args.target)
    s = spec(args.design)
    base = config_from_options(args)
    if config_given(args):
        _check_overrides(s, base, config_label(args))
    cfg = s.config(base)
    # with --json, stdout carries the JSON alone
    print(f"synthesizing {s.name} (block {s.block}, P={cfg.parallel}, B={cfg.word_bits}) for {target} ...",
          file=sys.stderr if args.json else sys.stdout, flush=True)
    job = Job(s.name, s.block, cfg.to_dict(), target, pnr=not args.no_pnr, power=not args.no_power)
    record = measure(job)
    print(json.dumps(record.to_dict(), indent=1, default=str) if args.json else format_record(record))
    return 1 if record.failed else 0


def _check_overrides(s: DesignSpec, base, chosen: str) -> None:
    """A comparison design fixes some fields; a chosen config that says otherwise is
    refused rather than silently replaced."""
    for field, value in s.overrides:
        if getattr(base, field) != value:
            raise PezoError(f"--design {s.name} builds {field}={value}, but {chosen} gives "
                            f"{field}={getattr(base, field)}; use --design {s.block} to build that configuration")


def format_record(record: Measurement) -> str:
    """A few human lines for one measurement record."""
    lines = [f"outputs: {record.out_dir}{'  (cached)' if record.cached else ''}"]
    syn = record.synth
    if isinstance(syn, StepFailure):
        lines.append(f"synthesis FAILED: {syn.error}")
        return "\n".join(lines)
    lines.append(f"LUTs {syn.luts} (logic {syn.lut_logic}, LUT-RAM {syn.lutram}), FFs {syn.ff}, "
                 f"carry {syn.carry}, block RAM {syn.bram}, DSP {syn.dsp}  [log {syn.log}]")
    if syn.other_types:
        lines.append(f"unclassified cells: {syn.other_types}")
    p = record.pnr
    if isinstance(p, StepFailure):
        lines.append(f"place-and-route FAILED: {p.error}")
    elif p is not None:
        lines.append(f"Fmax {p.fmax_mhz:.1f} MHz on {p.device} (nextpnr)  [log {p.log}]")
    w = record.power
    if isinstance(w, StepFailure):
        lines.append(f"power estimate FAILED: {w.error}")
    elif w is not None:
        lines.append(f"power estimate {w.units_per_clock:.1f} units/clock (switching-activity "
                     f"estimate, not a vendor analysis)  [log {w.log}]")
    return "\n".join(lines)
