"""Bit-exact model of ``gaussian-pool``: the PeZO pool reuse (ref/reuse.py: P copies of
an N-word pool, per-step field multiplier and fresh per-wrap offsets) filled by a Gaussian
generator instead of LFSR uniforms plus adaptive scaling. Beside ``pezo-pool`` it
measures how much of PeZO's saving reuse buys and how much uniform-plus-scaling buys.

Bank: one LfsrBank of K = 1 + g lanes of L-bit words (g and L: the generator's uniform
lanes and their width; L = B for Box-Muller, 32 for the inverse CDF), step domain only.
Lane 0 is the addressing lane of ref/reuse.py (step t: lane 0 loaded for t gives w0,
w1, ... whose low log2 N bits :func:`pezo.ref.reuse.pool_draws` uses, exactly as in
:class:`pezo.ref.engine.PoolModel`); lanes 1..g feed the generator. The pool of epoch e
(first step ``e*pool_refresh``, or 0 when ``pool_refresh`` is 0) holds the generator's
first N output words from lanes 1..g loaded for that step, in order: ``pool[j]`` =
output word j. Lanes 1..g never address the pool and lane 0 never feeds the generator,
so fill and addressing streams are disjoint (ref/lfsr.py slots).

The fill is mean-free like the PeZO fill (docs/design.md 2.2), so that the two pools
differ only in uniform-plus-scaling: with the generator's first N words x_j (signed B
bits, F fractional bits, unit variance by construction), ``mean = floor((sum(x) + N/2)
/ N)`` (:func:`pezo.ref.scaler.pool_mean`) and ``pool[j] = sat_B(x_j - mean)``
(saturated to signed B bits; no moment, no scaling). The RTL runs the generator twice
(sum, then the writes).

Generators (:data:`GENERATORS`): ``icdf`` (the default), the inverse-CDF core of
ref/gaussian/icdf.py, one output per clock from m lanes of L bits (m = 1, L = 32 for
W >= 32), pool fill in N clocks; ``box-muller``, the Box-Muller core of
ref/gaussian/box_muller.py with both outputs of each (u1, u2) pair (g = 2 lanes of B
bits, 2 words per clock, pool fill in N/2 generator clocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.engine import PoolModel
from pezo.ref.gaussian.box_muller import box_muller_words
from pezo.ref.gaussian.icdf import icdf_table, icdf_words, sample_lanes
from pezo.ref.lfsr import LfsrBank
from pezo.ref.scaler import pool_mean


@dataclass(frozen=True)
class FillGenerator:
    """A Gaussian generator for the pool fill.

    layout : cfg -> (g, L, O): g uniform lanes of L bits taken per clock, O Gaussian
        words emitted per clock.
    words : (u, cfg) -> z; u of shape (clocks, g) unsigned L-bit, z of shape
        (clocks, O), signed B-bit int64 with F fractional bits.
    """

    name: str
    layout: Callable[[PezoConfig], tuple[int, int, int]]
    words: Callable[[np.ndarray, PezoConfig], np.ndarray]


def _box_muller(u: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    return box_muller_words(u, cfg.replace(parallel=2))


def _icdf_layout(cfg: PezoConfig) -> tuple[int, int, int]:
    icdf_table(cfg.frac_bits)
    return (*sample_lanes(cfg.lfsr_width), 1)


GENERATORS: dict[str, FillGenerator] = {
    "icdf": FillGenerator("icdf", _icdf_layout, icdf_words),
    "box-muller": FillGenerator("box-muller", lambda cfg: (2, cfg.word_bits, 2), _box_muller),
}


#: The fill generator of ``gaussian-pool`` (``box-muller`` is the alternative).
DEFAULT_GENERATOR = "icdf"


def fill_generator(name: str) -> FillGenerator:
    """The named fill generator; unknown name -> ConfigError listing the known ones."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise ConfigError("generator", name, f"known generators are {', '.join(GENERATORS)}") from None


class GaussianPoolModel(PoolModel):
    """Golden model of ``gaussian-pool`` (module docstring) for a config with the
    ``pool`` strategy, a runtime ``seed_in`` and a fill generator."""

    def __init__(self, cfg: PezoConfig, seed_in: int = 0, generator: str = DEFAULT_GENERATOR):
        if cfg.strategy != "pool":
            raise ConfigError("strategy", cfg.strategy, "gaussian-pool needs the pool strategy")
        super().__init__(cfg, seed_in)
        self.generator = fill_generator(generator)
        self.lanes, self.lane_bits, self.outputs = self.generator.layout(cfg)
        self.bank = LfsrBank(cfg.lfsr_width, self.lane_bits, 1 + self.lanes, cfg.seed, seed_in)

    def fill_clocks(self) -> int:
        """Generator clocks per pool fill: ceil(N / O)."""
        return -(-self.cfg.pool_size // self.outputs)

    def step_words(self, step: int, clocks: int) -> np.ndarray:
        """Lane 0's first ``clocks`` L-bit words of ``step`` (uint64), without touching
        the bank."""
        return self.bank.first_words(self.bank.lane_states(step)[:1], clocks)[:, 0]

    def pool_fill(self, step: int) -> tuple[np.ndarray, int, int, int]:
        """(pool words z, 0, mean, 0) of the epoch containing ``step`` (no moment or
        mantissa: the tuple keeps :class:`PoolModel`'s shape)."""
        first = self.epoch_step(step)
        if first != self._epoch:
            cfg = self.cfg
            states = self.bank.lane_states(first)[1:]
            u = self.bank.first_words(states, self.fill_clocks()).astype(np.int64)
            x = self.generator.words(u, cfg).reshape(-1)[:cfg.pool_size]
            mean = pool_mean(x)
            top = (1 << (cfg.word_bits - 1)) - 1
            z = np.clip(x - mean, -top - 1, top)
            self._fill = (z, 0, mean, 0)
            self._real = z * (1.0 / (1 << cfg.frac_bits))
            self._epoch = first
        return self._fill
