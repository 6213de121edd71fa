"""The LFSR bank model: maximal length, leap-forward, seeding and step jumps."""

import math
import random

import numpy as np
import pytest

from pezo.ref.lfsr import (STEP_JUMP, TAPS, LfsrBank, apply_rows, derive_seeds, jump_rows, leap_rows,
                           power_rows, step)


def rotl(x: int, r: int, width: int) -> int:
    """Rotate a width-bit int left by r: the scalar definition the lane loads must follow."""
    r %= width
    return ((x << r) | (x >> (width - r))) & ((1 << width) - 1) if r else x


def _clmulmod(a: int, b: int, poly: int, degree: int) -> int:
    """a*b mod poly over GF(2), polynomials as int bit masks."""
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if a >> degree & 1:
            a ^= poly
    return result


def _x_power(n: int, poly: int, degree: int) -> int:
    result, base = 1, 0b10
    while n:
        if n & 1:
            result = _clmulmod(result, base, poly, degree)
        base = _clmulmod(base, base, poly, degree)
        n >>= 1
    return result


def _is_probable_prime(n: int) -> bool:
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
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


def _prime_factors(n: int) -> set[int]:
    """Prime factors by trial division and Pollard's rho (fine for n < 2**64)."""
    factors: set[int] = set()
    for p in range(2, 1000):
        while n % p == 0:
            factors.add(p)
            n //= p
    stack = [n] if n > 1 else []
    rng = random.Random(1)
    while stack:
        m = stack.pop()
        if _is_probable_prime(m):
            factors.add(m)
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
    return factors


@pytest.mark.parametrize("width", sorted(TAPS))
def test_tap_polynomial_is_primitive(width):
    poly = 1
    for t in TAPS[width]:
        poly |= 1 << t
    order = (1 << width) - 1
    assert _x_power(order, poly, width) == 1
    for q in _prime_factors(order):
        assert _x_power(order // q, poly, width) != 1, f"x has order dividing {order // q}"


@pytest.mark.parametrize("width", range(4, 17))
def test_full_period_exhaustively(width):
    state, period = 1, 0
    seen_zero = False
    while True:
        state = step(state, width)
        period += 1
        seen_zero |= state == 0
        if state == 1:
            break
    assert not seen_zero
    assert period == (1 << width) - 1


@pytest.mark.parametrize("width,word_bits", [(4, 4), (8, 5), (16, 16), (17, 8), (32, 16), (64, 13), (64, 64)])
def test_leap_equals_word_bits_single_steps(width, word_bits):
    rng = np.random.default_rng(width * 100 + word_bits)
    states = rng.integers(1, 1 << min(width, 63), size=20, dtype=np.uint64)
    leaped = apply_rows(leap_rows(width, word_bits), states)
    for s, s_leap in zip(states.tolist(), leaped.tolist()):
        bits = 0
        for _ in range(word_bits):
            s = step(s, width)
            bits = (bits << 1) | (s & 1)
        assert s == s_leap
        assert s_leap & ((1 << word_bits) - 1) == bits


def test_bank_words_equal_successive_leaps():
    bank = LfsrBank(24, 8, lanes=5, seed=77)
    bank.load(3)
    states = bank.state.copy()
    words = bank.words(37)
    rows = leap_rows(24, 8)
    for c in range(37):
        states = apply_rows(rows, states)
        assert (words[c] == (states & np.uint64(0xFF))).all()
    assert (bank.state == states).all()


def test_lane_seeds_are_distinct_and_nonzero():
    for width in (4, 8, 16, 32, 64):
        count = min(100, (1 << width) - 1)
        seeds = derive_seeds(12345, count, width)
        assert len(set(seeds)) == count
        assert all(0 < s < (1 << width) for s in seeds)


def test_master_states_follow_the_step_jump():
    bank = LfsrBank(20, 10, lanes=3, seed=9)
    assert jump_rows(20) == power_rows(20, STEP_JUMP)
    expected = bank.master0
    for t in range(70):
        assert bank.master(t) == expected
        expected = int(apply_rows(jump_rows(20), np.array([expected], dtype=np.uint64))[0])
    far = LfsrBank(20, 10, lanes=3, seed=9)
    assert far.master(69) == bank.master(69)


def test_step_and_fill_domains_load_different_lanes():
    bank = LfsrBank(32, 16, lanes=4, seed=3)
    master = bank.master(5)
    step_states = bank.lane_states(5)
    fill_states = bank.lane_states(5, LfsrBank.FILL_DOMAIN)
    for k in range(4):
        assert step_states[k] == bank.bases[k] ^ np.uint64(rotl(master, k, 32))
        assert fill_states[k] == bank.bases[k] ^ np.uint64(rotl(master, k + 16, 32))


def test_zero_lane_state_falls_back_to_the_lane_base():
    bank = LfsrBank(16, 8, lanes=2, seed=5)
    base0 = int(bank.bases[0])
    states = bank.states_from_masters(np.array([base0], dtype=np.uint64))
    assert states[0, 0] == bank.bases[0]
    assert states[0, 1] == bank.bases[1] ^ np.uint64(rotl(base0, 1, 16))


def test_runtime_seed_changes_the_master_and_zero_falls_back():
    plain = LfsrBank(16, 8, lanes=1, seed=5)
    seeded = LfsrBank(16, 8, lanes=1, seed=5, seed_in=0x1234)
    assert seeded.master0 == plain.master_base ^ 0x1234
    cancelled = LfsrBank(16, 8, lanes=1, seed=5, seed_in=plain.master_base)
    assert cancelled.master0 == plain.master_base
