"""RTL of the LFSR bank: K leap-forward LFSR lanes, chain-loaded from a master state that
lane 0 walks to the sought step (K' clocks of the chain map G per step, no jump
network). Bit-exact with :class:`pezo.ref.lfsr.LfsrBank` (read its docstring for why
the lane and step streams are disjoint).
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank as BankModel
from pezo.ref.lfsr import Rows, leap_rows, slot_count


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
        payload counts modulo 2**(W-1)) and seeks step 0 from it (or the step of a
        ``seek`` transfer in the same clock). A seek in progress is abandoned.
    seek : In(stream of unsigned(S)), always ready.
        A transfer with payload t seeks the master state of step t: from ``master0`` at
        step 0 if t is below the current step (or a seed or an abandoned seek left the
        master stale), else from the current master. Lane 0 walks there, J = G**K' as
        K' clocks of the chain map G, and the master takes lane 0 at the end, so the
        lane 0 words are undefined after a seek until a ``load``.
    load : In(1)
        Load every lane for the current step (assert only while ``busy`` is 0), in the
        L clocks after the request. Step domain (L = K): lane 0 takes the master and
        lane k takes G(lane k-1), so lane k ends at G**k master. Fill domain (``fill`` =
        1 in the request clock, L = 2): lane 0 takes the master, then G(lane 0).
    fill : In(1), only with a fill slot: the domain of ``load``.
    busy : Out(1), registered. 1 in the clock after any ``seed``, ``seek`` or ``load``
        request and while the work runs; 0 from the clock after its last clock. After a request, wait from the
        next clock on until ``busy`` is 0 before using ``words``, asking ``load`` or
        asserting ``advance`` (lane 0 walks during a seek; an ``advance`` in the
        request clock or the next is harmless). After the request clock it stays high
        for :meth:`seek_clocks` (J) = 4 + J*(K' + 1) clocks for a seek of J steps
        (J = t - c forward from step c, t from step 0 backward, after a seed or an
        abandoned seek) and L clocks for a load.
    advance : In(1)
        Leap every lane by B single steps at this clock edge (consumes ``words``).
    words : Out(ArrayLayout(unsigned(B), K))
        Combinational: lane k's word for the next leap, the low B bits of its state after
        the leap (newest bit at bit 0); each ``advance`` moves to the next word.
        Throughput: K words per clock.
    step : Out(S), the step whose master state is held (while ``busy`` is 0).

    After reset: ``master0`` and the master hold ``master_base | 1``, step 0, idle, the lanes
    hold their step-0 states (a fresh :class:`pezo.ref.lfsr.LfsrBank` with ``seed_in``
    = 0).

    Seek schedule (clocks after the request; every select is a register): 0 (the
    request clock), the payload t is registered (``target``); 1, ``target < step``
    is registered (one comparator of two registers: the payload's logic in the
    requester never reaches the comparator's carry chain); 2, the restart decision
    from it; 3, lane 0 takes
    ``master0`` or the master; then per step of the walk K' + 1 clocks: one that stops
    (the master takes lane 0) if the registered ``step == target`` holds, else counts
    ``step`` up, and K' clocks of lane 0 <- G(lane 0).

    Cost: (K + 2)*W - 1 + 2*S flip-flops; per lane the leap network and the chain input
    G(previous lane) = previous state XOR its leap (one XOR per bit, the leap is shared
    with the previous lane's word); lane 0 a 4:1 input mux (master0, master, G, leap),
    the other lanes 2:1. No jump network, no per-lane seed constants or zero tests:
    the master is a register loaded from lane 0, ``master0`` a register loaded from the
    seed payload (its XOR with ``master_base`` is folded into lane 0's input LUTs).
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

    def seek_clocks(self, jumps: int) -> int:
        """Clocks ``busy`` stays high after a seek request that walks ``jumps`` steps."""
        return 4 + jumps * (self.slots + 1)

    def elaborate(self, platform) -> Module:
        m = Module()
        W, K, Kp = self.width, self.lanes, self.slots
        base = self.master_base
        # wiring: the payload counts modulo 2**(W-1) and bit 0 is 1, so never zero
        seed_in = Signal(W - 1)
        master0 = Cat(Const(1, 1), seed_in) ^ base
        master = Signal(W, init=base | 1)
        target = Signal.like(self.step, reset_less=True)   # set by every request before use
        stale = Signal()    # restart from master0 whatever the target
        comparing = Signal()   # register target < step in this clock
        behind = Signal()   # target < step, registered in the compare clock
        sought = Signal()   # decide restart or not in this clock
        prime = Signal()    # lane 0 takes master0 or the master in this clock
        walking = Signal()
        phase = Signal(range(Kp + 1))   # 0: stop or count; 1..K': lane 0 <- G(lane 0)
        at = Signal()       # step == target, registered
        # lane 0's input in this clock, registered: master0 (from_reg, pick), the master
        # (from_reg), G(lane 0) (pick), else its leap when ``advance``
        from_reg = Signal()
        pick = Signal()
        takes = Signal()   # from_reg | pick, a register of its own: lane 0's enable is takes | advance
        request = self.seed.valid | self.seek.valid
        m.d.comb += [self.seed.ready.eq(1), self.seek.ready.eq(1)]
        m.d.sync += at.eq(self.step == target)

        back = stale | behind   # in the decide clock: restart from master0
        more = Signal()   # another load clock follows this one
        # load: L clocks after the request (K in the step domain, 2 in the fill domain)
        remaining = Signal(range(max(K, 2)))   # load clocks left after this one
        loading = Signal()
        fill_mode = Signal()
        lanes = [Signal(W, name=f"lane{k}", init=int(s)) for k, s in enumerate(self.model.lane_states(0))]
        leaps = [Signal(W, name=f"lane{k}_leap") for k in range(K)]

        with m.If(request):
            m.d.sync += [comparing.eq(1), sought.eq(0), prime.eq(0), walking.eq(0), loading.eq(0),
                         # an abandoned seek (from its decide clock on) leaves step and
                         # master apart: start over
                         stale.eq(stale | self.seed.valid | sought | prime | walking)]
            with m.If(self.seed.valid):
                m.d.sync += seed_in.eq(self.seed.payload[:W - 1])
        with m.Elif(comparing):
            # the step holds from the request to the decide clock (a walk in progress sets stale)
            m.d.sync += [comparing.eq(0), sought.eq(1), behind.eq(target < self.step)]
        with m.Elif(sought):
            m.d.sync += [sought.eq(0), stale.eq(0), prime.eq(1)]
        with m.Elif(prime):
            m.d.sync += [prime.eq(0), walking.eq(1)]
        with m.Elif(walking & (phase == 0) & at):
            m.d.sync += walking.eq(0)
        with m.Elif(loading):
            m.d.sync += loading.eq(more)
        # the walk's phase, master and step and the load count outside the request
        # priority (enables of a few registers): in a request clock the walk is abandoned
        # and sets ``stale``, so the next seek restarts from master0 and the prime clock
        # clears the phase, and a load is abandoned, whatever they hold
        with m.If(prime):
            m.d.sync += phase.eq(0)
        with m.Elif(walking):
            with m.If(phase != 0):
                m.d.sync += phase.eq(Mux(phase == Kp, 0, phase + 1))
            with m.Elif(at):
                m.d.sync += master.eq(lanes[0])
            with m.Else():
                m.d.sync += [self.step.eq(self.step + 1), phase.eq(1)]
        with m.If(loading):
            m.d.sync += remaining.eq(remaining - 1)
        # the step clears in the decide clock of a restart, a request in that clock too
        # (it sets ``stale``: the next seek restarts anyway), so ``request`` never reaches
        # the step's enable; the clear, a constant given last, is the flip-flops'
        # synchronous reset beside the count's enable (no multiplexer per bit)
        with m.If(sought & back):
            m.d.sync += self.step.eq(0)
        # a load comes only while idle: outside the chain above, so that no seek
        # register's enable waits for the (combinational) ``load`` input
        with m.If(self.load & ~request):
            m.d.sync += [loading.eq(1), remaining.eq(K - 1)]
            if self.has_fill:
                m.d.sync += fill_mode.eq(self.fill)
                with m.If(self.fill):
                    m.d.sync += remaining.eq(1)   # fill domain: one more clock, G(lane 0)
        # lane 0's selects for the next clock, flat sums of products: the request, load,
        # compare, decide, prime, walk and load-clock states exclude one another
        m.d.comb += more.eq(loading & (remaining != 0))
        takes_reg = ~request & (self.load | sought | (more & ~fill_mode))
        takes_pick = ~request & ((sought & back) | (walking & (phase == 0) & ~at)
                                 | (walking & (phase != 0) & (phase != Kp)) | (more & fill_mode))
        m.d.sync += [from_reg.eq(takes_reg), pick.eq(takes_pick), takes.eq(takes_reg | takes_pick)]
        # a seed alone seeks step 0: the clear is the flip-flops' synchronous reset
        with m.If(self.seek.valid):
            m.d.sync += target.eq(self.seek.payload)
        with m.Elif(self.seed.valid):
            m.d.sync += target.eq(0)
        stops = walking & (phase == 0) & at
        m.d.sync += self.busy.eq(request | self.load | comparing | sought | prime | (walking & ~stops) | more)

        leap = leap_rows(W, self.word_bits)
        for k, (state, nxt) in enumerate(zip(lanes, leaps)):
            m.d.comb += [nxt.eq(apply_rows(leap, state)), self.words[k].eq(nxt[:self.word_bits])]
            # G = I + A**B: a state XOR its own leap (ref/lfsr.py chain_rows)
            if k == 0:
                # two registered selects and an enable: one LUT6 per bit above the leap
                with m.If(takes | self.advance):
                    m.d.sync += state.eq(Mux(from_reg, Mux(pick, master0, master),
                                             Mux(pick, state ^ nxt, nxt)))
            else:
                with m.If(loading):
                    m.d.sync += state.eq(lanes[k - 1] ^ leaps[k - 1])
                with m.Elif(self.advance):
                    m.d.sync += state.eq(nxt)
        return m
