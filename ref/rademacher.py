"""Bit-exact model of the Rademacher source (hw/rademacher.py): +-1 perturbations, one
LFSR bit per parameter, the classic SPSA perturbation.

With B = word_bits, F = frac_bits and P = parallel, the source has K = ceil(P / B)
lanes of an :class:`pezo.ref.lfsr.LfsrBank` (W, B, seed and runtime ``seed_in`` as every
other source, loaded for the step in the step domain). Output element p of clock c
takes bit (p mod B) of lane (p div B)'s word of clock c (bit 0 = the newest LFSR bit)::

    z = -2**F  if the bit is 1,   z = +2**F  if it is 0

signed B bits with F fractional bits (the common format; B - F >= 4 so 2**F fits), so
z / 2**F is exactly -1 or +1. Word i of a step is element i mod P of clock i div P.
When P is not a multiple of B the top B*K - P bits of the last lane are unused.
Throughput of the modelled RTL: P words per clock.
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank


def rademacher_lanes(cfg: PezoConfig) -> int:
    """K = ceil(P / B): lanes that give P bits per clock."""
    return -(-cfg.parallel // cfg.word_bits)


def rademacher_words(u: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """Outputs of one or more clocks: u of shape (clocks, K) -> z of shape (clocks, P)."""
    u = np.asarray(u, dtype=np.int64)
    p = np.arange(cfg.parallel)
    bits = (u[:, p // cfg.word_bits] >> (p % cfg.word_bits)) & 1
    return np.where(bits == 1, -(1 << cfg.frac_bits), 1 << cfg.frac_bits).astype(np.int64)


class Rademacher:
    """Golden model of the Rademacher source for one config and runtime ``seed_in``."""

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        self.cfg = cfg
        self.seed_in = seed_in
        self.lanes = rademacher_lanes(cfg)
        self.bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, self.lanes, cfg.seed, seed_in)

    def samples(self, step: int, n: int) -> np.ndarray:
        """The first n words after start(step): int64, +-2**F."""
        clocks = -(-n // self.cfg.parallel)
        self.bank.load(step)
        return rademacher_words(self.bank.words(clocks), self.cfg).reshape(-1)[:n]

    def samples_real(self, step: int, n: int) -> np.ndarray:
        """The same words as float64 real values: exactly -1.0 or +1.0."""
        return self.samples(step, n) * (1.0 / (1 << self.cfg.frac_bits))
