"""``pezo synth``: resources (Yosys) and, for ice40/ecp5, Fmax (nextpnr) of one design."""

from __future__ import annotations

import argparse
import json
import sys

from pezo.commands.options import add_config_options, config_from_options, config_given, config_label
from pezo.errors import PezoError
from pezo.flow.designs import COMPARISON, DesignSpec, spec
from pezo.hw.designs import DESIGNS
from pezo.flow.measure import Job, measure
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
    if args.json:
        print(json.dumps(record, indent=1, default=str))
        return 0 if "error" not in record["synth"] else 1
    print(format_record(record))
    return 0 if "error" not in record["synth"] else 1


def _check_overrides(s: DesignSpec, base, chosen: str) -> None:
    """A comparison design fixes some fields; a chosen config that says otherwise is
    refused rather than silently replaced."""
    for field, value in s.overrides:
        if getattr(base, field) != value:
            raise PezoError(f"--design {s.name} builds {field}={value}, but {chosen} gives "
                            f"{field}={getattr(base, field)}; use --design {s.block} to build that configuration")


def format_record(record: dict) -> str:
    """A few human lines for one measurement record."""
    lines = [f"outputs: {record['out_dir']}{'  (cached)' if record.get('cached') else ''}"]
    syn = record["synth"]
    if "error" in syn:
        lines.append(f"synthesis FAILED: {syn['error']}")
        return "\n".join(lines)
    lines.append(f"LUTs {syn['luts']} (logic {syn['lut_logic']}, LUT-RAM {syn['lutram']}), FFs {syn['ff']}, "
                 f"carry {syn['carry']}, block RAM {syn['bram']}, DSP {syn['dsp']}  [log {syn['log']}]")
    if syn.get("other_types"):
        lines.append(f"unclassified cells: {syn['other_types']}")
    if "pnr" in record:
        p = record["pnr"]
        lines.append(f"place-and-route FAILED: {p['error']}" if "error" in p
                     else f"Fmax {p['fmax_mhz']:.1f} MHz on {p['device']} (nextpnr)  [log {p['log']}]")
    if "power" in record:
        p = record["power"]
        lines.append(f"power estimate FAILED: {p['error']}" if "error" in p
                     else f"power estimate {p['units_per_clock']:.1f} units/clock (switching-activity "
                          f"estimate, not a vendor analysis)  [log {p['log']}]")
    return "\n".join(lines)
