"""Bit-exact model of the reuse strategies (the ReuseBuffer of hw/reuse.py).

``pool`` (N = pool_size words, P = parallel, M = N/P, Q = max(P, 2)):
    At the start of step t, lane 0 of the bank (loaded for t) produces words w0, w1,
    w2, ... ``o_0 = w0 mod M``, ``s = w1 mod (N/Q)``, ``stride = 1 + Q*s`` (odd, and
    1 mod P). Parameters are read in wraps of N: parameter i = w*N + j (j < N) reads
    ``pool[(P*o_w + j*stride) mod N]``, where the offset of wrap w >= 1 moves by a fresh
    word: ``o_w = (o_{w-1} + w_{w+1}) mod M``. Within a wrap every pool word is used
    exactly once (stride is odd); the fresh offset per wrap keeps parameters i and i+N
    from sharing a perturbation in every step (with one offset they would, and ZO would
    only explore an N-dimensional subspace of a model larger than the pool).
    The pool is stored as P banks (word j in bank j mod P at address j // P), so lane p
    of clock c (parameter i = c*P + p) always reads bank p, at address
    ``(o_w + p*s + c*stride) mod M``: one read port per bank, one adder per lane; at a
    wrap boundary every lane adds ``stride + (w_{w+1} mod M)`` instead of ``stride``.

``stream`` / ``none`` (R = effective_repeat, K = max(1, P//R)):
    Fresh word j is lane (j mod K) of bank clock (j // K). Parameter i uses fresh word
    i // R with variation r = i mod R::

        u' = rotl_B(u, (r*B) // R) XOR (2**B - 1 if r is odd else 0)

    i.e. a bit rotation spread over the word and, on odd uses, the complement of u,
    which negates the centred value exactly (centre(~u) = -centre(u)).
"""

from __future__ import annotations

import numpy as np

from pezo.ref.config import PezoConfig


def pool_draws(words: np.ndarray, cfg: PezoConfig) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, stride) of steps from lane 0's words w0, w1, ..., w_wraps.

    ``words`` has shape (1 + wraps, ...) (any trailing shape, e.g. one column per step);
    ``offsets[w] = P*o_w`` (pool-index units) for each wrap, shape (wraps, ...), and
    ``stride`` has the trailing shape. int64."""
    P, N = cfg.parallel, cfg.pool_size
    M, q = N // P, max(P, 2)
    words = np.asarray(words, dtype=np.int64)
    o = np.cumsum(np.concatenate([words[:1], words[2:]]) % M, axis=0) % M
    return P * o, 1 + q * (words[1] % (N // q))


def pool_indices(offsets: np.ndarray, stride: int, n: int, cfg: PezoConfig) -> np.ndarray:
    """Pool index of parameters 0..n-1: (offsets[i // N] + (i mod N)*stride) mod N (int64)."""
    N = cfg.pool_size
    i = np.arange(n, dtype=np.int64)
    return (np.asarray(offsets, dtype=np.int64)[i // N] + (i & (N - 1)) * stride) & (N - 1)


def pool_wraps(n: int, cfg: PezoConfig) -> int:
    """Wraps of the pool needed for n parameters (at least 1)."""
    return max(1, -(-n // cfg.pool_size))


def stream_variation(u: np.ndarray, r: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """u' = rotl_B(u, (r*B)//R) ^ (all ones if r odd): int64, B bits."""
    B, R = cfg.word_bits, cfg.effective_repeat
    mask = (1 << B) - 1
    u = np.asarray(u, dtype=np.int64)
    rot = (np.asarray(r, dtype=np.int64) * B) // R
    rotated = ((u << rot) | (u >> ((B - rot) % B))) & mask
    rotated = np.where(rot == 0, u, rotated)
    return rotated ^ np.where(np.asarray(r) & 1, mask, 0)
