"""Golden models of the Gaussian baselines (pezo.ref.gaussian): distribution, exactness of
the integer pipeline against float references, lane order, replay and the quality bar.

Statistical tolerances are stated next to each check: 5 standard errors for moments
(two-sided false-fail probability 6e-7), the 99.9 % KS quantile for shape checks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.gaussian.box_muller import BoxMullerGaussian, box_muller_words, cos_sin, radius
from pezo.ref.gaussian.clt import CltGaussian, clt_words
from pezo.ref.gaussian.quality import (TAIL_P4, ks_distance, meets_quality_bar, moment_checks,
                                       normal_cdf, tail_interval)
from pezo.ref.gaussian.tables import bm_format, clt_scale, csd
from pezo.ref.lfsr import LfsrBank
from pezo.ref.scaler import centre

N = 100_000
DEFAULT = PRESETS["default"]
#: 99.9 % quantile of the KS statistic is about 1.95 / sqrt(n).
KS_Q999 = 1.95


def irwin_hall_cdf(k: int):
    """CDF of sqrt(3/k) * (sum of k U(-1, 1)), the continuous CLT-k distribution."""
    def cdf(x: np.ndarray) -> np.ndarray:
        s = (np.asarray(x, dtype=np.float64) / math.sqrt(3.0 / k) + k) / 2.0  # sum of k U(0,1)
        out = np.zeros_like(s)
        for j in range(k + 1):
            out += (-1) ** j * math.comb(k, j) * np.clip(s - j, 0.0, None) ** k
        return np.clip(out / math.factorial(k), 0.0, 1.0)
    return cdf


# Box-Muller


def test_box_muller_moments_ks_and_reach_over_1e5_samples():
    x = BoxMullerGaussian(DEFAULT).samples_real(0, N)
    moments = moment_checks(x)
    assert moments["mean_ok"] and moments["var_ok"], moments
    assert ks_distance(x) <= 0.01
    assert np.max(np.abs(x)) >= 4.0


def test_box_muller_radius_and_angle_track_float_within_lsbs():
    """Over every B-bit word: r within 2 LSB of sqrt(-2 ln((u+1)/2**B)) (F+2 fraction bits),
    cos/sin within 2 LSB of cos/sin(2 pi (u + 1/2) / 2**B)."""
    for cfg in (DEFAULT, PRESETS["small"]):
        fmt = bm_format(cfg)
        u = np.arange(1 << cfg.word_bits, dtype=np.int64)
        r = radius(u, cfg) / 2.0 ** fmt.r_frac
        exact_r = np.sqrt(-2.0 * np.log((u + 1) / 2.0 ** cfg.word_bits))
        assert np.max(np.abs(r - exact_r)) <= 2 * 2.0 ** -fmt.r_frac
        c, s = cos_sin(u, cfg)
        angle = 2 * np.pi * (u + 0.5) / 2.0 ** cfg.word_bits
        assert np.max(np.abs(c / 2.0 ** fmt.trig_frac - np.cos(angle))) <= 2 * 2.0 ** -fmt.trig_frac
        assert np.max(np.abs(s / 2.0 ** fmt.trig_frac - np.sin(angle))) <= 2 * 2.0 ** -fmt.trig_frac


def test_box_muller_interpolation_products_are_no_wider_than_the_accuracy_needs(monkeypatch):
    """The interpolation products (slope x fraction) are sized to the error bound: with
    the fraction of every lookup cut by two bits, the radius leaves its 2-LSB bound
    (so at most one bit of the 7-8-bit fractions could go)."""
    import pezo.ref.gaussian.box_muller as bm
    cfg, fmt = DEFAULT, bm_format(DEFAULT)
    exact = bm.lookup
    monkeypatch.setattr(bm, "lookup", lambda table, address, frac, bits:
                        exact(table, address, frac >> min(2, bits), bits - min(2, bits)))
    u = np.arange(1 << cfg.word_bits, dtype=np.int64)
    r = radius(u, cfg) / 2.0 ** fmt.r_frac
    exact_r = np.sqrt(-2.0 * np.log((u + 1) / 2.0 ** cfg.word_bits))
    assert np.max(np.abs(r - exact_r)) > 2 * 2.0 ** -fmt.r_frac


def test_box_muller_output_rounds_float_box_muller_of_its_lanes():
    """Output words are within 1 LSB of round(2**F r cos) / round(2**F r sin) of the exact
    transform of lanes (2j, 2j+1); element 2j is the cosine, 2j + 1 the sine."""
    cfg = DEFAULT
    bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, cfg.parallel, cfg.seed)
    bank.load(5)
    u = bank.words(500).astype(np.int64)
    z = BoxMullerGaussian(cfg).samples(5, 500 * cfg.parallel).reshape(500, cfg.parallel)
    r = np.sqrt(-2.0 * np.log((u[:, 0::2] + 1) / 2.0 ** cfg.word_bits))
    angle = 2 * np.pi * (u[:, 1::2] + 0.5) / 2.0 ** cfg.word_bits
    scale = 2.0 ** cfg.frac_bits
    assert np.max(np.abs(z[:, 0::2] - r * np.cos(angle) * scale)) <= 1.0
    assert np.max(np.abs(z[:, 1::2] - r * np.sin(angle) * scale)) <= 1.0


def test_box_muller_p1_uses_both_outputs_of_consecutive_clocks():
    """P = 1: one lane; the words of clocks 2i, 2i + 1 are one (u1, u2) pair whose r cos and
    r sin are the outputs of those two clocks: the same words as P = 2 fed with the
    lane's words two at a time, and no output is dropped."""
    cfg = PRESETS["p1"]
    bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, 1, cfg.seed)
    bank.load(3)
    u = bank.words(64)
    z = BoxMullerGaussian(cfg).samples(3, 64)
    assert np.array_equal(z, box_muller_words(u, cfg)[:, 0])
    assert np.array_equal(z, box_muller_words(u.reshape(32, 2), cfg.replace(parallel=2)).reshape(-1))
    assert np.array_equal(BoxMullerGaussian(cfg).samples(3, 63), z[:63])
    r = np.sqrt(-2.0 * np.log((u[0::2, 0] + 1) / 2.0 ** cfg.word_bits))
    angle = 2 * np.pi * (u[1::2, 0] + 0.5) / 2.0 ** cfg.word_bits
    assert np.max(np.abs(z[1::2] - r * np.sin(angle) * 2.0 ** cfg.frac_bits)) <= 1.0


