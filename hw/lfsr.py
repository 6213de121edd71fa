"""RTL of the LFSR bank: K leap-forward LFSR lanes, a master state with a per-step jump,
and the seek logic that re-derives the master state of any step. Bit-exact with
:class:`pezo.ref.lfsr.LfsrBank` (read its docstring for the seeding rules).
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import Rows, derive_seeds, jump_rows, leap_rows, taps


def apply_rows(rows: Rows, state: Value) -> Value:
    """The GF(2) map ``rows`` as an XOR network: bit i is the parity of ``state & rows[i]``."""
    return Cat(*((state & Const(row, len(state))).xor() for row in rows))


def rotl(value: Value, amount: int) -> Value:
    """``value`` rotated left by a constant ``amount`` bits (wiring only)."""
    return value.rotate_left(amount % len(value))


class LfsrBank(wiring.Component):
    """K maximal-length Fibonacci LFSR lanes of W bits, each producing a B-bit word per clock.

    Parameters
    ----------
    width : W, state bits of each lane and of the master state (4..64).
    word_bits : B, bits produced per lane per clock by leap-forward (1 <= B <= W).
    lanes : K, number of lanes (>= 1).
    seed : configuration seed; the master base and the K lane bases are
        ``derive_seeds(seed, K + 1, W)`` and are constants in the netlist.
    step_bits : S, width of the step index.

    Attributes
    ----------
    seed : In(stream of unsigned(W)), always ready.
        A transfer sets ``master0 = master_base ^ payload`` (``master_base`` when that is
        zero), restarts the master state from it and sets the current step to 0. A seek
        in progress is abandoned; a ``seek`` transfer in the same clock applies after it.
    seek : In(stream of unsigned(S)), always ready.
        A transfer with payload t seeks the master state of step t: if t is below the
        current step the master restarts from ``master0`` (step 0) in that clock; the
        master then jumps one step per clock (``jump_rows``) until the current step is t.
        Latency: ``busy`` falls ``1 + (t - c)`` clocks after the transfer when seeking
        forward from step c, ``1 + t`` clocks when seeking backward.
    busy : Out(1)
        1 while a seek is in progress, and (combinationally) in any clock where ``seek``
        or ``seed`` is valid. ``load`` reads the master state: assert it only when
        ``busy`` is 0.
    load : In(1)
        Load every lane for the current step: lane k gets
        ``base[k] ^ rotl(master, (k + extra) % W)`` (``base[k]`` if that is zero), where
        ``extra`` is 0 in the step domain and ``W // 2`` in the fill domain.
        ``load`` has priority over ``advance``.
    fill : In(1)
        Domain of ``load``: 0 = step domain, 1 = fill domain (pool fill).
    advance : In(1)
        Leap every lane by B single steps at this clock edge (consumes ``words``).
    words : Out(ArrayLayout(unsigned(B), K))
        Combinational: lane k's word for the next leap, the low B bits of its state after
        the leap (newest bit at bit 0). After a ``load`` at clock c, ``words`` at clock
        c+1 is the first word of the step; each ``advance`` moves to the next word.
        Throughput: K words per clock.
    step : Out(S)
        The step whose master state is held (the current step of the seek counter).

    After reset: ``master0`` and ``master`` hold ``master_base``, step 0, idle, lanes hold their
    bases (the same state as a fresh :class:`pezo.ref.lfsr.LfsrBank` with ``seed_in``
    = 0 before any load).

    Cost: K*W + 2*W + 2*S flip-flops (lanes, master and master0, step and target); the
    lanes' leap networks, one W x W jump network, and per lane a W-bit 2:1 rotation mux
    and a W-bit zero-state comparator. Build it from a config with :meth:`from_config`.
    """

    def __init__(self, width: int, word_bits: int, lanes: int, seed: int, step_bits: int):
        taps(width)
        if not 1 <= word_bits <= width:
            raise ConfigError("word_bits", word_bits, f"must satisfy 1 <= word_bits <= lfsr_width ({width})")
        if lanes < 1:
            raise ConfigError("lanes", lanes, "must be at least 1")
        if step_bits < 1:
            raise ConfigError("step_bits", step_bits, "must be at least 1")
        self.width = width
        self.word_bits = word_bits
        self.lanes = lanes
        self.step_bits = step_bits
        seeds = derive_seeds(seed, lanes + 1, width)
        self.master_base = seeds[0]
        self.bases = tuple(seeds[1:])
        super().__init__({
            "seed": In(stream.Signature(width)),
            "seek": In(stream.Signature(step_bits)),
            "busy": Out(1),
            "load": In(1),
            "fill": In(1),
            "advance": In(1),
            "words": Out(data.ArrayLayout(word_bits, lanes)),
            "step": Out(step_bits),
        })

    @classmethod
    def from_config(cls, cfg: PezoConfig, lanes: int | None = None) -> "LfsrBank":
        """The bank of a config: W, B, S and seed from ``cfg``; K = ``lanes`` or ``cfg.lanes``."""
        return cls(cfg.lfsr_width, cfg.word_bits, cfg.lanes if lanes is None else lanes,
                   cfg.seed, cfg.step_bits)

    def elaborate(self, platform) -> Module:
        m = Module()
        W = self.width
        m.submodules.seeker = seeker = _MasterSeek(W, self.step_bits, self.master_base)
        wiring.connect(m, wiring.flipped(self.seed), seeker.seed)
        wiring.connect(m, wiring.flipped(self.seek), seeker.seek)
        m.d.comb += [self.busy.eq(seeker.busy), self.step.eq(seeker.step)]

        leap = leap_rows(W, self.word_bits)
        for k, base in enumerate(self.bases):
            state = Signal(W, name=f"lane{k}", init=base)
            nxt = apply_rows(leap, state)
            loaded = Signal(W, name=f"lane{k}_load")
            rotated = Mux(self.fill, rotl(seeker.master, k + W // 2), rotl(seeker.master, k))
            m.d.comb += [
                loaded.eq(Mux(rotated == base, base, rotated ^ base)),
                self.words[k].eq(nxt[:self.word_bits]),
            ]
            with m.If(self.load):
                m.d.sync += state.eq(loaded)
            with m.Elif(self.advance):
                m.d.sync += state.eq(nxt)
        return m


class _MasterSeek(wiring.Component):
    """master0 and master registers, the step counter and the one-jump-per-clock seek
    (the ``seed`` / ``seek`` / ``busy`` / ``step`` behaviour of :class:`LfsrBank`)."""

    def __init__(self, width: int, step_bits: int, master_base: int):
        self.width = width
        self.master_base = master_base
        super().__init__({
            "seed": In(stream.Signature(width)),
            "seek": In(stream.Signature(step_bits)),
            "busy": Out(1),
            "step": Out(step_bits),
            "master": Out(width, init=master_base),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        master0 = Signal(self.width, init=self.master_base)
        target = Signal.like(self.step)
        seeded = Signal(self.width)
        m.d.comb += [
            self.seed.ready.eq(1),
            self.seek.ready.eq(1),
            seeded.eq(Mux(self.seed.payload == self.master_base, self.master_base,
                          self.seed.payload ^ self.master_base)),
            self.busy.eq(self.seed.valid | self.seek.valid | (self.step != target)),
        ]
        restart_from = Mux(self.seed.valid, seeded, master0)
        with m.If(self.seed.valid):
            m.d.sync += [master0.eq(seeded), target.eq(0)]
        with m.If(self.seek.valid):
            m.d.sync += target.eq(self.seek.payload)
        with m.If(self.seed.valid | (self.seek.valid & (self.seek.payload < self.step))):
            m.d.sync += [self.master.eq(restart_from), self.step.eq(0)]
        with m.Elif(~self.seek.valid & (self.step != target)):
            m.d.sync += [self.master.eq(apply_rows(jump_rows(self.width), self.master)),
                         self.step.eq(self.step + 1)]
        return m
