"""The engine design before issue 7, kept as fixtures that the statistics must reject.

Formulas copied from ref/reuse.py and ref/lfsr.py of commit 2a557e4 (before the
redesign); only what the two defects need:

* :class:`BankConfinedPool`: the old pool addressing. Per step, words w0, w1, ... give
  ``o_0 = w0 mod M`` (M = N/P), ``stride = 1 + Q*(w1 mod N/Q)`` (Q = max(P, 2), so the
  stride is 1 mod P) and ``o_w = (o_{w-1} + w_{w+1}) mod M``; parameter i = w*N + j
  reads ``pool[(P*o_w + j*stride) mod N]``. The offset is a multiple of P, so parameter
  i only ever reads bank i mod P (N/P words). The pool is N fixed N(0, 1) values with
  no mean subtraction, the words come from a numpy generator per step: the addressing,
  not the word source, is the defect under test.
* :class:`RotationSeededLanes`: the old LfsrBank seeding with P lanes of one word per
  clock (strategy ``none``, K = P): the master of step t is ``A**(t * 2**24)`` master0,
  lane k loads ``base_k XOR rotl(master, k)``; z = centred word * sqrt(3) / 2**B (unit
  variance). Its masters sit ``t * 2**24 mod (2**W - 1)`` single steps from master0
  (for W = 32, step t + 256 is step t advanced by one single step).
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import apply_rows, power_rows
from pezo.ref.stats import StreamLayout, Subject

OLD_STEP_JUMP = 1 << 24


class BankConfinedPool:
    """Old bank-confined pool addressing over a fixed N(0, 1) pool (see module)."""

    def __init__(self, cfg: PezoConfig, seed: int = 0):
        self.cfg = cfg
        self.seed = seed
        self.pool = np.random.default_rng(seed).standard_normal(cfg.pool_size)

    def pool_index(self, step: int, n: int) -> np.ndarray:
        P, N, B = self.cfg.parallel, self.cfg.pool_size, self.cfg.word_bits
        M, q = N // P, max(P, 2)
        wraps = max(1, -(-n // N))
        words = np.random.default_rng([self.seed, step]).integers(0, 1 << B, 1 + wraps)
        offsets = P * (np.cumsum(np.concatenate([words[:1], words[2:]]) % M) % M)
        stride = 1 + q * (words[1] % (N // q))
        i = np.arange(n, dtype=np.int64)
        return (offsets[i // N] + (i % N) * stride) % N

    def z(self, step: int, n: int) -> np.ndarray:
        return self.pool[self.pool_index(step, n)]

    def subject(self) -> Subject:
        return Subject("bank-confined pool", self.z, self.cfg.pool_size, self.pool_index)


class RotationSeededLanes:
    """Old rotation-seeded LFSR lanes, P lanes x d/P clocks per step (see module).

    Every step below ``steps`` is computed at construction (vectorised over steps)."""

    def __init__(self, cfg: PezoConfig, d: int, steps: int, seed: int = 0):
        W, B, P = cfg.lfsr_width, cfg.word_bits, cfg.parallel
        self.cfg, self.d, self.steps = cfg, d, steps
        rng = np.random.default_rng(seed)
        bases = rng.integers(1, 1 << W, P).astype(np.uint64)
        masters = np.array([rng.integers(1, 1 << W)], dtype=np.uint64)
        while len(masters) < steps:
            masters = np.concatenate([masters, apply_rows(power_rows(W, OLD_STEP_JUMP * len(masters)), masters)])
        masters = masters[:steps, None]
        mask = np.uint64((1 << W) - 1)
        k = np.arange(P, dtype=np.uint64)[None, :]
        rotated = ((masters << k) | np.where(k == 0, np.uint64(0), masters >> ((np.uint64(W) - k) % np.uint64(W))))
        states = bases[None, :] ^ (rotated & mask)
        states = np.where(states == 0, bases[None, :], states)
        clocks = d // P
        words = np.stack([apply_rows(power_rows(W, B * (c + 1)), states) & np.uint64((1 << B) - 1)
                          for c in range(clocks)], axis=1)  # (steps, clocks, P)
        centred = 2.0 * words.astype(np.float64) + 1.0 - 2.0**B
        self.table = (centred * np.sqrt(3.0) / 2.0**B).reshape(steps, d)

    def z(self, step: int, n: int) -> np.ndarray:
        return self.table[step, :n]

    def layout(self) -> StreamLayout:
        """Master positions of the 2^S steps; one step's lanes run d/P words of B bits."""
        W, S = self.cfg.lfsr_width, self.cfg.step_bits
        period = (1 << W) - 1
        positions = (np.arange(1 << S, dtype=np.uint64) * np.uint64(OLD_STEP_JUMP % period)) % np.uint64(period)
        return StreamLayout(positions, period, self.d // self.cfg.parallel * self.cfg.word_bits)

    def subject(self) -> Subject:
        return Subject("rotation-seeded lanes", self.z, layout=self.layout())
