"""The table-driven golden models (ref/lfsr.py's byte-table maps, ref/engine.py's
vectorised pool read and stream scaling) against plain models written from the
docstrings: single LFSR steps (``ref.lfsr.step``), Python loops over parameters and the
scalar scaler formulas, on random configurations. A speed-up that changes one word fails.
"""

import numpy as np
import pytest

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import engine_model, scaled_variation_tables
from pezo.ref.gaussian_pool import GaussianPoolModel
from pezo.ref.lfsr import (LfsrBank, apply_rows, compose, derive_seeds, jump_rows, map_clocks, master_state,
                           slot_count, step)
from pezo.ref.reuse import pool_draws, stream_variation, times_x
from pezo.ref.scaler import (apply_scale, centre, fill_pool, mantissa_range, mantissa_thresholds, moment_terms,
                             nominal_mantissa, select_mantissa, select_mantissas, word_moment_terms)

CONFIGS = 24


def single_steps(state: int, width: int, count: int) -> int:
    for _ in range(count):
        state = step(state, width)
    return state


class PlainBank:
    """The bank of ref/lfsr.py's docstring by single steps: G s = s ^ A**B s,
    J s = s ^ A**(B K') s, master(t) = J**t master0, lane k = G**k master."""

    def __init__(self, width: int, word_bits: int, lanes: int, seed: int, seed_in: int, fill: bool):
        self.W, self.B, self.lanes = width, word_bits, lanes
        self.slots = slot_count(lanes, fill)
        self.master0 = master_state(derive_seeds(seed, 1, width)[0] & ~1, seed_in, width)

    def chain(self, s: int) -> int:
        return s ^ single_steps(s, self.W, self.B)

    def master(self, t: int) -> int:
        s = self.master0
        for _ in range(t):
            s ^= single_steps(s, self.W, self.B * self.slots)
        return s

    def lane_states(self, t: int, fill: bool = False) -> list[int]:
        states = [self.master(t)]
        if fill:
            return [self.chain(states[0])]
        while len(states) < self.lanes:
            states.append(self.chain(states[-1]))
        return states

    def words(self, state: int, clocks: int) -> list[int]:
        out = []
        for _ in range(clocks):
            state = single_steps(state, self.W, self.B)
            out.append(state & ((1 << self.B) - 1))
        return out


def plain_bank(cfg: PezoConfig, seed_in: int) -> PlainBank:
    return PlainBank(cfg.lfsr_width, cfg.word_bits, cfg.lanes, cfg.seed, seed_in, cfg.strategy == "pool")


def scale(v: int, mant: int, cfg: PezoConfig) -> int:
    return (v * mant + (1 << (cfg.scale_shift - 1))) >> cfg.scale_shift


