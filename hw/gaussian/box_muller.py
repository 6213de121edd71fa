"""RTL of the Box-Muller Gaussian baseline, bit-exact with :mod:`pezo.ref.gaussian.box_muller`
(whose docstring defines every step, format and rounding)."""

from __future__ import annotations

import math

from amaranth import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.utils import ceil_log2

from pezo.hw.gaussian.source import GaussianSource, Stages, core_signature, saturate
from pezo.ref.config import PezoConfig
from pezo.ref.gaussian.box_muller import half_lsb
from pezo.ref.gaussian.tables import (bm_format, log2_multiples, log_table, sine_table,
                                      sqrt_table, table_words)


def normalise(m: Module, x: Value, name: str, levels: tuple[int, ...] | None = None) -> tuple[Signal, Signal]:
    """(lz, y): leading zeros of the N-bit x and y = x << lz (MSB set unless x = 0), by a
    logarithmic shifter of ceil(log2 N) mux levels (combinational).

    ``levels`` (default all, highest first) applies only the shifts by 2**s for s in it
    and drives only those bits of lz (the others are 0): a pipelined shifter runs the high
    levels, registers, then the low levels on the partly shifted value."""
    n = len(x)
    steps = max(1, ceil_log2(n))
    lz = Signal(steps, name=f"{name}_lz")
    y = x
    for s in (reversed(range(steps)) if levels is None else levels):
        sh = 1 << s
        top_zero = y[n - sh:] == 0
        m.d.comb += lz[s].eq(top_zero)
        y = Mux(top_zero, (y << sh)[:n], y)
    out = Signal(n, name=f"{name}_norm")
    m.d.comb += out.eq(y)
    return lz, out


#: Memory attribute that asks Yosys' ``memory_libmap`` for block RAM: without it Yosys
#: maps most of these small ROMs into LUTs; a competent engineer puts them in BRAM.
BLOCK_ROM = {"rom_style": "block"}


class TableRom:
    """An interpolated table (value, slope) as a ROM with one synchronous read port per
    reader: ``read(address)`` returns (value, slope) one clock later (enable ``en``)."""

    def __init__(self, m: Module, table: tuple[tuple[int, int], ...], en: Value, name: str):
        self.words, self.vbits, self.sbits = table_words(table)
        self.mem = Memory(shape=self.vbits + self.sbits, depth=len(self.words), init=self.words,
                          attrs=BLOCK_ROM)
        m.submodules[name] = self.mem
        self.m, self.en = m, en

    def read(self, address: Value) -> tuple[Value, Value]:
        port = self.mem.read_port()
        self.m.d.comb += [port.addr.eq(address), port.en.eq(self.en)]
        return port.data[:self.vbits], port.data[self.vbits:]


