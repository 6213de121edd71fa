"""Board tops and `pezo build`: the top's behaviour (simulated against the golden model),
the board flows, and the committed constraints against the generated top's ports."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from amaranth.lib import wiring
from amaranth.sim import Simulator

from pezo.cli import main
from pezo.errors import ConfigError
from pezo.hw import boards
from pezo.hw.board_top import BoardCore, hex_digits
from pezo.hw.boards import BOARDS, CONSTRAINTS_DIR, BoardTop, prepare, source_factory
from pezo.hw.source import SourceSignature
from pezo.ref.config import preset
from pezo.ref.engine import engine_model

SMALL = preset("small")


# --- BoardCore in simulation, against the golden model ---------------------------------

CLK_HZ = 1600          # button sampling every 16 clocks
BAUD = 400             # 4 clocks per UART bit
DIVISOR = CLK_HZ // BAUD


def _expected_line(cfg, step: int, seed_in: int = 0) -> str:
    words = engine_model(cfg, seed_in).perturbation(step, cfg.parallel)
    mask = (1 << cfg.word_bits) - 1
    text = "".join(f" {int(w) & mask:0{hex_digits(cfg.word_bits)}x}" for w in words[:8])
    return f"\r\n{step:0{hex_digits(cfg.step_bits)}x}:{text}"


def _expected_leds(cfg, step: int, leds: int) -> int:
    """Heartbeat aside: the XOR-fold to leds-1 bits of the first P words (word 0 at LSB)."""
    words = engine_model(cfg, 0).perturbation(step, cfg.parallel)
    packed = sum((int(w) & ((1 << cfg.word_bits) - 1)) << (p * cfg.word_bits)
                 for p, w in enumerate(words))
    width, folded = leds - 1, 0
    while packed:
        folded ^= packed & ((1 << width) - 1)
        packed >>= width
    return folded


def _uart_decode(samples: list[int], divisor: int) -> str:
    """Bytes of an 8N1 line sampled once per clock, mid-bit."""
    out, i = [], 1
    while i < len(samples) - 10 * divisor:
        if samples[i - 1] == 1 and samples[i] == 0:
            bits = [samples[i + divisor * b + divisor // 2] for b in range(10)]
            assert bits[0] == 0 and bits[9] == 1, f"framing error at clock {i}"
            out.append(chr(sum(bit << k for k, bit in enumerate(bits[1:9]))))
            i += 10 * divisor
        else:
            i += 1
    return "".join(out)


def test_board_core_steps_replays_and_prints_golden_words():
    cfg = SMALL
    leds = 5
    dut = BoardCore(cfg, source_factory()(cfg), CLK_HZ, leds, baud=BAUD)
    line_clocks = len(_expected_line(cfg, 0)) * 10 * DIVISOR
    tx: list[int] = []
    shown: dict[str, int] = {}

    async def press(ctx, button, name):
        ctx.set(button, 1)
        await ctx.tick().repeat(3 * CLK_HZ // 100)
        ctx.set(button, 0)
        await ctx.tick().repeat(line_clocks + 200)
        shown[name] = ctx.get(dut.leds) >> 1

    async def bench(ctx):
        await ctx.tick().repeat(line_clocks + 200)
        shown["reset"] = ctx.get(dut.leds) >> 1
        await press(ctx, dut.step_btn, "step")
        await press(ctx, dut.replay_btn, "replay")

    async def monitor(ctx):
        async for _, _, value in ctx.tick().sample(dut.uart_tx):
            tx.append(value)

    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    sim.add_testbench(bench)
    sim.add_process(monitor)
    sim.run_until((4 * line_clocks + 1000) / CLK_HZ)

    assert _uart_decode(tx, DIVISOR) == _expected_line(cfg, 0) + 2 * _expected_line(cfg, 1)
    assert shown == {"reset": _expected_leds(cfg, 0, leds), "step": _expected_leds(cfg, 1, leds),
                     "replay": _expected_leds(cfg, 1, leds)}


def test_board_core_heartbeat_toggles_every_2_to_the_k_clocks():
    """k = floor(log2(clk_hz)) - 1, as the BoardCore docstring says."""
    half_period = 2 ** (CLK_HZ.bit_length() - 2)
    dut = BoardCore(SMALL, source_factory()(SMALL), CLK_HZ, 2, baud=BAUD)
    beats: list[int] = []

    async def bench(ctx):
        for _ in range(4 * half_period + 1):
            await ctx.tick()
            beats.append(ctx.get(dut.leds) & 1)

    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    sim.add_testbench(bench)
    sim.run()
    edges = np.flatnonzero(np.diff(np.array(beats, dtype=np.int8)))
    assert len(edges) == 4 and set(np.diff(edges)) == {half_period}


def test_board_core_takes_only_a_source_of_its_config():
    """Something without the source interface (hw/source.py), or a source interface of
    another P, is a one-line ConfigError."""
    for other in (wiring.Signature({"z": wiring.Out(16)}).create(),
                  SourceSignature.from_config(SMALL.replace(parallel=4)).create()):
        with pytest.raises(ConfigError, match="invalid source=.*perturbation-source interface"):
            BoardCore(SMALL, other, CLK_HZ, 2)


# --- pezo build ---------------------------------------------------------------------------

def test_build_icebreaker_writes_bitstream_of_default_engine(tmp_path, capsys):
    """The default engine fits the UP5K and meets the 12 MHz clock (nextpnr fails otherwise)."""
    assert main(["build", "--board", "icebreaker", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    bitstream = tmp_path / "top.bin"
    assert bitstream.stat().st_size > 0
    assert f"bitstream: {bitstream.resolve()}" in out
    assert re.search(r"fmax \S+: [\d.]+ MHz \(meets the 12\.00 MHz clock\)", out)
    assert "ICESTORM_LC" in out


def test_build_arty_a7_writes_verilog_and_xdc(tmp_path, capsys):
    assert main(["build", "--board", "arty_a7", "--preset", "small", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    verilog, xdc = tmp_path / "top.v", tmp_path / "top.xdc"
    assert f"verilog: {verilog.resolve()}" in out and f"constraints: {xdc.resolve()}" in out
    assert set(_constraint_pins(xdc.read_text(), "xdc")) == _verilog_ports(verilog.read_text())


@pytest.mark.slow
def test_build_ulx3s_writes_bitstream_of_default_engine(tmp_path, capsys):
    assert main(["build", "--board", "ulx3s", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "top.bit").stat().st_size > 0
    assert re.search(r"fmax \S+: [\d.]+ MHz \(meets the 25\.00 MHz clock\)", out)


@pytest.mark.slow
def test_build_tang_nano_9k_writes_bitstream_with_the_open_gowin_flow(tmp_path, capsys):
    """Yosys, nextpnr-gowin and gowin_pack: a .fs bitstream, timed against the 27 MHz clock."""
    assert main(["build", "--board", "tang_nano_9k", "--preset", "small", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "top.fs").stat().st_size > 0
    assert re.search(r"fmax \S+: [\d.]+ MHz \(meets the 27\.00 MHz clock\)", out), out
    assert "openFPGALoader -b tangnano9k top.fs" in out


def test_failing_tool_gives_one_line_error_naming_board_and_log(tmp_path, monkeypatch, capsys):
    real = boards.tool_environment
    monkeypatch.setattr(boards, "tool_environment", lambda board: {**real(board), "NEXTPNR_ICE40": "false"})
    assert main(["build", "--board", "icebreaker", "--preset", "small", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "icebreaker build failed" in err and str(tmp_path / "build.log") in err


def test_unknown_board_exits_2_with_one_line_listing_known_boards(capsys):
    assert main(["build", "--board", "de0_nano"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "de0_nano" in lines[0]
    assert all(name in lines[0] for name in BOARDS)
    assert captured.out == ""


def test_non_source_design_exits_2_naming_the_sources(capsys):
    assert main(["build", "--board", "arty_a7", "--design", "lfsr"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "engine" in err and "box_muller" in err


# --- committed constraints ----------------------------------------------------------------

_PIN_PATTERNS = {
    "pcf": r"^set_io\s+(\S+)\s+(\S+)",
    "lpf": r'^LOCATE COMP "([^"]+)" SITE "([^"]+)";',
    "xdc": r'^set_property LOC (\S+) \[get_ports "?([^"\]\s]+)"?\]',
    "cst": r'^IO_LOC "([^"]+)" (\S+);',
}
_CLOCK_PATTERNS = {
    "pcf": (r"^set_frequency\s+(\S+)\s+([\d.]+)", 1e6),
    "lpf": (r'^FREQUENCY PORT "([^"]+)" ([\d.]+) HZ;', 1.0),
    "xdc": (r'^create_clock .*-period ([\d.]+) \[get_(?:nets|ports) "?([^"\]\s]+)"?\]', None),
    "sdc": (r'^create_clock .*-period ([\d.]+) \[get_ports\s+\{([^}]+)\}\]', None),
}


def _constraint_pins(text: str, kind: str) -> dict[str, str]:
    """Port name -> pin of a constraints file."""
    pairs = re.findall(_PIN_PATTERNS[kind], text, re.MULTILINE)
    assert pairs, f"no pins found in the {kind} file"
    return {b: a for a, b in pairs} if kind == "xdc" else dict(pairs)


def _constraint_clocks(text: str, kind: str) -> dict[str, float]:
    """Clock port -> frequency in Hz."""
    pattern, scale = _CLOCK_PATTERNS[kind]
    pairs = re.findall(pattern, text, re.MULTILINE)
    if kind in ("xdc", "sdc"):
        return {port: round(1e9 / float(period)) for period, port in pairs}
    return {port: round(float(freq) * scale) for port, freq in pairs}


def _verilog_ports(text: str) -> set[str]:
    header = re.search(r"^module top\(([^)]*)\);", text, re.MULTILINE)
    assert header, "no module top in the generated Verilog"
    return {name.strip() for name in header.group(1).split(",")}


def _suffix(filename: str) -> str:
    return Path(filename).suffix[1:]


@pytest.mark.parametrize("name", list(BOARDS))
def test_committed_constraints_match_generated_top(name):
    board = BOARDS[name]
    kind = _suffix(board.constraints)
    clock_file = board.timing or board.constraints
    plan = prepare(BoardTop(board, SMALL))
    verilog = plan.files["top.debug.v" if board.tools else "top.v"]
    committed = (CONSTRAINTS_DIR / board.constraints).read_text()
    committed_clocks = (CONSTRAINTS_DIR / clock_file).read_text()

    assert set(_constraint_pins(committed, kind)) == _verilog_ports(verilog)
    assert _constraint_pins(committed, kind) == _constraint_pins(plan.files[f"top.{kind}"], kind)
    committed_clock = _constraint_clocks(committed_clocks, _suffix(clock_file))
    generated_clocks = plan.files.get(f"top.{_suffix(clock_file)}")
    if generated_clocks is None:  # open Gowin flow: the clock goes to nextpnr as --freq
        frequency = board.make_platform().default_clk_frequency
        assert list(committed_clock.values()) == [round(frequency)]
        assert f"--freq {frequency / 1e6:g}" in plan.files["build_top.sh"]
        assert set(committed_clock) <= _verilog_ports(verilog)
    else:
        assert committed_clock == _constraint_clocks(generated_clocks, _suffix(clock_file)) != {}


def test_every_committed_constraints_file_belongs_to_a_board():
    named = {f for b in BOARDS.values() for f in (b.constraints, b.timing) if f}
    assert named == {p.name for p in CONSTRAINTS_DIR.iterdir() if not p.name.startswith("__")}
