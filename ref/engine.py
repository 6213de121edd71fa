"""Bit-exact model of the PeZO engine (hw/engine.py: :class:`PoolEngine`,
:class:`StreamEngine`): LFSR bank -> reuse -> adaptive scaling.

``engine_model(cfg, seed_in).perturbation(t, n)`` is the sequence of the first n
perturbation words the RTL emits after ``start(step=t)`` (signed B-bit integers with F
fractional bits). Parameter i of the model gets word i. The same (t, n) always gives
the same words, which is what makes z replayable for +eps, -eps and the update.
:func:`engine_model` picks :class:`PoolModel` or :class:`StreamModel` by strategy.

``pool`` (:class:`PoolModel`):
    The pool of epoch e (steps e*pool_refresh ..., or the whole run when pool_refresh
    is 0) is filled from lane 0 loaded for step e*pool_refresh in the fill domain: N
    words u, centred to v, and ``pezo.ref.scaler.fill_pool(v)`` (moment, mean,
    mantissa, mean-free scaled words). The RTL makes two passes over the same N words
    (moment and mean, then the scaled writes), re-loading the lane in between. Step t
    then reads the pool in wraps of N words, each a permutation ``o_w ^ s (x) g(j)``
    (a field multiplier s per step, a fresh offset per wrap), from lane 0 loaded for t
    in the step domain (ref/reuse.py).
``stream`` / ``none`` (:class:`StreamModel`):
    Fresh words come from K lanes loaded for step t (ref/reuse.py gives the order and
    the per-use variation). The mantissa of bank-clock block b (L = moment_block clocks
    of lane 0) is the nominal one for b = 0 and ``select_mantissa(acc_{b-1}, L)`` after,
    where acc_{b-1} is the moment of lane 0's raw centred words of block b-1.

Speed: a new step costs one lane load, 1 + wraps words of lane 0 and a vectorised
gather (pool), or the step's lane words (stream); nothing is cached across steps but
the pool of the current epoch, which the hardware keeps as well.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank, leap_table
from pezo.ref.reuse import pool_draws, pool_indices, pool_wraps, stream_variation
from pezo.ref.scaler import apply_scale, centre, fill_pool, moment_terms, nominal_mantissa, select_mantissa


class EngineModel(ABC):
    """Golden model of one engine for a config and a runtime seed input ``seed_in``
    (the value sent on the RTL's ``seed`` stream, 0 after reset)."""

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        self.cfg = cfg
        self.seed_in = seed_in
        self.bank = LfsrBank.from_config(cfg, seed_in=seed_in)

    @abstractmethod
    def perturbation(self, step: int, n: int) -> np.ndarray:
        """The first n words after start(step): int64 array of signed B-bit words."""

    def perturbation_real(self, step: int, n: int) -> np.ndarray:
        """The same words as float64 real values (z / 2**F)."""
        return self.perturbation(step, n) * (1.0 / (1 << self.cfg.frac_bits))

    @abstractmethod
    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Fresh LFSR words drawn per step, averaged over ``steps`` steps of n params."""


class PoolModel(EngineModel):
    """The ``pool`` strategy: a mean-free pool per epoch, read with per-step addressing."""

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        super().__init__(cfg, seed_in)
        self._epoch = -1
        self._fill: tuple[np.ndarray, int, int, int] = (np.zeros(0, np.int64), 0, 0, 0)
        self._real = np.zeros(0)

    def epoch_step(self, step: int) -> int:
        """First step of the pool epoch that contains ``step``."""
        refresh = self.cfg.pool_refresh
        return (step // refresh) * refresh if refresh else 0

    def pool_fill(self, step: int) -> tuple[np.ndarray, int, int, int]:
        """(pool words z, moment acc, mean, mantissa) of the epoch containing ``step``."""
        first = self.epoch_step(step)
        if first != self._epoch:
            cfg = self.cfg
            self.bank.load(first, LfsrBank.FILL_DOMAIN)
            self._fill = fill_pool(centre(self.bank.words(cfg.pool_size)[:, 0], cfg.word_bits), cfg)
            self._real = self._fill[0] * (1.0 / (1 << cfg.frac_bits))
            self._epoch = first
        return self._fill

    def step_words(self, step: int, clocks: int) -> np.ndarray:
        """Lane 0's first ``clocks`` words of ``step`` (uint64), without touching the bank:
        bit b of word c is the parity of the loaded state and row b of c+1 leaps."""
        cfg = self.cfg
        state = self.bank.lane_states(step)[0]
        rows = leap_table(cfg.lfsr_width, cfg.word_bits, clocks)[:clocks, :cfg.word_bits]
        bits = (np.bitwise_count(rows & state) & np.uint8(1)).astype(np.uint64)
        return (bits << np.arange(cfg.word_bits, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)

    def pool_draws(self, step: int, wraps: int) -> tuple[np.ndarray, int]:
        """(offsets o_w per wrap, multiplier s) of ``step`` from lane 0's first 1 + wraps words."""
        offsets, s = pool_draws(self.step_words(step, 1 + wraps), self.cfg)
        return offsets, int(s)

    def indices(self, step: int, n: int) -> np.ndarray:
        """Pool index read by parameters 0..n-1 of ``step`` (int64)."""
        self.pool_fill(step)
        offsets, s = self.pool_draws(step, pool_wraps(n, self.cfg))
        return pool_indices(offsets, s, n, self.cfg)

    def perturbation(self, step: int, n: int) -> np.ndarray:
        return self.pool_fill(step)[0][self.indices(step, n)]

    def perturbation_real(self, step: int, n: int) -> np.ndarray:
        index = self.indices(step, n)
        return self._real[index]

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """1 + wraps per step (multiplier, one offset per wrap of N parameters) plus the N
        fill words once per epoch."""
        cfg = self.cfg
        epochs = -(-steps // cfg.pool_refresh) if cfg.pool_refresh else 1
        return 1 + pool_wraps(n, cfg) + cfg.pool_size * epochs / steps


class StreamModel(EngineModel):
    """The ``stream`` / ``none`` strategies: fresh lane words with R variations each."""

    def perturbation(self, step: int, n: int) -> np.ndarray:
        cfg = self.cfg
        R, K, L = cfg.effective_repeat, cfg.lanes, cfg.moment_block
        clocks = -(-(-(-n // R)) // K)
        self.bank.load(step)
        words = self.bank.words(clocks)
        i = np.arange(n, dtype=np.int64)
        j = i // R
        u = words.reshape(-1).astype(np.int64)[j]
        v = centre(stream_variation(u, i % R, cfg), cfg.word_bits)
        blocks = -(-clocks // L)
        lane0 = moment_terms(centre(words[:, 0], cfg.word_bits), cfg)
        acc = np.add.reduceat(lane0, np.arange(0, clocks, L)) if clocks else np.zeros(0, np.int64)
        mant = np.empty(blocks, dtype=np.int64)
        mant[0] = nominal_mantissa(cfg, L)
        mant[1:] = [select_mantissa(int(a), cfg, L) for a in acc[:-1]]
        return apply_scale(v, mant[(j // K) // L], cfg)

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Every lane of every bank clock needed for n words."""
        cfg = self.cfg
        clocks = -(-(-(-n // cfg.effective_repeat)) // cfg.lanes)
        return float(clocks * cfg.lanes)


def engine_model(cfg: PezoConfig, seed_in: int = 0) -> EngineModel:
    """The golden model of ``cfg``'s engine: :class:`PoolModel` or :class:`StreamModel`."""
    return (PoolModel if cfg.strategy == "pool" else StreamModel)(cfg, seed_in)
