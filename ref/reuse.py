"""Bit-exact model of the reuse strategies (hw/reuse.py: :class:`PoolReuse` and
:class:`StreamReuse`). Reasons in docs/design.md section 2.2.

``pool`` (N = pool_size words, P = parallel):
    At the start of step t, lane 0 of the bank (loaded for t, step domain) produces the
    words w0, w1, w2, ... (unsigned, B bits). They give::

        o_0    = w0 mod N
        stride = 1 + 2*(w1 mod N/2)                  # any odd value in 1 .. N-1
        o_w    = (o_{w-1} + w_{w+1}) mod N           # for every later wrap w >= 1

    and parameter i = w*N + j (j < N) of the step reads ``pool[(o_w + j*stride) mod N]``.
    Within a wrap every pool word is read exactly once (stride is odd, N a power of
    two); a fresh offset per wrap keeps parameters i and i + N from sharing their
    perturbation in every step. Offsets and strides range over all of 0..N-1 and all
    odd values, so over the steps every parameter reads every pool word: no parameter
    is confined to part of the pool (the former design confined parameter i to bank
    i mod P, which biased E[z] and left directions unexplored).

    Storage: P copies of the N-word pool, each with one write port (all written with
    the same word and index during the fill) and one read port, so lane p of transfer c
    (parameter c*P + p) reads copy p at its own address. Lane p's address starts at
    ``o_0 + p*stride`` and advances by ``P*stride mod N`` per read; the read that
    ends a wrap adds the wrap's fresh word as well (``o_w`` moves by ``w_{w+1}``).

``stream`` / ``none`` (R = effective_repeat, K = max(1, P//R)):
    Fresh word j is lane (j mod K) of bank clock (j // K). Parameter i uses fresh word
    i // R with variation r = i mod R::

        u' = rotl_B(u, (r*B) // R) XOR (2**B - 1 if r is odd else 0)

    i.e. a bit rotation spread over the word and, on odd uses, the complement of u,
    which negates the centred value exactly (centre(~u) = -centre(u)).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pezo.ref.config import PezoConfig


def pool_draws(words: np.ndarray, cfg: PezoConfig) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, stride) of steps from lane 0's words w0, w1, ..., w_wraps.

    ``words`` has shape (1 + wraps, ...) (any trailing shape, e.g. one column per
    step), unsigned; ``offsets[w] = o_w`` (pool indices 0..N-1) for each wrap, shape
    (wraps, ...), and ``stride`` (odd, 1..N-1) has the trailing shape. int64."""
    N = cfg.pool_size
    low = np.bitwise_and(words, N - 1, dtype=np.int64)
    stride = 1 + 2 * (low[1] & (N // 2 - 1))
    low[1] = low[0]                   # the offsets sum w0, w2, w3, ...
    o = np.add.accumulate(low[1:], axis=0)
    o &= N - 1
    return o, stride


def pool_indices(offsets: np.ndarray, stride: int, n: int, cfg: PezoConfig) -> np.ndarray:
    """Pool index of parameters 0..n-1: (offsets[i // N] + (i mod N)*stride) mod N (int64),
    built wrap by wrap (one row of N indices per offset)."""
    N = cfg.pool_size
    wraps = -(-n // N)
    index = _ramp(N, wraps) * stride      # (i mod N) * stride = i * stride mod N
    index += np.asarray(offsets, dtype=np.int64)[:wraps, None]
    index &= N - 1
    return index.reshape(-1)[:n]


@lru_cache(maxsize=None)
def _ramp(N: int, wraps: int) -> np.ndarray:
    """0 .. wraps*N - 1 as (wraps, N) int64, a constant of the read (read-only)."""
    ramp = np.arange(wraps * N, dtype=np.int64).reshape(wraps, N)
    ramp.flags.writeable = False
    return ramp


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
