"""Constants and ROM contents of the Gaussian baselines, shared by ref/ and hw/.

Everything here is a pure function of a :class:`PezoConfig`; the golden models
(ref/gaussian/clt.py, ref/gaussian/box_muller.py) compute with these integers and the
RTL (hw/gaussian/) puts the same integers into its constant multipliers and ROMs, so the
two agree bit for bit by construction.

Interpolated tables: a table of ``2**A`` entries over [0, 1) samples a function g at
``i / 2**A``; entry i holds ``(value, slope)`` with ``value = round(g(i / 2**A) * 2**H)``
and ``slope = value[i + 1] - value[i]`` (the next sample, also rounded), both unsigned
because every tabulated g is increasing. A fraction x with N bits (A <= N) is looked up
as ``value[x >> (N - A)] + ((slope * (x & (2**(N-A) - 1)) + half) >> (N - A))`` with
``half = 2**(N-A-1)`` (0 when N = A): the interpolated step is rounded half up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from pezo.ref.config import PezoConfig

#: Fractional bits of the CLT scale constant sqrt(3/k).
CLT_SCALE_BITS = 12


# CLT


@dataclass(frozen=True)
class CltScale:
    """The CLT scale sqrt(3/k) * 2**(F-B) as ``z = (S * mult + 2**(shift-1)) >> shift``.

    ``mult = round(sqrt(3/k) * 2**CLT_SCALE_BITS)`` with its trailing zero bits removed
    (``shift`` reduced by as many), so that k = 3 and k = 12 need no multiplier at all.
    ``digits`` is ``mult`` in canonical signed-digit form: (sign, bit) pairs whose sum of
    ``sign << bit`` is ``mult``; the RTL adds ``sign * (S << bit)`` for each.
    """

    mult: int
    shift: int
    digits: tuple[tuple[int, int], ...]


def csd(n: int) -> tuple[tuple[int, int], ...]:
    """Canonical signed-digit form of n > 0: ((sign, bit), ...), no two adjacent bits."""
    digits = []
    bit = 0
    while n:
        if n & 1:
            sign = 2 - (n & 3)  # +1 when n = ...01, -1 when n = ...11
            digits.append((sign, bit))
            n -= sign
        n >>= 1
        bit += 1
    return tuple(digits)


@lru_cache(maxsize=None)
def clt_scale(cfg: PezoConfig) -> CltScale:
    mult = round(math.sqrt(3.0 / cfg.clt_k) * (1 << CLT_SCALE_BITS))
    shift = CLT_SCALE_BITS + cfg.word_bits - cfg.frac_bits
    while mult % 2 == 0:
        mult //= 2
        shift -= 1
    return CltScale(mult, shift, csd(mult))


# Box-Muller


@dataclass(frozen=True)
class BoxMullerFormat:
    """Internal fixed-point formats of the Box-Muller baseline (all derived from B, F).

    ``log_bits``, ``sqrt_bits``, ``trig_bits``: table address bits actually used (the
    config's ``bm_*_table_bits``, capped by the fraction bits available: B for ln,
    ``sqrt_in_bits`` for sqrt, B - 2 for the quarter-wave angle).
    ``w_frac`` (G = F + 4): fractional bits of w = -2 ln x1, unsigned, ``w_bits`` bits in
    all (``w_int`` integer bits, enough for the largest w = 2 B ln 2).
    ``sqrt_frac`` (Hs): fractional bits of the sqrt tables' values in [1, 2).
    ``r_frac`` (F + 2): fractional bits of the radius r, unsigned, ``r_bits`` bits.
    ``trig_frac`` (F + 4): fractional bits of the sine table, values in [0, 1] (r up to
    about 4.7 multiplies its error, so it has two more bits than r).
    ``out_shift``: r * cos has ``r_frac + trig_frac`` fractional bits; it is rounded half
    up by this shift to the F of the output word.
    """

    word_bits: int
    frac_bits: int
    log_bits: int
    sqrt_bits: int
    trig_bits: int
    w_frac: int
    w_int: int
    sqrt_frac: int
    r_frac: int
    trig_frac: int

    @property
    def w_bits(self) -> int:
        return self.w_int + self.w_frac

    @property
    def mant_bits(self) -> int:
        """Fraction bits of the normalised w mantissa (below its leading one)."""
        return self.w_bits - 1

    @property
    def sqrt_in_bits(self) -> int:
        """Top mantissa bits used by the sqrt lookup (the rest is below its precision)."""
        return min(self.mant_bits, self.sqrt_frac)

    @property
    def half_max(self) -> int:
        """Largest floor(d / 2) of a normalised w = 2**d * (1 + g)."""
        return (self.w_int - 1) // 2

    @property
    def r_shift_max(self) -> int:
        """Largest right shift from the sqrt table value to r (d = -G)."""
        return self.half_max + (self.w_frac + 1) // 2

    @property
    def r_bits(self) -> int:
        """Bits of r: the sqrt table value (< 2**(Hs+1)) shifted right by >= 0."""
        return self.sqrt_frac + 1

    @property
    def out_shift(self) -> int:
        return self.r_frac + self.trig_frac - self.frac_bits


@lru_cache(maxsize=None)
def bm_format(cfg: PezoConfig) -> BoxMullerFormat:
    B, F = cfg.word_bits, cfg.frac_bits
    w_frac = F + 4
    w_int = max(1, math.floor(2 * B * math.log(2))).bit_length()
    mant_bits = w_int + w_frac - 1
    r_frac = F + 2
    return BoxMullerFormat(
        word_bits=B, frac_bits=F,
        log_bits=min(cfg.bm_log_table_bits, B),
        sqrt_bits=min(cfg.bm_sqrt_table_bits, mant_bits, r_frac + (w_int - 1) // 2),
        trig_bits=min(cfg.bm_trig_table_bits, B - 2),
        w_frac=w_frac, w_int=w_int,
        sqrt_frac=r_frac + (w_int - 1) // 2,
        r_frac=r_frac, trig_frac=F + 4)


def interpolated_table(g, address_bits: int, value_frac: int) -> tuple[tuple[int, int], ...]:
    """((value, slope), ...) of g sampled at i / 2**A, i < 2**A, values * 2**value_frac."""
    n = 1 << address_bits
    samples = [round(g(i / n) * (1 << value_frac)) for i in range(n + 1)]
    return tuple((samples[i], samples[i + 1] - samples[i]) for i in range(n))


@lru_cache(maxsize=None)
def log_table(cfg: PezoConfig) -> tuple[tuple[int, int], ...]:
    """2 ln(1 + f) for f in [0, 1), G fractional bits (``log_bits`` address bits)."""
    fmt = bm_format(cfg)
    return interpolated_table(lambda f: 2.0 * math.log1p(f), fmt.log_bits, fmt.w_frac)


@lru_cache(maxsize=None)
def log2_multiples(cfg: PezoConfig) -> tuple[int, ...]:
    """round(2 n ln 2 * 2**G) for n = 0..B (n = B - e, e the exponent of u1 + 1)."""
    fmt = bm_format(cfg)
    return tuple(round(2 * n * math.log(2) * (1 << fmt.w_frac)) for n in range(cfg.word_bits + 1))


@lru_cache(maxsize=None)
def sqrt_table(cfg: PezoConfig) -> tuple[tuple[int, int], ...]:
    """sqrt(1 + g) (entries 0 .. 2**S - 1) then sqrt(2 (1 + g)) (entries 2**S ..), for
    g in [0, 1): the address is {parity of the exponent, top S bits of g}. Values in
    [1, 2) with Hs fractional bits."""
    fmt = bm_format(cfg)
    even = interpolated_table(lambda g: math.sqrt(1.0 + g), fmt.sqrt_bits, fmt.sqrt_frac)
    odd = interpolated_table(lambda g: math.sqrt(2.0 * (1.0 + g)), fmt.sqrt_bits, fmt.sqrt_frac)
    return even + odd


@lru_cache(maxsize=None)
def sine_table(cfg: PezoConfig) -> tuple[tuple[int, int], ...]:
    """sin(pi/2 * x) for x in [0, 1) (quarter wave), ``trig_frac`` fractional bits."""
    fmt = bm_format(cfg)
    return interpolated_table(lambda x: math.sin(0.5 * math.pi * x), fmt.trig_bits, fmt.trig_frac)


def table_words(table: tuple[tuple[int, int], ...]) -> tuple[tuple[int, ...], int, int]:
    """(ROM words, value bits, slope bits): word = value | slope << value_bits."""
    vbits = max(1, max(v for v, _ in table).bit_length())
    sbits = max(1, max(s for _, s in table).bit_length())
    return tuple(v | (s << vbits) for v, s in table), vbits, sbits
