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
   built in hardware as the sum of ``v << j`` for the set bits j of ``mant`` (M+1 terms),
   never a general multiplier.
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


@lru_cache(maxsize=None)
def nominal_mantissa(cfg: PezoConfig, n: int) -> int:
    """The mantissa an ideal uniform source would get: the ladder at the expected acc."""
    u = np.arange(1 << cfg.word_bits, dtype=np.int64)
    expected = moment_terms(centre(u, cfg.word_bits), cfg).mean() * n
    return select_mantissa(int(round(expected)), cfg, n)


def apply_scale(v: np.ndarray, mant: int | np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """z = (v * mant + 2**(sh-1)) >> sh: signed B-bit words, F fractional bits (int64)."""
    sh = cfg.scale_shift
    return (np.asarray(v, dtype=np.int64) * mant + (1 << (sh - 1))) >> sh