class BoxMullerCore(wiring.Component):
    """Datapath of Box-Muller: units turning pairs (u1, u2) into (r cos, r sin), both used.

    P >= 2: P / 2 units at full rate; unit j reads u1 = lane 2j, u2 = lane 2j + 1 and
    drives outputs 2j (r cos) and 2j + 1 (r sin) of the same clock. P = 1: one unit at
    half rate on the single lane: the word of an even clock (counted from the load) is
    held as u1, the next word is u2 and the pair enters the unit; its r cos is the output
    of the first clock and r sin that of the second, through one shared output multiplier.

    Stages of the radius path (one register each):

    1. a = u1 + 1;  2. leading-zero normalisation (n = B - e, f);  3. ln ROM (and the
    2 n ln 2 ROM) read;  4. slope * fraction + half;  5. W = 2 n ln 2 - interpolated 2 ln(1+f);
    6. normalisation of W;  7. sqrt ROM read;  8. slope * fraction + half;  9. interpolation
    add;  10. r = value >> shift (0 when W = 0).

    The angle word u2 is delayed to stage 7, where both ports of the sine ROM are read
    (sin and mirrored cos addresses); 8 multiplies and 9 adds their interpolation; 10
    applies the quadrant (swap and signs). Then 11: r * cos and r * sin (multipliers; at
    P = 1 the stage-10 registers hold the pair for two clocks and one multiplier takes
    cos, then sin); 12: round half up by ``out_shift`` (and saturate if the range needs
    it) into the output register, signed B bits, F fractional bits.

    Latency 12 clocks (13 at P = 1, where a pair enters one clock after its u1),
    throughput P words per clock (every stage registered with the pipeline enable).
    ROMs (block RAM, ``rom_style = "block"``): ln 2**L x (G+1 + slope) bits, sqrt
    2**(S+1) words, sine 2**T words with two read ports, per unit; the 2 n ln 2 table
    (B + 1 words) stays in LUTs, too small for a block RAM. Tables are not shared between
    units: every table word is wider than 18 bits, so a second read port costs a second
    18-bit-wide RAMB18 on xilinx7, as much as a second table. Multipliers per unit: one
    small interpolation product (slope x fraction) per table read (4) and 2 output
    products r x cos, r x sin (1 at P = 1), each alone in its stage (DSP-friendly).
    Interpolation products are rounded half up (``+ half`` folded into the product stage).
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        self.fmt = bm_format(cfg)
        self.half_rate = cfg.parallel == 1
        #: clocks from ``u`` to ``z``: 12, 13 at P = 1 (a pair enters a clock after its u1)
        self.latency = 12 + self.half_rate
        self.units = max(1, cfg.parallel // 2)
        super().__init__(core_signature(cfg, cfg.parallel))

    def elaborate(self, platform) -> Module:
        m = Module()
        st = Stages(m, self.en)
        if self.half_rate:
            phase = Signal()                       # 1: this clock's word is u2
            u1 = Signal(self.cfg.word_bits, reset_less=True)
            with m.If(self.flush):
                m.d.sync += phase.eq(0)
            with m.Elif(self.en & self.valid):
                m.d.sync += phase.eq(~phase)
            with m.If(self.en & self.valid & ~phase):
                m.d.sync += u1.eq(self.u[0])
            pair9 = st.delay(self.valid & phase, 9, "pair")   # stage 9 holds a pair
            first = st.reg(pair9, "pair10")                   # stage 10 holds it anew
            (z,) = self._unit(m, st, Stages(m, self.en & pair9), u1, self.u[0], "u0_", ~first)
            m.d.comb += self.z[0].eq(z)
        else:
            for j in range(self.units):
                outs = self._unit(m, st, st, self.u[2 * j], self.u[2 * j + 1], f"u{j}_", None)
                for i, out in enumerate(outs):
                    m.d.comb += self.z[2 * j + i].eq(out)
        m.d.comb += self.z_valid.eq(st.valid_chain(self.valid, self.flush, self.latency))
        return m

    def _radius(self, m: Module, st: Stages, st10: Stages, u1: Value, n: str) -> Value:
        """Stages 1-10 of the radius path (stage 10 registered by ``st10``): r, unsigned
        ``r_bits`` bits, F + 2 fraction bits."""
        cfg, fmt = self.cfg, self.fmt
        B = cfg.word_bits
        a = st.reg(u1 + 1, n + "a")                                      # 1
        lz, a_norm = normalise(m, a, n + "a")
        e_n = st.reg(lz, n + "n")                                        # 2: n = B - e
        f = st.reg(a_norm[:B], n + "f")
        nf = B - fmt.log_bits
        ln_rom = TableRom(m, log_table(cfg), self.en, n + "ln_rom")
        k_rom = Memory(shape=max(1, max(log2_multiples(cfg)).bit_length()), depth=B + 1,
                       init=log2_multiples(cfg))
        m.submodules[n + "k_rom"] = k_rom
        k_port = k_rom.read_port()
        m.d.comb += [k_port.addr.eq(e_n), k_port.en.eq(self.en)]
        ln_val, ln_slope = ln_rom.read(f[nf:])                           # 3
        fr_l = st.reg(f[:nf], n + "fr_l")
        ln_prod = st.reg(ln_slope * fr_l + half_lsb(nf), n + "ln_prod")                 # 4
        ln_val4, kn4 = st.reg(ln_val, n + "ln_val"), st.reg(k_port.data, n + "kn")
        w = st.reg((kn4 - (ln_val4 + (ln_prod >> nf)))[:fmt.w_bits], n + "w")  # 5
        lz2, w_norm = normalise(m, w, n + "w")
        d = Const(fmt.w_int - 1, signed(8)) - lz2
        zero = st.reg(w == 0, n + "zero")                               # 6
        parity = st.reg(d[0], n + "par")
        shift = st.reg((fmt.half_max - (d >> 1))[:max(1, fmt.r_shift_max.bit_length())], n + "sh")
        g = st.reg(w_norm[fmt.mant_bits - fmt.sqrt_in_bits:fmt.mant_bits], n + "g")
        ns = fmt.sqrt_in_bits - fmt.sqrt_bits
        sqrt_rom = TableRom(m, sqrt_table(cfg), self.en, n + "sqrt_rom")
        s_val, s_slope = sqrt_rom.read(Cat(g[ns:], parity))              # 7
        fr_s = st.reg(g[:ns], n + "fr_s")
        shift, zero = st.delay(shift, 1, n + "sh7"), st.delay(zero, 1, n + "zero7")
        s_prod = st.reg(s_slope * fr_s + half_lsb(ns), n + "s_prod")                    # 8
        s_val8 = st.reg(s_val, n + "s_val")
        shift, zero = st.delay(shift, 1, n + "sh8"), st.delay(zero, 1, n + "zero8")
        s_int = st.reg(s_val8 + (s_prod >> ns), n + "s_int")             # 9
        shift, zero = st.delay(shift, 1, n + "sh9"), st.delay(zero, 1, n + "zero9")
        r = st10.reg(Mux(zero, 0, s_int >> shift)[:fmt.r_bits], n + "r")  # 10
        return r

    def _trig(self, m: Module, st: Stages, st10: Stages, u2: Value, n: str) -> tuple[Value, Value]:
        """The angle path: u2 delayed 6 clocks, then stages 7-10 (stage 10 registered by
        ``st10``) -> (cos, sin), signed."""
        cfg, fmt = self.cfg, self.fmt
        B = cfg.word_bits
        u2 = st.delay(u2, 6, n + "u2")
        q, phi = u2[B - 2:], u2[:B - 2]
        nf = B - 1 - fmt.trig_bits
        rom = TableRom(m, sine_table(cfg), self.en, n + "sin_rom")
        values = []
        for which, ph in (("s", phi), ("c", ~phi)):
            pos = Cat(Const(1, 1), ph)                                   # 2 phi + 1
            val, slope = rom.read(pos[nf:])                              # 7
            fr = st.reg(pos[:nf], n + "fr_" + which)
            prod = st.reg(slope * fr + half_lsb(nf), n + "prod_" + which)               # 8
            val8 = st.reg(val, n + "val_" + which)
            values.append(st.reg(val8 + (prod >> nf), n + "mag_" + which))  # 9
        s, c = values
        q = st.delay(q, 3, n + "q")
        swap, cos_neg, sin_neg = q[0], q[0] ^ q[1], q[1]
        cos_mag, sin_mag = Mux(swap, s, c), Mux(swap, c, s)
        cos_v = st10.reg(Mux(cos_neg, -cos_mag, cos_mag), n + "cos")    # 10
        sin_v = st10.reg(Mux(sin_neg, -sin_mag, sin_mag), n + "sin")
        return cos_v, sin_v

    def _unit(self, m: Module, st: Stages, st10: Stages, u1: Value, u2: Value, n: str,
              sin_select: Value | None) -> list[Value]:
        """(r cos, r sin) of one unit; with ``sin_select`` (half rate) one output that is
        r sin when ``sin_select`` is 1 at the product stage and r cos otherwise."""
        cfg, fmt = self.cfg, self.fmt
        r = self._radius(m, st, st10, u1, n)
        cos_v, sin_v = self._trig(m, st, st10, u2, n)
        sh = fmt.out_shift
        rounding = 1 << (sh - 1)
        r_max = math.isqrt((log2_multiples(cfg)[-1] + 1) << (2 * fmt.r_frac - fmt.w_frac)) + 8
        bound = (r_max * (1 << fmt.trig_frac) + rounding) >> sh
        trigs = (("zc", cos_v), ("zs", sin_v)) if sin_select is None else (("z", Mux(sin_select, sin_v, cos_v)),)
        outs = []
        for name, trig in trigs:
            prod = st.reg(r * trig, n + name + "_prod")                  # 11
            rounded = (prod + rounding) >> sh
            outs.append(st.reg(saturate(rounded, cfg.word_bits, -bound, bound), n + name))  # 12
        return outs


class BoxMullerGaussian(GaussianSource):
    """Box-Muller Gaussian baseline with the common perturbation-source interface.

    An LfsrBank of K = P lanes feeds a :class:`BoxMullerCore`; every word equals
    ``pezo.ref.gaussian.box_muller.BoxMullerGaussian(cfg, seed_in).samples(t, n)``.
    See :class:`pezo.hw.gaussian.source.GaussianSource` for ``start`` / ``seed`` / ``z``;
    latency from start(t) to the first word: 2 + J + core latency (12, 13 at P = 1) clocks.
    """

    def __init__(self, cfg: PezoConfig):
        super().__init__(cfg, cfg.parallel, BoxMullerCore(cfg))
