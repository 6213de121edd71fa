"""Random-number reuse: :class:`PoolReuse` (the pool copies with their per-lane address
generators, ``pool`` strategy) and :class:`StreamReuse` (the repeat/variation logic,
``stream`` / ``none``). The RTL of ref/reuse.py, bit for bit; :func:`reuse` picks one
by strategy.
"""

from __future__ import annotations

import enum

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.hdl import Value
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from pezo.ref.config import PezoConfig
from pezo.ref.reuse import power_columns, variation_bits


class _Place(enum.Enum):
    IDLE = 0
    SEED = 1
    CHAIN = 2
    READY = 3


def linear_map(a: Value, columns: list[int]) -> Value:
    """The GF(2)-linear map with the given columns applied to ``a`` (column j is the
    image of bit j): each output bit the XOR of the input bits of its row."""
    n = len(columns)
    rows = []
    for i in range(n):
        terms = [a[j] for j in range(n) if columns[j] >> i & 1]
        rows.append(Cat(*terms).xor() if terms else Const(0, 1))
    return Cat(*rows)


class PoolReuse(wiring.Component):
    """The pool (P copies of N signed B-bit words) and the addressing of ref/reuse.py.

    Storage: P memories (``amaranth.lib.memory.Memory``, named ``pool0`` .. ``pool{P-1}``,
    N words each), one write port each, all written with the same index and word, and one
    read port each: lane p reads copy p, so every lane reaches every pool word. Each
    memory carries Yosys' ``no_rw_check`` attribute: the user never asks ``read_en`` in a
    clock with ``write_en`` (the pool sources fill, then read; tests/test_hw_blocks.py
    checks it every clock), so Yosys builds no read-during-write emulation (a register of
    the write data and address, an address compare and a B-bit multiplexer after the
    read: pezo-pool P = 1 on iCE40 501 -> 477 LUTs, ECP5 459 -> 431, Gowin 456 -> 427).
    A read beside a write of the same index returns an undefined word.

    Addressing (n = log2 N bits, D = N/P reads per wrap; ``^`` is XOR, ``(x)`` the
    product of GF(2**n)): lane p's address register holds ``o ^ s (x) alpha**(i + P*P)``
    for its parameter i = c*P + p, o = the offset register. Every step of the lanes maps
    each register a to ``A a ^ k``: A is the constant matrix of ``(x) alpha**P`` (each
    address bit the XOR of a few bits) and ``k = o ^ A o``, with the next-wrap word
    ``wn`` XORed in at a wrap turn (which also sets ``o = o ^ wn`` and takes the next
    fresh word into ``wn``). Lane P - 1's register holds its address XOR o instead,
    ``s (x) alpha**(i + P*P)``, which every step maps to ``A a`` (no k), and its memory
    reads ``o ^`` the register, or ``o`` at the read that ends a wrap (the wrap's last
    parameter): one 3-input function per address bit, where a plain register would need
    the multiplexer between it and ``o`` anyway (at P = 1 k is then not built at all).
    Each lane is one register and one function of at most 6 inputs per bit (three bits
    of A's row, k, the load value and the lane's load select) under an enable shared by
    all lanes: no adder, no multiplier (the registers are ``reset_less``: each is loaded
    before use).

    Place schedule (clocks, ``word`` = lane 0's current word): clock 0 (``place``):
    ``o = 0``, ``wn = w0 mod N``, read counter 0; clock 1 (seed): ``r = s`` (w1 mod N, 0
    replaced by 1); then P chain clocks q = 0 .. P-1, in each of which every lane steps
    (``o`` = 0, so ``k`` = 0) except lane q, which loads ``r``, and ``r = r (x)
    alpha**(P+1)``: lane q ends with ``s (x) alpha**((P+1) q + P (P - q))`` =
    ``s (x) alpha**(q + P*P)``; then one open clock, a wrap turn without a read: every
    lane steps with ``k = w0``, so ``o`` = o_0 and each lane holds its first address,
    and w2 is taken into ``wn``. ``ready`` rises after the open clock: place latency
    :attr:`place_latency` = P + 3 clocks. ``advance`` (the bank must leap: ``word`` is
    consumed) is 1 in the place, seed and open clocks and at the read that ends a wrap.

    Attributes
    ----------
    write_en : In(1), write ``write_data`` to pool index ``write_index`` in every copy.
    write_index : In(unsigned(n)), the pool index j.
    write_data : In(signed(B)), a scaled perturbation word (F fractional bits).
    word : In(unsigned(B)), lane 0's current word (w0, w1, ... of the step).
    place : In(1), start placing a step, taking ``word`` as w0 (priority over
        ``read_en``, which it ignores in its clock; aborts a placement or a run).
    advance : Out(1), ``word`` is consumed at this clock edge (combinational).
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

    @property
    def place_latency(self) -> int:
        """Clocks from ``place`` to the first clock with ``ready`` = 1: P + 3."""
        return self.cfg.parallel + 3

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        P, N = cfg.parallel, cfg.pool_size
        D, n = N // P, exact_log2(N)
        phase = Signal(_Place)
        offset = Signal(n, reset_less=True)
        r = Signal(n, reset_less=True)
        wn = Signal(n, reset_less=True)
        read = Signal(range(D), reset_less=True)
        last = Signal(reset_less=True)   # read == D - 1, registered
        loading = Signal(P + 1, reset_less=True)  # one-hot: lane q loads in chain clock q; bit P: open
        addrs = [Signal(n, name=f"addr{p}", reset_less=True) for p in range(P)]
        reading = self.read_en & self.ready & ~self.place
        chain = phase == _Place.CHAIN
        # loading[P] is set only in a chain clock after lane P - 1's: the open clock
        opening = loading[P]
        seeding = Signal()   # phase == SEED: the clock after ``place``, a register of its own
        m.d.sync += seeding.eq(self.place)
        # ``reading`` without ~place: the term is ORed with place anyway
        m.d.comb += self.advance.eq(self.place | seeding | opening | (self.read_en & self.ready & last))
        columns = power_columns(n, P)
        k = Signal(n)
        m.d.comb += k.eq(offset ^ linear_map(offset, columns) ^ Mux(last | opening, wn, 0))
        drawn = self.word[:n]
        m.d.sync += loading.eq(0)
        with m.If(self.place):
            m.d.sync += [offset.eq(0), wn.eq(drawn), read.eq(0), last.eq(D == 1), phase.eq(_Place.SEED),
                         self.ready.eq(0)]
        with m.Else():
            with m.Switch(phase):
                with m.Case(_Place.SEED):
                    m.d.sync += [r.eq(Mux(drawn == 0, 1, drawn)), loading.eq(1), phase.eq(_Place.CHAIN)]
                with m.Case(_Place.CHAIN):
                    m.d.sync += loading.eq(loading << 1)
                    if P > 1:   # the last lane loads r in the first chain clock: nothing reads it later
                        m.d.sync += r.eq(linear_map(r, power_columns(n, P + 1)))
                    with m.If(opening):
                        m.d.sync += [offset.eq(offset ^ wn), wn.eq(drawn), self.ready.eq(1),
                                     phase.eq(_Place.READY)]
                with m.Case(_Place.READY):
                    with m.If(reading):
                        m.d.sync += [read.eq(read + 1), last.eq(read == (D - 2) % D)]
                        with m.If(last):
                            m.d.sync += [offset.eq(offset ^ wn), wn.eq(drawn)]

        for p, addr in enumerate(addrs):
            copy = Memory(shape=signed(cfg.word_bits), depth=N, init=[], attrs={"no_rw_check": 1})
            m.submodules[f"pool{p}"] = copy
            wr, rd = copy.write_port(), copy.read_port()
            # lane P - 1 holds its address XOR o (o is 0 in the chain clocks): it steps
            # by A alone, and its memory reads o ^ (the register, or 0 when ``last``)
            final = p == P - 1
            m.d.comb += [
                wr.addr.eq(self.write_index), wr.data.eq(self.write_data), wr.en.eq(self.write_en),
                rd.addr.eq(offset ^ Mux(last, 0, addr) if final else addr), rd.en.eq(reading),
                self.words[p].eq(rd.data),
            ]
            with m.If(reading | chain):
                m.d.sync += addr.eq(Mux(loading[p], r, linear_map(addr, columns) ^ (0 if final else k)))
        return m


def varied(u: Value, r: int, cfg: PezoConfig) -> Value:
    """Variation r of u (ref/reuse.py :func:`~pezo.ref.reuse.variation_bits`: a bit
    permutation with some bits complemented; constant r: wiring and inverters)."""
    position, flip = variation_bits(r, cfg)
    bits = [None] * cfg.word_bits
    for b, (to, inverted) in enumerate(zip(position, flip)):
        bits[to] = ~u[b] if inverted else u[b]
    return Cat(*bits)


class StreamReuse(wiring.Component):
    """The repeat/variation stage of the ``stream`` / ``none`` strategies.

    R = effective_repeat, K = max(1, P/R) lanes: output word p of transfer c is
    parameter i = c*P + p, built from fresh word i // R with variation r = i mod R
    (:func:`varied`). When R <= P the fresh word is
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
        leap when the transfer happens (constant 1 when R <= P, else a register).
    advance_next : Out(1), the value ``advance`` takes in the next clock, given this
        clock's ``restart`` and ``next`` (combinational; ``advance`` is its register),
        so that a user can register its own leap condition a clock ahead.
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
            "advance_next": Out(1),
            "next": In(1),
            "restart": In(1),
        })

    def phase(self, m: Module) -> Signal | None:
        """Add the phase counter of R > P to ``m``: ph = transfers since ``restart`` mod
        R/P, driving ``advance`` (ph = R/P - 1, registered) and ``advance_next``; both
        constant 1 and None returned when R <= P."""
        P, R = self.cfg.parallel, self.cfg.effective_repeat
        if R <= P:
            m.d.comb += [self.advance.eq(1), self.advance_next.eq(1)]
            return None
        phases = R // P
        phase = Signal(range(phases))
        penult = Signal()   # ph = R/P - 2, registered: the next transfer moves to the last phase
        m.d.comb += self.advance_next.eq(Mux(self.restart, 0, Mux(self.next, penult, self.advance)))
        m.d.sync += self.advance.eq(self.advance_next)
        with m.If(self.restart):
            m.d.sync += [phase.eq(0), penult.eq(phases == 2)]
        with m.Elif(self.next):
            m.d.sync += [phase.eq(phase + 1), penult.eq(phase == (phases - 3) % phases)]
        return phase

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        P, R = cfg.parallel, cfg.effective_repeat
        phase = self.phase(m)
        if phase is None:
            for p in range(P):
                m.d.comb += self.u[p].eq(varied(self.lanes[p // R], p % R, cfg))
            return m
        with m.Switch(phase):
            for ph in range(R // P):
                with m.Case(ph):
                    for p in range(P):
                        m.d.comb += self.u[p].eq(varied(self.lanes[0], ph * P + p, cfg))
        return m


def reuse(cfg: PezoConfig) -> PoolReuse | StreamReuse:
    """The reuse stage of ``cfg``'s strategy."""
    return PoolReuse(cfg) if cfg.strategy == "pool" else StreamReuse(cfg)
