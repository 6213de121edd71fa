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
costs the step seek (ref/lfsr.py's table look-ups) and then, for ``pool``, 1 + wraps
words of lane 0 with the draws on Python ints and two vectorised gathers (the read's
field powers, the pool words); for ``stream``, one look-up per byte of the master
for every lane's words of the step at once (:meth:`LfsrBank.step_word_bytes`) and one
gather per byte of a word from :func:`scaled_variation_tables`, whose rows hold all R
uses' variation and affine scale map at once, summed and floored. Nothing is cached
across steps but the pool of the current epoch, which the hardware keeps as well;
tables that depend on the configuration alone (the XOR networks and wiring the RTL has
fixed) are shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import operator
from functools import lru_cache
from itertools import accumulate

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank, lane_word_ints, word_slot
from pezo.ref.reuse import pool_indices, pool_wraps, variation_bits
from pezo.ref.scaler import (centre, fill_pool, fill_words, mantissa_range, nominal_mantissa,
                             select_mantissas, word_moment_terms)


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

    #: the pool layout of ``pezo.ref.scaler.fill_pool``: N/2 words and their negations
    antithetic = True

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
        """(pool words z, moment acc, mean, mantissa) of the epoch containing ``step``,
        from the first :func:`pezo.ref.scaler.fill_words` words of lane 0 in the fill
        domain; the mean subtracted before scaling is 0 (no mean pass; the slot keeps
        the shape GaussianPoolModel shares)."""
        first = self.epoch_step(step)
        if first != self._epoch:
            cfg = self.cfg
            self.bank.load(first, LfsrBank.FILL_DOMAIN)
            u = self.bank.words(fill_words(cfg, self.antithetic))[:, 0]
            z, acc, mant = fill_pool(centre(u, cfg.word_bits), cfg, self.antithetic)
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
        return lane_word_ints(bank.width, bank.word_bits, bank.master(step), clocks)   # lane 0 = master

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
        self._tables = scaled_variation_tables(cfg)
        self._flat = tuple(table.reshape(-1, table.shape[-1]) for table in self._tables)
        self._nominal_row = nominal_mantissa(cfg, cfg.moment_block) - mantissa_range(cfg)[0]
        self._nominal = tuple(table[self._nominal_row] for table in self._tables)
        self._slot = word_slot(cfg.word_bits)
        self._shape = (cfg.effective_repeat, cfg.lanes, cfg.moment_block, self._slot.itemsize)
        self._scale = 1.0 / (1 << cfg.frac_bits)
        self._higher_bytes = range(1, len(self._tables))

    def _floors(self, step: int, n: int) -> np.ndarray:
        """z of parameters 0..n-1 of the step as float64 (integer values).

        Fresh word j (lane j mod K of clock j // K) is read as its bytes; use r of it is
        parameter j*R + r. Each byte indexes a row of :func:`scaled_variation_tables`
        (the row block of its moment block's mantissa), the rows of a word's bytes add
        up to (u' * 2 mant + c) / 2**sh for all R uses at once, and z is the floor."""
        R, K, L, slot = self._shape
        count = -(-n // R)
        clocks = -(-count // K)
        raw = self.bank.step_word_bytes(step, clocks)[:count * slot]
        if clocks <= L:
            z = self._nominal[0].take(raw[::slot], axis=0)
            for k in self._higher_bytes:
                z += self._nominal[k].take(raw[k::slot], axis=0)
        else:
            offsets = np.repeat(self._mantissa_rows(raw, clocks) << 8, L * K)[:count]
            z = self._flat[0].take(raw[::slot] + offsets, axis=0)
            for k in self._higher_bytes:
                z += self._flat[k].take(raw[k::slot] + offsets, axis=0)
        z = z.reshape(-1)[:n]
        return np.floor(z, out=z)

    def _mantissa_rows(self, raw: np.ndarray, clocks: int) -> np.ndarray:
        """mant - 2**M of every moment block of ``clocks`` bank clocks (intp): the nominal
        one for block 0, then ``select_mantissa`` of the moment of lane 0's words of the
        block before."""
        cfg = self.cfg
        L, blocks = cfg.moment_block, -(-clocks // cfg.moment_block)
        lane0 = raw.view(self._slot)[:(blocks - 1) * L * cfg.lanes:cfg.lanes]
        acc = word_moment_terms(lane0, cfg).reshape(blocks - 1, L).sum(axis=1)
        rows = np.empty(blocks, dtype=np.intp)
        rows[0] = self._nominal_row
        rows[1:] = select_mantissas(acc, cfg, L) - mantissa_range(cfg)[0]
        return rows

    def perturbation(self, step: int, n: int) -> np.ndarray:
        return self._floors(step, n).astype(np.int64)

    def perturbation_real(self, step: int, n: int) -> np.ndarray:
        z = self._floors(step, n)
        z *= self._scale
        return z

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Every lane of every bank clock needed for n words."""
        cfg = self.cfg
        clocks = -(-(-(-n // cfg.effective_repeat)) // cfg.lanes)
        return float(clocks * cfg.lanes)


@lru_cache(maxsize=None)
def scaled_variation_tables(cfg: PezoConfig) -> tuple[np.ndarray, ...]:
    """One read-only float64 table per byte k of a B-bit word, shape (2**M, 256, R):
    [mant - 2**M, v, r] is what byte k of u (= v) adds to ``S / 2**sh`` of use r, with
    S = u' * a + c, a = 2 mant, c = (1 - 2**B) mant + 2**(sh-1) (the scaler's
    ``(centre(u') * mant + 2**(sh-1))``, so ``z = floor(S / 2**sh)``) and c in byte 0's entries.

    u' = stream_variation(u, r) moves bit b of u to its own bit position[b], complemented
    for flip[b], so the bytes' parts of u' occupy disjoint bits and add: u' is the sum
    over k of part_k(byte k), and S the sum of the entries, each exact in float64 (an
    integer below 2**(B+M+3) over a power of two). The tables depend on the configuration
    alone: the RTL's wiring and shift-add network."""
    B, R, sh = cfg.word_bits, cfg.effective_repeat, cfg.scale_shift
    lo, hi = mantissa_range(cfg)
    mant = np.arange(lo, hi + 1, dtype=np.int64)[:, None, None]
    v = np.arange(256, dtype=np.int64)[:, None]
    parts = np.zeros((-(-B // 8), 256, R), dtype=np.int64)
    for r in range(R):
        position, flip = variation_bits(r, cfg)
        for b in range(B):
            parts[b // 8, :, r] |= (((v[:, 0] >> (b % 8)) & 1) ^ int(flip[b])) << position[b]
    constant = (1 - (1 << B)) * mant + (1 << (sh - 1))          # c, carried by byte 0's entries
    tables = []
    for k, part in enumerate(parts):
        table = (part * (2 * mant) + (constant if k == 0 else 0)) * (1.0 / (1 << sh))
        table.flags.writeable = False
        tables.append(table)
    return tuple(tables)


def engine_model(cfg: PezoConfig, seed_in: int = 0) -> EngineModel:
    """The golden model of ``cfg``'s engine: :class:`PoolModel` or :class:`StreamModel`."""
    return (PoolModel if cfg.strategy == "pool" else StreamModel)(cfg, seed_in)
