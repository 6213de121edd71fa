"""Bit-exact model of the Box-Muller baseline (hw/gaussian/box_muller.py).

With B = word_bits and F = frac_bits, the formats of :func:`pezo.ref.gaussian.tables.
bm_format` (G = F + 4 fractional bits of w, Hs of the sqrt table, F + 2 of r, F + 4 of the
sine table) and the tables of ref/gaussian/tables.py, one pair of outputs comes from
two uniform words u1 (radius) and u2 (angle), unsigned B bits:

1. **ln by normalisation.** ``a = u1 + 1`` in [1, 2**B] (so x1 = a / 2**B is in (0, 1]);
   ``e = bit_length(a) - 1``; ``f = (a << (B - e)) mod 2**B`` (B fraction bits, a =
   2**e (1 + f)); then w = -2 ln x1 = 2 (B - e) ln 2 - 2 ln(1 + f) with G fraction bits::

       W = log2_multiples[B - e] - interp(log_table, f)        # unsigned, >= 0

2. **sqrt by normalisation.** For W = 0, r = 0. Otherwise ``e' = bit_length(W) - 1``,
   ``d = e' - G`` (w = 2**d (1 + g)), ``g`` the top ``sqrt_in_bits`` (= Hs) bits below
   the leading one; the sqrt table (address {d mod 2, top S bits of g}) gives sqrt(2**(d mod 2)
   (1 + g)) with Hs fraction bits, and ``r = value >> (half_max - floor(d / 2))``
   (truncation), F + 2 fraction bits.
3. **sin / cos of 2 pi (u2 + 1/2) / 2**B by quarter wave.** ``q`` = top two bits of u2,
   ``phi`` the other B - 2; the sine table is read at positions (2 phi + 1) / 2**(B-1)
   (sin) and at its mirror (2 ~phi + 1) / 2**(B-1) (cos), interpolated; quadrant q maps
   (C, S) to cos = (C, -S, -C, S)[q] and sin = (S, C, -S, -C)[q]. The half-LSB angle
   offset makes the mirror exact, so one table serves both.
4. **Outputs** ``round(r * cos)`` and ``round(r * sin)``: the product has (F+2) + (F+4)
   fraction bits, rounded half up by ``out_shift`` bits, saturated to signed B bits.

Every table interpolation rounds half up (ref/gaussian/tables.py). With the default
tables (8 address bits each) every output is within 1 LSB of the exact Box-Muller
transform of the same (u1, u2) (tests/test_ref_gaussian.py). The interpolation products
(slope x fraction: 8, 8 and 7 fraction bits for ln, sqrt and sine at B = 16) are sized
to that bound: cutting every fraction by two bits takes r out of its 2-LSB bound, and
by one bit leaves no margin (output error 0.96 LSB on 2e5 random pairs against 0.88).

Lanes: the bank has K = P lanes loaded for the step (STEP domain), and both outputs of
every (u1, u2) pair are used. The words of the clocks, read in order (clock by clock, lane
by lane), are taken two at a time: u1 then u2. For P >= 2 (even), pair j of a clock is
lanes (2j, 2j + 1) and gives output elements 2j (r cos) and 2j + 1 (r sin) of that
clock. For P = 1 the single lane's words of clocks 2i and 2i + 1 are one pair, whose
r cos is the word of clock 2i and r sin the word of clock 2i + 1: one pair every two
clocks, one word per clock.
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.gaussian.tables import (bm_format, log2_multiples, log_table,
                                      sine_table, sqrt_table)
from pezo.ref.lfsr import LfsrBank


def bit_length(x: np.ndarray) -> np.ndarray:
    """Bit length of non-negative int64 values (0 for 0), vectorised."""
    x = np.asarray(x, dtype=np.int64)
    n = np.zeros(x.shape, dtype=np.int64)
    for s in (32, 16, 8, 4, 2, 1):
        big = (x >> (n + s)) > 0
        n += np.where(big, s, 0)
    return n + (x > 0)


def lookup(table: tuple[tuple[int, int], ...], address: np.ndarray, frac: np.ndarray,
           frac_bits: int) -> np.ndarray:
    """value[address] + ((slope[address] * frac + half) >> frac_bits), int64, with
    half = 2**(frac_bits - 1) (0 when frac_bits = 0): rounded interpolation."""
    arr = np.array(table, dtype=np.int64)
    return arr[address, 0] + ((arr[address, 1] * frac + half_lsb(frac_bits)) >> frac_bits)


def half_lsb(bits: int) -> int:
    """2**(bits - 1), or 0 for bits = 0: the rounding constant of a right shift by bits."""
    return (1 << bits) >> 1


def _mask(bits: int) -> int:
    return (1 << bits) - 1


def radius(u1: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """r = sqrt(-2 ln((u1 + 1) / 2**B)) with F + 2 fraction bits (int64), steps 1-2."""
    fmt = bm_format(cfg)
    B = cfg.word_bits
    a = np.asarray(u1, dtype=np.int64) + 1
    e = bit_length(a) - 1
    f = (a << (B - e)) & _mask(B)
    nf = B - fmt.log_bits
    w = (np.array(log2_multiples(cfg), dtype=np.int64)[B - e]
         - lookup(log_table(cfg), f >> nf, f & _mask(nf), nf))
    zero = w == 0
    w = np.where(zero, 1, w)
    e2 = bit_length(w) - 1
    d = e2 - fmt.w_frac
    g = ((w << (fmt.mant_bits - e2)) & _mask(fmt.mant_bits)) >> (fmt.mant_bits - fmt.sqrt_in_bits)
    ns = fmt.sqrt_in_bits - fmt.sqrt_bits
    address = ((d & 1) << fmt.sqrt_bits) | (g >> ns)
    value = lookup(sqrt_table(cfg), address, g & _mask(ns), ns)
    r = value >> (fmt.half_max - (d >> 1))
    return np.where(zero, 0, r)


def cos_sin(u2: np.ndarray, cfg: PezoConfig) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of 2 pi (u2 + 1/2) / 2**B, signed, F + 4 fraction bits (step 3)."""
    fmt = bm_format(cfg)
    B = cfg.word_bits
    u2 = np.asarray(u2, dtype=np.int64)
    q = u2 >> (B - 2)
    phi = u2 & _mask(B - 2)
    nf = B - 1 - fmt.trig_bits
    pos_s = 2 * phi + 1
    pos_c = 2 * (phi ^ _mask(B - 2)) + 1
    table = sine_table(cfg)
    s = lookup(table, pos_s >> nf, pos_s & _mask(nf), nf)
    c = lookup(table, pos_c >> nf, pos_c & _mask(nf), nf)
    swap = (q & 1) == 1
    cos_mag, sin_mag = np.where(swap, s, c), np.where(swap, c, s)
    cos_neg = ((q >> 1) ^ (q & 1)) == 1
    sin_neg = (q >> 1) == 1
    return np.where(cos_neg, -cos_mag, cos_mag), np.where(sin_neg, -sin_mag, sin_mag)


