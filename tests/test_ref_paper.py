"""Golden models of the paper's reuse schemes (ref/paper.py) and of gaussian-pool
(ref/gaussian_pool.py): each differs from the PeZO engine only in what its docstring says,
and each is a replayable training source."""

from __future__ import annotations

import numpy as np
import pytest

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import PoolModel, StreamModel
from pezo.ref.gaussian.box_muller import box_muller_words
from pezo.ref.gaussian.icdf import icdf_words
from pezo.ref.gaussian_pool import GaussianPoolModel, fill_generator
from pezo.ref.lfsr import LfsrBank
from pezo.ref.paper import PaperPoolModel, PaperRotateModel
from pezo.ref.reuse import pool_draws, pool_indices
from pezo.ref.scaler import apply_scale, centre
from pezo.ref.train.sources import make_source

SMALL = preset("small")


def _direct_plain_fill(cfg: PezoConfig, seed_in: int, first: int) -> tuple[np.ndarray, int, int]:
    """(pool, acc, mant) of paper-pool's epoch starting at step ``first``, computed
    directly in numpy from the module docstring: N fill-domain words of lane 0, centred,
    the T-bit moment over all N, the mantissa from the threshold inequality of
    ref/scaler.py section 3, and the rounded scaling; no negation, no mean."""
    B, F, M, T, N = cfg.word_bits, cfg.frac_bits, cfg.mantissa_bits, cfg.moment_bits, cfg.pool_size
    sh = B + M - F
    bank = LfsrBank.from_config(cfg, seed_in=seed_in)
    bank.load(first, LfsrBank.FILL_DOMAIN)
    v = 2 * bank.words(N)[:, 0].astype(np.int64) + 1 - 2**B
    q = np.abs(v) >> (B - T)
    acc = int((q * q + q).sum())
    m = np.arange(2**M, 2**(M + 1) - 1)
    mant = 2**M + int((3 * m * (m + 1) * acc + N * m * (m + 1) < 3 * N * 4**(F + sh - B + T)).sum())
    return (v * mant + 2**(sh - 1)) >> sh, acc, mant


PAPER_CONFIGS = [SMALL, PezoConfig(pool_size=64, parallel=4, pool_refresh=4), PezoConfig()]


@pytest.mark.parametrize("cfg", PAPER_CONFIGS)
def test_paper_pool_fill_is_n_scaled_words_and_read_as_one_concatenated_sequence(cfg):
    """The pool, its moment and its mantissa equal the direct computation over N words,
    epoch by epoch, and step t reads it from t*d mod N on."""
    d = 3 * cfg.pool_size // 2 + 5
    paper = PaperPoolModel(cfg, seed_in=9)
    for step in range(5):
        first = paper.epoch_step(step)
        pool, acc, mant = _direct_plain_fill(cfg, 9, first)
        got, got_acc, mean, got_mant = paper.pool_fill(step)
        assert (got == pool).all() and (got_acc, mean, got_mant) == (acc, 0, mant)
        assert (paper.perturbation(step, d) == pool[(step * d + np.arange(d)) % cfg.pool_size]).all()


