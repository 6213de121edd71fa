"""Bit-exact model of the PeZO engine (hw/engine.py: :class:`PoolEngine`,
:class:`StreamEngine`): LFSR bank -> reuse -> adaptive scaling.

``engine_model(cfg, seed_in).perturbation(t, n)`` is the sequence of the first n
perturbation words the RTL emits after ``start(step=t)`` (signed B-bit integers with F
fractional bits). Parameter i of the model gets word i. The same (t, n) always gives
the same words, which is what makes z replayable for +eps, -eps and the update.
:func:`engine_model` picks :class:`PoolModel` or :class:`StreamModel` by strategy.

``pool`` (:class:`PoolModel`):
    The pool of epoch e (steps e*pool_refresh ..., or the whole run when pool_refresh
    is 0) is filled from lane 0 loaded for step e*pool_refresh in the fill domain: N/2
    words u, centred to v, and ``pezo.ref.scaler.fill_pool(v)`` (moment, mantissa,
    the scaled words and their negations: an exactly zero-sum pool). The RTL makes two
    passes over the same N/2 words (moment, then the scaled writes), re-loading the
    lane in between. Step t
    then reads the pool in wraps of N words, each a permutation ``o_w ^ s (x) g(j)``
    (a field multiplier s per step, a fresh offset per wrap), from lane 0 loaded for t
    in the step domain (ref/reuse.py).
``stream`` / ``none`` (:class:`StreamModel`):
    Fresh words come from K lanes loaded for step t (ref/reuse.py gives the order and
    the per-use variation). The mantissa of bank-clock block b (L = moment_block clocks
    of lane 0) is the nominal one for b = 0 and ``select_mantissa(acc_{b-1}, L)`` after,
    where acc_{b-1} is the moment of lane 0's raw centred words of block b-1.

Speed (``pezo speed`` measures it against numpy's ``standard_normal``): a new step
costs the step seek and lane load (ref/lfsr.py's table look-ups), 1 + wraps words of
lane 0 with the draws on Python ints and one vectorised gather (pool), or the step's
lane words, each use's bit map as byte-table look-ups and one affine map per block,
``z = (u' * a + c) >> sh``, over whole arrays (stream). Nothing is cached across steps but the pool of the current
epoch, which the hardware keeps as well; tables that depend on the configuration alone
(the XOR networks the RTL has fixed) are shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import operator
from itertools import accumulate

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank, lane_word_ints
from pezo.ref.reuse import pool_indices, pool_wraps, variation_bits
from pezo.ref.scaler import centre, fill_pool, nominal_mantissa, select_mantissas, word_moment_terms


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
    """The ``pool`` strategy: a zero-sum pool per epoch, read with per-step addressing."""

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
        """(pool words z, moment acc, mean, mantissa) of the epoch containing ``step``;
        the mean subtracted before scaling is 0 (the antithetic pool is zero-sum by
        construction; the slot keeps the shape GaussianPoolModel shares)."""
        first = self.epoch_step(step)
        if first != self._epoch:
            cfg = self.cfg
            self.bank.load(first, LfsrBank.FILL_DOMAIN)
            z, acc, mant = fill_pool(centre(self.bank.words(cfg.pool_size // 2)[:, 0], cfg.word_bits), cfg)
            self._fill = (z, acc, 0, mant)
            self._real = self._fill[0] * (1.0 / (1 << cfg.frac_bits))
            self._epoch = first
        return self._fill

    def step_words(self, step: int, clocks: int) -> np.ndarray:
        """Lane 0's first ``clocks`` words of ``step`` (uint64), without touching the bank."""
        return np.array(self.step_word_ints(step, clocks), dtype=np.uint64)

    def step_word_ints(self, step: int, clocks: int) -> list[int]:
        """The same words as Python ints (a step's draws need only a few of them)."""
        bank = self.bank
        return lane_word_ints(bank.width, bank.word_bits, bank.lane_state(step), clocks)

    def pool_draws(self, step: int, wraps: int) -> tuple[np.ndarray, int]:
        """(offsets o_w per wrap, multiplier s) of ``step`` from lane 0's first 1 + wraps words:
        ``pezo.ref.reuse.pool_draws`` of one step, computed on Python ints since a step
        has only a few words (tests/test_ref_fast_paths.py checks the two agree)."""
        N = self.cfg.pool_size
        low = [word & (N - 1) for word in self.step_word_ints(step, 1 + wraps)]
        offsets = list(accumulate([low[0]] + low[2:], operator.xor))
        return np.array(offsets, dtype=np.int64), low[1] or 1

    def indices(self, step: int, n: int) -> np.ndarray:
        """Pool index read by parameters 0..n-1 of ``step`` (int64)."""
        self.pool_fill(step)
        offsets, s = self.pool_draws(step, pool_wraps(n, self.cfg))
        return pool_indices(offsets, s, n, self.cfg)

    def perturbation(self, step: int, n: int) -> np.ndarray:
        return self.pool_fill(step)[0][self.indices(step, n)]

    def perturbation_real(self, step: int, n: int) -> np.ndarray:
        index = self.indices(step, n)
        return self._real.take(index)

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """1 + wraps per step (multiplier, one offset per wrap of N parameters) plus the
        N/2 fill words once per epoch."""
        cfg = self.cfg
        epochs = -(-steps // cfg.pool_refresh) if cfg.pool_refresh else 1
        return 1 + pool_wraps(n, cfg) + cfg.pool_size // 2 * epochs / steps


class StreamModel(EngineModel):
    """The ``stream`` / ``none`` strategies: fresh lane words with R variations each."""

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        super().__init__(cfg, seed_in)
        self._tables = variation_tables(cfg)
        self._nominal = self._affine(np.array([[nominal_mantissa(cfg, cfg.moment_block)]], dtype=np.int64))

    def _affine(self, mant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a, c) of the mantissas ``mant`` (blocks, 1): centre(u') * mant + 2**(sh-1)
        = u' * a + c with a = 2 mant, c = (1 - 2**B) mant + 2**(sh-1)."""
        return 2 * mant, (1 - (1 << self.cfg.word_bits)) * mant + (1 << (self.cfg.scale_shift - 1))

    def _uses(self, step: int, n: int) -> np.ndarray:
        """z of the step as (R, blocks, words per block) int64: [r, b, j] is use r of
        fresh word j of moment block b (at least n words; the caller interleaves the uses).

        Use r of word u is u' = stream_variation(u, r), a bit permutation with some bits
        complemented, so u' is the XOR of one table look-up per byte of u
        (:func:`variation_tables`), and z = (u' * a + c) >> sh with one affine map
        (a, c) per moment block."""
        cfg = self.cfg
        R, K, L = cfg.effective_repeat, cfg.lanes, cfg.moment_block
        clocks = -(-(-(-n // R)) // K)
        blocks = -(-clocks // L)
        words = self.bank.step_words(step, clocks if blocks == 1 else blocks * L)
        if blocks == 1:
            slope, offset = self._nominal
        else:
            acc = word_moment_terms(words[:(blocks - 1) * L, 0], cfg).reshape(blocks - 1, L).sum(axis=1)
            mant = np.empty((blocks, 1), dtype=np.int64)
            mant[0] = nominal_mantissa(cfg, L)
            mant[1:, 0] = select_mantissas(acc, cfg, L)
            slope, offset = self._affine(mant)
        u = words.reshape(blocks, -1).astype(np.intp)
        z = self._tables[:, 0, u & 255]
        for k in range(1, self._tables.shape[1]):
            z ^= self._tables[:, k, (u >> (8 * k)) & 255]
        z *= slope
        z += offset
        z >>= cfg.scale_shift
        return z

    def perturbation(self, step: int, n: int) -> np.ndarray:
        return np.ascontiguousarray(self._uses(step, n).transpose(1, 2, 0)).reshape(-1)[:n]

    def perturbation_real(self, step: int, n: int) -> np.ndarray:
        z = self._uses(step, n)
        out = np.empty(z.shape[1:] + z.shape[:1])
        np.multiply(z.transpose(1, 2, 0), 1.0 / (1 << self.cfg.frac_bits), out=out)
        return out.reshape(-1)[:n]

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Every lane of every bank clock needed for n words."""
        cfg = self.cfg
        clocks = -(-(-(-n // cfg.effective_repeat)) // cfg.lanes)
        return float(clocks * cfg.lanes)


def variation_tables(cfg: PezoConfig) -> np.ndarray:
    """(R, bytes of B, 256) int64: [r, k, v] is the part of stream_variation(u, r) that
    byte k of u (= v) contributes, the complemented bits of use r in byte 0's entries,
    so use r of u is the XOR over k of [r, k, byte k of u]."""
    B, R = cfg.word_bits, cfg.effective_repeat
    n_bytes = -(-B // 8)
    tables = np.zeros((R, n_bytes, 256), dtype=np.int64)
    v = np.arange(256, dtype=np.int64)
    for r in range(R):
        position, flip = variation_bits(r, cfg)
        for b in range(B):
            tables[r, b // 8] |= ((v >> (b % 8)) & 1) << position[b]
            if flip[b]:
                tables[r, 0] ^= 1 << position[b]
    return tables


def engine_model(cfg: PezoConfig, seed_in: int = 0) -> EngineModel:
    """The golden model of ``cfg``'s engine: :class:`PoolModel` or :class:`StreamModel`."""
    return (PoolModel if cfg.strategy == "pool" else StreamModel)(cfg, seed_in)
