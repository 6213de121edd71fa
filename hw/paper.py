"""RTL of the paper's reuse schemes (``paper-pool``, ``paper-rotate``), bit-exact with
ref/paper.py (its docstring is the contract and gives the reading of the paper). Both
have the common source interface (hw/source.py) and take their uniform words and
scaling from the PeZO engine's blocks (hw/lfsr.py, hw/scaler.py), so only the reuse
(and paper-pool's pool layout: N independent words, no negations) differs from
hw/engine.py.

The start/seed control follows hw/engine.py's engines (registered start, bank requests
followed by states that wait for ``busy`` to fall), with the seed wiring and the epoch
test of hw/pool_control.py; PaperPool's states are its own, as its step needs no seek.
"""

from __future__ import annotations

import enum

from amaranth import Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.utils import exact_log2

from pezo.errors import ConfigError
from pezo.hw.arith import adder_tree
from pezo.hw.engine import StreamEngine
from pezo.hw.lfsr import LfsrBank
from pezo.hw.pool_control import add_scaler_fill_states, connect_seed, epoch_mask, must_fill
from pezo.hw.reuse import StreamReuse
from pezo.hw.scaler import PoolScaler
from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig
from pezo.ref.paper import default_params


class _Pool(enum.Enum):
    IDLE = 0
    BEGIN = 1
    FILL_SEEK = 2
    FILL_START = 3
    FILL = 4
    PLACE = 5
    STREAM = 6


