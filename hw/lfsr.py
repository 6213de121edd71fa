"""RTL of the LFSR bank: K leap-forward LFSR lanes, chain-loaded from a master state that
jumps one step per clock while seeking. Bit-exact with :class:`pezo.ref.lfsr.LfsrBank`
(read its docstring for why the lane and step streams are disjoint).
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank as BankModel
from pezo.ref.lfsr import Rows, jump_rows, leap_rows, slot_count


def apply_rows(rows: Rows, state: Value) -> Value:
    """The GF(2) map ``rows`` as an XOR network: bit i is the parity of ``state & rows[i]``."""
    return Cat(*((state & Const(row, len(state))).xor() for row in rows))


class LfsrBank(wiring.Component):
    """K maximal-length Fibonacci LFSR lanes of W bits, each producing a B-bit word per clock.

    Parameters
    ----------
    width : W, state bits of each lane and of the master state (4..64).
    word_bits : B, bits produced per lane per clock by leap-forward (1 <= B <= W).
    lanes : K, number of lanes (>= 1).
    seed : configuration seed; ``master_base`` (a netlist constant) derives from it.
    step_bits : S, width of the step index.
    fill : give a one-lane bank the pool-fill slot (and the ``fill`` port).

    Attributes
    ----------
    seed : In(stream of unsigned(W)), always ready.
        A transfer sets ``master0 = master_base ^ payload`` (``master_base`` when that is
        zero), restarts the master state from it and sets the step to 0. A seek in
        progress is abandoned; a ``seek`` transfer in the same clock applies after it.
    seek : In(stream of unsigned(S)), always ready.
        A transfer with payload t seeks the master state of step t: if t is below the
        current step the master restarts from ``master0`` in that clock; the master
        then jumps one step per clock (J, a sparse XOR network) until the step is t.
    load : In(1)
        Start loading every lane for the current step (assert only while ``busy`` is 0).
        Step domain: for K clocks (the load clock and K - 1 more) lane 0 takes the
        master and lane k takes G(lane k-1), so lane k ends at G**k master. Fill domain
        (``fill`` = 1 in the load clock): lane 0 takes the master, then G(lane 0) in the
        next clock. ``load`` has priority over ``advance``.
    fill : In(1), only with a fill slot: the domain of ``load``.
    busy : Out(1), registered. 1 in the clock after any ``seed``, ``seek`` or ``load``
        request and while the master is not at the target step or lanes are loading
        (it may stay 1 one clock longer than the work). After a request, wait from the
        next clock on until ``busy`` is 0 before using ``words`` or asking ``load``.
        After the request clock it stays high for J + 1 clocks for a seek of J jumps
        (J = t - c forward from step c, t backward or after a seed) and for L clocks for
        a load (L = K in the step domain, 2 in the fill domain).
    advance : In(1)
        Leap every lane by B single steps at this clock edge (consumes ``words``).
    words : Out(ArrayLayout(unsigned(B), K))
        Combinational: lane k's word for the next leap, the low B bits of its state after
        the leap (newest bit at bit 0); each ``advance`` moves to the next word.
        Throughput: K words per clock.
    step : Out(S), the step whose master state is held.

    After reset: ``master0`` and the master hold ``master_base``, step 0, idle, the lanes
    hold their step-0 states (a fresh :class:`pezo.ref.lfsr.LfsrBank` with ``seed_in``
    = 0).

    Cost: (K + 2)*W + 2*S flip-flops; per lane the leap network, the chain input
    G(previous lane) = previous state XOR its leap (one XOR per bit, the leap is shared
    with the previous lane's word) and a 3:1 input mux; one J network on the master and
    one W-bit comparator for the seed. No per-lane seed constants or zero tests.
    """

    def __init__(self, width: int, word_bits: int, lanes: int, seed: int, step_bits: int,
                 *, fill: bool = False):
        if step_bits < 1:
            raise ConfigError("step_bits", step_bits, "must be at least 1")
        self.model = BankModel(width, word_bits, lanes, seed, fill=fill)
        self.width = width
        self.word_bits = word_bits
        self.lanes = lanes
        self.step_bits = step_bits
        self.has_fill = fill
        self.slots = slot_count(lanes, fill)
        self.master_base = self.model.master_base
        members = {
            "seed": In(stream.Signature(width)),
            "seek": In(stream.Signature(step_bits)),
            "load": In(1),
            "busy": Out(1),
            "advance": In(1),
            "words": Out(data.ArrayLayout(word_bits, lanes)),
            "step": Out(step_bits),
        }
        if fill:
            members["fill"] = In(1)
        super().__init__(members)

    @classmethod
    def from_config(cls, cfg: PezoConfig, lanes: int | None = None) -> "LfsrBank":
        """The bank of a config: W, B, S and seed from ``cfg``; K = ``lanes`` or
        ``cfg.lanes``; the fill slot for the ``pool`` strategy's one-lane bank."""
        lanes = cfg.lanes if lanes is None else lanes
        return cls(cfg.lfsr_width, cfg.word_bits, lanes, cfg.seed, cfg.step_bits,
                   fill=cfg.strategy == "pool" and lanes == 1)

    def elaborate(self, platform) -> Module:
        m = Module()
        W, K = self.width, self.lanes
        base = self.master_base
        master0 = Signal(W, init=base)
        master = Signal(W, init=base)
        target = Signal.like(self.step)
        seeded = Signal(W)
        m.d.comb += [
            self.seed.ready.eq(1),
            self.seek.ready.eq(1),
            seeded.eq(Mux(self.seed.payload == base, base, self.seed.payload ^ base)),
        ]
        restart_from = Mux(self.seed.valid, seeded, master0)
        with m.If(self.seed.valid):
            m.d.sync += [master0.eq(seeded), target.eq(0)]
        with m.If(self.seek.valid):
            m.d.sync += target.eq(self.seek.payload)
        with m.If(self.seed.valid | (self.seek.valid & (self.seek.payload < self.step))):
            m.d.sync += [master.eq(restart_from), self.step.eq(0)]
        with m.Elif(~self.seek.valid & (self.step != target)):
            m.d.sync += [master.eq(apply_rows(jump_rows(W, self.word_bits, self.slots), master)),
                         self.step.eq(self.step + 1)]

        remaining = Signal(range(max(K, 2)))   # load clocks left after this one
        fill_mode = Signal()
        loading = self.load | (remaining != 0)
        first_fill = self.fill if self.has_fill else 0
        with m.If(self.load):
            m.d.sync += [remaining.eq(1 if self.has_fill else K - 1), fill_mode.eq(first_fill)]
            if self.has_fill:
                with m.If(~self.fill):
                    m.d.sync += remaining.eq(K - 1)
        with m.Elif(remaining != 0):
            m.d.sync += remaining.eq(remaining - 1)
        m.d.sync += self.busy.eq(self.seed.valid | self.seek.valid | self.load | (self.step != target)
                                 | (remaining != 0))

        leap = leap_rows(W, self.word_bits)
        initial = self.model.lane_states(0)
        states = [Signal(W, name=f"lane{k}", init=int(initial[k])) for k in range(K)]
        leaps = [Signal(W, name=f"lane{k}_leap") for k in range(K)]
        for k, (state, nxt) in enumerate(zip(states, leaps)):
            m.d.comb += [nxt.eq(apply_rows(leap, state)), self.words[k].eq(nxt[:self.word_bits])]
            # G = I + A**B: a state XOR its own leap (ref/lfsr.py chain_rows)
            if k == 0:
                chained = Mux(fill_mode & ~self.load, state ^ nxt, master) if self.has_fill else master
            else:
                chained = states[k - 1] ^ leaps[k - 1]
            with m.If(loading):
                m.d.sync += state.eq(chained)
            with m.Elif(self.advance):
                m.d.sync += state.eq(nxt)
        return m
