"""Bit-exact model of the reuse strategies (hw/reuse.py: :class:`PoolReuse` and
:class:`StreamReuse`). Reasons in docs/design.md section 2.2.

``pool`` (N = pool_size = 2**n words, P = parallel, D = N/P reads per wrap):
    Pool indices are elements of the field GF(2**n) (bit k = coefficient of x**k,
    reduced by the primitive polynomial :func:`field_poly`, so alpha = x generates the
    N - 1 non-zero elements; ``(x)`` below is the field product, ``^`` XOR). At the
    start of step t, lane 0 of the bank (loaded for t, step domain) produces the words
    w0, w1, w2, ... (unsigned, B bits). They give::

        o_0 = w0 mod N
        s   = w1 mod N, or 1 if that is 0            # any non-zero field element
        o_w = o_{w-1} ^ (w_{w+1} mod N)              # for every later wrap w >= 1

    and parameter i = w*N + j (j < N) of the step reads::

        pool[o_w ^ s (x) alpha**(i + P*P)]     for j < N - 1
        pool[o_w]                              for j = N - 1 (the last of a wrap)

    (the exponent's P*P is where the RTL's lane chain leaves lane 0; any fixed power
    of alpha in the multiplier is as uniform as s).
    Within a wrap every pool word is read exactly once (N - 1 successive powers of
    alpha are the N - 1 non-zero elements, and the last parameter takes 0). Over the
    draws of (o, s) the read is 2-transitive: for parameters j != k of a wrap the
    XOR of the two words' indices is ``s (x) (e_j ^ e_k)`` with e_j != e_k fixed,
    uniform over the non-zero elements as s is (s = 1 has twice the weight of the
    others), and o is uniform; so the pair of words read is uniform over the N(N-1)
    ordered pairs of distinct words, and the second moment of z over a wrap is that of
    a uniformly random permutation of the pool: E[z_j z_k] = -q/(N-1) for j != k, q
    for j = k (q the pool's mean square, its sum 0). Its only small eigenvalue is the
    wrap's sum (pinned to the pool's sum, 0): d/N pinned directions, no more. Wraps of
    one step are uncorrelated (their offsets differ by fresh words). Every parameter
    reads every pool word over the steps (o_w is uniform).

    Why not an odd stride mod N (the former design, ``pool[(o_w + j*stride) mod N]``):
    it maps parameters j and j + N/2 to words N/2 apart in every step, so E[zz^T]
    within a wrap has, besides the wrap sum, eigenvalues set by single Fourier
    components of the fixed pool (the even-minus-odd sum, N/4 apart, ...); one of them
    is small by chance for a given pool and repeats in every wrap (16 directions below
    0.1 at d = 8N for the default seed, and 2.7 points of test accuracy lost at
    d = 38,410).

    Storage: P copies of the N-word pool, each with one write port (all written with
    the same word and index during the fill) and one read port, so lane p of read c
    (parameter c*P + p) reads copy p at its own address. Lane p's address register
    holds ``a = o_w ^ s (x) alpha**(i + P*P)``; a read maps it to ``A a ^ k`` with A the
    constant matrix of ``(x) alpha**P`` (:func:`power_columns`) and
    ``k = o' ^ A o_w`` (o' = o_w, or o_{w+1} at the read that ends the wrap), which
    keeps ``a ^ o`` multiplied by alpha**P; the last read of a wrap gives lane P - 1's
    memory the address o_w instead.

``stream`` / ``none`` (R = effective_repeat, K = max(1, P//R)):
    Fresh word j is lane (j mod K) of bank clock (j // K). Parameter i uses fresh word
    i // R with variation r = i mod R. With 2**v the largest power of two dividing B,
    X = min(R, 2**v) and Y = R / X, r = x + X*y (x < X, y < Y) and::

        u' = rotl_B(sigma_x(u), (y*B) // Y)
        sigma_x(u): bit b of u moves to bit b ^ x, complemented when popcount(b & x) is odd

    (b ^ x < B since 2**v divides B and x < 2**v). Wiring and inverters only. Every
    variation is a uniform word; with the centred bits c_b = 2 u_b - 1 the centred
    value is sum_b 2**b c_b, and two variations sigma_x, sigma_x' (x != x') are
    exactly uncorrelated: their covariance sum_b (-1)**popcount(b & (x ^ x'))
    2**((b ^ x) + (b ^ x')) cancels in pairs b, b ^ 2**k for any bit k of x ^ x'
    (the exponent does not change, the sign does). So when R divides 2**v (B = 16: R
    up to 16; the ``stream`` preset has R = 4) the R uses of a fresh word are
    pairwise uncorrelated; for larger R the rotation classes y correlate as rotations
    do (B = 12, R = 8 or B = 10, R = 4: up to 0.06).
    The former variation (rotations by r*B/R, complemented for odd r) correlated
    the uses of one word by up to 1/16 (rotation by B/4).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import TAPS

#: Primitive polynomials of the fields too small for the LFSR tap table (degree 1..3).
SMALL_FIELD_POLYS = {1: 0b11, 2: 0b111, 3: 0b1011}


def field_poly(n: int) -> int:
    """The primitive degree-n polynomial of GF(2**n) (bit k = coefficient of x**k): the
    characteristic polynomial of the width-n LFSR taps of ref/lfsr.py for n >= 4,
    else :data:`SMALL_FIELD_POLYS`."""
    if n in SMALL_FIELD_POLYS:
        return SMALL_FIELD_POLYS[n]
    return (1 << n) | sum(1 << (n - t) for t in TAPS[n])


def times_x(a: int, n: int) -> int:
    """a (x) x in GF(2**n): a shift and a conditional XOR of the polynomial."""
    a <<= 1
    return a ^ field_poly(n) if a >> n & 1 else a


def _log2(N: int) -> int:
    return N.bit_length() - 1


def pool_draws(words: np.ndarray, cfg: PezoConfig) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, s) of steps from lane 0's words w0, w1, ..., w_wraps.

    ``words`` has shape (1 + wraps, ...) (any trailing shape, e.g. one column per
    step), unsigned; ``offsets[w] = o_w`` (pool indices 0..N-1) for each wrap, shape
    (wraps, ...), and ``s`` (the field multiplier, 1..N-1) has the trailing shape.
    int64."""
    N = cfg.pool_size
    low = (np.asarray(words, dtype=np.uint64) & np.uint64(N - 1)).astype(np.int64)
    offsets = np.bitwise_xor.accumulate(np.concatenate([low[:1], low[2:]]), axis=0)
    return offsets, np.where(low[1] == 0, 1, low[1])


