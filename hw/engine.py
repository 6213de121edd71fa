"""The PeZO perturbation engines, exactly the golden models of ref/engine.py (read its
docstring): :class:`PoolEngine` (LfsrBank -> PoolScaler -> PoolReuse) and
:class:`StreamEngine` (LfsrBank -> StreamReuse -> UniformScaler);
:func:`perturbation_engine` picks one by strategy. Both have the common source
interface of hw/source.py.

Control is registered: a ``start`` is taken into registers first and the seek is
requested from them in the next clock; every bank request (seek, load) is followed by
a state that waits, from the next clock on, until the bank's ``busy`` is 0 before its
words are used, and ``busy`` only moves the state register: the next request (load,
place, fill start) is a decode of the state in the following clock. Lane enables come
from state decodes (and, while words stream, the registered ``ready`` of the pool
engine's output :class:`~pezo.hw.source.SkidBuffer`), never through ``busy`` (except the
fill's word-valid handshake, where ``busy`` is the bank's register) nor through the
consumer's ``z.ready``, which reaches only the output registers.
"""

from __future__ import annotations

import enum

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring

from pezo.hw.lfsr import LfsrBank
from pezo.hw.pool_control import add_scaler_fill_states, add_step_states, connect_seed, epoch_mask, must_fill
from pezo.hw.reuse import PoolReuse, StreamReuse
from pezo.hw.scaler import PoolScaler, UniformScaler
from pezo.hw.source import SkidBuffer, SourceSignature
from pezo.ref.config import PezoConfig


class _Pool(enum.Enum):
    IDLE = 0
    BEGIN = 1
    FILL_SEEK = 2
    FILL_START = 3
    FILL = 4
    STEP_BEGIN = 5
    STEP_SEEK = 6
    STEP_LOAD_REQUEST = 7
    STEP_LOAD = 8
    PLACE = 9
    STREAM = 10


