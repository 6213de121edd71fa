"""Bit-exact model of the PerturbationEngine: LFSR bank -> reuse -> adaptive scaler.

``PerturbationEngine(cfg).perturbation(t, n)`` is the sequence of the first n
perturbation words the RTL emits after ``start(step=t)`` (signed B-bit integers with F
fractional bits). Parameter i of the model gets word i. The same (t, n) always gives the
same words, which is what makes z replayable for +eps, -eps and the update.

``pool`` strategy:
    The pool of epoch e (steps e*pool_refresh ..., or the whole run when pool_refresh is
    0) is filled from lane 0 loaded for step e*pool_refresh in the fill domain: N words
    u, centred to v, the moment acc over all N, ``mant = select_mantissa(acc, N)``, and
    ``pool[j] = apply_scale(v[j], mant)``. The RTL makes two passes (moment, then scaled
    write) over the same N words, re-loading the lane in between, one word per clock.
    Step t then reads the pool in wraps of N words with an odd stride and a fresh
    offset per wrap (ref/reuse.py).
``stream`` / ``none``:
    Fresh words come from K lanes loaded for step t (ref/reuse.py gives the order and
    the per-use variation). The mantissa of bank-clock block b (L = moment_block clocks
    of lane 0) is the nominal one for b = 0 and ``select_mantissa(acc_{b-1}, L)`` after,
    where acc_{b-1} is the moment of lane 0's raw centred words of block b-1.
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank
from pezo.ref.reuse import pool_draws, pool_indices, pool_wraps, stream_variation
from pezo.ref.scaler import (apply_scale, centre, moment_acc, moment_terms, nominal_mantissa,
                             select_mantissa)


class PerturbationEngine:
    """Golden model of hw/engine.py for one config and runtime seed input."""

    DRAW_WINDOW = 256

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        self.cfg = cfg
        self.seed_in = seed_in
        self.bank = LfsrBank.from_config(cfg, seed_in=seed_in)
        self._pools: dict[int, tuple[np.ndarray, int, int]] = {}
        self._draws: tuple = (-1, -1)

    # pool strategy

    def epoch_step(self, step: int) -> int:
        """First step of the pool epoch that contains ``step``."""
        refresh = self.cfg.pool_refresh
        return (step // refresh) * refresh if refresh else 0

    def pool_fill(self, step: int) -> tuple[np.ndarray, int, int]:
        """(pool words z, moment acc, mantissa) of the epoch containing ``step``."""
        first = self.epoch_step(step)
        if first not in self._pools:
            cfg = self.cfg
            self.bank.load(first, LfsrBank.FILL_DOMAIN)
            v = centre(self.bank.words(cfg.pool_size)[:, 0], cfg.word_bits)
            acc = moment_acc(v, cfg)
            mant = select_mantissa(acc, cfg, cfg.pool_size)
            self._pools = {first: (apply_scale(v, mant, cfg), acc, mant)}
        return self._pools[first]

    def pool_draws(self, step: int, wraps: int) -> tuple[np.ndarray, int]:
        """(offsets per wrap, stride) of ``step`` from lane 0's first 1 + wraps words.

        Computed for a window of DRAW_WINDOW steps at a time, vectorised, since a
        training run asks for successive steps."""
        first = step - step % self.DRAW_WINDOW
        if self._draws[:2] != (first, wraps):
            masters = self.bank.masters(first, self.DRAW_WINDOW)
            words = self.bank.first_words(self.bank.states_from_masters(masters)[:, 0], 1 + wraps)
            self._draws = (first, wraps, *pool_draws(words, self.cfg))
        _, _, offsets, strides = self._draws
        return offsets[:, step - first], int(strides[step - first])

    # stream / none

    def _stream(self, step: int, n: int) -> np.ndarray:
        cfg = self.cfg
        R, K, L = cfg.effective_repeat, cfg.lanes, cfg.moment_block
        fresh = -(-n // R)
        clocks = -(-fresh // K)
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

    # public

    def perturbation(self, step: int, n: int) -> np.ndarray:
        """The first n words after start(step): int64 array of signed B-bit words."""
        if self.cfg.strategy == "pool":
            pool, _, _ = self.pool_fill(step)
            offsets, stride = self.pool_draws(step, pool_wraps(n, self.cfg))
            return pool[pool_indices(offsets, stride, n, self.cfg)]
        return self._stream(step, n)

    def perturbation_real(self, step: int, n: int) -> np.ndarray:
        """The same words as float64 real values (z / 2**F)."""
        return self.perturbation(step, n) * (1.0 / (1 << self.cfg.frac_bits))

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Fresh LFSR words drawn per step, averaged over ``steps`` steps of n params.

        pool: 1 + wraps per step (stride and one offset per wrap of N parameters) plus
        the N fill words once per epoch; stream / none: every lane of every bank clock
        needed for n words.
        """
        cfg = self.cfg
        if cfg.strategy == "pool":
            epochs = -(-steps // cfg.pool_refresh) if cfg.pool_refresh else 1
            return 1 + pool_wraps(n, cfg) + cfg.pool_size * epochs / steps
        clocks = -(-(-(-n // cfg.effective_repeat)) // cfg.lanes)
        return float(clocks * cfg.lanes)
