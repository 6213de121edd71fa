"""The engine golden model (EngineModel): replay, pool addressing, the mean-free fill,
reuse strategies, fresh-word counts and speed."""


import numpy as np
import pytest

from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import PoolModel, StreamModel, engine_model
from pezo.ref.lfsr import LfsrBank
from pezo.ref.reuse import field_poly, pool_draws, pool_indices, power_columns, stream_variation
from pezo.ref.scaler import apply_scale, centre, moment_acc, nominal_mantissa, select_mantissa

ALL_PRESETS = ["default", "p1", "stream", "none", "refresh", "small"]


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_replay_is_bit_exact(name):
    cfg = preset(name)
    engine = engine_model(cfg)
    first = engine.perturbation(3, 1000)
    engine.perturbation(4, 1000)
    assert (engine.perturbation(3, 1000) == first).all()
    assert (engine_model(cfg).perturbation(3, 1000) == first).all()
    assert (engine.perturbation(3, 300) == first[:300]).all()
    assert not (engine.perturbation(4, 1000) == first).all()


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_words_fit_the_output_format(name):
    cfg = preset(name)
    z = engine_model(cfg).perturbation(0, 5000)
    assert z.dtype == np.int64
    assert z.min() >= -(1 << (cfg.word_bits - 1)) and z.max() < (1 << (cfg.word_bits - 1))


def test_runtime_seed_gives_other_words():
    cfg = PezoConfig()
    assert not (engine_model(cfg, seed_in=1).perturbation(0, 256)
                == engine_model(cfg).perturbation(0, 256)).all()


def _field_product(a: int, b: int, n: int) -> int:
    """a (x) b in GF(2**n), schoolbook: the executable definition the model is checked with."""
    poly, out = field_poly(n), 0
    for k in range(n):
        if b >> k & 1:
            out ^= a << k
    for k in reversed(range(n, 2 * n)):
        if out >> k & 1:
            out ^= poly << (k - n)
    return out


