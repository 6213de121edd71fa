"""The PerturbationEngine golden model: replay, reuse strategies and fresh-word counts."""

import numpy as np
import pytest

from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import PerturbationEngine
from pezo.ref.lfsr import LfsrBank
from pezo.ref.reuse import pool_indices, pool_offset_stride, stream_variation
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
def test_pool_words_follow_offset_and_odd_stride(name):
    cfg = preset(name)
    engine = PerturbationEngine(cfg)
    for t in range(6):
        offset, stride = engine.offset_stride(t)
        assert offset % cfg.parallel == 0 and stride % 2 == 1 and stride % cfg.parallel == 1 % cfg.parallel
        pool, _, _ = engine.pool_fill(t)
        n = 3 * cfg.pool_size + 5
        expected = pool[(offset + np.arange(n) * stride) % cfg.pool_size]
        assert (engine.perturbation(t, n) == expected).all()


@pytest.mark.parametrize("name", ["default", "p1", "small"])
def test_banked_addresses_read_bank_p_for_lane_p(name):
    cfg = preset(name)
    P, M = cfg.parallel, cfg.bank_depth
    for w0, w1 in [(0, 0), (12345, 999), (2**16 - 1, 7)]:
        offset, stride = pool_offset_stride(w0, w1, cfg)
        o, s = offset // P, (stride - 1) // max(P, 2)
        index = pool_indices(offset, stride, 4 * cfg.pool_size, cfg).reshape(-1, P)
        clocks = np.arange(index.shape[0])[:, None]
        lanes = np.arange(P)[None, :]
        assert (index % P == lanes).all()
        if P > 1:
            assert (index // P == (o + lanes * s + clocks * stride) % M).all()


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
    assert pool.fresh_words_per_step(d, steps) == 2 + 256 / steps
    stream = PerturbationEngine(preset("stream"))
    clocks = -(-(-(-d // 4)) // 2)  # 603 fresh words from 2 lanes: 302 bank clocks
    assert stream.fresh_words_per_step(d, steps) == clocks * 2
    none = PerturbationEngine(preset("none"))
    assert none.fresh_words_per_step(d, steps) == -(-d // 8) * 8
