"""The PerturbationEngine golden model: replay, reuse strategies and fresh-word counts."""

import numpy as np
import pytest

from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import PerturbationEngine
from pezo.ref.lfsr import LfsrBank
from pezo.ref.reuse import pool_draws, pool_indices, stream_variation
from pezo.ref.scaler import apply_scale, centre, nominal_mantissa

ALL_PRESETS = ["default", "p1", "stream", "none", "refresh", "small"]


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_replay_is_bit_exact(name):
    cfg = preset(name)
    engine = PerturbationEngine(cfg)
    first = engine.perturbation(3, 1000)
    engine.perturbation(4, 1000)
    assert (engine.perturbation(3, 1000) == first).all()
    assert (PerturbationEngine(cfg).perturbation(3, 1000) == first).all()
    assert (engine.perturbation(3, 300) == first[:300]).all()
    assert not (engine.perturbation(4, 1000) == first).all()


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_words_fit_the_output_format(name):
    cfg = preset(name)
    z = PerturbationEngine(cfg).perturbation(0, 5000)
    assert z.dtype == np.int64
    assert z.min() >= -(1 << (cfg.word_bits - 1)) and z.max() < (1 << (cfg.word_bits - 1))


def test_runtime_seed_gives_other_words():
    cfg = PezoConfig()
    assert not (PerturbationEngine(cfg, seed_in=1).perturbation(0, 256)
                == PerturbationEngine(cfg).perturbation(0, 256)).all()


@pytest.mark.parametrize("name", ["default", "p1", "refresh", "small"])
def test_pool_words_follow_per_wrap_offsets_and_odd_stride(name):
    cfg = preset(name)
    N, P = cfg.pool_size, cfg.parallel
    engine = PerturbationEngine(cfg)
    n = 3 * N + 5
    for t in range(6):
        bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, 1, cfg.seed)
        bank.load(t)
        w = [int(x) for x in bank.words(5)[:, 0]]
        stride = 1 + max(P, 2) * (w[1] % (N // max(P, 2)))
        assert stride % 2 == 1 and stride % P == 1 % P
        o = [w[0] % (N // P)]
        for delta in w[2:]:
            o.append((o[-1] + delta) % (N // P))
        pool, _, _ = engine.pool_fill(t)
        expected = [pool[(P * o[i // N] + (i % N) * stride) % N] for i in range(n)]
        z = engine.perturbation(t, n)
        assert (z == expected).all()
        # each wrap uses every pool word exactly once
        assert sorted(z[:N]) == sorted(pool)


def test_wraps_of_one_step_do_not_repeat_the_same_perturbation():
    cfg = PezoConfig()
    engine = PerturbationEngine(cfg)
    N = cfg.pool_size
    repeats = [(z[:N] == z[N:2 * N]).all() for z in (engine.perturbation(t, 2 * N) for t in range(20))]
    assert sum(repeats) <= 1  # equal only when the fresh delta is 0 mod N/P (probability P/N)


@pytest.mark.parametrize("name", ["default", "p1", "small"])
def test_banked_addresses_read_bank_p_for_lane_p(name):
    cfg = preset(name)
    P, M, N = cfg.parallel, cfg.bank_depth, cfg.pool_size
    for words in [(0, 0, 5), (12345, 999, 77), (2**16 - 1, 7, 2**16 - 1)]:
        offsets, stride = pool_draws(np.array(words), cfg)
        stride = int(stride)
        o, s = offsets // P, (stride - 1) // max(P, 2)
        index = pool_indices(offsets, stride, 2 * N, cfg).reshape(-1, P)
        clocks = np.arange(index.shape[0])[:, None]
        lanes = np.arange(P)[None, :]
        wrap = clocks // M
        assert (index % P == lanes).all()
        assert (index // P == (o[wrap] + lanes * s + (clocks % M) * stride) % M).all()


def test_pool_is_filled_from_the_fill_domain_with_the_adaptive_mantissa():
    cfg = PezoConfig()
    engine = PerturbationEngine(cfg)
    pool, acc, mant = engine.pool_fill(0)
    bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, 1, cfg.seed)
    bank.load(0, LfsrBank.FILL_DOMAIN)
    v = centre(bank.words(cfg.pool_size)[:, 0], cfg.word_bits)
    assert (pool == apply_scale(v, mant, cfg)).all()


def test_pool_refresh_changes_the_pool_once_per_epoch():
    cfg = preset("refresh")
    engine = PerturbationEngine(cfg)
    pools = [engine.pool_fill(t)[0].copy() for t in range(3 * cfg.pool_refresh)]
    for t in range(1, len(pools)):
        same_epoch = t // cfg.pool_refresh == (t - 1) // cfg.pool_refresh
        assert (pools[t] == pools[t - 1]).all() == same_epoch


def test_stream_reuses_each_fresh_word_with_variations():
    cfg = preset("stream")
    R = cfg.repeat
    engine = PerturbationEngine(cfg)
    z = engine.perturbation(2, 64)
    bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, cfg.lanes, cfg.seed)
    bank.load(2)
    fresh = bank.words(64 // R // cfg.lanes).reshape(-1).astype(np.int64)
    i = np.arange(64)
    varied = stream_variation(fresh[i // R], i % R, cfg)
    assert (z == apply_scale(centre(varied, cfg.word_bits), nominal_mantissa(cfg, cfg.moment_block), cfg)).all()
    # use r rotates the word left by r*B/R bits and, on odd uses, complements it, which
    # negates the centred value exactly
    B, mask = cfg.word_bits, (1 << cfg.word_bits) - 1
    for r in range(R):
        rot = r * B // R
        rotated = ((fresh << rot) | (fresh >> (B - rot))) & mask if rot else fresh
        varied = stream_variation(fresh, np.full(fresh.shape, r), cfg)
        assert (varied == (rotated ^ mask if r % 2 else rotated)).all()
        if r % 2:
            assert (centre(varied, B) == -centre(rotated, B)).all()


def test_fresh_words_per_step():
    d, steps = 2410, 1000
    pool = PerturbationEngine(PezoConfig())
    N = pool.cfg.pool_size
    assert pool.fresh_words_per_step(d, steps) == 1 + -(-d // N) + N / steps  # stride, a word per wrap, fill
    stream = PerturbationEngine(preset("stream"))
    clocks = -(-(-(-d // 4)) // 2)  # 603 fresh words from 2 lanes: 302 bank clocks
    assert stream.fresh_words_per_step(d, steps) == clocks * 2
    none = PerturbationEngine(preset("none"))
    assert none.fresh_words_per_step(d, steps) == -(-d // 8) * 8