def round_output(product: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """Round r * trig (2F + 6 fraction bits) half up to F bits, saturate to B bits."""
    sh = bm_format(cfg).out_shift
    lo, hi = -(1 << (cfg.word_bits - 1)), (1 << (cfg.word_bits - 1)) - 1
    return np.clip((product + (1 << (sh - 1))) >> sh, lo, hi).astype(np.int64)


def box_muller_words(u: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """Outputs of one or more clocks: u of shape (clocks, K = P) -> z of shape (clocks, P).

    The words in order are pairs (u1, u2), each giving (r cos, r sin) in their place (see
    the module docstring); for P = 1 ``clocks`` must be even."""
    u = np.asarray(u, dtype=np.int64)
    if u.size % 2:
        raise ValueError("Box-Muller needs an even number of uniform words (pairs)")
    pairs = u.reshape(-1, 2)
    r = radius(pairs[:, 0], cfg).astype(object)
    c, s = cos_sin(pairs[:, 1], cfg)
    zc, zs = round_output(r * c, cfg), round_output(r * s, cfg)
    return np.stack([zc, zs], axis=-1).reshape(u.shape)


class BoxMullerGaussian:
    """Golden model of the Box-Muller baseline for one config and runtime ``seed_in``.

    Throughput of the modelled RTL: P words per clock from K = P lanes.
    """

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        bm_format(cfg)
        self.cfg = cfg
        self.seed_in = seed_in
        self.lanes = cfg.parallel
        self.bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, self.lanes, cfg.seed, seed_in)

    def samples(self, step: int, n: int) -> np.ndarray:
        """The first n words after start(step): int64 signed B-bit words, F frac bits."""
        clocks = -(-n // self.cfg.parallel)
        clocks += clocks % 2 if self.cfg.parallel == 1 else 0
        self.bank.load(step)
        return box_muller_words(self.bank.words(clocks), self.cfg).reshape(-1)[:n]

    def samples_real(self, step: int, n: int) -> np.ndarray:
        """The same words as float64 real values (z / 2**F)."""
        return self.samples(step, n) * (1.0 / (1 << self.cfg.frac_bits))
