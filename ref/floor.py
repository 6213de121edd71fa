"""Bit-exact model of ``lfsr-floor``: the physical floor of every perturbation source.

P bare W-bit Fibonacci LFSR lanes, each leaping B single steps per clock (the same
leap as ref/lfsr.py), so the floor emits P words of B bits per clock, the same output
bits per clock as every design of the comparison set. It is not a perturbation source:
no step seek, no replay, no scaling, no reuse. What it does have is what any generator
needs to be usable: a seed load. A ``seed`` transfer with payload x loads lane k with
``(x ^ base[k]) | 1`` (``base`` = ``derive_seeds(cfg.seed, P, W)``; the OR keeps every
state non-zero without a comparator). After reset the lanes hold ``base[k] | 1``.
Output word p of a clock is lane p's leap word reinterpreted as signed B bits.
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import apply_rows, derive_seeds, leap_rows


class FloorModel:
    """Golden model of hw/floor.py for one config; ``seed_in`` None = state after reset."""

    def __init__(self, cfg: PezoConfig, seed_in: int | None = None):
        self.cfg = cfg
        self.bases = derive_seeds(cfg.seed, cfg.parallel, cfg.lfsr_width)
        x = 0 if seed_in is None else seed_in & ((1 << cfg.lfsr_width) - 1)
        self.state = np.array([(x ^ b) | 1 for b in self.bases], dtype=np.uint64)

    @staticmethod
    def initial_states(cfg: PezoConfig) -> list[int]:
        """Lane states after reset (also the netlist's init values)."""
        return [b | 1 for b in derive_seeds(cfg.seed, cfg.parallel, cfg.lfsr_width)]

    def words(self, clocks: int) -> np.ndarray:
        """The next ``clocks`` transfers, shape (clocks * P,), signed B-bit int64 words."""
        B = self.cfg.word_bits
        rows = leap_rows(self.cfg.lfsr_width, B)
        out = np.empty((clocks, self.cfg.parallel), dtype=np.int64)
        for c in range(clocks):
            self.state = apply_rows(rows, self.state)
            u = (self.state & np.uint64((1 << B) - 1)).astype(np.int64)
            out[c] = np.where(u >= 1 << (B - 1), u - (1 << B), u)
        return out.reshape(-1)
