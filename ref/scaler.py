"""Bit-exact model of the adaptive uniform scaler (centring, moment estimate, shift-add).

With B = word_bits, F = frac_bits, M = mantissa_bits, T = moment_bits, sh = B + M - F:

1. **Centring** of a uniform word u (unsigned, B bits)::

       v = 2*u + 1 - 2**B        # signed, B+1 bits, odd, symmetric, mean 0

   In hardware this is free wiring: v = {~u[B-1], u[B-2:0], 1} in two's complement.
2. **Second-moment estimate** over n words: ``q = |v| >> (B - T)`` (T bits, unsigned)
   and ``acc = sum(q*q + q)`` (unsigned). Since |v| = (q + f) * 2**(B-T) with f in
   [0, 1), ``sum(v**2) ~= 2**(2*(B-T)) * (acc + n/3)``.
3. **Adaptive mantissa**: the scale is ``mant / 2**M`` times ``2**(F-B)`` with
   ``mant`` in [2**M, 2**(M+1) - 1]. It is chosen so that ``sum(z**2) ~= n * 4**F``
   (unit variance): between mantissas m and m+1 the boundary is where
   ``m*(m+1) * 2**(2*(B-T)) * (acc + n/3) = n * 4**(F + sh)``, giving integer thresholds
   ``theta[m]`` (:func:`mantissa_thresholds`), and::

       mant = 2**M + #{m in [2**M, 2**(M+1) - 1) : acc < theta[m]}

   The thresholds are constants of (config, n), computed here and used by the RTL.
4. **Shift-add application**: ``z = (v * mant + 2**(sh-1)) >> sh`` (arithmetic shift,
   so rounding is half-up), a signed B-bit word with F fractional bits. ``v * mant`` is
   built in hardware from shifted copies of ``v`` (M+1 terms), never a general
   multiplier.
5. **Pool fill** (``pool`` strategy, :func:`fill_pool`), from W fill words v_k: ``acc
   = sum(q*q + q)`` over them as in 2, ``mant = select_mantissa(acc, W)`` and
   ``pool[k] = apply_scale(v_k, mant)``. Two layouts of the N pool words:

   * antithetic (``pezo-pool``, W = N/2)::

         pool[k] = apply_scale(v_k, mant),   pool[k + N/2] = apply_scale(-v_k, mant) = -pool[k]

     -v_k is the centred value of the complemented word ~u_k, and the rounding is odd
     (v*mant is never an exact half: v is odd and mant < 2**(M+1) <= 2**(sh-1)), so
     the pool is exactly zero-sum with no mean pass or subtractor, and every word's
     mean is exactly 0 (no half-LSB bias). The second moment of the pool is the one of
     its N/2 words, which the mantissa normalises.
   * plain (``paper-pool``, W = N): N independent words, ``pool[k] = apply_scale(v_k,
     mant)`` for k < N, no negation and no mean subtraction (the pool's mean is the
     sample mean of N uniforms, each word's mean exactly 0 by the odd rounding).

   |z| < 2**(F+1) <= 2**(B-3): no overflow. The hardware runs this sequentially
   (hw/scaler.py, :class:`PoolScaler`): one pass of W clocks accumulates acc on top of
   a preset ``-steps[0]``; 2**M - 1 clocks of subtractions of the thresholds'
   successive differences count the negative results (:func:`ladder_steps` for W
   words, identical to the ladder, see :func:`ladder_mantissa`); a second pass builds
   each pool word bit-serially: antithetic, z_k and then -z_k from the same lane word;
   plain, z_k from lane word k.

Moment bits (T = ``moment_bits``, default 4): q*q + q of a T-bit q is a 2**T-entry
table instead of a squarer. The estimate ``2**(2*(B-T)) * (acc + n/3)`` of sum(v**2)
is exact in expectation for uniform words whatever T; truncation only adds spread.
Measured over 2000 pools of 512 uniform 16-bit words (the default preset): the
mantissa of T = 4 equals the one of the exact moment (T = 16) in 96.8% of fills (T = 8:
99.7%, T = 2: 87%) and otherwise differs by one step, where acc lies at a ladder
boundary and both mantissas are within the quantisation tolerance;
tests/test_ref_scaler.py checks this agreement.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pezo.ref.config import PezoConfig


def centre(u: np.ndarray, word_bits: int) -> np.ndarray:
    """v = 2u + 1 - 2**B as int64 (odd, in [-(2**B - 1), 2**B - 1])."""
    return (np.asarray(u, dtype=np.int64) << 1) + (1 - (1 << word_bits))


def moment_terms(v: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """Per-word contribution q*q + q to the moment accumulator (int64)."""
    q = np.abs(np.asarray(v, dtype=np.int64)) >> (cfg.word_bits - cfg.moment_bits)
    return q * q + q


def word_moment_terms(u: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """``moment_terms(centre(u))`` of unsigned B-bit words u (int64), by a table look-up
    where the table is small: q = |2u + 1 - 2**B| >> (B-T) depends only on the top T+1
    bits of u (u >> (B-T-1)), so for T < B the table has 2**(T+1) entries."""
    table = _word_moment_table(cfg)
    if table is None:
        return moment_terms(centre(u, cfg.word_bits), cfg)
    return table[np.asarray(u) >> max(0, cfg.word_bits - cfg.moment_bits - 1)]


#: Largest table :func:`word_moment_terms` builds (entries); wider moments compute q.
WORD_MOMENT_TABLE = 1 << 16


@lru_cache(maxsize=None)
def _word_moment_table(cfg: PezoConfig) -> np.ndarray | None:
    shift = max(0, cfg.word_bits - cfg.moment_bits - 1)
    if 1 << (cfg.word_bits - shift) > WORD_MOMENT_TABLE:
        return None
    top = np.arange(1 << (cfg.word_bits - shift), dtype=np.int64) << shift
    table = moment_terms(centre(top, cfg.word_bits), cfg)
    table.flags.writeable = False
    return table


def moment_acc(v: np.ndarray, cfg: PezoConfig) -> int:
    """acc = sum(q*q + q) over the words v."""
    return int(moment_terms(v, cfg).sum())


def acc_bits(n: int, cfg: PezoConfig) -> int:
    """Width of the unsigned accumulator for n words: each term is < 2**(2T)."""
    return 2 * cfg.moment_bits + max(1, (n - 1).bit_length())


def mantissa_range(cfg: PezoConfig) -> tuple[int, int]:
    """(lo, hi): the inclusive range of ``mant``."""
    return 1 << cfg.mantissa_bits, (2 << cfg.mantissa_bits) - 1


@lru_cache(maxsize=None)
def mantissa_thresholds(cfg: PezoConfig, n: int) -> tuple[int, ...]:
    """theta[m - lo] for m in [lo, hi): accumulator thresholds, decreasing, clamped to >= 0.

    theta[m] = ceil(n * 4**(F + sh - B + T) / (m*(m+1)) - n/3), computed exactly with
    integers: acc < theta[m]  <=>  3*m*(m+1)*acc + n*m*(m+1) < 3*n*4**(F+sh-B+T).
    """
    lo, hi = mantissa_range(cfg)
    e = cfg.frac_bits + cfg.scale_shift - cfg.word_bits + cfg.moment_bits
    big = 3 * n * (1 << (2 * e))
    out = []
    for m in range(lo, hi):
        mm = m * (m + 1)
        # smallest integer acc with 3*mm*acc + n*mm >= big
        theta = -((n * mm - big) // (3 * mm))
        out.append(max(0, theta))
    return tuple(out)


def select_mantissa(acc: int, cfg: PezoConfig, n: int) -> int:
    """The adaptive mantissa for an accumulator value over n words."""
    lo, _ = mantissa_range(cfg)
    return lo + sum(1 for theta in mantissa_thresholds(cfg, n) if acc < theta)


def select_mantissas(acc: np.ndarray, cfg: PezoConfig, n: int) -> np.ndarray:
    """:func:`select_mantissa` of every accumulator value of ``acc`` (int64 array) at
    once: ``lo`` plus the number of thresholds above acc, by one binary search."""
    rising = _rising_thresholds(cfg, n)
    return mantissa_range(cfg)[0] + len(rising) - np.searchsorted(rising, acc, side="right")


@lru_cache(maxsize=None)
def _rising_thresholds(cfg: PezoConfig, n: int) -> np.ndarray:
    """The thresholds in increasing order as int64 (capped at the int64 maximum, which
    no int64 accumulator exceeds, so every comparison keeps its result)."""
    top = np.iinfo(np.int64).max
    rising = np.array([min(theta, top) for theta in reversed(mantissa_thresholds(cfg, n))], dtype=np.int64)
    rising.flags.writeable = False
    return rising


@lru_cache(maxsize=None)
def nominal_mantissa(cfg: PezoConfig, n: int) -> int:
    """The mantissa an ideal uniform source would get: the ladder at the expected acc."""
    u = np.arange(1 << cfg.word_bits, dtype=np.int64)
    expected = moment_terms(centre(u, cfg.word_bits), cfg).mean() * n
    return select_mantissa(int(round(expected)), cfg, n)


def acc_limit(n: int, cfg: PezoConfig) -> int:
    """The largest accumulator value over n words: every q at its top, 2**T - 1."""
    q = (1 << cfg.moment_bits) - 1
    return n * (q * q + q)


def ladder_steps(cfg: PezoConfig, n: int) -> tuple[int, ...]:
    """The RTL's search table (2**M entries, unsigned): the thresholds, each clamped to
    at most ``acc_limit(n) + 1`` (which no accumulator reaches, so no comparison
    changes), in increasing order as successive differences, ``steps[0] = theta[-1]``,
    ``steps[j] = theta[-1-j] - theta[-j]`` (j = 1 .. 2**M - 2, each >= 0 since the
    thresholds decrease), and a last entry 0, so that the partial sums are the clamped
    thresholds in increasing order; the sum is at most ``acc_limit(n) + 1``."""
    top = acc_limit(n, cfg) + 1
    rising = [min(theta, top) for theta in reversed(mantissa_thresholds(cfg, n))]
    return (rising[0],) + tuple(b - a for a, b in zip(rising, rising[1:])) + (0,)


def ladder_mantissa(acc: int, cfg: PezoConfig, n: int) -> int:
    """select_mantissa as the RTL runs it, by 2**M subtractions from the accumulator: in
    clock k, ``d -= steps[k]`` (:func:`ladder_steps`; d starts at acc) and ``c += 1`` when
    d < 0 before the subtraction, so c counts the thresholds above acc; mant = 2**M + c."""
    d, c = acc, 0
    for step in ladder_steps(cfg, n):
        c += d < 0
        d -= step
    return mantissa_range(cfg)[0] + c


def pool_mean(v: np.ndarray) -> int:
    """floor((sum(v) + n/2) / n) for n = len(v) words (a power of two), signed."""
    n = len(v)
    return int((int(np.sum(v, dtype=np.int64)) + n // 2) >> (n.bit_length() - 1))


def fill_pool(v: np.ndarray, cfg: PezoConfig, antithetic: bool = True) -> tuple[np.ndarray, int, int]:
    """(pool z, acc, mant) of the W = len(v) centred fill words v (section 5), int64:
    antithetic, z has N = 2W words, z[k] = apply_scale(v[k]) and z[k + W] = -z[k];
    plain (``antithetic`` False), z has N = W words, z[k] = apply_scale(v[k])."""
    v = np.asarray(v, dtype=np.int64)
    acc = moment_acc(v, cfg)
    mant = select_mantissa(acc, cfg, len(v))
    z = apply_scale(v, mant, cfg)
    return (np.concatenate([z, -z]) if antithetic else z), acc, mant


def fill_words(cfg: PezoConfig, antithetic: bool = True) -> int:
    """W, the fill words of a pool of N = ``pool_size`` words: N/2 antithetic, else N."""
    return cfg.pool_size >> int(antithetic)


def apply_scale(v: np.ndarray, mant: int | np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """z = (v * mant + 2**(sh-1)) >> sh: signed B-bit words, F fractional bits (int64)."""
    sh = cfg.scale_shift
    return (np.asarray(v, dtype=np.int64) * mant + (1 << (sh - 1))) >> sh
