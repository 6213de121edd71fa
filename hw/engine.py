"""The PeZO perturbation engine: LfsrBank -> ReuseBuffer -> UniformScaler, exactly the
golden model :class:`pezo.ref.engine.PerturbationEngine` (read its docstring).
"""

from __future__ import annotations

import enum

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring

from pezo.hw.lfsr import LfsrBank
from pezo.hw.reuse import ReuseBuffer
from pezo.hw.scaler import LATENCY, UniformScaler
from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig


class _Pool(enum.Enum):
    IDLE = 0
    FILL_SEEK = 1
    FILL_MOMENT = 2
    FILL_WRITE = 3
    FILL_DRAIN = 4
    STEP_SEEK = 5
    DRAW0 = 6
    DRAW1 = 7
    STREAM = 8


class _Stream(enum.Enum):
    IDLE = 0
    SEEK = 1
    PRIME = 2
    STREAM = 3


class PerturbationEngine(wiring.Component):
    """P perturbation words per clock, replayable by step (the common source interface).

    Parameters
    ----------
    cfg : the configuration; K = ``cfg.lanes`` LFSR lanes.

    Attributes
    ----------
    start : In(stream of unsigned(S)), always ready. ``start(t)`` abandons everything in
        flight (z.valid falls at the next clock edge), seeks step t and then emits words
        0, 1, 2, ... of step t until the next start. The same t gives the same words
        (replay for the +eps, -eps and update passes).
    seed : In(stream of unsigned(W)), always ready. Sets the runtime seed
        (``master0 = master_base ^ seed_in``), invalidates the pool and goes idle at step 0.
    z : Out(stream of ArrayLayout(signed(B), P)). Transfer c carries words c*P .. c*P+P-1
        of the step (element p = word c*P + p): signed two's complement, F fractional
        bits, equal to ``pezo.ref.engine.PerturbationEngine(cfg, seed_in).perturbation``.
        A transfer is held while ``z.ready`` is 0 and the whole pipeline stalls (the
        LFSRs advance only when a transfer is taken).

    Latency and throughput (clocks from the clock where ``start`` is valid to the first
    clock with ``z.valid`` = 1; J = master jumps of the seek: t - c when seeking forward
    from the current step c, t when seeking backward or after a seed):

    * ``pool``, pool of the step's epoch already filled: 5 + J (seek, load the step,
      draw w0, draw w1 and place the lane addresses, first read of the banks). While
      the step runs, lane 0 holds the next wrap's offset word (w2 during wrap 0) and
      advances once per wrap of N words, at the last read of the wrap: the offset moves
      by a fresh word every N parameters at no cost in clocks (ref/reuse.py);
    * ``pool``, pool to fill (after reset, a seed, or the first start of a new epoch e):
      10 + J_e + 2N + (t - e), where J_e is the seek to the epoch's first step e: the
      moment pass and the scaled write pass over the same N fill words, one per clock,
      the drain of the fill pipeline (lane 0's word registered, then the scaler's
      3-clock pipeline, then the pool write: the write address follows the word), then
      the forward seek from e to t and the 5-clock start above;
    * ``stream`` / ``none``: 6 + J (seek, load the lanes, take the first bank words
      into the lane register, then the scaler's 3 pipeline stages: two delay stages that
      match its moment pipeline, and the scaled words' output register). The lane
      register holds the K words in use while the bank runs one leap ahead: it cuts the
      LFSR XOR network from the variation and shift-add path.

    Then P words per clock while ``z.ready`` is 1, for as long as the step runs.
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.bank = bank = LfsrBank.from_config(self.cfg)
        m.submodules.reuse = reuse = ReuseBuffer(self.cfg)
        m.submodules.scaler = scaler = UniformScaler(self.cfg)
        m.d.comb += [
            self.start.ready.eq(1),
            self.seed.ready.eq(1),
            bank.seed.valid.eq(self.seed.valid),
            bank.seed.payload.eq(self.seed.payload),
        ]
        if self.cfg.strategy == "pool":
            self._pool(m, bank, reuse, scaler)
        else:
            self._stream(m, bank, reuse, scaler)
        return m

    def _pool(self, m: Module, bank: LfsrBank, reuse: ReuseBuffer, scaler: UniformScaler) -> None:
        cfg = self.cfg
        S, N = cfg.step_bits, cfg.pool_size
        state = Signal(_Pool)
        target = Signal(S)
        count = Signal(range(N))
        w0 = Signal(cfg.word_bits)
        pool_valid = Signal()
        pool_epoch = Signal(S)
        epoch_mask = ((1 << S) - 1) & ~(cfg.pool_refresh - 1) if cfg.pool_refresh else 0
        epoch = Signal(S)
        need_fill = Signal()
        fill_done = Signal()
        # fill pipeline: lane 0's word is registered (fill_word), scaled (LATENCY clocks),
        # then written; the write flag and index follow it through 1 + LATENCY stages
        fill_word = Signal(cfg.word_bits)
        fill_moment = Signal()
        write_valid = Signal(1 + LATENCY)
        write_index = [Signal(range(N), name=f"write_index{i}") for i in range(1 + LATENCY)]
        en = ~self.z.valid | self.z.ready
        m.d.comb += [
            epoch.eq(self.start.payload & epoch_mask),
            need_fill.eq(~pool_valid | (pool_epoch != epoch) | self.seed.valid),
            bank.seek.valid.eq(self.start.valid | fill_done),
            bank.seek.payload.eq(Mux(self.start.valid, Mux(need_fill, epoch, self.start.payload), target)),
            scaler.en.eq(1),
            scaler.moment_u.eq(fill_word),
            scaler.moment_en.eq(fill_moment),
            scaler.u[0].eq(fill_word),
            reuse.write_en.eq(write_valid[-1]),
            reuse.write_index.eq(write_index[-1]),
            reuse.write_data.eq(scaler.z[0]),
            reuse.w0.eq(w0),
            reuse.w1.eq(bank.words[0]),
            reuse.wn.eq(bank.words[0]),
            self.z.payload.eq(reuse.words),
        ]
        m.d.sync += [
            fill_word.eq(bank.words[0]),
            fill_moment.eq(0),
            write_valid.eq(write_valid << 1),
            write_index[0].eq(count),
            *(d.eq(src) for d, src in zip(write_index[1:], write_index)),
        ]
        with m.If(self.start.valid):
            m.d.sync += [target.eq(self.start.payload), self.z.valid.eq(0), write_valid.eq(0),
                         state.eq(Mux(need_fill, _Pool.FILL_SEEK, _Pool.STEP_SEEK))]
            with m.If(need_fill):
                m.d.sync += [pool_valid.eq(0), pool_epoch.eq(epoch)]
        with m.Elif(self.seed.valid):
            m.d.sync += [state.eq(_Pool.IDLE), self.z.valid.eq(0), pool_valid.eq(0), write_valid.eq(0)]
        with m.Else():
            with m.Switch(state):
                with m.Case(_Pool.FILL_SEEK):
                    with m.If(~bank.busy):
                        m.d.comb += [bank.load.eq(1), bank.fill.eq(1), scaler.restart.eq(1)]
                        m.d.sync += [count.eq(0), state.eq(_Pool.FILL_MOMENT)]
                with m.Case(_Pool.FILL_MOMENT):
                    m.d.sync += [fill_moment.eq(1), count.eq(count + 1)]
                    with m.If(count == N - 1):
                        m.d.comb += [bank.load.eq(1), bank.fill.eq(1)]
                        m.d.sync += state.eq(_Pool.FILL_WRITE)
                    with m.Else():
                        m.d.comb += bank.advance.eq(1)
                with m.Case(_Pool.FILL_WRITE):
                    m.d.comb += bank.advance.eq(1)
                    m.d.sync += [write_valid.eq(Cat(1, write_valid[:-1])), count.eq(count + 1)]
                    with m.If(count == N - 1):
                        m.d.sync += state.eq(_Pool.FILL_DRAIN)
                with m.Case(_Pool.FILL_DRAIN):
                    with m.If(write_valid[-1] & (write_index[-1] == N - 1)):
                        m.d.comb += fill_done.eq(1)
                        m.d.sync += [pool_valid.eq(1), state.eq(_Pool.STEP_SEEK)]
                with m.Case(_Pool.STEP_SEEK):
                    with m.If(~bank.busy):
                        m.d.comb += bank.load.eq(1)
                        m.d.sync += state.eq(_Pool.DRAW0)
                with m.Case(_Pool.DRAW0):
                    m.d.comb += bank.advance.eq(1)
                    m.d.sync += [w0.eq(bank.words[0]), state.eq(_Pool.DRAW1)]
                with m.Case(_Pool.DRAW1):
                    m.d.comb += [reuse.place.eq(1), bank.advance.eq(1)]
                    m.d.sync += state.eq(_Pool.STREAM)
                with m.Case(_Pool.STREAM):
                    m.d.comb += [reuse.read_en.eq(en), bank.advance.eq(en & reuse.wrap)]
                    with m.If(en):
                        m.d.sync += self.z.valid.eq(1)

    def _stream(self, m: Module, bank: LfsrBank, reuse: ReuseBuffer, scaler: UniformScaler) -> None:
        state = Signal(_Stream)
        lanes = Signal.like(bank.words)
        valid = Signal(LATENCY)  # words in the scaler's pipeline stages, output last
        en = ~self.z.valid | self.z.ready
        m.d.comb += [
            bank.seek.valid.eq(self.start.valid),
            bank.seek.payload.eq(self.start.payload),
            reuse.lanes.eq(lanes),
            scaler.en.eq(en),
            scaler.u.eq(reuse.u),
            scaler.moment_u.eq(lanes[0]),
            self.z.payload.eq(scaler.z),
            self.z.valid.eq(valid[-1]),
        ]
        with m.If(self.start.valid):
            m.d.sync += [valid.eq(0), state.eq(_Stream.SEEK)]
        with m.Elif(self.seed.valid):
            m.d.sync += [valid.eq(0), state.eq(_Stream.IDLE)]
        with m.Else():
            with m.Switch(state):
                with m.Case(_Stream.SEEK):
                    with m.If(~bank.busy):
                        m.d.comb += [bank.load.eq(1), scaler.restart.eq(1), reuse.restart.eq(1)]
                        m.d.sync += state.eq(_Stream.PRIME)
                with m.Case(_Stream.PRIME):
                    m.d.comb += bank.advance.eq(1)
                    m.d.sync += [lanes.eq(bank.words), state.eq(_Stream.STREAM)]
                with m.Case(_Stream.STREAM):
                    with m.If(en):
                        m.d.comb += [reuse.next.eq(1), bank.advance.eq(reuse.advance),
                                     scaler.moment_en.eq(reuse.advance)]
                        m.d.sync += valid.eq(Cat(1, valid[:-1]))
                        with m.If(reuse.advance):
                            m.d.sync += lanes.eq(bank.words)