@lru_cache(maxsize=None)
def field_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(exp, log) of GF(2**n): ``exp[e] = alpha**e`` for e < 2**n - 1 and
    ``log[exp[e]] = e`` (log[0] unused), int64."""
    exp = np.empty(max(1, (1 << n) - 1), dtype=np.int64)
    a = 1
    for e in range(len(exp)):
        exp[e] = a
        a = times_x(a, n)
    log = np.zeros(1 << n, dtype=np.int64)
    log[exp] = np.arange(len(exp))
    return exp, log


def power_columns(n: int, e: int) -> list[int]:
    """The matrix of ``(x) alpha**e`` on GF(2**n): column j is x**j (x) alpha**e."""
    columns = []
    for j in range(n):
        a = 1 << j
        for _ in range(e):
            a = times_x(a, n)
        columns.append(a)
    return columns


def pool_indices(offsets: np.ndarray, s: int, n: int, cfg: PezoConfig) -> np.ndarray:
    """Pool index of parameters 0..n-1 (int64): ``offsets[i // N] ^ s (x) alpha**(i + P*P)``,
    or ``offsets[i // N]`` for the last parameter of a wrap (i mod N = N - 1).

    Computed as ``offsets ^ exp3[log s:][exponents]`` with the constant tables of
    :func:`_read_tables` (no modulo, one gather from a view shifted by log s)."""
    exp3, exponents, log = _read_tables(cfg.pool_size, cfg.parallel, pool_wraps(n, cfg))
    index = exp3[log[s]:].take(exponents)
    index ^= np.asarray(offsets, dtype=np.int64)[:len(exponents), None]
    return index.reshape(-1)[:n]


@lru_cache(maxsize=None)
def _read_tables(N: int, P: int, wraps: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """(exp3, exponents, log), constants of the read: ``exp3`` (read-only int64) is the
    field's exp table twice (so e + log s < 2(N-1) needs no modulo) then N - 1 zeros;
    ``exponents[w, j]`` (read-only int64) is ``(w N + j + P*P) mod (N - 1)``, or 2(N-1)
    (a zero of exp3 for any log s) for the last parameter of a wrap; ``log`` the
    field's log table as Python ints (one look-up per step)."""
    exp, log = field_tables(_log2(N))
    order = len(exp)
    exp3 = np.concatenate([exp, exp, np.zeros(order, dtype=np.int64)])
    exponents = (np.arange(wraps * N, dtype=np.int64) + P * P) % order
    exponents = exponents.reshape(wraps, N)
    exponents[:, N - 1] = 2 * order
    for table in (exp3, exponents):
        table.flags.writeable = False
    return exp3, exponents, tuple(log.tolist())


def pool_wraps(n: int, cfg: PezoConfig) -> int:
    """Wraps of the pool needed for n parameters (at least 1)."""
    return max(1, -(-n // cfg.pool_size))


def variation_layout(cfg: PezoConfig) -> tuple[int, int]:
    """(X, Y): XOR variations sigma_x per rotation class and rotation classes, X*Y = R."""
    B, R = cfg.word_bits, cfg.effective_repeat
    X = min(R, B & -B)
    return X, R // X


def variation_bits(r: int, cfg: PezoConfig) -> tuple[list[int], list[bool]]:
    """Where variation r puts each bit of u: (position[b], complemented[b]) for b < B."""
    B = cfg.word_bits
    X, Y = variation_layout(cfg)
    x, y = r % X, r // X
    rot = (y * B) // Y
    return ([((b ^ x) + rot) % B for b in range(B)],
            [bool(bin(b & x).count("1") & 1) for b in range(B)])


def stream_variation(u: np.ndarray, r: np.ndarray, cfg: PezoConfig) -> np.ndarray:
    """u' = rotl_B(sigma_x(u), (y*B)//Y) for r = x + X*y (module docstring): int64, B bits."""
    B = cfg.word_bits
    u = np.asarray(u, dtype=np.int64)
    r = np.broadcast_to(np.asarray(r, dtype=np.int64), u.shape)
    out = np.zeros(u.shape, dtype=np.int64)
    for rv in np.unique(r):
        sel = r == rv
        position, flip = variation_bits(int(rv), cfg)
        us = u[sel]
        varied = np.zeros_like(us)
        for b in range(B):
            varied |= (((us >> b) & 1) ^ int(flip[b])) << position[b]
        out[sel] = varied
    return out
