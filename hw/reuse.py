"""Random-number reuse: :class:`PoolReuse` (the pool copies with their per-lane address
generators, ``pool`` strategy) and :class:`StreamReuse` (the repeat/variation logic,
``stream`` / ``none``). The RTL of ref/reuse.py, bit for bit; :func:`reuse` picks one
by strategy.
"""

from __future__ import annotations

import enum

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.hdl import Value
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from pezo.ref.config import PezoConfig


class _Place(enum.Enum):
    IDLE = 0
    STRIDE = 1
    CHAIN = 2
    READY = 3


class PoolReuse(wiring.Component):
    """The pool (P copies of N signed B-bit words) and the addressing of ref/reuse.py.

    Storage: P memories (``amaranth.lib.memory.Memory``, named ``pool0`` .. ``pool{P-1}``,
    N words each), one write port each, all written with the same index and word, and one
    read port each: lane p reads copy p, so every lane reaches every pool word.

    Addressing (n = log2 N bits, arithmetic mod N): lane p's address register starts
    at ``o_0 + p*stride`` and each read adds the shared increment register ``inc``:
    ``P*stride`` (wiring: a shift), or ``P*stride + w_{w+1}`` for the read that ends
    wrap w (``inc`` is set one read ahead, so the lanes add a register). After the
    D = N/P reads of a wrap the lanes are back at ``o_w + p*stride`` plus the fresh
    word, i.e. at ``o_{w+1} + p*stride``. Each lane is one register and one adder
    ``addr + inc`` with a clock enable and a synchronous clear: no multiplier, no
    operand multiplexer (the registers are ``reset_less``: ``place`` sets them all
    before use, and the clear is the flip-flops' synchronous reset).

    Place schedule (clocks, ``word`` = lane 0's current word, ``advance`` = 1 in the
    first three): clock 0 (``place``): every address to 0, ``inc = w0 mod N``; clock 1:
    every lane adds ``inc`` (all at ``o_0``), ``inc = stride = 1 + 2*(w1 mod N/2)``;
    then max(1, P - 1) chain clocks k = 0, 1, ...: the lanes p > k add ``stride``, so
    lane p ends at ``o_0 + p*stride`` (the lane enables are registers: a thermometer
    ``chaining`` that loses its lowest lane each chain clock); chain clock 0 also takes
    w2 into the next-wrap register ``wn``. ``ready`` rises after the last chain clock: place latency
    2 + max(1, P - 1) clocks. While reading, the read that ends a wrap takes the next
    fresh word into ``wn`` (``advance`` = 1 with it).

    Attributes
    ----------
    write_en : In(1), write ``write_data`` to pool index ``write_index`` in every copy.
    write_index : In(unsigned(n)), the pool index j.
    write_data : In(signed(B)), a scaled perturbation word (F fractional bits).
    word : In(unsigned(B)), lane 0's current word (w0, w1, ... of the step).
    place : In(1), start placing a step, taking ``word`` as w0 (priority over
        ``read_en``; aborts a placement or a run).
    advance : Out(1), ``word`` is consumed at this clock edge: the bank must leap
        (combinational: place clocks, and the read that ends a wrap).
    ready : Out(1), placed (registered): reads may go.
    read_en : In(1), with ``ready``: read the P words at the lane addresses and advance
        the addresses. Latency :attr:`latency` (1): ``words`` shows them from the next
        clock on and holds them while ``read_en`` is 0. Throughput: P words per clock.
    words : Out(ArrayLayout(signed(B), P)), the last words read; element p is parameter
        c*P + p of read c after ``place``.
    """

    latency = 1

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        B = cfg.word_bits
        super().__init__({
            "write_en": In(1),
            "write_index": In(unsigned(exact_log2(cfg.pool_size))),
            "write_data": In(signed(B)),
            "word": In(unsigned(B)),
            "place": In(1),
            "advance": Out(1),
            "ready": Out(1),
            "read_en": In(1),
            "words": Out(data.ArrayLayout(signed(B), cfg.parallel)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        P, N = cfg.parallel, cfg.pool_size
        D, n, pbits = N // P, exact_log2(N), exact_log2(P)
        phase = Signal(_Place)
        chain = Signal(range(max(1, P - 1)), reset_less=True)
        stride = Signal(n, reset_less=True)
        inc = Signal(n, reset_less=True)
        wn = Signal(n, reset_less=True)
        read = Signal(range(D), reset_less=True)
        step_inc = (stride << pbits)[:n]
        addrs = [Signal(n, name=f"addr{p}", reset_less=True) for p in range(P)]
        chaining = Signal(P, reset_less=True)  # lane p adds stride in this chain clock
        stride_clock = Signal()  # registered decode of phase STRIDE
        reading = self.read_en & self.ready
        m.d.comb += self.advance.eq(self.place | (phase == _Place.STRIDE)
                                    | ((phase == _Place.CHAIN) & (chain == 0))
                                    | (reading & (read == D - 1)))

        m.d.sync += [stride_clock.eq(self.place), chaining.eq(chaining & (chaining << 1))]
        with m.If(self.place):
            m.d.sync += [inc.eq(self.word[:n]), phase.eq(_Place.STRIDE), self.ready.eq(0)]
        with m.Else():
            with m.Switch(phase):
                with m.Case(_Place.STRIDE):
                    m.d.sync += [stride.eq(Cat(1, self.word[:n - 1])), inc.eq(Cat(1, self.word[:n - 1])),
                                 chain.eq(0), chaining.eq(((1 << P) - 1) & ~1), phase.eq(_Place.CHAIN)]
                with m.Case(_Place.CHAIN):
                    m.d.sync += chain.eq(chain + 1)
                    with m.If(chain == 0):
                        m.d.sync += wn.eq(self.word[:n])
                    with m.If(chain == max(1, P - 1) - 1):
                        m.d.sync += [inc.eq(step_inc), read.eq(0), self.ready.eq(1), phase.eq(_Place.READY)]
                with m.Case(_Place.READY):
                    with m.If(reading):
                        m.d.sync += [read.eq(read + 1),
                                     inc.eq(Mux(read == D - 2, step_inc + wn, step_inc))]
                        with m.If(read == D - 1):
                            m.d.sync += wn.eq(self.word[:n])

        for p, addr in enumerate(addrs):
            copy = Memory(shape=signed(cfg.word_bits), depth=N, init=[])
            m.submodules[f"pool{p}"] = copy
            wr, rd = copy.write_port(), copy.read_port()
            m.d.comb += [
                wr.addr.eq(self.write_index), wr.data.eq(self.write_data), wr.en.eq(self.write_en),
                rd.addr.eq(addr), rd.en.eq(reading), self.words[p].eq(rd.data),
            ]
            adds = reading | stride_clock | chaining[p]
            with m.If(self.place):
                m.d.sync += addr.eq(0)
            with m.Elif(adds):
                m.d.sync += addr.eq(addr + inc)
        return m


def varied(u: Value, r: int, cfg: PezoConfig) -> Value:
    """u' = rotl_B(u, (r*B)//R), complemented for odd r (constant r: wiring and inverters)."""
    B, R = cfg.word_bits, cfg.effective_repeat
    rotated = u.rotate_left((r * B) // R % B)
    return ~rotated if r & 1 else rotated


class StreamReuse(wiring.Component):
    """The repeat/variation stage of the ``stream`` / ``none`` strategies.

    R = effective_repeat, K = max(1, P/R) lanes: output word p of transfer c is
    parameter i = c*P + p, built from fresh word i // R with variation r = i mod R:
    ``rotl_B(u, (r*B)//R)``, complemented when r is odd. When R <= P the fresh word is
    lane p // R of the current bank clock and r = p mod R: fixed wiring, and the bank
    advances every transfer. When R > P (so K = 1) a phase counter ph = c mod (R/P)
    gives r = ph*P + p (a small multiplexer per lane) and the bank advances once every
    R/P transfers.

    Attributes
    ----------
    lanes : In(ArrayLayout(unsigned(B), K)), the bank's words of the current bank clock.
    u : Out(ArrayLayout(unsigned(B), P)), the P uniform words of this transfer
        (combinational: latency :attr:`latency` = 0).
    advance : Out(1), this transfer uses the last variation of ``lanes``: the bank must
        leap when the transfer happens (constant 1 when R <= P).
    next : In(1), the transfer happens: move to the next phase.
    restart : In(1), phase to 0 (start of a step); priority over ``next``.
    """

    latency = 0

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        B = cfg.word_bits
        super().__init__({
            "lanes": In(data.ArrayLayout(unsigned(B), cfg.lanes)),
            "u": Out(data.ArrayLayout(unsigned(B), cfg.parallel)),
            "advance": Out(1),
            "next": In(1),
            "restart": In(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        P, R = cfg.parallel, cfg.effective_repeat
        if R <= P:
            m.d.comb += self.advance.eq(1)
            for p in range(P):
                m.d.comb += self.u[p].eq(varied(self.lanes[p // R], p % R, cfg))
            return m
        phases = R // P
        phase = Signal(range(phases))
        m.d.comb += self.advance.eq(phase == phases - 1)
        with m.If(self.restart):
            m.d.sync += phase.eq(0)
        with m.Elif(self.next):
            m.d.sync += phase.eq(phase + 1)
        with m.Switch(phase):
            for ph in range(phases):
                with m.Case(ph):
                    for p in range(P):
                        m.d.comb += self.u[p].eq(varied(self.lanes[0], ph * P + p, cfg))
        return m


def reuse(cfg: PezoConfig) -> PoolReuse | StreamReuse:
    """The reuse stage of ``cfg``'s strategy."""
    return PoolReuse(cfg) if cfg.strategy == "pool" else StreamReuse(cfg)
