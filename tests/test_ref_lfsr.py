"""The LFSR bank model: maximal length, leap-forward, seeding and step jumps."""

import numpy as np
import pytest

from pezo.errors import ConfigError
from pezo.ref.gf2 import powmod, prime_factors
from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import (TAPS, LfsrBank, apply_rows, chain_rows, close_lanes, derive_seeds, jump_rows,
                           leap_rows, power_rows, slot_positions, step, stream_lambda, stream_separation)


@pytest.mark.parametrize("width", sorted(TAPS))
def test_tap_polynomial_is_primitive(width):
    poly = 1
    for t in TAPS[width]:
        poly |= 1 << t
    order = (1 << width) - 1
    assert powmod(0b10, order, poly, width) == 1
    for q in prime_factors(order):
        assert powmod(0b10, order // q, poly, width) != 1, f"x has order dividing {order // q}"


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
    assert bank.slots == 4
    expected = bank.master0
    for t in range(70):
        assert bank.master(t) == expected
        expected = int(apply_rows(jump_rows(20, 10, 4), np.array([expected], dtype=np.uint64))[0])
    far = LfsrBank(20, 10, lanes=3, seed=9)
    assert far.master(69) == bank.master(69)


@pytest.mark.parametrize("width,word_bits", [(8, 8), (16, 8), (32, 16), (48, 16), (64, 24)])
def test_chain_and_jump_are_powers_of_the_single_step(width, word_bits):
    """G = I + A**B = A**lam and J = G**K' = A**(K' lam): every stream start is a
    multiple of lam."""
    lam = stream_lambda(width, word_bits)
    assert chain_rows(width, word_bits) == tuple(r ^ (1 << i) for i, r in enumerate(leap_rows(width, word_bits)))
    assert power_rows(width, lam) == chain_rows(width, word_bits)
    for slots in (1, 2, 8):
        assert jump_rows(width, word_bits, slots) == power_rows(width, slots * lam)


def test_lanes_load_their_slots_and_positions_locate_them():
    """Lane k of step t is G**k master(t) = A**((t K' + k) lam) master0, and the fill slot
    of a one-lane bank is slot 1; slot_positions gives exactly those exponents."""
    width, bits = 16, 8
    bank = LfsrBank(width, bits, lanes=3, seed=3, seed_in=0x77)
    filler = LfsrBank(width, bits, lanes=1, seed=3, seed_in=0x77, fill=True)
    pos = slot_positions(width, bits, 4, 6).tolist()
    fill_pos = slot_positions(width, bits, 2, 6).tolist()
    for t in (0, 1, 5):
        for k in range(3):
            want = apply_rows(power_rows(width, pos[t * 4 + k]), np.array([bank.master0], dtype=np.uint64))[0]
            assert bank.lane_states(t)[k] == want
        fill = apply_rows(power_rows(width, fill_pos[t * 2 + 1]), np.array([filler.master0], dtype=np.uint64))[0]
        assert filler.lane_states(t, LfsrBank.FILL_DOMAIN)[0] == fill


def test_next_lane_word_is_this_lanes_word_xor_its_next_word():
    """G = I + A**B: lane k+1 of clock c = lane k of clock c XOR lane k of clock c+1, so
    the words of one clock are distinct linear functions of one stream's words."""
    bank = LfsrBank(32, 16, lanes=4, seed=11)
    bank.load(7)
    words = bank.words(50)
    single = LfsrBank(32, 16, lanes=4, seed=11)
    single.load(7)
    single.state = single.state[:1]
    single.lanes = 1
    lane0 = single.words(60)[:, 0]
    assert (words[:, 0] == lane0[:50]).all()
    assert (words[:, 1] == lane0[:50] ^ lane0[1:51]).all()


def test_default_streams_are_disjoint_for_a_million_parameters_over_all_steps():
    """W = 48, B = 16, 2**16 steps: every slot stream (K' <= 32) runs at least 10**6
    words of 16 bits before it could meet another (the run length ref/lfsr.py states)."""
    for slots in (2, 8, 32):
        assert stream_separation(48, 16, slots, 1 << 16) >= 16 * 10**6


def test_degenerate_polynomials_are_found_and_rejected():
    """x**63 + x + 1 with B = 16: 1 + x**16 = x**(16*63), lanes 1008 steps apart."""
    assert stream_lambda(63, 16) == 1008 and close_lanes(63, 16) == 1008
    assert close_lanes(48, 16) is None
    with pytest.raises(ConfigError, match="lanes would lie only 1008 LFSR steps apart"):
        PezoConfig(lfsr_width=63)


def test_widths_without_a_discrete_log_say_so():
    with pytest.raises(ConfigError, match="lfsr_width=61"):
        stream_lambda(61, 16)


def test_lanes_are_distinct_and_never_zero():
    bank = LfsrBank(16, 8, lanes=6, seed=5)
    states = bank.states_from_masters(bank.masters(0, 300))
    assert (states != 0).all()
    assert all(len(set(row.tolist())) == 6 for row in states)


def test_runtime_seed_sets_the_master_never_zero_and_counts_modulo_half_the_period():
    plain = LfsrBank(16, 8, lanes=1, seed=5)
    assert plain.master0 == plain.master_base | 1 and plain.master_base & 1 == 0
    masters = {LfsrBank(16, 8, lanes=1, seed=5, seed_in=x).master0 for x in range(1 << 15)}
    assert len(masters) == 1 << 15 and 0 not in masters
    assert LfsrBank(16, 8, lanes=1, seed=5, seed_in=0x1234 | 1 << 15).master0 == \
        LfsrBank(16, 8, lanes=1, seed=5, seed_in=0x1234).master0


def test_fill_slot_needs_one_lane():
    with pytest.raises(ConfigError, match="exactly one lane"):
        LfsrBank(16, 8, lanes=2, seed=5, fill=True)
