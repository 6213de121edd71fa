"""Arithmetic in GF(2^W) and on 2^W - 1: what proves the LFSR streams disjoint.

Polynomials over GF(2) are Python ints (bit i = coefficient of x^i). A Fibonacci LFSR
of width W with taps T (ref/lfsr.py) has the characteristic polynomial
``x^W + sum(x^(W - t) for t in T)`` (the tap t = W gives the constant term), which is
primitive for every entry of the tap table, so x generates the multiplicative group of
GF(2)[x] / f, of order 2^W - 1. :func:`dlog` finds discrete logarithms in that group by
Pohlig-Hellman with baby-step giant-step per prime factor; it is fast when every prime
factor of 2^W - 1 is below about 10^13, which holds for every W in 4..64 except 61
(2^61 - 1 is prime) and is checked by :func:`dlog_feasible`.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

#: Largest prime factor of the group order that baby-step giant-step handles here.
BSGS_LIMIT = 10**13


def clmulmod(a: int, b: int, poly: int, degree: int) -> int:
    """a * b mod poly over GF(2) (poly of the given degree, ints as bit masks)."""
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if a >> degree & 1:
            a ^= poly
    return result


def powmod(a: int, n: int, poly: int, degree: int) -> int:
    """a ** n mod poly over GF(2), n >= 0."""
    result = 1
    while n:
        if n & 1:
            result = clmulmod(result, a, poly, degree)
        a = clmulmod(a, a, poly, degree)
        n >>= 1
    return result


def is_probable_prime(n: int) -> bool:
    """Miller-Rabin with the first 12 prime bases (exact for n < 3.3e24)."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    for p in bases:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@lru_cache(maxsize=None)
def prime_factors(n: int) -> dict[int, int]:
    """{prime: exponent} of n by trial division and Pollard's rho (fine for n < 2**64)."""
    factors: dict[int, int] = {}

    def add(p: int) -> None:
        factors[p] = factors.get(p, 0) + 1

    for p in range(2, 1000):
        while n % p == 0:
            add(p)
            n //= p
    stack = [n] if n > 1 else []
    rng = random.Random(1)
    while stack:
        m = stack.pop()
        if is_probable_prime(m):
            add(m)
            continue
        while True:
            c = rng.randrange(1, m)
            x = y = rng.randrange(2, m)
            d = 1
            while d == 1:
                x = (x * x + c) % m
                y = (y * y + c) % m
                y = (y * y + c) % m
                d = math.gcd(abs(x - y), m)
            if d != m:
                stack += [d, m // d]
                break
    return dict(sorted(factors.items()))


def lfsr_polynomial(width: int, taps: tuple[int, ...]) -> int:
    """The characteristic polynomial of a Fibonacci LFSR (see the module docstring)."""
    poly = 1 << width
    for t in taps:
        poly |= 1 << (width - t)
    return poly


def dlog_feasible(width: int) -> bool:
    """Whether :func:`dlog` can run in GF(2^width) (every prime factor of the order is small)."""
    return max(prime_factors((1 << width) - 1)) <= BSGS_LIMIT


def _bsgs(g: int, h: int, order: int, poly: int, degree: int) -> int:
    """The e in [0, order) with g**e = h, g of the given (prime) order."""
    s = math.isqrt(order) + 1
    table: dict[int, int] = {}
    cur = 1
    for j in range(s):
        table.setdefault(cur, j)
        cur = clmulmod(cur, g, poly, degree)
    giant = powmod(powmod(g, s, poly, degree), order - 1, poly, degree)  # g**(-s)
    y = h
    for i in range(s + 1):
        if y in table:
            return (i * s + table[y]) % order
        y = clmulmod(y, giant, poly, degree)
    raise ValueError("element not in the subgroup")


def dlog(h: int, poly: int, degree: int) -> int:
    """The e in [0, 2^degree - 1) with x**e = h mod poly (poly primitive, h != 0)."""
    order = (1 << degree) - 1
    residues, moduli = [], []
    for p, k in prime_factors(order).items():
        g_p = powmod(0b10, order // p, poly, degree)  # an element of order p
        x_inv = powmod(0b10, order - 1, poly, degree)
        e = 0
        for i in range(k):
            # strip what is known, project onto the order-p subgroup
            rest = clmulmod(h, powmod(x_inv, e, poly, degree), poly, degree)
            digit = _bsgs(g_p, powmod(rest, order // p ** (i + 1), poly, degree), p, poly, degree)
            e += digit * p ** i
        residues.append(e)
        moduli.append(p ** k)
    e, m = 0, 1
    for r, q in zip(residues, moduli):
        e += m * ((r - e) * pow(m, -1, q) % q)
        m *= q
    return e % m
