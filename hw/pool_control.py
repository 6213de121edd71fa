"""The control shared by the pool sources (hw/engine.py's PoolEngine, hw/gaussian_pool.py's
GaussianPool, hw/paper.py's PaperPool): the source's seed wiring, the epoch whose pool a
step reads, the wait after a bank request, the PoolScaler fill's states and the step's
states from the step seek to the streaming words (StreamEngine takes the seed wiring). Each design keeps its own state enum (so its Verilog state encoding)
and the parts that differ; these functions add the common part to its :class:`Module`.
"""

from __future__ import annotations

import enum

from amaranth import Module, Signal, Value
from amaranth.lib import wiring

from pezo.hw.lfsr import LfsrBank
from pezo.hw.reuse import PoolReuse
from pezo.hw.scaler import PoolScaler
from pezo.ref.config import PezoConfig


def epoch_mask(cfg: PezoConfig) -> int:
    """The step bits that name the pool's epoch: ``step & epoch_mask(cfg)`` is the epoch's
    first step (``cfg.step_bits`` bits, unsigned). 0 without ``pool_refresh``: one epoch."""
    S = cfg.step_bits
    return ((1 << S) - 1) & ~(cfg.pool_refresh - 1) if cfg.pool_refresh else 0


def must_fill(step: Value, pool_valid: Signal, pool_epoch: Signal, mask: int) -> Value:
    """1 when the pool must be filled before ``step`` streams: no valid pool (after reset
    or a seed), or one of another epoch. Combinational (0 clocks)."""
    return ~pool_valid | (pool_epoch != (step & mask))


def connect_seed(m: Module, source: wiring.Component, bank: LfsrBank, *, registered: bool = False) -> None:
    """The source always takes ``start`` and ``seed`` (both ``ready`` = 1); ``seed`` goes to
    the bank unregistered (it seeds the lanes in the clock it is valid) or, with
    ``registered``, through a register (W + 1 flip-flops; the bank seeds a clock later,
    so ``seed.valid`` reaches none of the bank's control logic)."""
    m.d.comb += [source.start.ready.eq(1), source.seed.ready.eq(1)]
    if not registered:
        m.d.comb += [bank.seed.valid.eq(source.seed.valid), bank.seed.payload.eq(source.seed.payload)]
        return
    payload = Signal.like(source.seed.payload, reset_less=True)
    m.d.sync += [bank.seed.valid.eq(source.seed.valid), payload.eq(source.seed.payload)]
    m.d.comb += bank.seed.payload.eq(payload)


def add_bank_wait(m: Module, state: Signal, bank: LfsrBank, waiting: enum.Enum,
                  then: enum.Enum) -> None:
    """Add the state ``waiting`` to the ``with m.Switch(state)`` open at the call: it follows
    a bank request (seek or load) and goes to ``then`` in the first clock the bank's
    ``busy`` is 0, so ``busy`` only moves the state register (hw/engine.py's rule).
    Latency: the request's time (J or L clocks), at least 1 clock."""
    with m.Case(waiting):
        with m.If(~bank.busy):
            m.d.sync += state.eq(then)


