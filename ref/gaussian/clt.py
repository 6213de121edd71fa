"""Bit-exact model of the CLT-k baseline (hw/gaussian/clt.py).

With B = word_bits, F = frac_bits, k = clt_k and P = parallel, the bank has K = k * P
lanes loaded for the step (STEP domain). Output element p of clock c sums the centred
words of lanes p*k .. p*k + k - 1 of clock c::

    v = 2 u + 1 - 2**B                      # as ref/scaler.centre: odd, |v| < 2**B
    S = sum of k such v                     # signed, B + 1 + ceil(log2 k) bits
    z = clip((S * mult + 2**(shift-1)) >> shift, -2**(B-1), 2**(B-1) - 1)

where ``mult / 2**shift`` = sqrt(3/k) * 2**(F-B) with ``mult = round(sqrt(3/k) *
2**12)`` (12 fractional bits, relative error below 2**-13 / sqrt(3/k), at most 4e-4 for
k <= 32), trailing zeros removed (:func:`pezo.ref.gaussian.tables.clt_scale`): k = 12
is a plain shift ``(S + 2**(B-F)) >> (B-F+1)``. Rounding is half up (arithmetic shift).
Since var(v) = (4**B - 1) / 3, z / 2**F has variance 1 (up to the constant's rounding)
and the shape of a scaled Irwin-Hall(k): |z| / 2**F <= sqrt(3 k), so k < 6 cannot reach
4 sigma. Saturation only acts when sqrt(3 k) * 2**F exceeds the B-bit range.
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.gaussian.tables import clt_scale
from pezo.ref.lfsr import LfsrBank
from pezo.ref.scaler import centre


def clt_words(u: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """Outputs of one or more clocks: u of shape (clocks, k*P) -> z of shape (clocks, P)."""
    u = np.asarray(u, dtype=np.int64)
    sums = centre(u, cfg.word_bits).reshape(u.shape[0], cfg.parallel, cfg.clt_k).sum(axis=2)
    scale = clt_scale(cfg)
    z = (sums * scale.mult + (1 << (scale.shift - 1))) >> scale.shift
    return np.clip(z, -(1 << (cfg.word_bits - 1)), (1 << (cfg.word_bits - 1)) - 1)


class CltGaussian:
    """Golden model of the CLT-k baseline for one config and runtime ``seed_in``.

    Throughput of the modelled RTL: P words per clock from K = k * P lanes.
    """

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        self.cfg = cfg
        self.seed_in = seed_in
        self.lanes = cfg.clt_k * cfg.parallel
        self.bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, self.lanes, cfg.seed, seed_in)

    def samples(self, step: int, n: int) -> np.ndarray:
        """The first n words after start(step): int64 signed B-bit words, F frac bits."""
        clocks = -(-n // self.cfg.parallel)
        self.bank.load(step)
        return clt_words(self.bank.words(clocks), self.cfg).reshape(-1)[:n]

    def samples_real(self, step: int, n: int) -> np.ndarray:
        """The same words as float64 real values (z / 2**F)."""
        return self.samples(step, n) * (1.0 / (1 << self.cfg.frac_bits))