def plain_pool(cfg: PezoConfig, seed_in: int, t: int, n: int) -> list[int]:
    """ref/engine.py's ``pool`` and ref/reuse.py's read, parameter by parameter."""
    bank, N = plain_bank(cfg, seed_in), cfg.pool_size
    first = (t // cfg.pool_refresh) * cfg.pool_refresh if cfg.pool_refresh else 0
    fill = bank.words(bank.lane_states(first, fill=True)[0], N // 2)
    pool = fill_pool(centre(np.array(fill), cfg.word_bits), cfg)[0].tolist()
    wraps = max(1, -(-n // N))
    w = bank.words(bank.lane_states(t)[0], 1 + wraps)
    n_bits = N.bit_length() - 1
    s = w[1] % N or 1
    offsets = [w[0] % N]
    for k in range(1, wraps):
        offsets.append(offsets[-1] ^ (w[k + 1] % N))
    y = s                                      # s (x) alpha**(i + P*P), one x at a time
    for _ in range(cfg.parallel ** 2):
        y = times_x(y, n_bits)
    out = []
    for i in range(n):
        out.append(pool[offsets[i // N] ^ (0 if i % N == N - 1 else y)])
        y = times_x(y, n_bits)
    return out


def plain_stream(cfg: PezoConfig, seed_in: int, t: int, n: int) -> list[int]:
    """ref/engine.py's ``stream`` / ``none`` and ref/reuse.py's variation, word by word."""
    bank = plain_bank(cfg, seed_in)
    R, K, L, B = cfg.effective_repeat, cfg.lanes, cfg.moment_block, cfg.word_bits
    clocks = -(-(-(-n // R)) // K)
    lanes = [bank.words(s, clocks) for s in bank.lane_states(t)]
    mant = [nominal_mantissa(cfg, L)]
    for b in range(1, -(-clocks // L)):
        acc = sum(int(moment_terms(centre(np.array(lanes[0][c]), B), cfg)) for c in range((b - 1) * L, b * L))
        mant.append(select_mantissa(acc, cfg, L))
    out = []
    for i in range(n):
        j, r = divmod(i, R)
        u = lanes[j % K][j // K]
        X = min(R, B & -B)                     # ref/reuse.py's docstring: r = x + X*y
        x, y = r % X, r // X
        sigma = 0
        for b in range(B):                     # bit b -> b ^ x, complemented if popcount(b & x) is odd
            sigma |= ((u >> b & 1) ^ (bin(b & x).count("1") & 1)) << (b ^ x)
        rot = (y * B) // (R // X)
        u = ((sigma << rot) | (sigma >> (B - rot))) & ((1 << B) - 1)
        out.append(scale(2 * u + 1 - (1 << B), mant[(j // K) // L], cfg))
    return out


def random_config(rng: np.random.Generator) -> PezoConfig:
    """A valid random configuration, small enough for the plain models."""
    while True:
        W = int(rng.integers(8, 65))
        B = int(rng.integers(4, min(W, 24) + 1))
        P = 1 << int(rng.integers(0, 5))
        try:
            return PezoConfig(lfsr_width=W, word_bits=B, frac_bits=int(rng.integers(0, B - 3)), parallel=P,
                              strategy=str(rng.choice(["pool", "stream", "none"])),
                              pool_size=1 << int(rng.integers(max(1, P.bit_length()), 9)),
                              pool_refresh=int(rng.choice([0, 1, 4])),
                              repeat=1 << int(rng.integers(0, min(4, B.bit_length()))),
                              mantissa_bits=int(rng.integers(1, 7)), moment_bits=int(rng.integers(2, B + 1)),
                              moment_block=1 << int(rng.integers(4, 7)), seed=int(rng.integers(1, 2**63)))
        except ConfigError:
            continue


@pytest.mark.parametrize("index", range(CONFIGS))
def test_fast_engine_equals_the_plain_model_on_a_random_config(index):
    rng = np.random.default_rng(7000 + index)
    cfg = random_config(rng)
    seed_in = int(rng.integers(0, 1 << min(cfg.lfsr_width - 1, 62)))
    model = engine_model(cfg, seed_in)
    plain = plain_pool if cfg.strategy == "pool" else plain_stream
    for t in sorted(rng.integers(0, 12, size=3).tolist()):
        n = int(rng.integers(1, 1200))
        z = model.perturbation(t, n)
        assert z.tolist() == plain(cfg, seed_in, t, n), f"{cfg} step {t} n {n}"
        assert np.array_equal(model.perturbation_real(t, n), z / 2.0**cfg.frac_bits)


@pytest.mark.parametrize("index", range(CONFIGS))
def test_table_bank_equals_single_steps_on_a_random_geometry(index):
    rng = np.random.default_rng(8000 + index)
    W = int(rng.integers(4, 65))
    B, K = int(rng.integers(1, W + 1)), int(rng.integers(1, 6))
    fill = K == 1 and bool(rng.integers(0, 2))
    seed, seed_in = int(rng.integers(1, 2**63)), int(rng.integers(0, 1 << min(W - 1, 62)))
    bank, plain = LfsrBank(W, B, K, seed, seed_in, fill=fill), PlainBank(W, B, K, seed, seed_in, fill)
    for t in rng.integers(0, 40, size=3).tolist():
        assert bank.master(t) == plain.master(t)
        assert bank.lane_states(t).tolist() == plain.lane_states(t)
        if fill:
            assert bank.lane_states(t, LfsrBank.FILL_DOMAIN).tolist() == plain.lane_states(t, fill=True)
        clocks = int(rng.integers(0, 3 * LfsrBank.WORD_CHUNK // 2))
        bank.load(t)
        words = bank.words(clocks)
        states = plain.lane_states(t)
        assert words.T.tolist() == [plain.words(s, clocks) for s in states]
        assert bank.state.tolist() == [single_steps(s, W, B * clocks) for s in states]


def test_step_seek_reaches_far_steps_like_repeated_squaring():
    """master(t) for steps with every base-16 digit (up to 2**32) equals J**t by binary powers."""
    bank = LfsrBank(48, 16, 3, seed=99, seed_in=5)
    rng = np.random.default_rng(3)
    for t in [0, 1, 15, 16, 255, 4096, 65535, 2**32 - 1] + rng.integers(0, 2**32, size=5).tolist():
        rows, power, k = tuple(1 << i for i in range(48)), jump_rows(48, 16, bank.slots), t
        while k:
            if k & 1:
                rows = compose(power, rows)
            power, k = compose(power, power), k >> 1
        assert bank.master(t) == int(apply_rows(rows, np.array([bank.master0], dtype=np.uint64))[0]), t


@pytest.mark.parametrize("word_bits,moment_bits", [(16, 4), (8, 6), (8, 8), (24, 2), (24, 16), (24, 24), (5, 4)])
def test_word_moment_table_equals_the_moment_of_the_centred_word(word_bits, moment_bits):
    cfg = PezoConfig(word_bits=word_bits, frac_bits=0, moment_bits=moment_bits, repeat=1)
    u = np.random.default_rng(word_bits).integers(0, 1 << word_bits, size=5000)
    u[:2] = [0, (1 << word_bits) - 1]
    assert np.array_equal(word_moment_terms(u.astype(np.uint32), cfg), moment_terms(centre(u, word_bits), cfg))


def test_vectorised_mantissa_selection_equals_the_ladder():
    cfg = PezoConfig()
    n = 256
    edges = np.array(mantissa_thresholds(cfg, n), dtype=np.int64)
    acc = np.concatenate([np.arange(0, 8 * n * 300, 97), edges - 1, edges, edges + 1])
    assert select_mantissas(acc, cfg, n).tolist() == [select_mantissa(int(a), cfg, n) for a in acc]


@pytest.mark.parametrize("model", [engine_model(PezoConfig(pool_size=16)), engine_model(PezoConfig()),
                                   engine_model(PezoConfig(pool_size=4096, lfsr_width=33, word_bits=11,
                                                           frac_bits=5)),
                                   GaussianPoolModel(PezoConfig())])
def test_one_step_draws_equal_the_vectorised_draws(model):
    """PoolModel.pool_draws (Python ints, one step) equals ref/reuse.py's pool_draws of
    the model's step_words (for the Gaussian pool too, whose lanes are narrower)."""
    for t, wraps in [(0, 1), (3, 2), (77, 9), (1000, 40)]:
        offsets, s = model.pool_draws(t, wraps)
        want_offsets, want_s = pool_draws(model.step_words(t, 1 + wraps), model.cfg)
        assert offsets.tolist() == want_offsets.tolist() and s == int(want_s)


@pytest.mark.parametrize("lanes", [1, 2, 3, 8])
def test_bank_step_words_equal_each_lane_from_its_loaded_state(lanes):
    """step_words (one map of the master, or one per chunk of the whole bank beyond
    WORD_CHUNK words) equals the words of every loaded lane state, plain single steps."""
    bank = LfsrBank(40, 12, lanes, seed=31, seed_in=3)
    plain = PlainBank(40, 12, lanes, 31, 3, fill=False)
    for t, clocks in [(0, 1), (5, 37), (9, LfsrBank.WORD_CHUNK // lanes), (2, LfsrBank.WORD_CHUNK // lanes + 1),
                      (7, 3 * LfsrBank.WORD_CHUNK // lanes + 5)]:
        assert bank.step_words(t, clocks).T.tolist() == [plain.words(s, clocks) for s in plain.lane_states(t)]


@pytest.mark.parametrize("word_bits,repeat,mantissa_bits,frac_bits", [(8, 8, 3, 4), (12, 4, 6, 8), (16, 4, 4, 12),
                                                                       (16, 16, 1, 0), (21, 2, 5, 17), (24, 8, 2, 3)])
def test_scaled_variation_rows_sum_to_the_scaled_variation(word_bits, repeat, mantissa_bits, frac_bits):
    """Per byte, the rows of scaled_variation_tables, summed and floored, are
    apply_scale(centre(stream_variation(u, r)), mant) for every use r and mantissa
    (every word for B = 8, random words and both ends otherwise)."""
    cfg = PezoConfig(word_bits=word_bits, repeat=repeat, mantissa_bits=mantissa_bits, frac_bits=frac_bits,
                     moment_bits=4, strategy="stream")
    u = np.random.default_rng(word_bits).integers(0, 1 << word_bits, size=3000)
    u[:2] = [0, (1 << word_bits) - 1]
    tables = scaled_variation_tables(cfg)
    assert len(tables) == -(-word_bits // 8)
    lo, hi = mantissa_range(cfg)
    for mant in range(lo, hi + 1):
        s = sum(table[mant - lo][(u >> (8 * k)) & 255] for k, table in enumerate(tables))
        for r in range(cfg.effective_repeat):
            want = apply_scale(centre(stream_variation(u, r, cfg), word_bits), mant, cfg)
            assert np.array_equal(np.floor(s[:, r]), want), (mant, r)


def test_bank_map_sizes_cover_the_clocks_with_little_to_spare():
    for clocks in range(1, 5000):
        size, power = map_clocks(clocks), 1 << (clocks - 1).bit_length()
        assert clocks <= size <= power and (size - clocks) * 8 < clocks, clocks
    assert len({map_clocks(c) for c in range(1025, 2049)}) == 8       # 1152, 1280, ..., 2048


@pytest.mark.parametrize("name", ["default", "p1", "stream", "none", "refresh"])
def test_a_new_step_leaves_nothing_behind(name):
    """`pezo speed` times new steps from scratch: once a step has run, later steps (of the
    same pool epoch) rebind no attribute of the model or its bank, and the bank's word
    maps stay the configuration's tables for the clock counts asked for."""
    model = engine_model(preset(name))
    model.perturbation_real(0, 1210)
    bound = {key: id(value) for key, value in {**vars(model), **vars(model.bank)}.items()}
    maps = dict(model.bank._word_maps)
    for t in range(1, 4 if name == "refresh" else 40):
        model.perturbation_real(t, 1210)
    assert {key: id(value) for key, value in {**vars(model), **vars(model.bank)}.items()} == bound
    assert model.bank._word_maps == maps and all(clocks <= model.bank._chunk for clocks in maps)