def test_box_muller_samples_are_replayable_and_step_dependent():
    model = BoxMullerGaussian(DEFAULT)
    first = model.samples(7, 1000)
    assert np.array_equal(first, BoxMullerGaussian(DEFAULT).samples(7, 1000))
    assert np.array_equal(first[:300], model.samples(7, 300))
    assert not np.array_equal(first, model.samples(8, 1000))
    assert not np.array_equal(first, BoxMullerGaussian(DEFAULT, seed_in=1).samples(7, 1000))


def test_box_muller_words_are_signed_b_bit():
    cfg = PRESETS["small"]
    z = BoxMullerGaussian(cfg).samples(0, 20_000)
    assert z.dtype == np.int64
    assert z.min() >= -(1 << (cfg.word_bits - 1)) and z.max() < (1 << (cfg.word_bits - 1))


# CLT


@pytest.mark.parametrize("k", [2, 5, 12])
def test_clt_variance_and_fourth_moment_match_irwin_hall(k):
    """var 1 +- 5 se; kurtosis 3 - 6/(5k) within 5 se (se of the sample kurtosis of a
    light-tailed law is below sqrt(96 / n))."""
    x = CltGaussian(DEFAULT.replace(clt_k=k)).samples_real(1, N)
    m = moment_checks(x)
    assert m["mean_ok"] and m["var_ok"], m
    kurt = float(np.mean((x - x.mean()) ** 4) / x.var() ** 2)
    assert abs(kurt - (3 - 6 / (5 * k))) <= 5 * math.sqrt(96 / N)


