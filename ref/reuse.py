"""Bit-exact model of the reuse strategies (the ReuseBuffer of hw/reuse.py).

``pool`` (N = pool_size words, P = parallel, Q = max(P, 2)):
    At the start of step t, lane 0 of the bank (loaded for t) produces two words w0, w1.
    ``o = w0 mod (N/P)``, ``s = w1 mod (N/Q)``, ``offset = P*o``, ``stride = 1 + Q*s``
    (odd, and 1 mod P). Parameter i reads ``pool[(offset + i*stride) mod N]``.
    The pool is stored as P banks (word j in bank j mod P at address j // P), so lane p
    of clock c (parameter i = c*P + p) always reads bank p, at address
    ``(o + p*s + c*stride) mod (N/P)``: one read port per bank, one adder per lane.

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


def pool_offset_stride(w0: int, w1: int, cfg: PezoConfig) -> tuple[int, int]:
    """(offset, stride) of a step from its two fresh words."""
    P, N = cfg.parallel, cfg.pool_size
    q = max(P, 2)
    return P * (w0 % (N // P)), 1 + q * (w1 % (N // q))


def pool_indices(offset: int, stride: int, n: int, cfg: PezoConfig) -> np.ndarray:
    """Pool index of parameters 0..n-1: (offset + i*stride) mod N (int64)."""
    i = np.arange(n, dtype=np.int64)
    return (offset + i * stride) & (cfg.pool_size - 1)


def stream_variation(u: np.ndarray, r: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """u' = rotl_B(u, (r*B)//R) ^ (all ones if r odd): int64, B bits."""
    B, R = cfg.word_bits, cfg.effective_repeat
    mask = (1 << B) - 1
    u = np.asarray(u, dtype=np.int64)
    rot = (np.asarray(r, dtype=np.int64) * B) // R
    rotated = ((u << rot) | (u >> ((B - rot) % B))) & mask
    rotated = np.where(rot == 0, u, rotated)
    return rotated ^ np.where(np.asarray(r) & 1, mask, 0)