class PaperPool(wiring.Component):
    """``paper-pool``: P consecutive words per clock of the PeZO pool, read as one
    concatenated sequence from ``t*d mod N``.

    Parameters
    ----------
    cfg : the configuration (``strategy`` = ``pool``); one LFSR lane, the
        :class:`PoolScaler` fill of N independent words (``antithetic=False``:
        ``pezo.ref.scaler.fill_pool(v, cfg, antithetic=False)``).
    params : d, parameters per perturbation (a constant of the accelerator); default
        :func:`pezo.ref.paper.default_params` (the training flow's digits MLP).

    Storage: the pool of N signed B-bit words in P interleaved memories of D = N/P words
    (word j in memory j mod P at address j // P): no copies, one write port and one
    read port each. For step t, base = t*d mod N (``t * (d mod N)`` as a shift-add of
    constants, n = log2 N bits), base = hi*P + lo: memory b reads address ``a + (b <
    lo)`` (a = hi, plus one per read; D-word wrap) and lane p takes memory (p + lo) mod
    P (a rotator of P words, ``lo`` fixed per step).

    Attributes
    ----------
    start, seed, z : the common source interface (hw/source.py). ``z`` transfer c
        carries words c*P .. c*P+P-1 of the step, equal to
        ``pezo.ref.paper.PaperPoolModel(cfg, seed_in, params).perturbation``. ``seed``
        also invalidates the pool. While ``z.ready`` is 0 nothing advances.

    Latency (clocks from ``start`` valid to the first ``z.valid``): pool of the step's
    epoch already filled: 1 (start registered) + 1 (base) + 1 (first read); otherwise
    the bank seek to the epoch and the :class:`PoolScaler` fill
    (:attr:`PoolScaler.fill_clocks` clocks plus the lane loads' waits) come first. Then
    P words per clock.
    """

    def __new__(cls, cfg: PezoConfig, params: int | None = None, **kwargs):
        # checked before Amaranth tracks the object, so a rejected one is not reported unused
        if cfg.strategy != "pool":
            raise ConfigError("strategy", cfg.strategy, "paper-pool needs the pool strategy")
        if params is not None and params < 1:
            raise ConfigError("params", params, "must be at least 1")
        return super().__new__(cls, **kwargs)

    def __init__(self, cfg: PezoConfig, params: int | None = None):
        self.cfg = cfg
        self.params = default_params() if params is None else params
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        S, P, N = cfg.step_bits, cfg.parallel, cfg.pool_size
        n, pbits = exact_log2(N), exact_log2(P)
        m.submodules.bank = bank = LfsrBank.from_config(cfg)
        m.submodules.scaler = scaler = PoolScaler(cfg, antithetic=False)
        state = Signal(_Pool)
        target = Signal(S)
        seek_to = Signal(S)
        pool_valid = Signal()
        pool_epoch = Signal(S)
        mask = epoch_mask(cfg)
        addr = Signal(n - pbits, reset_less=True)
        lo = Signal(max(1, pbits), reset_less=True)
        en = ~self.z.valid | self.z.ready
        reading = (state == _Pool.STREAM) & en
        d = self.params % N
        connect_seed(m, self, bank)
        m.d.comb += [
            bank.seek.valid.eq(state == _Pool.BEGIN),
            bank.seek.payload.eq(seek_to),
            bank.fill.eq(1),
            bank.advance.eq(scaler.advance),
            scaler.abort.eq(self.start.valid | self.seed.valid),
            scaler.word.eq(bank.words[0]),
            scaler.word_valid.eq(~bank.busy),
        ]
        # base = t * (d mod N) mod N as a sum of shifted copies of t (constant d)
        terms = [(target[:n] << k)[:n] for k in range(n) if d >> k & 1]
        product = adder_tree(terms)[:n] if terms else Const(0, n)

        fill_first = must_fill(self.start.payload, pool_valid, pool_epoch, mask)
        with m.If(self.start.valid):
            m.d.sync += [target.eq(self.start.payload), self.z.valid.eq(0),
                         seek_to.eq(self.start.payload & mask),
                         state.eq(Mux(fill_first, _Pool.BEGIN, _Pool.PLACE))]
            with m.If(fill_first):
                m.d.sync += [pool_valid.eq(0), pool_epoch.eq(self.start.payload & mask)]
        with m.Elif(self.seed.valid):
            m.d.sync += [state.eq(_Pool.IDLE), self.z.valid.eq(0), pool_valid.eq(0)]
        with m.Else():
            with m.Switch(state):
                with m.Case(_Pool.BEGIN):
                    m.d.sync += state.eq(_Pool.FILL_SEEK)
                add_scaler_fill_states(m, state, _Pool, bank, scaler, pool_valid, _Pool.PLACE)
                with m.Case(_Pool.PLACE):
                    m.d.sync += state.eq(_Pool.STREAM)
                with m.Case(_Pool.STREAM):
                    with m.If(en):
                        m.d.sync += self.z.valid.eq(1)
        with m.If(state == _Pool.PLACE):
            m.d.sync += [addr.eq(product[pbits:]), lo.eq(product[:pbits] if pbits else 0)]
        with m.Elif(reading):
            m.d.sync += addr.eq(addr + 1)

        outputs = []
        for b in range(P):
            bank_mem = Memory(shape=signed(cfg.word_bits), depth=N // P, init=[])
            m.submodules[f"pool{b}"] = bank_mem
            wr, rd = bank_mem.write_port(), bank_mem.read_port()
            mine = scaler.write_index[:pbits] == b if pbits else 1
            m.d.comb += [wr.addr.eq(scaler.write_index[pbits:]), wr.data.eq(scaler.write_data),
                         wr.en.eq(scaler.write_en & mine),
                         rd.addr.eq(addr + (lo > b) if pbits else addr), rd.en.eq(reading)]
            outputs.append(rd.data)
        if pbits:
            for p in range(P):      # lo is fixed while the step streams
                with m.Switch(lo):
                    for r in range(P):
                        with m.Case(r):
                            m.d.comb += self.z.payload[p].eq(outputs[(p + r) % P])
        else:
            m.d.comb += self.z.payload[0].eq(outputs[0])
        return m


class RotateReuse(StreamReuse):
    """The generator rotation of ``paper-rotate``: the ports and latency (0) of
    hw/reuse.py's :class:`StreamReuse`, another rule for ``u``.

    K = ``cfg.lanes`` generators, R = ``effective_repeat``. When R <= P (K = P/R, one
    generation per transfer): output word p is ``lanes[(p + r) mod K]`` with the
    rotation register r = (transfers since ``restart``) mod K, and the bank advances
    every transfer. When R > P (K = 1): every word is ``lanes[0]`` and the bank
    advances once every R/P transfers.

    Attributes
    ----------
    lanes : In(ArrayLayout(unsigned(B), K)), the generators' words of this generation.
    u : Out(ArrayLayout(unsigned(B), P)), this transfer's words (combinational).
    advance : Out(1), the transfer ends a generation: the bank must leap with it.
    next : In(1), the transfer happens.
    restart : In(1), rotation and phase to 0 (start of a step); priority over ``next``.
    """

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        P, K = cfg.parallel, cfg.lanes
        if self.phase(m) is not None or K == 1:
            for p in range(P):
                m.d.comb += self.u[p].eq(self.lanes[0])
            return m
        rotation = Signal(range(K))
        with m.If(self.restart):
            m.d.sync += rotation.eq(0)
        with m.Elif(self.next):
            m.d.sync += rotation.eq(Mux(rotation == K - 1, 0, rotation + 1))
        with m.Switch(rotation):
            for r in range(K):
                with m.Case(r):
                    for p in range(P):
                        m.d.comb += self.u[p].eq(self.lanes[(p + r) % K])
        return m


class PaperRotate(StreamEngine):
    """``paper-rotate``: K = ``cfg.lanes`` rotating LFSR generators concatenated R times,
    scaled by the stream engine's UniformScaler.

    Attributes
    ----------
    start, seed, z : the common source interface (hw/source.py); ``z`` equals
        ``pezo.ref.paper.PaperRotateModel(cfg, seed_in).perturbation``. While
        ``z.ready`` is 0 the whole pipeline stalls.

    Latency (clocks from ``start`` valid to the first ``z.valid``; J = the seek time
    (LfsrBank.seek_clocks), L = lane load clocks of hw/lfsr.py): 1 + 1 + J + 1 + L + 1
    + 7 (the scaler's pipeline, UniformScaler.latency) + 1 (the output skid buffer).
    It is hw/engine.py's StreamEngine (bank, sequencing, scaler, skid buffer) with
    :class:`RotateReuse` in place of StreamReuse. Then P words per clock.
    """

    reuse_stage = RotateReuse

    def __new__(cls, cfg: PezoConfig, **kwargs):
        # checked before Amaranth tracks the object, so a rejected one is not reported unused
        if cfg.strategy == "pool":
            raise ConfigError("strategy", cfg.strategy, "paper-rotate needs a stream or none strategy")
        return super().__new__(cls, **kwargs)
