"""Reusable cocotb drivers and monitors for components with Amaranth streams.

Port names follow Amaranth's Verilog: ``clk``, ``rst`` (synchronous, active high) and
``<stream>__valid`` / ``__ready`` / ``__payload``. For a perturbation source with the
common interface (``start``, ``seed``, ``z``)::

    start_clock(dut)
    start, seed = StreamDriver(dut, "start"), StreamDriver(dut, "seed")
    z = z_sink(dut, cfg.parallel, cfg.word_bits)   # back-pressure from PEZO_BACKPRESSURE
    await reset(dut)
    z.start()
    when = await start.send(t)          # sim time of the edge that accepted start(t)
    z.restart(since=when)               # keep only words transferred after that edge
    words = await z.take(n)             # words 0..n-1 of step t, signed int64
    expect_words(words, model.perturbation(t, n), f"step {t}")

Timing convention: every coroutine samples on the rising edge of ``clk`` (the values
just before the edge, i.e. what the DUT's flip-flops see) and drives new input values
right after it, so a transfer happens at an edge where ``valid`` and ``ready`` were
both 1.

The helpers every testbench shares live here once: :func:`reset` (the one reset
routine), :func:`expect_words` (the one word-by-word comparison with the golden model)
and :func:`z_sink` (the one back-pressure setting, ``PEZO_BACKPRESSURE``).
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

import numpy as np
from cocotb import start_soon
from cocotb.clock import Clock
from cocotb.handle import SimHandleBase
from cocotb.task import Task
from cocotb.triggers import RisingEdge
from cocotb.utils import get_sim_time

#: Clock period of every testbench, in ns.
CLOCK_NS = 10
#: Environment variable: probability that a sink holds ``ready`` low on a clock.
BACKPRESSURE_ENV = "PEZO_BACKPRESSURE"
#: Back-pressure of every testbench unless ``PEZO_BACKPRESSURE`` says otherwise.
DEFAULT_BACKPRESSURE = 0.3


def value(handle: SimHandleBase) -> int:
    """The unsigned integer value of a signal (raises if it holds X or Z)."""
    v = handle.value
    return int(v) if not hasattr(v, "to_unsigned") else v.to_unsigned()


def now() -> int:
    """Current simulation time in simulator steps (comparable with ``send``'s result)."""
    return int(get_sim_time("step"))


def start_clock(dut, period_ns: int = CLOCK_NS) -> Task:
    """Start the ``clk`` clock of ``dut`` (period in ns)."""
    return start_soon(Clock(dut.clk, period_ns, unit="ns").start())


async def clocks(dut, n: int = 1) -> None:
    """Wait for ``n`` rising edges of ``clk``."""
    for _ in range(n):
        await RisingEdge(dut.clk)


async def reset(dut, cycles: int = 2, *, zero: Sequence[str] = ("start__valid", "seed__valid")) -> None:
    """Drive the input ports named in ``zero`` to 0, then hold ``rst`` (synchronous,
    active high) for ``cycles`` rising edges of the running ``clk``; the one reset
    routine of every testbench."""
    for port in zero:
        getattr(dut, port).value = 0
    dut.rst.value = 1
    await clocks(dut, cycles)
    dut.rst.value = 0


def expect_words(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Assert that the RTL's words ``got`` equal the golden model's ``want`` element for
    element (same shape; 1-D: word index, 2-D: (transfer, lane), ...), naming how many
    differ and the first one."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: got words of shape {got.shape}, expected {want.shape}"
    bad = np.argwhere(got != want)
    if len(bad):
        first = tuple(int(i) for i in bad[0])
        where = first[0] if len(first) == 1 else first
        raise AssertionError(f"{what}: {len(bad)} of {want.size} words differ, first at word {where}: "
                             f"rtl {int(got[first])}, ref {int(want[first])}")


class StreamDriver:
    """Source of an input stream ``<name>`` (valid / ready / payload): one transfer at a time."""

    def __init__(self, dut, name: str):
        self.clk = dut.clk
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.valid.value = 0

    async def send(self, payload: int, timeout_cycles: int = 1_000_000) -> int:
        """Offer ``payload`` until accepted; returns the sim time of the accepting edge."""
        self.payload.value = payload
        self.valid.value = 1
        for _ in range(timeout_cycles):
            await RisingEdge(self.clk)
            if value(self.ready):
                self.valid.value = 0
                return now()
        raise AssertionError(f"transfer of {payload} not accepted in {timeout_cycles} cycles")


def split_words(payload: int, count: int, word_bits: int) -> list[int]:
    """Elements of a flattened array payload: element p is bits [p*B, (p+1)*B), signed."""
    mask, sign = (1 << word_bits) - 1, 1 << (word_bits - 1)
    out = []
    for p in range(count):
        w = (payload >> (p * word_bits)) & mask
        out.append(w - (1 << word_bits) if w & sign else w)
    return out


class WordSink:
    """Sink of an output stream ``<name>`` carrying P signed B-bit words per transfer.

    Drives ``ready`` low with probability ``backpressure`` on each clock (drawn from
    ``random.Random(seed)``, so a run is reproducible) and records every transfer with the
    sim time of its edge. Words are flattened: element p of transfer c is word c*P + p.
    """

    def __init__(self, dut, parallel: int, word_bits: int, *, name: str = "z",
                 backpressure: float = 0.0, seed: int = 0):
        self.clk = dut.clk
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.parallel = parallel
        self.word_bits = word_bits
        self.backpressure = backpressure
        self.rng = random.Random(seed)
        self.transfers: list[tuple[int, list[int]]] = []
        self.stalled = 0
        self._since = -1
        self._task: Task | None = None
        self.ready.value = 0

    def start(self) -> None:
        """Begin driving ``ready`` and recording transfers (call once, after the clock)."""
        if self._task is None:
            self._task = start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.ready.value = 0

    async def _run(self) -> None:
        self.ready.value = int(self.rng.random() >= self.backpressure)
        while True:
            await RisingEdge(self.clk)
            if value(self.valid):
                if value(self.ready):
                    words = split_words(value(self.payload), self.parallel, self.word_bits)
                    self.transfers.append((now(), words))
                else:
                    self.stalled += 1
            self.ready.value = int(self.rng.random() >= self.backpressure)

    def restart(self, since: int) -> None:
        """Forget transfers at edges up to time ``since`` (e.g. the edge that accepted a start)."""
        self._since = since
        self.transfers = [t for t in self.transfers if t[0] > since]

    @property
    def words(self) -> np.ndarray:
        """Every word recorded since the last :meth:`restart`, flattened, int64."""
        flat = [w for time, ws in self.transfers if time > self._since for w in ws]
        return np.array(flat, dtype=np.int64)

    async def take(self, n: int, timeout_cycles: int | None = None) -> np.ndarray:
        """Wait until ``n`` words are recorded; returns the first ``n`` (int64)."""
        limit = timeout_cycles if timeout_cycles is not None else 100 * n + 100_000
        for _ in range(limit):
            words = self.words
            if len(words) >= n:
                return words[:n]
            await RisingEdge(self.clk)
        raise AssertionError(f"only {len(self.words)} of {n} words arrived in {limit} cycles")


def backpressure() -> float:
    """The testbench's back-pressure: ``PEZO_BACKPRESSURE`` (default 0.3), in [0, 1)."""
    return float(os.environ.get(BACKPRESSURE_ENV, DEFAULT_BACKPRESSURE))


def z_sink(dut, parallel: int, word_bits: int) -> WordSink:
    """The sink of a source's ``z`` stream (P = ``parallel`` words of B = ``word_bits``
    bits per transfer) under the testbench's :func:`backpressure`, its ``ready`` pattern
    drawn from a seed of Python's ``random`` (seeded by cocotb, so a run is reproducible)."""
    return WordSink(dut, parallel, word_bits, backpressure=backpressure(), seed=random.getrandbits(32))
