"""The adaptive uniform scaler: centring, mantissa ladder and output variance."""

import numpy as np
import pytest

from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import engine_model
from pezo.ref.scaler import (acc_limit, apply_scale, centre, mantissa_range, mantissa_thresholds, moment_acc,
                             ladder_mantissa, ladder_steps, nominal_mantissa, select_mantissa)


def test_centring_is_odd_symmetric_and_complement_negates():
    for bits in (4, 8, 16):
        u = np.arange(1 << bits)
        v = centre(u, bits)
        assert (v % 2 == 1).all()
        assert v.sum() == 0
        assert v.min() == -((1 << bits) - 1) and v.max() == (1 << bits) - 1
        assert (centre(u ^ ((1 << bits) - 1), bits) == -v).all()


def test_thresholds_decrease_and_the_ladder_is_monotonic():
    cfg = PezoConfig()
    thresholds = mantissa_thresholds(cfg, 256)
    assert all(a >= b for a, b in zip(thresholds, thresholds[1:]))
    lo, hi = mantissa_range(cfg)
    accs = np.linspace(0, 2 * thresholds[0], 200).astype(int)
    mants = [select_mantissa(int(a), cfg, 256) for a in accs]
    assert all(a >= b for a, b in zip(mants, mants[1:]))
    assert mants[0] == hi and mants[-1] == lo


def test_nominal_mantissa_is_sqrt3_times_two_to_the_m():
    for cfg in (PezoConfig(), preset("small"), PezoConfig(mantissa_bits=6)):
        assert abs(nominal_mantissa(cfg, 256) - np.sqrt(3) * 2**cfg.mantissa_bits) <= 1


def _variance_tolerance(cfg: PezoConfig) -> float:
    """Mantissa quantisation: the ladder picks m with m/(m+1) <= m**2/ideal**2 <= m/(m-1),
    so the variance is off by at most about 1/m <= 1/2**M; plus 1% for the T-bit moment."""
    return 1 / 2**cfg.mantissa_bits + 0.01


@pytest.mark.parametrize("name", ["default", "p1", "refresh", "small"])
def test_pool_second_moment_is_unit_within_mantissa_quantisation(name):
    """Every pool of the first epochs has unit second moment within the mantissa's
    quantisation, unless its mantissa is clamped at an end of its range (a small pool
    drawn far from unit variance), where the error has the clamp's sign."""
    cfg = preset(name)
    engine = engine_model(cfg)
    lo, hi = mantissa_range(cfg)
    epochs = [e * cfg.pool_refresh for e in range(8)] if cfg.pool_refresh else [0]
    inside = 0
    for step in epochs:
        pool, _, _, mant = engine.pool_fill(step)
        second_moment = np.mean((pool / 2**cfg.frac_bits) ** 2)
        if lo < mant < hi:
            inside += 1
            assert abs(second_moment - 1) <= _variance_tolerance(cfg), (step, mant, second_moment)
        else:
            assert (second_moment < 1) == (mant == hi), (step, mant, second_moment)
    assert inside >= len(epochs) // 2


@pytest.mark.parametrize("name", ["stream", "none"])
def test_stream_variance_over_1e5_words_is_unit(name):
    cfg = preset(name)
    z = engine_model(cfg).perturbation_real(0, 100_000)
    # sampling: sd of the variance estimate of a unit uniform is sqrt(0.8/1e5) ~ 0.003
    assert abs(z.var() - 1) <= _variance_tolerance(cfg) + 5 * 0.003
    assert abs(z.mean()) <= 5 * np.sqrt(1 / 100_000)


def test_adaptive_scale_restores_unit_variance_of_a_narrow_source():
    cfg = PezoConfig()
    rng = np.random.default_rng(0)
    u = rng.integers(0, 1 << cfg.word_bits, 4096)
    v = centre(u, cfg.word_bits)
    narrow = (v * 0.92).astype(np.int64) | 1  # needs mant ~ 30, inside [16, 31]
    for words in (v, narrow):
        mant = select_mantissa(moment_acc(words, cfg), cfg, len(words))
        z = apply_scale(words, mant, cfg) / 2**cfg.frac_bits
        assert abs(np.mean(z**2) - 1) <= _variance_tolerance(cfg)
    assert select_mantissa(moment_acc(narrow, cfg), cfg, 4096) > select_mantissa(moment_acc(v, cfg), cfg, 4096)


def test_shift_add_rounds_half_up():
    cfg = PezoConfig()
    sh = cfg.scale_shift
    v = np.array([-3, -1, 1, 3, 2**cfg.word_bits - 1])
    for mant in (16, 27, 31):
        expected = np.floor(v * mant / 2**sh + 0.5).astype(np.int64)
        assert (apply_scale(v, mant, cfg) == expected).all()


@pytest.mark.parametrize("name", ["default", "small", "p1"])
@pytest.mark.parametrize("mantissa_bits", [1, 4, 6])
def test_rtl_search_equals_the_ladder(name, mantissa_bits):
    """The RTL's search (2**M table entries, none negative, summing to at most the
    largest accumulator + 1) gives select_mantissa for every accumulator value the
    moment can take near and between the thresholds (each threshold, one below and one
    above, and the largest value)."""
    cfg = preset(name).replace(mantissa_bits=mantissa_bits)
    n = cfg.pool_size // 2
    top = acc_limit(n, cfg)
    thresholds = mantissa_thresholds(cfg, n)
    accs = {0, top} | {t + d for t in thresholds for d in (-1, 0, 1) if 0 <= t + d <= top}
    steps = ladder_steps(cfg, n)
    assert len(steps) == 1 << mantissa_bits and min(steps) >= 0 and sum(steps) <= top + 1, steps
    for acc in sorted(accs):
        assert ladder_mantissa(acc, cfg, n) == select_mantissa(acc, cfg, n), acc


def test_moment_bits_default_matches_the_exact_moment():
    """The default T = 4 (a 16-entry q*q + q table) picks the mantissa of the exact
    second moment (T = B) in at least 93% of 500 random pools and is never more than one
    step off (ref/scaler.py docstring: 96.8% over 2000 pools)."""
    cfg = PezoConfig()
    exact = cfg.replace(moment_bits=cfg.word_bits)
    rng = np.random.default_rng(7)
    diffs = []
    for _ in range(500):
        v = centre(rng.integers(0, 1 << cfg.word_bits, cfg.pool_size), cfg.word_bits)
        diffs.append(select_mantissa(moment_acc(v, cfg), cfg, cfg.pool_size)
                     - select_mantissa(moment_acc(v, exact), exact, cfg.pool_size))
    diffs = np.abs(diffs)
    assert cfg.moment_bits == 4
    assert (diffs == 0).mean() >= 0.93 and diffs.max() <= 1


@pytest.mark.parametrize("name", ["default", "small"])
def test_scaling_is_odd_so_the_negated_fill_words_cancel(name):
    """apply_scale(-v) = -apply_scale(v) for every centred word and mantissa (v*mant is
    never an exact half), which makes the antithetic pool exactly zero-sum."""
    cfg = preset(name)
    v = centre(np.arange(1 << cfg.word_bits, dtype=np.int64), cfg.word_bits)
    lo, hi = mantissa_range(cfg)
    for mant in range(lo, hi + 1):
        assert (apply_scale(-v, mant, cfg) == -apply_scale(v, mant, cfg)).all(), mant