@pytest.mark.parametrize("name", ["default", "p1", "refresh", "small"])
def test_pool_words_follow_per_wrap_offsets_and_field_multiplier(name):
    cfg = preset(name)
    N = cfg.pool_size
    n_bits = N.bit_length() - 1
    engine = engine_model(cfg)
    n = 3 * N + 5
    for t in range(6):
        bank = engine_model(cfg).bank
        bank.load(t)
        w = [int(x) for x in bank.words(5)[:, 0]]
        s = w[1] % N or 1
        o = [w[0] % N]
        for delta in w[2:]:
            o.append(o[-1] ^ (delta % N))
        pool = engine.pool_fill(t)[0]
        alpha = [1]
        for _ in range(N - 2):
            alpha.append(_field_product(alpha[-1], 2 % field_poly(n_bits), n_bits))
        shift = cfg.parallel ** 2
        expected = [pool[o[i // N] ^ (0 if i % N == N - 1 else _field_product(s, alpha[(i + shift) % (N - 1)], n_bits))]
                    for i in range(n)]
        z = engine.perturbation(t, n)
        assert (z == expected).all()
        # each wrap uses every pool word exactly once
        assert sorted(z[:N]) == sorted(pool)


def _poly_mod(a: int, b: int) -> int:
    while a.bit_length() >= b.bit_length():
        a ^= b << (a.bit_length() - b.bit_length())
    return a


def test_field_polynomials_are_irreducible():
    """Every pool size's polynomial (degree n = 1..16) has no factor of degree 1..n/2,
    so GF(2)[x]/poly is a field and s (x) . is a bijection for every s != 0."""
    for n in range(1, 17):
        poly = field_poly(n)
        assert poly.bit_length() == n + 1
        assert all(_poly_mod(poly, f) for f in range(2, 1 << (n // 2 + 1))), n


def test_pool_read_pairs_are_uniform_over_distinct_words():
    """2-transitivity: over every (o, s), parameters j != k of a wrap read each ordered
    pair of distinct pool words equally often (s = 1 counted once: the draws give it
    twice the weight), so E[z_j z_k] is that of a random permutation."""
    cfg = preset("small").replace(pool_size=16)
    N = cfg.pool_size
    for j, k in [(0, 1), (3, 11), (2, 10), (5, 13), (0, 8)]:
        count = np.zeros((N, N), dtype=np.int64)
        for s in range(1, N):
            idx = pool_indices(np.zeros(1, dtype=np.int64), s, N, cfg)
            for o in range(N):
                a = idx ^ o
                count[a[j], a[k]] += 1
        assert (count[~np.eye(N, dtype=bool)] == 1).all() and not np.diag(count).any()


def test_lane_addresses_step_by_a_constant_matrix():
    """The RTL's recurrence (ref/reuse.py): from read c to c + 1 every lane address a
    (the last parameter of a wrap aside) moves to A a ^ k, A = (x) alpha**P,
    k = o' ^ A o with o' the next read's offset."""
    for N, P in [(512, 8), (64, 1), (16, 2), (8, 4), (4, 2)]:
        cfg = PezoConfig(pool_size=N, parallel=P)
        D, n_bits = N // P, N.bit_length() - 1
        columns = power_columns(n_bits, P)

        def step(a: int) -> int:
            out = 0
            for j, column in enumerate(columns):
                if a >> j & 1:
                    out ^= column
            return out

        rng = np.random.default_rng(N + P)
        for s in [1, N - 1, *rng.integers(1, N, 3)]:
            offsets = rng.integers(0, N, 3)
            reads = pool_indices(offsets, int(s), 3 * N, cfg).reshape(-1, P)
            registers = [int(a) for a in reads[0]]
            for c in range(3 * D):
                o = int(offsets[c // D])
                for p in range(P):
                    # the wrap's last parameter reads o_w; its lane's register goes on
                    want = o if c % D == D - 1 and p == P - 1 else registers[p]
                    assert reads[c, p] == want, (N, P, s, c, p)
                if c + 1 < 3 * D:
                    o_next = int(offsets[(c + 1) // D])
                    registers = [step(a) ^ o_next ^ step(o) for a in registers]


def test_wraps_of_one_step_do_not_repeat_the_same_perturbation():
    cfg = PezoConfig()
    engine = engine_model(cfg)
    N = cfg.pool_size
    repeats = [(z[:N] == z[N:2 * N]).all() for z in (engine.perturbation(t, 2 * N) for t in range(20))]
    assert sum(repeats) <= 1  # equal only when the fresh delta is 0 mod N (probability 1/N)


@pytest.mark.parametrize("name", ["default", "p1", "small"])
def test_every_parameter_reaches_every_pool_word(name):
    """Offsets cover 0..N-1 and multipliers every non-zero value: over enough steps each of the
    first P parameters (one per lane) reads every pool word (no bank confinement)."""
    cfg = preset(name)
    N, P = cfg.pool_size, cfg.parallel
    engine = engine_model(cfg)
    steps = min(1 << cfg.step_bits, 16 * N)
    seen = np.zeros((P, N), dtype=bool)
    for t in range(steps):
        seen[np.arange(P), engine.indices(t, P)] = True
    assert seen.all(), f"worst parameter reaches {seen.sum(axis=1).min()} of {N} words"


def test_draws_use_the_whole_range():
    cfg = preset("small")
    N = cfg.pool_size
    words = np.arange(2 * N, dtype=np.int64)
    offsets, multipliers = pool_draws(np.stack([words, words, words]), cfg)
    assert set(offsets[0].tolist()) == set(range(N))
    assert set(multipliers.tolist()) == set(range(1, N))
    assert (offsets[1] == 0).all()  # o_1 = o_0 ^ w2 with w2 = w0


def test_pool_is_the_scaled_fill_words_and_their_negations():
    """The fill's N/2 lane words scaled, then their negations (``~u`` centres to -v and
    the rounding is odd), so the pool sums to exactly 0; scaling -v is what the RTL
    computes for the second half."""
    cfg = PezoConfig()
    N = cfg.pool_size
    engine = engine_model(cfg)
    pool, acc, mean, mant = engine.pool_fill(0)
    bank = engine_model(cfg).bank
    bank.load(0, LfsrBank.FILL_DOMAIN)
    u = bank.words(N // 2)[:, 0].astype(np.int64)
    v = centre(u, cfg.word_bits)
    assert mean == 0 and acc == moment_acc(v, cfg) and mant == select_mantissa(acc, cfg, N // 2)
    assert (pool[:N // 2] == apply_scale(v, mant, cfg)).all()
    assert (pool[N // 2:] == apply_scale(centre(u ^ ((1 << cfg.word_bits) - 1), cfg.word_bits), mant, cfg)).all()
    assert (pool[N // 2:] == -pool[:N // 2]).all() and int(pool.sum()) == 0


def test_pool_mean_vector_is_at_the_gaussian_noise_floor():
    """|E[z]|^2 over the steps (d = 8N parameters) at most 1.5x that of i.i.d. N(0, 1),
    whose expectation is d / steps; the bank-confined addressing measured 120 (issue 7)."""
    cfg = PezoConfig(pool_size=64)
    d, steps = 8 * cfg.pool_size, 3000
    engine = engine_model(cfg)
    mean = sum(engine.perturbation_real(t, d) for t in range(steps)) / steps
    floor = d / steps
    assert float(mean @ mean) <= 1.5 * floor, f"|E z|^2 = {float(mean @ mean):.3f}, floor {floor:.3f}"


def test_pool_refresh_changes_the_pool_once_per_epoch():
    cfg = preset("refresh")
    engine = engine_model(cfg)
    pools = [engine.pool_fill(t)[0].copy() for t in range(3 * cfg.pool_refresh)]
    for t in range(1, len(pools)):
        same_epoch = t // cfg.pool_refresh == (t - 1) // cfg.pool_refresh
        assert (pools[t] == pools[t - 1]).all() == same_epoch


def test_stream_reuses_each_fresh_word_with_variations():
    cfg = preset("stream")
    R = cfg.repeat
    engine = engine_model(cfg)
    z = engine.perturbation(2, 64)
    bank = engine.bank
    bank.load(2)
    fresh = bank.words(64 // R // cfg.lanes).reshape(-1).astype(np.int64)
    i = np.arange(64)
    varied = stream_variation(fresh[i // R], i % R, cfg)
    assert (z == apply_scale(centre(varied, cfg.word_bits), nominal_mantissa(cfg, cfg.moment_block), cfg)).all()
    # the R uses of a word are pairwise uncorrelated (over every B-bit word) and each
    # is a permutation of the words
    every = np.arange(1 << cfg.word_bits, dtype=np.int64)
    uses = np.stack([centre(stream_variation(every, np.full(every.shape, r), cfg), cfg.word_bits) for r in range(R)])
    assert all(np.array_equal(np.sort(u), np.sort(uses[0])) for u in uses)
    cov = uses.astype(float) @ uses.T.astype(float)
    assert (cov[~np.eye(R, dtype=bool)] == 0).all(), cov


@pytest.mark.parametrize("word_bits, repeat", [(16, 16), (8, 8), (12, 4), (4, 4)])
def test_stream_variations_are_uncorrelated_when_repeat_divides_the_word_alignment(word_bits, repeat):
    """sigma_x for x < 2**v (2**v | B): the centred values of any two uses of a word have
    covariance exactly 0 over all 2**B words; the former rotation by B/4 had 1/16."""
    cfg = PezoConfig(lfsr_width=16, word_bits=word_bits, frac_bits=word_bits - 4, moment_bits=4,
                     strategy="stream", repeat=repeat)
    every = np.arange(1 << word_bits, dtype=np.int64)
    uses = np.stack([centre(stream_variation(every, np.full(every.shape, r), cfg), word_bits)
                     for r in range(repeat)]).astype(float)
    cov = uses @ uses.T
    assert (cov[~np.eye(repeat, dtype=bool)] == 0).all()
    rotated = centre(((every << word_bits // 4) | (every >> (word_bits - word_bits // 4))) & ((1 << word_bits) - 1),
                     word_bits).astype(float)
    assert np.corrcoef(uses[0], rotated)[0, 1] > 0.05


def test_fresh_words_per_step():
    d, steps = 2410, 1000
    pool = engine_model(PezoConfig())
    assert isinstance(pool, PoolModel)
    N = pool.cfg.pool_size
    assert pool.fresh_words_per_step(d, steps) == 1 + -(-d // N) + N // 2 / steps  # s, a word per wrap, fill
    stream = engine_model(preset("stream"))
    assert isinstance(stream, StreamModel)
    clocks = -(-(-(-d // 4)) // 2)  # 603 fresh words from 2 lanes: 302 bank clocks
    assert stream.fresh_words_per_step(d, steps) == clocks * 2
    none = engine_model(preset("none"))
    assert none.fresh_words_per_step(d, steps) == -(-d // 8) * 8