@pytest.mark.parametrize("k", [2, 3, 6])
def test_clt_has_irwin_hall_shape(k):
    """KS to the exact k-fold distribution within its 99.9 % quantile (plus the output
    quantisation, 2**-F times the density); KS to N(0, 1) above it for k = 2."""
    x = CltGaussian(DEFAULT.replace(clt_k=k)).samples_real(2, N)
    assert ks_distance(x, irwin_hall_cdf(k)) <= KS_Q999 / math.sqrt(N) + 2.0 ** -DEFAULT.frac_bits
    if k == 2:
        assert ks_distance(x) > KS_Q999 / math.sqrt(N) + 0.01


def test_clt_lane_order_and_scaling():
    """Element p of clock c is the rounded scaled sum of lanes p*k .. p*k + k - 1."""
    cfg = DEFAULT.replace(clt_k=5, parallel=4)
    bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, 20, cfg.seed)
    bank.load(9)
    u = bank.words(50).astype(np.int64)
    z = CltGaussian(cfg).samples(9, 200).reshape(50, 4)
    sums = centre(u, cfg.word_bits).reshape(50, 4, 5).sum(axis=2)
    exact = sums * math.sqrt(3 / 5) * 2.0 ** (cfg.frac_bits - cfg.word_bits)
    assert np.max(np.abs(z - exact)) <= 0.5 + np.max(np.abs(exact)) * 2.0 ** -12
    assert np.array_equal(clt_words(u, cfg), z)


def test_clt_twelve_is_a_plain_shift():
    scale = clt_scale(DEFAULT.replace(clt_k=12))
    assert scale.mult == 1 and scale.shift == DEFAULT.word_bits - DEFAULT.frac_bits + 1


@pytest.mark.parametrize("n", [1, 3, 181, 3547, 5017, 0b1011011101])
def test_csd_digits_sum_to_the_constant_without_adjacent_bits(n):
    digits = csd(n)
    assert sum(sign << bit for sign, bit in digits) == n
    bits = [bit for _, bit in digits]
    assert all(b - a >= 2 for a, b in zip(bits, bits[1:]))


def test_clt_saturates_when_sqrt_3k_exceeds_the_range():
    cfg = PezoConfig(word_bits=8, frac_bits=4, lfsr_width=16, clt_k=32, parallel=1, pool_size=16)
    u = np.full((1, 32), 255)
    assert clt_words(u, cfg)[0, 0] == 127
    assert clt_words(np.zeros((1, 32), dtype=np.int64), cfg)[0, 0] == -128


# quality bar


def test_quality_bar_passes_box_muller_and_fails_low_k_clt():
    ok, details = meets_quality_bar(BoxMullerGaussian(DEFAULT).samples_real(0, N))
    assert ok, details
    for k in (2, 5):
        ok, details = meets_quality_bar(CltGaussian(DEFAULT.replace(clt_k=k)).samples_real(0, N))
        assert not ok and details["tail_count"] == 0 and not details["reaches_4_sigma"], details


def test_quality_bar_needs_enough_samples_and_a_tail():
    rng = np.random.default_rng(3)
    assert not meets_quality_bar(rng.standard_normal(N // 2))[0]
    clipped = np.clip(rng.standard_normal(N), -3.9, 3.9)
    ok, details = meets_quality_bar(clipped)
    assert not ok and details["ks_ok"] and not details["tail_ok"]


def test_tail_interval_is_two_sided_poisson():
    lo, hi = tail_interval(1_000_000)
    lam = 1_000_000 * TAIL_P4
    cdf = lambda c: sum(math.exp(-lam) * lam ** i / math.factorial(i) for i in range(c + 1))
    assert cdf(lo - 1) <= 5e-4 < cdf(lo) and 1 - cdf(hi) <= 5e-4 < 1 - cdf(hi - 1)


def test_normal_cdf_matches_erf():
    x = np.linspace(-6, 6, 101)
    assert np.allclose(normal_cdf(x), [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x], atol=1e-15)


