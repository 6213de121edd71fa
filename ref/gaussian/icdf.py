"""Bit-exact model of the inverse-CDF Gaussian generator (hw/gaussian/icdf.py).

The method is the segmented piecewise-polynomial inversion of Lee, Cheung, Villasenor
and Luk ("A hardware Gaussian noise generator using the inverse CDF", FPT 2006): a
uniform number is mapped through a polynomial approximation of the inverse normal CDF
whose segments get denser towards the tail. Written here from that description.

Constants: U = ``UNIFORM_BITS`` = 32 uniform bits per sample (enough for 6.3 sigma),
S = ``SEGMENT_BITS`` = 4 (16 uniform subsegments per octave), G = ``GUARD_BITS`` = 3.
With B = word_bits and F = frac_bits: C = F + G fractional bits of the coefficients and
of the Horner sums, T = max(1, min(C, 30) - S) fraction bits of the polynomial input.

1. **Uniform bits.** The bank's lanes give L-bit words, L independent of B
   (:func:`sample_lanes`): L = 32 and m = 1 lane per output when W >= 32 (the default
   W = 48), otherwise the fewest m = ceil(32 / W) lanes of L = ceil(32 / m) bits (L
   raised while the LFSR would put such lanes close, ``pezo.ref.lfsr.close_lanes``).
   Output p of a clock takes lanes m*p .. m*p + m - 1 of that clock, lane m*p most
   significant; the top U bits of their m*L-bit concatenation are the sample's uniform
   ``u`` (unsigned 32 bits).
2. **Symmetry.** ``sign`` = bit 31 of u; ``a`` = u mod 2**31. The sample magnitude is
   x(a) = Phi^-1(1 - q) with the tail probability q = (a + 1/2) / 2**32 in (0, 1/2):
   small a is the far tail (a = 0 gives 6.34).
3. **Segment by leading zeros.** ``e`` = leading zeros of the 31-bit a (31 for a = 0);
   ``n = (a << e) mod 2**31`` (the leading one at bit 30, or n = 0). The segment
   address is ``e * 2**S + j`` with j = bits 29 .. 30-S of n (16 uniform subsegments of
   the octave [2**(30-e), 2**(31-e))); the fraction ``f`` = bits 29-S .. 30-S-T of n,
   unsigned T bits (low bits of a below them are dropped, zeros shifted in when the
   octave has fewer bits).
4. **Degree-2 polynomial by Horner**, coefficients (c0, c1, c2) from the ROM of 32 * 2**S
   words (:func:`icdf_table`), c0 unsigned, c1 and c2 signed, all with C fractional
   bits; ``>>`` is an arithmetic (floor) shift::

       y1  = c1 + ((c2 * f) >> T)
       y2  = c0 + ((y1 * f) >> T)          # x * 2**C + 2**(G-1)
       mag = y2 >> G                       # x rounded half up to F bits, 0 <= mag < 6.4 * 2**F
       z   = -mag if sign else mag         # signed B bits (B - F >= 4: no saturation)

Coefficients: for every reachable segment the inputs that share one (e, j, f) form a
bucket of consecutive a; its target is x at the bucket's probability centre. c2 and c1
are the least-squares fit over up to 65 buckets spread over the segment (all of them
when fewer), rounded to C bits; c0 then centres the integer Horner result on the
targets (minimax on those buckets) and carries the rounding constant 2**(G-1) of step 4.
Segments with one bucket hold the rounded target in c0.
Unreachable addresses hold zeros. The inverse normal CDF comes from Newton's method on
ln(erfc) (``math.erfc``), so no special-function library is needed.

With these constants every output is within 0.75 LSB of 2**F x (the rounding's 0.5
included; tests/test_ref_icdf.py), the largest output is 6.34 (reached at a = 0), and
the exact output distribution (:func:`icdf_distribution`, every bucket with its weight,
about 2**(S+T) per octave) gives the KS distance and tail rates without sampling.

Throughput of the modelled RTL: P words per clock from K = m * P lanes (P for W >= 32).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pezo.errors import PezoError
from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank, close_lanes

#: Uniform bits per sample: the far tail q = 2**-33 is x = 6.34.
UNIFORM_BITS = 32
#: Bits of a (the magnitude part of u).
MAG_BITS = UNIFORM_BITS - 1
#: S: subsegment bits per octave (16 uniform subsegments). With G = 3 a ROM word is
#: 36 bits at F = 12 and the ROM 512 deep: one 512 x 36 block RAM (a Xilinx RAMB18).
SEGMENT_BITS = 4
#: G: guard bits of the coefficients and Horner sums beyond the output's F.
GUARD_BITS = 3
#: Octaves of a (leading-zero counts 0 .. 30) plus the a = 0 segment.
OCTAVES = MAG_BITS + 1
#: Largest C = F + G whose exact law :func:`icdf_distribution` enumerates (2**C buckets
#: per octave; C = 15 at the default F = 12).
MAX_EXACT_COEF_FRAC = 18
#: Buckets per segment used by the least-squares fit.
FIT_POINTS = 65


def inverse_tail(q: float) -> float:
    """x >= 0 with P(X > x) = q for X ~ N(0, 1), q in (0, 1/2]: Newton on ln Q(x)."""
    x = math.sqrt(-2.0 * math.log(2.0 * q)) if q < 0.5 else 0.0
    for _ in range(100):
        tail = 0.5 * math.erfc(x / math.sqrt(2.0))
        density = math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        dx = (math.log(tail) - math.log(q)) * tail / density
        x += dx
        if abs(dx) <= 1e-15 * max(1.0, x):
            break
    return x


def sample_lanes(width: int) -> tuple[int, int]:
    """(m, L): m lanes of L-bit words per sample for an LFSR of width W (step 1)."""
    lanes = -(-UNIFORM_BITS // width)
    while True:
        for bits in range(-(-UNIFORM_BITS // lanes), width + 1):
            if close_lanes(width, bits) is None:
                return lanes, bits
        lanes += 1


@dataclass(frozen=True)
class IcdfTable:
    """The coefficient ROM and fixed-point formats for one F (see the module docstring).

    ``coefficients[address] = (c0, c1, c2)``; ``c0_bits`` (unsigned), ``c1_bits`` and
    ``c2_bits`` (signed, two's complement) are the field widths of a ROM word
    ``c0 | c1 << c0_bits | c2 << (c0_bits + c1_bits)`` (:meth:`words`).
    """

    frac_bits: int
    coef_frac: int
    fraction_bits: int
    coefficients: tuple[tuple[int, int, int], ...]
    c0_bits: int
    c1_bits: int
    c2_bits: int

    @property
    def depth(self) -> int:
        return len(self.coefficients)

    def words(self) -> tuple[int, ...]:
        """ROM words: c0 | c1 << c0_bits | c2 << (c0_bits + c1_bits), fields two's complement."""
        w0, w1, w2 = self.c0_bits, self.c1_bits, self.c2_bits
        return tuple(c0 | ((c1 & ((1 << w1) - 1)) << w0) | ((c2 & ((1 << w2) - 1)) << (w0 + w1))
                     for c0, c1, c2 in self.coefficients)


def _signed_bits(values: list[int]) -> int:
    """Bits of the narrowest two's complement holding every value."""
    return 1 + max(max(v, ~v).bit_length() for v in values)


def segment_buckets(e: int, j: int, fraction_bits: int) -> tuple[int, int, int] | None:
    """(first a, a per bucket, buckets) of segment (e, j), or None when no a reaches it.

    Bucket i covers a in [first + i * size, first + (i + 1) * size) and has fraction
    f = i * 2**T / buckets."""
    S, T = SEGMENT_BITS, fraction_bits
    if e == MAG_BITS:
        return (0, 1, 1) if j == 0 else None
    k = MAG_BITS - 1 - e                          # position of the leading one of a
    if k < S:
        if j % (1 << (S - k)):
            return None
        return ((1 << k) + (j >> (S - k)), 1, 1)
    first = ((1 << S) + j) << (k - S)
    buckets = 1 << min(k - S, T)
    return first, (1 << (k - S)) // buckets, buckets


def _horner(c0, c1, c2, f, fraction_bits: int):
    """y2 = c0 + ((c1 + ((c2 * f) >> T)) * f >> T), int64 (numpy arrays or ints)."""
    y1 = c1 + ((c2 * f) >> fraction_bits)
    return c0 + ((y1 * f) >> fraction_bits)


def _fit_segment(first: int, size: int, buckets: int, fraction_bits: int,
                 coef_frac: int) -> tuple[int, int, int]:
    T, scale = fraction_bits, float(1 << coef_frac)
    index = np.unique(np.linspace(0, buckets - 1, min(buckets, FIT_POINTS)).round().astype(np.int64))
    f = index * ((1 << T) // buckets)
    target = np.array([inverse_tail((first + i * size + size / 2.0) / 2.0 ** UNIFORM_BITS)
                       for i in index.tolist()]) * scale
    half = 1 << (GUARD_BITS - 1)
    degree = min(2, len(index) - 1)
    if degree == 0:
        return int(round(target[0])) + half, 0, 0
    fit = np.polyfit(f / float(1 << T), target, degree)[::-1]
    c1 = int(round(fit[1]))
    c2 = int(round(fit[2])) if degree == 2 else 0
    residual = target - _horner(0, c1, c2, f, T)
    return int(round(0.5 * (residual.max() + residual.min()))) + half, c1, c2


@lru_cache(maxsize=None)
def icdf_table(frac_bits: int) -> IcdfTable:
    """Coefficients of every segment for output fraction bits F (pure function of F)."""
    coef_frac = frac_bits + GUARD_BITS
    fraction_bits = max(1, min(coef_frac, MAG_BITS - 1) - SEGMENT_BITS)
    rows = []
    for address in range(OCTAVES << SEGMENT_BITS):
        e, j = address >> SEGMENT_BITS, address & ((1 << SEGMENT_BITS) - 1)
        seg = segment_buckets(e, j, fraction_bits)
        rows.append((0, 0, 0) if seg is None else _fit_segment(*seg, fraction_bits, coef_frac))
    c0 = [r[0] for r in rows]
    return IcdfTable(frac_bits=frac_bits, coef_frac=coef_frac, fraction_bits=fraction_bits,
                     coefficients=tuple(rows), c0_bits=max(c0).bit_length(),
                     c1_bits=_signed_bits([r[1] for r in rows]), c2_bits=_signed_bits([r[2] for r in rows]))


def leading_zeros(a: np.ndarray) -> np.ndarray:
    """Leading zeros of 31-bit values (31 for 0), int64, vectorised."""
    a = np.asarray(a, dtype=np.int64)
    n = np.zeros(a.shape, dtype=np.int64)
    for s in (16, 8, 4, 2, 1):
        big = (a >> (n + s)) > 0
        n += np.where(big, s, 0)
    return np.where(a > 0, MAG_BITS - 1 - n, MAG_BITS)


def segment_and_fraction(a: np.ndarray, table: IcdfTable) -> tuple[np.ndarray, np.ndarray]:
    """(ROM address e * 2**S + j, fraction f) of 31-bit magnitudes a (step 3)."""
    a = np.asarray(a, dtype=np.int64)
    e = leading_zeros(a)
    n = (a << e) & ((1 << MAG_BITS) - 1)
    below = MAG_BITS - 1 - SEGMENT_BITS
    j = (n >> below) & ((1 << SEGMENT_BITS) - 1)
    f = (n >> (below - table.fraction_bits)) & ((1 << table.fraction_bits) - 1)
    return (e << SEGMENT_BITS) | j, f


def magnitude(a: np.ndarray, frac_bits: int) -> np.ndarray:
    """mag = round(2**F x(a)) as the RTL computes it (steps 3-4 without the sign), int64."""
    table = icdf_table(frac_bits)
    address, f = segment_and_fraction(a, table)
    coef = np.array(table.coefficients, dtype=np.int64)[address]
    return _horner(coef[..., 0], coef[..., 1], coef[..., 2], f, table.fraction_bits) >> GUARD_BITS


def uniform_samples(u: np.ndarray, lanes: int, lane_bits: int) -> np.ndarray:
    """u of shape (clocks, m * P) L-bit lane words (m = ``lanes``, L = ``lane_bits``) ->
    (clocks, P) 32-bit uniforms (step 1)."""
    u = np.asarray(u, dtype=np.int64)
    groups = u.reshape(u.shape[0], -1, lanes)
    joined = np.zeros(groups.shape[:2], dtype=np.int64)
    for i in range(lanes):
        joined = (joined << lane_bits) | groups[:, :, i]
    return joined >> (lanes * lane_bits - UNIFORM_BITS)


def icdf_transform(u32: np.ndarray, frac_bits: int) -> np.ndarray:
    """Signed outputs (F fraction bits, int64) of 32-bit uniforms (steps 2-4)."""
    u32 = np.asarray(u32, dtype=np.int64)
    mag = magnitude(u32 & ((1 << MAG_BITS) - 1), frac_bits)
    return np.where((u32 >> MAG_BITS) & 1, -mag, mag)


def icdf_words(u: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """Outputs of one or more clocks: u of shape (clocks, K) -> z of shape (clocks, P)."""
    return icdf_transform(uniform_samples(u, *sample_lanes(cfg.lfsr_width)), cfg.frac_bits)


def icdf_distribution(frac_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact output law: (magnitudes, probabilities) over every bucket of a, each
    magnitude with the probability of its a values (sum 1); z is +-mag with 1/2 each.
    PezoError when F + G exceeds ``MAX_EXACT_COEF_FRAC`` (too many buckets)."""
    table = icdf_table(frac_bits)
    if table.coef_frac > MAX_EXACT_COEF_FRAC:
        raise PezoError(f"the exact icdf law enumerates 2**{table.coef_frac} buckets per octave; "
                        f"it is computed for frac_bits <= {MAX_EXACT_COEF_FRAC - GUARD_BITS}")
    firsts, weights = [], []
    for address in range(table.depth):
        seg = segment_buckets(address >> SEGMENT_BITS, address & ((1 << SEGMENT_BITS) - 1),
                              table.fraction_bits)
        if seg is not None:
            first, size, buckets = seg
            firsts.append(first + size * np.arange(buckets, dtype=np.int64))
            weights.append(np.full(buckets, float(size)))
    mags = magnitude(np.concatenate(firsts), frac_bits)
    values, inverse = np.unique(mags, return_inverse=True)
    prob = np.bincount(inverse, weights=np.concatenate(weights)) / float(1 << MAG_BITS)
    return values, prob


def max_output(frac_bits: int) -> float:
    """Largest |z| / 2**F over every input (every bucket of every reachable segment)."""
    return float(icdf_distribution(frac_bits)[0].max()) / (1 << frac_bits)


class IcdfGaussian:
    """Golden model of the inverse-CDF generator for one config and runtime ``seed_in``.

    Throughput of the modelled RTL: P words per clock from K = m * P lanes of L bits
    (:func:`sample_lanes`: m = 1, L = 32 for W >= 32).
    """

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        self.cfg = cfg
        self.seed_in = seed_in
        per_sample, self.lane_bits = sample_lanes(cfg.lfsr_width)
        self.lanes = per_sample * cfg.parallel
        self.bank = LfsrBank(cfg.lfsr_width, self.lane_bits, self.lanes, cfg.seed, seed_in)
        icdf_table(cfg.frac_bits)

    def samples(self, step: int, n: int) -> np.ndarray:
        """The first n words after start(step): int64 signed B-bit words, F frac bits."""
        clocks = -(-n // self.cfg.parallel)
        self.bank.load(step)
        return icdf_words(self.bank.words(clocks), self.cfg).reshape(-1)[:n]

    def samples_real(self, step: int, n: int) -> np.ndarray:
        """The same words as float64 real values (z / 2**F)."""
        return self.samples(step, n) * (1.0 / (1 << self.cfg.frac_bits))