@pytest.mark.parametrize("cfg", PAPER_CONFIGS)
def test_paper_pool_is_not_antithetic_and_pezo_pool_still_is(cfg):
    """paper-pool's words k and k + N/2 are independent (no pinned pair z[i + N/2] =
    -z[i] under its fixed read); pezo-pool keeps its N/2 words and their negations, the
    first N/2 lane words shared with paper-pool."""
    N = cfg.pool_size
    paper = PaperPoolModel(cfg).pool_fill(0)[0]
    pezo, _, _, pezo_mant = PoolModel(cfg).pool_fill(0)
    pairs = paper[:N // 2] == -paper[N // 2:]
    assert pairs.mean() < 0.25, f"{pairs.sum()} of {N // 2} pairs cancel"
    assert (pezo[:N // 2] == -pezo[N // 2:]).all()
    u = LfsrBank.from_config(cfg)
    u.load(0, LfsrBank.FILL_DOMAIN)
    v = centre(u.words(N // 2)[:, 0], cfg.word_bits)
    assert (pezo[:N // 2] == apply_scale(v, pezo_mant, cfg)).all()


def test_paper_pool_second_moment_is_unit_and_its_mean_is_not_forced_to_zero():
    """Default pool (N = 512), 8 epochs: the adaptive scaling over N words gives a unit
    second moment within the mantissa's quantisation; the mean is the sample mean of N
    uniforms (not subtracted), non-zero but within 4 standard errors."""
    cfg = PezoConfig(pool_refresh=1)
    model = PaperPoolModel(cfg)
    means = []
    for step in range(8):
        pool = model.pool_fill(step)[0] / 2**cfg.frac_bits
        assert abs(np.mean(pool**2) - 1) <= 1 / 2**cfg.mantissa_bits + 0.01, step
        assert abs(pool.mean()) < 4 / np.sqrt(cfg.pool_size), step
        means.append(pool.mean())
    assert any(means), "every pool is zero-sum: the fill is antithetic or mean-subtracted"
    assert model.fresh_words_per_step(1210, 10) == cfg.pool_size  # one fill of N words per step


def test_paper_pool_leftover_words_start_the_next_step():
    d = 20
    model = PaperPoolModel(SMALL)
    run = np.concatenate([model.perturbation(t, d) for t in range(6)])
    pool = model.pool_fill(0)[0]
    assert (run == np.resize(pool, len(run))).all()


def test_paper_pool_params_fixes_d_for_any_read_length():
    model = PaperPoolModel(SMALL, params=37)
    assert (model.perturbation(3, 100)[:37] == PaperPoolModel(SMALL).perturbation(3, 37)).all()
    assert model.offset(3, 100) == 3 * 37 % SMALL.pool_size


@pytest.mark.parametrize("cfg", [preset("stream"), preset("stream").replace(parallel=2),
                                 SMALL.replace(strategy="none"), SMALL.replace(strategy="stream", repeat=2)])
def test_paper_rotate_is_rotated_concatenation_of_stream_lane_words(cfg):
    """Generation g, position q reads lane (q + g) mod n: the stream engine's unvaried
    (r = 0) use of that lane word, with the same scaling."""
    n = 5000
    rot, stream = PaperRotateModel(cfg, 4), StreamModel(cfg, 4)
    K, R = cfg.lanes, cfg.effective_repeat
    G = K * R
    i = np.arange(n)
    g, q = i // G, i % G
    fresh = g * K + (q + g) % K
    want = stream.perturbation(5, int(fresh.max() + 1) * R)[fresh * R]
    assert (rot.perturbation(5, n) == want).all()


def test_paper_rotate_rotates_one_position_per_generation():
    cfg = preset("stream")          # P = 8, R = 4: n = 2 generators
    z = PaperRotateModel(cfg).perturbation(0, 16).reshape(2, 8)
    assert (z[0, 0::2] == z[0, 0]).all() and (z[0, 1::2] == z[0, 1]).all()
    assert (z[1, 0::2] == z[1, 0]).all() and z[0, 0] != z[0, 1]
    assert PaperRotateModel(cfg).fresh_words_per_step(16, 1) == 4.0


FILLS = {"box-muller": lambda u, cfg: box_muller_words(u, cfg.replace(parallel=2)),
         "icdf": lambda u, cfg: icdf_words(u, cfg)}


@pytest.mark.parametrize("generator", ["box-muller", "icdf"])
@pytest.mark.parametrize("cfg", [SMALL, PezoConfig(pool_size=64, parallel=4)])
def test_gaussian_pool_fill_is_the_generator_of_lanes_1_g_and_addressing_is_lane_0(generator, cfg):
    model = GaussianPoolModel(cfg, seed_in=3, generator=generator)
    N, g = cfg.pool_size, model.lanes
    states = model.bank.lane_states(0)
    u = model.bank.first_words(states, N // model.outputs).astype(np.int64)
    x = FILLS[generator](u[:, 1:1 + g], cfg).reshape(-1)
    mean = (int(x.sum()) + N // 2) // N
    pool = np.clip(x - mean, -2 ** (cfg.word_bits - 1), 2 ** (cfg.word_bits - 1) - 1)
    assert len(x) == N and (model.pool_fill(0)[0] == pool).all() and model.pool_fill(0)[2] == mean
    for step in (0, 1, 7):
        n = 3 * N + 3
        words = model.bank.first_words(model.bank.lane_states(step)[:1], 5)[:, 0]
        offsets, stride = pool_draws(words, cfg)
        assert (model.perturbation(step, n) == pool[pool_indices(offsets, int(stride), n, cfg)]).all()


@pytest.mark.parametrize("generator", ["box-muller", "icdf"])
def test_gaussian_pool_words_are_unit_gaussian(generator):
    """Default pool (N = 512): mean within 4 standard errors of 0, std within 10%."""
    pool = GaussianPoolModel(PezoConfig(), generator=generator).pool_fill(0)[0] / 2**12
    assert abs(pool.mean()) < 4 / np.sqrt(len(pool))
    assert 0.9 < pool.std() < 1.1


def test_unknown_generator_and_wrong_strategies_are_one_line_errors():
    with pytest.raises(ConfigError, match="known generators are icdf, box-muller"):
        fill_generator("ziggurat")
    with pytest.raises(ConfigError, match="pool strategy"):
        PaperPoolModel(preset("stream"))
    with pytest.raises(ConfigError, match="stream or none"):
        PaperRotateModel(PezoConfig())
    with pytest.raises(ConfigError, match="pool strategy"):
        GaussianPoolModel(preset("stream"))


@pytest.mark.parametrize("name", ["paper-pool", "paper-rotate", "gaussian-pool"])
def test_new_sources_replay_and_take_config_overrides(name):
    source = make_source(name, 11)
    assert (source.z(3, 700) == source.z(3, 700)).all()
    assert not (source.z(3, 700) == source.z(4, 700)).all()
    small = make_source(name, 11, source.cfg.replace(pool_size=64))
    assert small.cfg.pool_size == 64


def test_paper_schemes_confine_z_where_their_docstring_says():
    """paper-pool with N a multiple of d cycles through N/d vectors; paper-rotate repeats
    each word n positions later within a clock (the restriction pezo-* avoid by fresh
    per-step offsets and per-use variations)."""
    pool = make_source("paper-pool", 1)
    d = 64
    vectors = {pool.z(t, d).tobytes() for t in range(40)}
    assert len(vectors) == pool.cfg.pool_size // d
    rotate = make_source("paper-rotate", 1)
    z = rotate.z(2, 800).reshape(-1, rotate.cfg.parallel)
    n = rotate.cfg.lanes
    assert (z[:, n:] == z[:, :-n]).all()


def test_rtl_training_refuses_the_new_sources():
    """``pezo train --rtl`` co-simulates the PeZO engine only; its words would not be these."""
    from pezo.sim.cosim import engine_config
    for name in ("paper-pool", "paper-rotate", "gaussian-pool"):
        with pytest.raises(ConfigError, match="--rtl needs an engine source: pezo-pool, pezo-stream"):
            engine_config(name)
