"""Synthesis, place-and-route, power estimate and cache of the measurement flow, on tiny
components (seconds each in WebAssembly Yosys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth import C, Cat, Module, Signal, signed, unsigned
from amaranth.back import verilog as amaranth_verilog
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from pezo.cli import main
from pezo.flow.cache import Cache, source_digest
from pezo.flow.cells import FAMILIES, cell_class, count_resources
from pezo.flow.measure import Job, Measurement, measure
from pezo.flow.pnr import place_and_route
from pezo.flow.power import estimate_power, vcd_toggles
from pezo.errors import ToolError
from pezo.flow.synth import run_tool, synthesize
from pezo.ref.config import preset
from pezo.toolchain import configure_amaranth


class TinySource(wiring.Component):
    """A perturbation-source-shaped toy: ``lanes`` 16-bit Fibonacci LFSRs (x^16 + x^14 +
    x^13 + x^11 + 1), each emitting its state as one word per clock after a start.
    More lanes = more toggling logic."""

    def __init__(self, lanes: int):
        self.lanes = lanes
        super().__init__({"start": In(stream.Signature(unsigned(8))),
                          "seed": In(stream.Signature(unsigned(16))),
                          "z": Out(stream.Signature(data.ArrayLayout(signed(16), lanes)))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.start.ready.eq(1), self.seed.ready.eq(1)]
        en = ~self.z.valid | self.z.ready
        for i in range(self.lanes):
            s = Signal(16, init=1 + 2 * i)
            with m.If(self.start.valid):
                m.d.sync += s.eq(Cat(self.start.payload, C((i + 1) * 0x35, 8)))
            with m.Elif(en):
                m.d.sync += s.eq(Cat(s[1:], s[0] ^ s[2] ^ s[3] ^ s[5]))
            m.d.sync += self.z.payload[i].eq(s)
        with m.If(self.start.valid):
            m.d.sync += self.z.valid.eq(1)
        return m


def tiny_verilog(lanes: int) -> str:
    configure_amaranth()
    return amaranth_verilog.convert(TinySource(lanes), name="top", emit_src=False)


COUNTER = """
module top(input clk, input rst, input [7:0] a, output reg [15:0] q);
  always @(posedge clk) if (rst) q <= 0; else q <= q + {8'h0, a};
endmodule
"""


@pytest.mark.parametrize("family", FAMILIES)
def test_stat_json_of_each_family_classifies_every_cell(family, tmp_path):
    result = synthesize(COUNTER, family, tmp_path)
    stat = json.loads((tmp_path / "stat.json").read_text())
    res = count_resources(stat, family)
    assert res == result.resources
    assert res.ff == 16, "a 16-bit register is 16 flip-flops on every family"
    assert res.luts + res.carry > 0, "the adder is LUTs and/or carry cells (ECP5 packs it all in CCU2C)"
    assert res.other_types == {}, f"unclassified cell types: {res.other_types}"
    for cell_type in result.cells:
        assert cell_class(family, cell_type) != "other"


def test_tiny_component_on_xilinx7_has_positive_luts_and_ffs(tmp_path):
    result = synthesize(tiny_verilog(2), "xilinx7", tmp_path)
    assert result.resources.luts > 0
    assert result.resources.ff >= 2 * 16, "two 16-bit lanes and their output registers"


def test_power_estimate_ranks_more_toggling_logic_higher(tmp_path):
    estimates = {}
    for lanes in (1, 4):
        syn = synthesize(tiny_verilog(lanes), "xilinx7", tmp_path / f"l{lanes}")
        estimates[lanes] = estimate_power(syn.netlist_v, syn.netlist_json, "xilinx7", tmp_path / f"l{lanes}" / "pw")
    assert estimates[1].toggles_per_clock > 0
    assert estimates[4].toggles_per_clock > 2 * estimates[1].toggles_per_clock
    assert estimates[4].units_per_clock > estimates[1].units_per_clock


def test_vcd_toggles_counts_each_bit_change(tmp_path):
    vcd = tmp_path / "t.vcd"
    vcd.write_text("$var wire 3 ! v [2:0] $end\n$var wire 1 \" b $end\n$enddefinitions $end\n"
                   "#0\nb000 !\n0\"\n#1\nb101 !\n1\"\n#2\nb100 !\nx\"\n#3\nb0 !\n")
    toggles = vcd_toggles(vcd)
    assert toggles["v"] == [2, 0, 2]
    assert toggles["b"] == [1], "changes to and from x count no toggle"


MEMORY_AND_PRODUCT = """
module top(input clk, input rst, input we, input [7:0] addr, input [15:0] d, output reg [31:0] q);
  (* ram_style = "block" *) reg [15:0] mem [0:255];
  reg [15:0] r;
  always @(posedge clk) begin
    if (we) mem[addr] <= d;
    r <= mem[addr];
    q <= r * d;
  end
endmodule
"""


@pytest.mark.slow
def test_gowin_place_and_route_reports_fmax_of_a_design_with_block_ram_and_dsp(tmp_path):
    """synth_gowin maps the memory (marked ram_style = "block", as the baselines' tables
    are) to block RAM and the product to a DSP, which nextpnr-gowin cannot place: pnr.py
    places the core synthesized without them."""
    syn = synthesize(MEMORY_AND_PRODUCT, "gowin", tmp_path)
    assert syn.resources.bram >= 1 and syn.resources.dsp >= 1
    pnr = place_and_route("gowin", syn.netlist_json, syn.netlist_v, syn.resources, tmp_path / "pnr")
    assert pnr.fmax_mhz > 0
    assert pnr.device.startswith("GW1NR-")
    assert pnr.utilization["RAMW"]["used"] > 0, "the memory went to LUT-RAM"


def test_ice40_place_and_route_reports_fmax(tmp_path):
    syn = synthesize(tiny_verilog(1), "ice40", tmp_path)
    pnr = place_and_route("ice40", syn.netlist_json, syn.netlist_v, syn.resources, tmp_path / "pnr")
    assert pnr.fmax_mhz > 0
    assert pnr.device.startswith("iCE40")


def test_measurement_is_cached_on_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv("PEZO_BUILD_DIR", str(tmp_path / "build"))
    cache = Cache(tmp_path / "cache")
    job = Job("lfsr", "lfsr", preset("small").to_dict(), "xilinx7", pnr=False, power=False)
    first = measure(job, cache)
    second = measure(job, cache)
    assert not first.failed, first.synth
    assert first.cached is False and second.cached is True
    assert second.synth == first.synth and first.synth.luts > 0
    assert Measurement.from_dict(json.loads(json.dumps(second.to_dict()))) == second


def test_unknown_target_is_a_one_line_error_exit_2(capsys):
    assert main(["synth", "--target", "virtex2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "target" in err and "xilinx7" in err


MULTIPLY = """
module top(input clk, input [15:0] a, input [15:0] b, output reg [31:0] q);
  reg [15:0] ra, rb;
  always @(posedge clk) begin ra <= a; rb <= b; q <= ra * rb; end
endmodule
"""


class RomReader(wiring.Component):
    """One 256 x 24-bit interpolation-table ROM of the Box-Muller baseline (its
    ``rom_style = "block"`` attribute included), read synchronously."""

    def __init__(self):
        super().__init__({"addr": In(8), "data": Out(24)})

    def elaborate(self, platform):
        from pezo.hw.gaussian.box_muller import TableRom
        m = Module()
        table = tuple(((i * 40503) % 65536, (i * 7) % 256) for i in range(256))
        value, slope = TableRom(m, table, C(1, 1), "rom").read(self.addr)
        m.d.comb += self.data.eq(Cat(value, slope))
        return m


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_maps_multipliers_to_dsps(family, tmp_path):
    """DSPs are enabled for every family alike (iCE40: synth_ice40 -dsp)."""
    assert synthesize(MULTIPLY, family, tmp_path).resources.dsp >= 1


@pytest.mark.parametrize("family", FAMILIES)
def test_baseline_rom_tables_map_to_block_ram(family, tmp_path):
    configure_amaranth()
    text = amaranth_verilog.convert(RomReader(), name="top", emit_src=False)
    res = synthesize(text, family, tmp_path).resources
    assert res.bram >= 1 and res.lutram == 0, res


def test_device_choice_honours_block_ram_and_dsp_capacity():
    from pezo.flow.cells import Resources
    from pezo.flow.pnr import choose_device
    assert choose_device("ice40", Resources(lut_logic=900, dsp=7), 40)[0] == "iCE40UP5K-SG48"
    assert choose_device("ice40", Resources(lut_logic=900, dsp=0, bram=31), 40)[0] == "iCE40HX8K-CT256"
    assert choose_device("ice40", Resources(lut_logic=900, dsp=24), 40) is None, "no iCE40 here has 24 DSPs"
    assert choose_device("ecp5", Resources(lut_logic=900, dsp=30), 40)[0] == "LFE5U-85F-CABGA381"


def test_block_ram_counts_basic_blocks():
    """A xilinx7 RAMB36 is two RAMB18s; other families count cells as they are."""
    stat = {"modules": {"top": {"num_cells_by_type": {"RAMB36E1": 3, "RAMB18E1": 2, "LUT6": 5}}}}
    assert count_resources(stat, "xilinx7").bram == 8
    stat = {"modules": {"top": {"num_cells_by_type": {"DP16KD": 3}}}}
    assert count_resources(stat, "ecp5").bram == 3


def test_power_counts_block_access_energy_and_a_static_term_per_family():
    from pezo.flow.cells import Resources
    from pezo.flow.power import C_CLOCK, E_ACCESS, STATIC_PER_CELL, clock_units, static_units
    netlist = {"modules": {"top": {"cells": {"a": {"type": "RAMB36E1"}, "b": {"type": "DSP48E1"},
                                             "c": {"type": "FDRE"}, "d": {"type": "LUT6"}}}}}
    expected = (2 * (C_CLOCK["bram"] + C_CLOCK["dsp"] + C_CLOCK["ff"])
                + 2 * E_ACCESS["bram"] + E_ACCESS["dsp"])
    assert clock_units(netlist, "xilinx7") == pytest.approx(expected), "a RAMB36 is two RAMB18 accesses"
    small, big = Resources(lut_logic=100, ff=50), Resources(lut_logic=100, ff=50, bram=2, dsp=1)
    for family in FAMILIES:
        w = STATIC_PER_CELL[family]
        assert static_units(small.to_dict(), family) == pytest.approx(100 * w["lut"] + 50 * w["ff"])
        assert static_units(big.to_dict(), family) - static_units(small.to_dict(), family) == \
            pytest.approx(2 * w["bram"] + w["dsp"])
    assert STATIC_PER_CELL["ice40"]["lut"] < STATIC_PER_CELL["xilinx7"]["lut"]


def test_each_configuration_builds_in_its_own_folder():
    # a P=1 run after a P=8 run must not read the P=8 netlist
    p8, p1 = (Job("pezo-pool", "engine", preset(name).to_dict(), "xilinx7", tag="p") for name in ("default", "p1"))
    assert p8.out_dir != p1.out_dir
    assert p8.out_dir == Job("pezo-pool", "engine", preset("default").to_dict(), "xilinx7", tag="p").out_dir


def test_concurrent_runs_of_one_job_wait_for_each_other_and_share_the_result(tmp_path):
    argv = [sys.executable, "-m", "pezo", "synth", "--design", "lfsr", "--preset", "small", "--target",
            "xilinx7", "--no-pnr", "--no-power", "--json"]
    env = {k: v for k, v in os.environ.items() if k != "PEZO_BUILD_DIR"}
    runs = [subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    records = [json.loads(run.communicate(timeout=300)[0]) for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert sorted(r["cached"] for r in records) == [False, True]  # one synthesis, not two
    assert records[0]["synth"]["luts"] == records[1]["synth"]["luts"] > 0
    assert records[0]["out_dir"] == records[1]["out_dir"]


def test_source_fingerprint_reads_the_imported_packages(monkeypatch, tmp_path):
    """The digest follows the files of the imported pezo.ref (wherever it is installed)
    and changes when one of them does."""
    import shutil

    import pezo.ref
    from pezo.flow import cache as cache_module
    copy = tmp_path / "ref"
    shutil.copytree(Path(pezo.ref.__file__).parent, copy)
    before = source_digest(("ref/*.py",))
    monkeypatch.setattr(cache_module, "package_dir", lambda part: copy)
    assert source_digest(("ref/*.py",)) == before
    (copy / "config.py").write_text((copy / "config.py").read_text() + "\n# changed\n")
    assert source_digest(("ref/*.py",)) != before


def test_a_failed_tool_names_its_first_error_line_and_its_log(tmp_path):
    script = "print('Info: placing'); print('ERROR: Unable to place cell x, no BELs remaining'); raise SystemExit(1)"
    with pytest.raises(ToolError) as caught:
        run_tool([sys.executable, "-c", script], tmp_path / "tool.log", tmp_path, timeout=60)
    message = str(caught.value)
    assert "(ERROR: Unable to place cell x, no BELs remaining)" in message and "tool.log" in message
    assert "\n" not in message
