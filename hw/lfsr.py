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
        A transfer sets ``master0 = ((payload << 1) | 1) ^ master_base`` (wiring: the
        payload counts modulo 2**(W-1)); in the next clock the master restarts from it
        at step 0. A seek in
        progress is abandoned; a ``seek`` transfer in the same clock applies after it.
    seek : In(stream of unsigned(S)), always ready.
        A transfer with payload t seeks the master state of step t: in the next clock the
        master restarts from ``master0`` if t is below the current step; it then jumps
        one step per clock (J, a sparse XOR network) until the step is t.
    load : In(1)
        Load every lane for the current step (assert only while ``busy`` is 0), in the
        L clocks after the request. Step domain (L = K): lane 0 takes the master and
        lane k takes G(lane k-1), so lane k ends at G**k master. Fill domain (``fill`` =
        1 in the request clock, L = 2): lane 0 takes the master, then G(lane 0). A load
        has priority over ``advance``.
    fill : In(1), only with a fill slot: the domain of ``load``.
    busy : Out(1), registered. 1 in the clock after any ``seed``, ``seek`` or ``load``
        request and while the master is not at the target step or lanes are loading
        (it may stay 1 one clock longer than the work). After a request, wait from the
        next clock on until ``busy`` is 0 before using ``words`` or asking ``load``.
        After the request clock it stays high for J + 2 clocks for a seek of J jumps
        (J = t - c forward from step c, t backward), 2 clocks after a seed alone, and
        L + 1 clocks for a load.
    advance : In(1)
        Leap every lane by B single steps at this clock edge (consumes ``words``).
    words : Out(ArrayLayout(unsigned(B), K))
        Combinational: lane k's word for the next leap, the low B bits of its state after
        the leap (newest bit at bit 0); each ``advance`` moves to the next word.
        Throughput: K words per clock.
    step : Out(S), the step whose master state is held.

    After reset: ``master0`` and the master hold ``master_base | 1``, step 0, idle, the lanes
    hold their step-0 states (a fresh :class:`pezo.ref.lfsr.LfsrBank` with ``seed_in``
    = 0).

    Cost: (K + 2)*W + 2*S flip-flops; per lane the leap network, the chain input
    G(previous lane) = previous state XOR its leap (one XOR per bit, the leap is shared
    with the previous lane's word) and a 3:1 input mux; one J network on the master and
    no seed comparator. No per-lane seed constants or zero tests.
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
        master0 = Signal(W, init=base | 1)
        master = Signal(W, init=base | 1)
        target = Signal.like(self.step)
        # Control is registered: a seek is decided in the clock after its request (restart
        # from master0 or not, from the sign of the registered ``diff``); ``todo`` counts
        # the jumps left and ``jump``, the enable of the master's jump network, is a
        # flip-flop set from comparisons of registers with constants, so no adder or
        # comparator chain drives a clock enable.
        stale = Signal()   # a seed arrived: restart from master0 in the next clock
        sought = Signal()  # a seek arrived: decide in the next clock
        diff = Signal(self.step_bits + 1)  # that seek's target - step; the top bit: below
        todo = Signal.like(self.step)
        jump = Signal()    # jump the master in this clock (todo != 0)
        m.d.comb += [self.seed.ready.eq(1), self.seek.ready.eq(1)]
        with m.If(self.seed.valid):
            # wiring: the payload counts modulo 2**(W-1) and bit 0 is 1, so never zero
            m.d.sync += [master0.eq(Cat(Const(1, 1), self.seed.payload[:W - 1]) ^ base),
                         target.eq(Mux(self.seek.valid, self.seek.payload, 0)),
                         stale.eq(1), sought.eq(0), jump.eq(0)]
        with m.Elif(self.seek.valid):
            m.d.sync += [target.eq(self.seek.payload), diff.eq(self.seek.payload - self.step),
                         sought.eq(1), jump.eq(0)]
        with m.Elif(stale | sought):
            m.d.sync += [stale.eq(0), sought.eq(0)]
            with m.If(stale | diff[-1]):
                m.d.sync += [master.eq(master0), self.step.eq(0), todo.eq(target), jump.eq(target != 0)]
            with m.Else():
                m.d.sync += [todo.eq(diff[:-1]), jump.eq(diff[:-1] != 0)]
        with m.Elif(jump):
            m.d.sync += [master.eq(apply_rows(jump_rows(W, self.word_bits, self.slots), master)),
                         self.step.eq(self.step + 1), todo.eq(todo - 1), jump.eq(todo != 1)]

        # A load runs in the L clocks after its request, from registers alone, so the
        # lanes' clock enable is an OR of two flip-flops and ``advance``.
        remaining = Signal(range(max(K, 2)))   # load clocks left after this one
        loading = Signal()
        fill_mode = Signal()
        with m.If(self.load):
            m.d.sync += [loading.eq(1), remaining.eq(K - 1),
                         fill_mode.eq(self.fill if self.has_fill else 0)]
            if self.has_fill:
                with m.If(self.fill):
                    m.d.sync += remaining.eq(1)   # fill domain: one more clock (G lane 0)
        with m.Elif(loading):
            m.d.sync += [remaining.eq(remaining - 1), loading.eq(remaining != 0)]
        m.d.sync += self.busy.eq(self.seed.valid | self.seek.valid | stale | sought | jump | self.load
                                 | loading)
        first_clock = Signal()   # the first clock of a load (lane 0 takes the master)
        m.d.sync += first_clock.eq(self.load)

        leap = leap_rows(W, self.word_bits)
        initial = self.model.lane_states(0)
        states = [Signal(W, name=f"lane{k}", init=int(initial[k])) for k in range(K)]
        leaps = [Signal(W, name=f"lane{k}_leap") for k in range(K)]
        for k, (state, nxt) in enumerate(zip(states, leaps)):
            m.d.comb += [nxt.eq(apply_rows(leap, state)), self.words[k].eq(nxt[:self.word_bits])]
            # G = I + A**B: a state XOR its own leap (ref/lfsr.py chain_rows)
            if k == 0:
                chained = Mux(fill_mode & ~first_clock, state ^ nxt, master) if self.has_fill else master
            else:
                chained = states[k - 1] ^ leaps[k - 1]
            with m.If(loading):
                m.d.sync += state.eq(chained)
            with m.Elif(self.advance):
                m.d.sync += state.eq(nxt)
        return m
