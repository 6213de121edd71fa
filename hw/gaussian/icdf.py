"""RTL of the inverse-CDF Gaussian generator, bit-exact with :mod:`pezo.ref.gaussian.icdf`
(whose docstring defines the segmentation, the coefficient ROM and every rounding)."""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Value
from amaranth.lib import wiring
from amaranth.lib.memory import Memory

from pezo.hw.gaussian.box_muller import BLOCK_ROM, normalise
from pezo.hw.gaussian.source import GaussianSource, Stages, core_signature
from pezo.ref.config import PezoConfig
from pezo.ref.gaussian.icdf import (GUARD_BITS, MAG_BITS, SEGMENT_BITS, UNIFORM_BITS, icdf_table,
                                    sample_lanes)


class IcdfCore(wiring.Component):
    """Datapath of the inverse-CDF generator: P outputs, each from m lanes of L bits
    (:func:`pezo.ref.gaussian.icdf.sample_lanes`: one 32-bit lane for W >= 32).

    Output p joins lanes m*p .. m*p + m - 1 (lane m*p most significant) and keeps the
    top 32 bits: u. Stages (one register each, all advanced by ``en``):

    1. sign = u[31], a = u[30:0];
    2-3. leading-zero normalisation of a by a logarithmic shifter, its shifts by 16 and 8
       in stage 2 and by 4, 2, 1 in stage 3: ROM address {e, j} (5 + S bits) and
       fraction f (T bits);
    4. coefficient ROM read (c0 | c1 | c2, synchronous read port);
    5. the ROM word registered (the block RAM's output register where the family has
       one), so no path runs from a RAM output into a multiplier;
    6. c2 * f (signed x unsigned, a DSP multiplier);
    7. c2 f + (c1 << T), whose top bits are y1 = c1 + (c2 f >> T) (floor shifts: the
       low T bits of c1 << T are zero), so the add is the DSP's post-adder;
    8. y1 * f (the second DSP multiplier);
    9. y1 f + (c0 << T), whose top bits are mag = (c0 + (y1 f >> T)) >> G (c0 holds the
       rounding half), the second post-adder;
    10. z = +-mag by the sign, into the output register: signed B bits, F fractional bits.

    Latency 10 clocks, throughput P words per clock. ROM: 32 * 2**S = 512 words of
    c0 + c1 + c2 bits (:class:`pezo.ref.gaussian.icdf.IcdfTable`, 36 bits for F = 12),
    one per pair of outputs with one read port per output (block RAM,
    :data:`BLOCK_ROM`); two multipliers per output. Interface: :func:`core_signature`
    with K = m * P lanes of L bits.
    """

    #: clocks from ``u`` to ``z``
    latency = 10

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        self.table = icdf_table(cfg.frac_bits)
        self.lanes_per_sample, self.lane_bits = sample_lanes(cfg.lfsr_width)
        super().__init__(core_signature(cfg, self.lanes_per_sample * cfg.parallel, self.lane_bits))

    def elaborate(self, platform) -> Module:
        m = Module()
        st = Stages(m, self.en)
        cfg = self.cfg
        for pair in range(0, cfg.parallel, 2):
            rom = Memory(shape=self.table.c0_bits + self.table.c1_bits + self.table.c2_bits,
                         depth=self.table.depth, init=self.table.words(), attrs=BLOCK_ROM)
            m.submodules[f"rom{pair // 2}"] = rom
            for p in range(pair, min(pair + 2, cfg.parallel)):
                m.d.comb += self.z[p].eq(self._output(m, st, rom, p))
        m.d.comb += self.z_valid.eq(st.valid_chain(self.valid, self.flush, self.latency))
        return m

    def _output(self, m: Module, st: Stages, rom: Memory, p: int) -> Value:
        """Stages 1-10 of output p, reading ``rom`` through a port of its own."""
        cfg, table = self.cfg, self.table
        B, T, n = cfg.word_bits, table.fraction_bits, f"o{p}_"
        mw = self.lanes_per_sample
        joined = Cat(*(self.u[mw * p + i] for i in reversed(range(mw))))
        u = joined[mw * self.lane_bits - UNIFORM_BITS:]
        sign = st.reg(u[MAG_BITS], n + "sign")                                     # 1
        a = st.reg(u[:MAG_BITS], n + "a")
        e_high, partial = normalise(m, a, n + "a", levels=(4, 3))
        e_high, partial = st.reg(e_high, n + "e_high"), st.reg(partial, n + "a_shifted")  # 2
        e_low, norm = normalise(m, partial, n + "a_low", levels=(2, 1, 0))
        below = MAG_BITS - 1 - SEGMENT_BITS
        address = st.reg(Cat(norm[below:MAG_BITS - 1], e_high | e_low), n + "addr")  # 3
        f = st.reg(norm[below - T:below], n + "f")
        port = rom.read_port()
        m.d.comb += [port.addr.eq(address), port.en.eq(self.en)]                   # 4
        f = st.delay(f, 2, n + "f4")
        word = st.reg(port.data, n + "coef")                                       # 5
        w0, w1 = table.c0_bits, table.c1_bits
        c0, c1, c2 = word[:w0], word[w0:w0 + w1].as_signed(), word[w0 + w1:].as_signed()
        p1 = st.reg(c2 * f, n + "p1")                                              # 6
        c0, c1, f = st.reg(c0, n + "c0_6"), st.reg(c1, n + "c1_6"), st.reg(f, n + "f6")
        y1 = st.reg(p1 + (c1 << T), n + "y1") >> T                                 # 7
        c0, f = st.reg(c0, n + "c0_7"), st.reg(f, n + "f7")
        p2 = st.reg(y1 * f, n + "p2")                                              # 8
        c0 = st.reg(c0, n + "c0_8")
        mag = st.reg(p2 + (c0 << T), n + "mag") >> (T + GUARD_BITS)                # 9
        sign = st.delay(sign, 8, n + "sign")
        return st.reg(Mux(sign, -mag, mag)[:B].as_signed(), n + "z")              # 10


class IcdfGaussian(GaussianSource):
    """Inverse-CDF Gaussian generator with the common perturbation-source interface.

    An LfsrBank of K = m * P lanes of L bits (one 32-bit lane per output for W >= 32)
    feeds an :class:`IcdfCore`; every word
    equals ``pezo.ref.gaussian.icdf.IcdfGaussian(cfg, seed_in).samples(t, n)``. See
    :class:`pezo.hw.gaussian.source.GaussianSource` for ``start`` / ``seed`` / ``z``;
    latency from start(t) to the first word: J + K + 4 + 10 clocks (GaussianSource).
    """

    def __init__(self, cfg: PezoConfig):
        core = IcdfCore(cfg)
        super().__init__(cfg, core.lanes_per_sample * cfg.parallel, core, core.lane_bits)