class PoolEngine(wiring.Component):
    """The ``pool`` strategy: P words per clock from a mean-free pool, replayable by step.

    Parameters
    ----------
    cfg : the configuration (``strategy`` = ``pool``); one LFSR lane.

    Attributes
    ----------
    start, seed, z : the common source interface (hw/source.py). ``z`` transfer c
        carries words c*P .. c*P+P-1 of the step, equal to
        ``pezo.ref.engine.engine_model(cfg, seed_in).perturbation``. ``seed`` also
        invalidates the pool. While ``z.ready`` is 0 the transfer is held and nothing
        advances.

    Latency (clocks from the clock where ``start`` is valid to the first clock with
    ``z.valid`` = 1; J = the bank's seek time to the step,
    :meth:`pezo.hw.lfsr.LfsrBank.seek_clocks` (4 + 3 per step walked), L = its lane
    load time, 1 clock (2 in the fill domain)):

    * pool of the step's epoch already filled: 1 (start registered) + 1 (seek request)
      + J + 1 (load request) + L + 1 (place request) + place (PoolReuse.place_latency) + 1
      (first read) + 1 (the read words' register) + 1 (the output register of the
      :class:`~pezo.hw.source.SkidBuffer`);
    * pool to fill (after reset, a seed, or the first start of a new epoch e): the
      seek to e, then the :class:`PoolScaler` fill (:attr:`PoolScaler.fill_clocks`
      clocks plus the lane loads' waits), then the start above from the step seek on.

    Then P words per clock while ``z.ready`` is 1, for as long as the step runs (the
    pool reads advance on the skid buffer's registered ``ready``, so ``z.ready`` drives
    only the two output entries' enables). Lane 0
    leaps once per wrap of N words (the next wrap's offset word), at no cost in clocks.

    Fmax: the pool copies are block RAMs read into the fabric register ``words``. Yosys'
    mappings leave the RAMs' output register unused; on ECP5, pezo/flow/bram_outreg.py
    moves ``words`` into the DP16KD's output register, so the read costs 0.97 ns
    clock-to-output instead of 5.83 ns in nextpnr's model and is no longer the ECP5
    critical path (README, Fmax). iCE40 has no such
    register: a bare 512 x 16 read in pezo/flow/pnr.py's harness reaches 97.7 MHz
    (``lfsr-floor``: 89.9 MHz).
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        S = cfg.step_bits
        m.submodules.bank = bank = LfsrBank.from_config(cfg)
        m.submodules.reuse = reuse = PoolReuse(cfg)
        m.submodules.scaler = scaler = PoolScaler(cfg)
        m.submodules.out = out = SkidBuffer(self.z.payload.shape())
        state = Signal(_Pool)
        target = Signal(S, reset_less=True)   # set by every start before use
        need_fill = Signal()
        pool_valid = Signal()
        pool_epoch = Signal(S)
        mask = epoch_mask(cfg)
        filling = state == _Pool.FILL
        seek_epoch = (state == _Pool.BEGIN) & need_fill
        # the words read (the block RAM's output, valid once read) go through one fabric
        # register before the skid buffer's multiplexer: no logic after the RAM's
        # clock-to-output (on ECP5 this register moves into the RAM's output register,
        # pezo/flow/bram_outreg.py)
        read_valid = Signal()
        words = Signal.like(reuse.words, reset_less=True)
        # the fill's abort from a register: ``start`` and ``seed`` fan out to the state
        # and the skid buffer only; the scaler stops one clock later, harmless: its
        # writes go to a pool already invalid (``seed``) or refilled before use
        # (``start``, ``need_fill``), and its lane advance falls in the bank request's
        # clock or the next
        aborting = Signal()
        m.d.sync += aborting.eq(self.start.valid | self.seed.valid)
        en = out.i.ready
        connect_seed(m, self, bank)
        wiring.connect(m, out.o, wiring.flipped(self.z))
        with m.If(en):
            m.d.sync += [words.eq(reuse.words), out.i.valid.eq(read_valid)]
        m.d.comb += [
            out.flush.eq(self.start.valid | self.seed.valid),
            bank.seek.valid.eq((state == _Pool.BEGIN) | (state == _Pool.STEP_BEGIN)),
            # the fill seeks the epoch's first step, the step seek the step itself
            bank.seek.payload.eq(Mux(seek_epoch, target & mask, target)),
            bank.fill.eq(filling),
            # each is 0 while the other runs: an OR, no select on the lanes' enable path
            bank.advance.eq(scaler.advance | reuse.advance),
            scaler.abort.eq(aborting),
            scaler.word.eq(bank.words[0]),
            scaler.word_valid.eq(~bank.busy),
            reuse.word.eq(bank.words[0]),
            reuse.write_en.eq(scaler.write_en),
            reuse.write_index.eq(scaler.write_index),
            reuse.write_data.eq(scaler.write_data),
            out.i.payload.eq(words),
        ]
        with m.If(self.start.valid):
            m.d.sync += [target.eq(self.start.payload), read_valid.eq(0), out.i.valid.eq(0),
                         state.eq(_Pool.BEGIN),
                         need_fill.eq(must_fill(self.start.payload, pool_valid, pool_epoch, mask))]
        with m.Elif(self.seed.valid):
            m.d.sync += [state.eq(_Pool.IDLE), read_valid.eq(0), out.i.valid.eq(0), pool_valid.eq(0)]
        with m.Else():
            with m.Switch(state):
                with m.Case(_Pool.BEGIN):
                    m.d.sync += state.eq(Mux(need_fill, _Pool.FILL_SEEK, _Pool.STEP_SEEK))
                    with m.If(need_fill):
                        m.d.sync += [pool_valid.eq(0), pool_epoch.eq(target & mask)]
                add_scaler_fill_states(m, state, _Pool, bank, scaler, pool_valid, _Pool.STEP_BEGIN)
                add_step_states(m, state, _Pool, bank, reuse, read_valid, en)
        return m


class StreamEngine(wiring.Component):
    """The ``stream`` / ``none`` strategies: K = ``cfg.lanes`` lanes, R uses per word.

    Parameters
    ----------
    cfg : the configuration (``strategy`` = ``stream`` or ``none``).

    Attributes
    ----------
    start, seed, z : the common source interface (hw/source.py); ``z`` equals
        ``pezo.ref.engine.engine_model(cfg, seed_in).perturbation``. While ``z.ready``
        is 0 the whole pipeline stalls (the LFSRs advance only when a transfer is taken).
        ``seed`` reaches the bank through a register: the bank seeds a clock later.

    Latency (clocks from ``start`` valid to the first ``z.valid``; J, L as for
    :class:`PoolEngine`): 1 (start registered) + 1 (seek request) + J + 1 (load request)
    + L + 1 (the first bank words taken into the lane register) + 7 (the scaler's
    pipeline, :attr:`UniformScaler.latency`) + 1 (the output register of the
    :class:`~pezo.hw.source.SkidBuffer`; the pipeline advances on its registered
    ``ready``, so ``z.ready`` drives only the two output entries' enables). The lane register holds the K words in use while the bank runs one
    leap ahead: it cuts the LFSR XOR network from the variation and shift-add path.
    Then P words per clock while ``z.ready`` is 1.
    """

    #: The stage between the bank and the scaler: a component with StreamReuse's ports
    #: built as ``reuse_stage(cfg)`` (hw/paper.py's PaperRotate swaps in its rotation).
    reuse_stage = StreamReuse

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.bank = bank = LfsrBank.from_config(self.cfg)
        m.submodules.reuse = reuse = self.reuse_stage(self.cfg)
        m.submodules.scaler = scaler = UniformScaler(self.cfg)
        m.submodules.out = out = SkidBuffer(self.z.payload.shape())
        # the sequence as one flip-flop per state (IDLE: none set), each the flat next-state
        # function of a few registers, so no enable sees a decode of a state register. The
        # flags follow the start and the seed a clock late (``beginning``, ``stopping``),
        # so ``start.valid`` and ``seed.valid`` reach only the target, the pipeline's valid
        # bits, the skid buffer's flush and the seed's register (the bank seeds in the
        # clock after the seed, beside ``stopping``); a load request or a restart in a
        # start clock or the next is harmless (the bank ignores a load beside a request,
        # the step restarts the scaler again)
        beginning = Signal()    # the clock after a start: the seek request
        stopping = Signal()     # the clock after a seed
        seeking = Signal()      # waiting for the seek
        requesting = Signal()   # the load request and the restarts
        loading = Signal()      # waiting for the load
        priming = Signal()      # the first bank words into the lane register
        streaming = Signal()
        target = Signal(self.cfg.step_bits)
        lanes = Signal.like(bank.words)
        valid = Signal(scaler.latency)  # words in the scaler's pipeline stages, output last
        en = out.i.ready
        # arm == priming | (streaming & reuse.advance) in every clock, a register computed
        # a clock ahead, so the lanes' enable is one gate of registers (arm, en and the
        # bank's own select); en is 1 in the priming clock (the skid buffer, flushed by
        # the start, holds nothing before the first word streams). The lanes leap in a
        # start or seed clock too: harmless, the step seeks and loads them
        arm = Signal()
        leap = arm & en
        connect_seed(m, self, bank, registered=True)
        wiring.connect(m, out.o, wiring.flipped(self.z))
        m.d.comb += [
            out.flush.eq(self.start.valid | self.seed.valid),
            bank.seek.valid.eq(beginning),
            bank.seek.payload.eq(target),
            bank.advance.eq(leap),
            bank.load.eq(requesting),
            scaler.restart.eq(requesting),
            reuse.restart.eq(requesting),
            reuse.lanes.eq(lanes),
            reuse.next.eq(streaming & en),
            scaler.en.eq(en),
            scaler.u.eq(reuse.u),
            scaler.moment_u.eq(lanes[0]),
            scaler.moment_en.eq(streaming & en & reuse.advance),
            out.i.payload.eq(scaler.z),
            out.i.valid.eq(valid[-1]),
        ]
        with m.If(leap):
            m.d.sync += lanes.eq(bank.words)
        m.d.sync += [beginning.eq(self.start.valid), stopping.eq(self.seed.valid)]
        go = ~beginning & ~stopping   # neither a start nor a seed in the last clock
        with m.If(self.start.valid):
            m.d.sync += target.eq(self.start.payload)
        # the words in flight are dropped in a start or seed clock; in the next the state
        # still streams, but no word enters the pipeline
        with m.If(self.start.valid | self.seed.valid):
            m.d.sync += valid.eq(0)
        with m.Elif(streaming & en):
            m.d.sync += valid.eq(Cat(go, valid[:-1]))
        idle = ~bank.busy   # the bank's request is done
        m.d.sync += [
            seeking.eq(beginning | (~stopping & seeking & ~idle)),
            requesting.eq(go & seeking & idle),
            loading.eq(go & (requesting | (loading & ~idle))),
            priming.eq(go & loading & idle),
            streaming.eq(go & (priming | streaming)),
            # the next clock primes, or streams with the reuse stage's advance (not cleared
            # by a start or seed: it leaps at most in the clock after the bank's request)
            arm.eq((loading & idle) | ((priming | streaming) & reuse.advance_next)),
        ]
        return m


def perturbation_engine(cfg: PezoConfig) -> PoolEngine | StreamEngine:
    """The PeZO engine of ``cfg``'s strategy (the ``engine`` design)."""
    return PoolEngine(cfg) if cfg.strategy == "pool" else StreamEngine(cfg)
