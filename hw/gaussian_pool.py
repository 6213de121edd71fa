"""RTL of ``gaussian-pool``: the PeZO pool reuse (hw/reuse.py :class:`PoolReuse`) filled by
a Gaussian generator core, bit-exact with :class:`pezo.ref.gaussian_pool.GaussianPoolModel`
(its docstring is the contract: lanes, streams, fill order).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from amaranth import Array, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.utils import exact_log2

from pezo.errors import ConfigError
from pezo.hw.gaussian.box_muller import BoxMullerCore
from pezo.hw.gaussian.icdf import IcdfCore
from pezo.hw.gaussian.source import saturate
from pezo.hw.lfsr import LfsrBank
from pezo.hw.pool_control import add_bank_wait, add_step_states, connect_seed, epoch_mask, must_fill
from pezo.hw.reuse import PoolReuse
from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig
from pezo.ref.gaussian_pool import DEFAULT_GENERATOR, fill_generator

#: generator name -> the core of ``pezo.ref.gaussian_pool.GENERATORS[name]``, built from
#: the pool's config (core signature of hw/gaussian/source.py: g lanes of L bits in, O
#: words out per enabled clock, as the generator's ``layout``).
CORES: dict[str, Callable[[PezoConfig], wiring.Component]] = {
    "icdf": lambda cfg: IcdfCore(cfg.replace(parallel=1)),
    "box-muller": lambda cfg: BoxMullerCore(cfg.replace(parallel=2)),
}


class _State(enum.Enum):
    IDLE = 0
    BEGIN = 1
    FILL_SEEK = 2
    FILL_LOAD_REQUEST = 3
    FILL_LOAD = 4
    FILL = 5
    STEP_BEGIN = 6
    STEP_SEEK = 7
    STEP_LOAD_REQUEST = 8
    STEP_LOAD = 9
    PLACE = 10
    STREAM = 11


class GaussianPool(wiring.Component):
    """P words per clock from an N-word Gaussian pool with the PeZO pool addressing.

    Parameters
    ----------
    cfg : the configuration (``strategy`` = ``pool``).
    generator : the fill generator (a key of :data:`CORES`), default ``icdf``.

    One LfsrBank of 1 + g lanes of L bits (step domain): the low B bits of lane 0 feed
    :class:`PoolReuse`'s addressing, lanes 1..g the generator core. Fill (after reset, a
    seed, or the first start of a new epoch e): seek to e, then two passes, each a lane
    load followed by the core run with its pipeline enabled once every O clocks (O = the
    core's outputs per clock), its registered outputs 0..O-1 taken one per clock in the
    O clocks of one enable. Pass 1 sums the N outputs into ``total`` (started at N/2, so
    the mean ``total >> log2 N`` is wiring); pass 2 regenerates them and writes
    ``saturate(z_j - mean)`` to pool index j through PoolReuse's one write port. Fill
    time about 2 O (N/O + latency) clocks plus two lane loads.

    Attributes
    ----------
    start, seed, z : the common source interface (hw/source.py); ``z`` equals
        ``GaussianPoolModel(cfg, seed_in, generator).perturbation``. ``seed`` also
        invalidates the pool. While ``z.ready`` is 0 nothing advances.

    Latency (clocks from ``start`` valid to the first ``z.valid``, pool filled): 1 + 1 +
    J + 1 + L + 1 + place (PoolReuse.place_latency) + 1, as hw/engine.py's PoolEngine (J = the
    seek time, LfsrBank.seek_clocks, L = 1 + g lane load clocks). Then P words per clock.
    """

    def __new__(cls, cfg: PezoConfig, generator: str = DEFAULT_GENERATOR, **kwargs):
        # checked before Amaranth tracks the object, so a rejected one is not reported unused
        if cfg.strategy != "pool":
            raise ConfigError("strategy", cfg.strategy, "gaussian-pool needs the pool strategy")
        fill_generator(generator)
        return super().__new__(cls, **kwargs)

    def __init__(self, cfg: PezoConfig, generator: str = DEFAULT_GENERATOR):
        self.cfg = cfg
        self.generator = fill_generator(generator)
        self.make_core = CORES[generator]
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        S, N = cfg.step_bits, cfg.pool_size
        g, L, O = self.generator.layout(cfg)
        m.submodules.bank = bank = LfsrBank(cfg.lfsr_width, L, 1 + g, cfg.seed, S)
        m.submodules.reuse = reuse = PoolReuse(cfg)
        m.submodules.core = core = self.make_core(cfg)
        state = Signal(_State)
        target = Signal(S)
        seek_to = Signal(S)
        need_fill = Signal()
        pool_valid = Signal()
        pool_epoch = Signal(S)
        mask = epoch_mask(cfg)
        sub = Signal(range(max(O, 2)))       # clock within one core enable
        fed = Signal(range(N // O + 1))      # lane word groups given to the core
        written = Signal(exact_log2(N))      # next pool index
        second = Signal()                    # the write pass
        B, n = cfg.word_bits, exact_log2(N)
        total = Signal(signed(B + n + 1), reset_less=True)
        mean = Signal(signed(B + 1))
        filling = state == _State.FILL
        core_en = filling & (sub == O - 1)
        feed = core_en & (fed != N // O)
        write = filling & core.z_valid
        word = Array(core.z[k] for k in range(O))[sub]
        en = ~self.z.valid | self.z.ready
        connect_seed(m, self, bank)
        m.d.comb += [
            bank.seek.valid.eq((state == _State.BEGIN) | (state == _State.STEP_BEGIN)),
            bank.seek.payload.eq(seek_to),
            bank.advance.eq(Mux(filling, feed, reuse.advance)),
            core.en.eq(core_en),
            core.valid.eq(feed),
            core.flush.eq(self.start.valid | self.seed.valid | (state == _State.FILL_LOAD_REQUEST)),
            mean.eq(total >> n),
            reuse.word.eq(bank.words[0][:B]),
            reuse.write_en.eq(write & second),
            reuse.write_index.eq(written),
            reuse.write_data.eq(saturate(word - mean, B, -(1 << B), (1 << B) - 1)),
            self.z.payload.eq(reuse.words),
        ]
        for k in range(g):
            m.d.comb += core.u[k].eq(bank.words[1 + k])
        with m.If(filling):
            m.d.sync += sub.eq(Mux(sub == O - 1, 0, sub + 1))
            with m.If(feed):
                m.d.sync += fed.eq(fed + 1)
            with m.If(write):
                m.d.sync += written.eq(written + 1)
            with m.If(write & ~second):
                m.d.sync += total.eq(total + word)
        with m.Else():
            m.d.sync += [sub.eq(0), fed.eq(0), written.eq(0)]

        fill_first = must_fill(self.start.payload, pool_valid, pool_epoch, mask)
        with m.If(self.start.valid):
            m.d.sync += [target.eq(self.start.payload), self.z.valid.eq(0), state.eq(_State.BEGIN),
                         need_fill.eq(fill_first),
                         seek_to.eq(Mux(fill_first, self.start.payload & mask, self.start.payload))]
        with m.Elif(self.seed.valid):
            m.d.sync += [state.eq(_State.IDLE), self.z.valid.eq(0), pool_valid.eq(0)]
        with m.Else():
            with m.Switch(state):
                with m.Case(_State.BEGIN):
                    m.d.sync += state.eq(Mux(need_fill, _State.FILL_SEEK, _State.STEP_SEEK))
                    with m.If(need_fill):
                        m.d.sync += [pool_valid.eq(0), pool_epoch.eq(target & mask), second.eq(0)]
                add_bank_wait(m, state, bank, _State.FILL_SEEK, _State.FILL_LOAD_REQUEST)
                with m.Case(_State.FILL_LOAD_REQUEST):
                    m.d.comb += bank.load.eq(1)
                    m.d.sync += state.eq(_State.FILL_LOAD)
                    with m.If(~second):
                        m.d.sync += total.eq(N // 2)
                add_bank_wait(m, state, bank, _State.FILL_LOAD, _State.FILL)
                with m.Case(_State.FILL):
                    with m.If(write & (written == N - 1)):
                        with m.If(second):
                            m.d.sync += [pool_valid.eq(1), seek_to.eq(target), state.eq(_State.STEP_BEGIN)]
                        with m.Else():
                            m.d.sync += [second.eq(1), state.eq(_State.FILL_LOAD_REQUEST)]
                add_step_states(m, state, _State, bank, reuse, self.z.valid, en)
        return m