def add_step_states(m: Module, state: Signal, states: type[enum.Enum], bank: LfsrBank,
                    reuse: PoolReuse, z_valid: Signal, en: Value) -> None:
    """Add the step's states to the ``with m.Switch(state)`` open at the call.

    ``states`` is the design's enum, with members STEP_BEGIN, STEP_SEEK,
    STEP_LOAD_REQUEST, STEP_LOAD, PLACE and STREAM. The design enters STEP_BEGIN with
    the pool of the step's epoch filled and drives the step seek (``bank.seek``) itself
    in STEP_BEGIN, as it chooses the seek's payload. Then: STEP_SEEK waits for the
    bank's ``busy`` to fall, STEP_LOAD_REQUEST requests the lane load, STEP_LOAD waits
    for it, PLACE requests ``reuse.place`` and STREAM reads the pool while ``en``
    (``z`` may take a transfer), setting ``z_valid`` once ``reuse.ready``.

    Latency (clocks from the first clock in STEP_BEGIN to the first ``z_valid`` = 1;
    J = :meth:`LfsrBank.seek_clocks` to the step, L = the bank's lane load time):
    1 (seek request) + J + 1 (load request) + L + 1 (place request) +
    ``PoolReuse.place_latency`` + 1 (first read). Then P words per clock while ``en``.
    """
    # state == PLACE and state == STREAM as flip-flops of their own, kept in a module of
    # their own, which also drives the place request and the reads from them: neither
    # the state decode nor the design's start and seed conditions lie on the path to
    # the lanes' enables. Each flag is the next state's decode (``keep_*``, set by the
    # cases below), so it equals its state decode in every clock; in a start or seed
    # clock the place or read still goes out, harmless: the design places the step
    # again before its words are used.
    keep_placing, keep_streaming = Signal(), Signal()
    flags = Module()
    placing, streaming = Signal(), Signal()
    flags.d.sync += [placing.eq(keep_placing), streaming.eq(keep_streaming)]
    flags.d.comb += [reuse.place.eq(placing), reuse.read_en.eq(streaming & en)]
    m.submodules.step_flags = flags
    with m.Case(states.STEP_BEGIN):
        m.d.sync += state.eq(states.STEP_SEEK)
    add_bank_wait(m, state, bank, states.STEP_SEEK, states.STEP_LOAD_REQUEST)
    with m.Case(states.STEP_LOAD_REQUEST):
        m.d.comb += bank.load.eq(1)
        m.d.sync += state.eq(states.STEP_LOAD)
    with m.Case(states.STEP_LOAD):
        with m.If(~bank.busy):
            m.d.comb += keep_placing.eq(1)
            m.d.sync += state.eq(states.PLACE)
    with m.Case(states.PLACE):
        m.d.comb += keep_streaming.eq(1)
        m.d.sync += state.eq(states.STREAM)
    with m.Case(states.STREAM):
        m.d.comb += keep_streaming.eq(1)
        with m.If(en & reuse.ready):
            m.d.sync += z_valid.eq(1)


def add_scaler_fill_states(m: Module, state: Signal, states: type[enum.Enum], bank: LfsrBank,
                           scaler: PoolScaler, pool_valid: Signal, then: enum.Enum) -> None:
    """Add the :class:`PoolScaler` fill's states to the ``with m.Switch(state)`` open at the
    call; the design wires the scaler's word, ``word_valid`` and ``abort`` itself.

    ``states`` is the design's enum, with members FILL_SEEK, FILL_START and FILL. The
    design enters FILL_SEEK in the clock after its seek request to the epoch's first
    step. FILL_SEEK waits for the bank's ``busy`` to fall, FILL_START starts the
    scaler, FILL forwards the scaler's lane load requests to the bank and, with the
    scaler's ``done``, sets ``pool_valid`` and goes to ``then``.

    Latency (clocks from the first clock in FILL_SEEK to the first in ``then``): J (the
    seek, :meth:`LfsrBank.seek_clocks`) + 1 (start) + :attr:`PoolScaler.fill_clocks`
    plus the waits of the scaler's lane loads.
    """
    # state == FILL_START as a flip-flop of its own (set with the state, from the next
    # state's decode ``keep_starting``), so the scaler's start, which resets its phase,
    # is a register and not a decode of the state
    keep_starting = Signal()
    flags = Module()
    starting = Signal()
    flags.d.sync += starting.eq(keep_starting)
    flags.d.comb += scaler.start.eq(starting)
    m.submodules.fill_flags = flags
    with m.Case(states.FILL_SEEK):
        with m.If(~bank.busy):
            m.d.comb += keep_starting.eq(1)
            m.d.sync += state.eq(states.FILL_START)
    with m.Case(states.FILL_START):
        m.d.sync += state.eq(states.FILL)
    with m.Case(states.FILL):
        m.d.comb += bank.load.eq(scaler.reload)
        with m.If(scaler.done):
            m.d.sync += [pool_valid.eq(1), state.eq(then)]
