"""Golden model of the inverse-CDF Gaussian generator (pezo.ref.gaussian.icdf): accuracy
of every segment against the exact inverse normal CDF, the 6-sigma reach, the exact
output law (KS and tails from every bucket with its weight), lane order, replay, and
the tail counts and quality bar on golden samples.

Tolerances are stated at each check; the Poisson intervals are two-sided at 1e-3
(the quality bar's alpha)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pezo.errors import ConfigError, PezoError
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.gaussian.icdf import (MAG_BITS, SEGMENT_BITS, IcdfGaussian, icdf_distribution, icdf_table,
                                    icdf_transform, icdf_words, inverse_tail, magnitude, max_output,
                                    segment_and_fraction, segment_buckets, uniform_samples,
                                    sample_lanes)
from pezo.ref.gaussian.quality import TAIL_ALPHA, meets_quality_bar, normal_cdf, poisson_quantiles
from pezo.ref.lfsr import LfsrBank, close_lanes

DEFAULT = PRESETS["default"]


def probe_magnitudes(rng: np.random.Generator, n: int) -> np.ndarray:
    """31-bit a values: uniform ones, every octave's first and last values, every
    subsegment start, and the 300 deepest-tail values."""
    octave_ends = np.array([(1 << k) + d for k in range(MAG_BITS) for d in (0, (1 << k) - 1)])
    starts = np.array([((1 << SEGMENT_BITS) + j) << (k - SEGMENT_BITS)
                       for k in range(SEGMENT_BITS, MAG_BITS) for j in range(1 << SEGMENT_BITS)])
    return np.concatenate([rng.integers(0, 1 << MAG_BITS, n), octave_ends, starts, starts - 1,
                           np.arange(300)]).astype(np.int64)


def error_lsb(mag: np.ndarray, a: np.ndarray, frac_bits: int) -> np.ndarray:
    """mag minus 2**F x(a) of the exact inverse, q = (a + 1/2) / 2**32, in output LSBs."""
    exact = np.array([inverse_tail((v + 0.5) / 2.0 ** 32) for v in a.tolist()])
    return mag - exact * (1 << frac_bits)


def test_inverse_tail_inverts_erfc():
    for q in (0.5, 0.3, 1e-3, 1e-9, 2.0 ** -33):
        x = inverse_tail(q)
        assert abs(0.5 * math.erfc(x / math.sqrt(2.0)) / q - 1.0) < 1e-12


@pytest.mark.parametrize("frac_bits", [12, 4, 8])
def test_every_output_is_within_one_lsb_of_the_exact_inverse_cdf(frac_bits):
    """The rounding alone gives 0.5 LSB; the polynomial and bucket error stay below 0.25 LSB
    more (measured 0.69 LSB at F = 12)."""
    a = probe_magnitudes(np.random.default_rng(frac_bits), 3000)
    err = error_lsb(magnitude(a, frac_bits), a, frac_bits)
    assert np.max(np.abs(err)) <= 0.75, (np.max(np.abs(err)), a[np.argmax(np.abs(err))])


def test_accuracy_check_detects_a_one_lsb_slip():
    a = probe_magnitudes(np.random.default_rng(1), 500)
    assert np.max(np.abs(error_lsb(magnitude(a, 12) + 1, a, 12))) > 0.75


def test_largest_output_over_all_inputs_reaches_six_sigma():
    """Computed over every bucket of every segment (all 2**31 magnitudes up to
    multiplicity): at least 6.0, reached at a = 0 (q = 2**-33, x = 6.34)."""
    top = max_output(DEFAULT.frac_bits)
    assert top >= 6.0
    assert top * (1 << DEFAULT.frac_bits) == magnitude(np.array([0]), DEFAULT.frac_bits)[0]
    assert abs(top - inverse_tail(2.0 ** -33)) <= 2.0 ** -DEFAULT.frac_bits


def test_inputs_of_one_bucket_share_their_output():
    """The law of :func:`icdf_distribution` weights each bucket by its size: every a of
    a bucket gives the bucket start's output."""
    table = icdf_table(12)
    rng = np.random.default_rng(5)
    for address in rng.choice(table.depth, 40, replace=False).tolist():
        seg = segment_buckets(address >> SEGMENT_BITS, address & ((1 << SEGMENT_BITS) - 1), table.fraction_bits)
        if seg is None:
            continue
        first, size, buckets = seg
        i = rng.integers(0, buckets, 50)
        a = first + i * size + rng.integers(0, size, 50)
        assert np.array_equal(segment_and_fraction(a, table)[0], np.full(50, address))
        assert np.array_equal(magnitude(a, 12), magnitude(first + i * size, 12))


def test_exact_law_matches_normal_tails_and_cdf():
    """From every bucket with its weight (no sampling): P(|z| > s) for s = 4, 5, 6 equals
    N(0, 1)'s within 0.2 % plus the two 2**-32 steps of the uniform; the KS distance of
    the symmetric law is below 2**-F (the output grid) plus 1e-5; the mean of |z| is
    sqrt(2/pi) within 1e-4."""
    F = DEFAULT.frac_bits
    values, prob = icdf_distribution(F)
    assert abs(prob.sum() - 1.0) < 1e-12 and values.min() >= 0
    x = values / float(1 << F)
    for s in (4.0, 5.0, 6.0):
        p_true = math.erfc(s / math.sqrt(2.0))
        assert abs(prob[x > s].sum() - p_true) <= 2e-3 * p_true + 2.0 ** -31, s
    grid = np.concatenate([-x[::-1], x])
    weight = np.concatenate([prob[::-1], prob]) / 2.0
    cdf_after = np.cumsum(weight)
    phi = normal_cdf(grid)
    ks = max(np.max(np.abs(cdf_after - phi)), np.max(np.abs(cdf_after - weight - phi)))
    assert ks <= 2.0 ** -F * 0.4 + 1e-5, ks
    assert abs(float((x * prob).sum()) - math.sqrt(2.0 / math.pi)) < 1e-4


@pytest.mark.parametrize("width,lanes,bits", [(48, 1, 32), (32, 1, 32), (35, 1, 33), (24, 2, 16),
                                             (21, 2, 17), (12, 3, 11), (8, 4, 8)])
def test_lanes_per_sample_give_32_bits_on_lanes_the_lfsr_keeps_apart(width, lanes, bits):
    assert sample_lanes(width) == (lanes, bits)
    assert lanes * bits >= 32 and (lanes - 1) * width < 32 and bits <= width
    assert close_lanes(width, bits) is None


def test_lane_order_most_significant_lane_first():
    """Output p joins lanes m*p .. m*p + m - 1, the first one most significant, and keeps
    the top 32 bits (m = 3 lanes of 11 bits: 1 bit dropped; one 32-bit lane: as is)."""
    rng = np.random.default_rng(2)
    for m, bits in ((1, 32), (2, 16), (3, 11), (4, 8)):
        u = rng.integers(0, 1 << bits, (7, 2 * m))
        joined = [sum(int(u[c, p * m + i]) << (bits * (m - 1 - i)) for i in range(m)) >> (m * bits - 32)
                  for c in range(7) for p in range(2)]
        assert np.array_equal(uniform_samples(u, m, bits).reshape(-1), joined)


@pytest.mark.parametrize("width,lanes,bits", [(48, 4, 32), (16, 8, 16)])
def test_model_words_are_the_transform_of_its_bank_lanes(width, lanes, bits):
    """P = 4: one 32-bit lane per output at the default W = 48, two 16-bit ones at W = 16."""
    cfg = DEFAULT.replace(parallel=4, lfsr_width=width)
    bank = LfsrBank(width, bits, lanes, cfg.seed)
    bank.load(6)
    u = bank.words(100).astype(np.int64)
    assert np.array_equal(IcdfGaussian(cfg).samples(6, 400), icdf_words(u, cfg).reshape(-1))


def test_sign_bit_mirrors_the_output():
    u = np.random.default_rng(3).integers(0, 1 << 31, 10_000)
    assert np.array_equal(icdf_transform(u | (1 << 31), 12), -icdf_transform(u, 12))


def test_samples_are_replayable_step_dependent_and_signed_b_bit():
    model = IcdfGaussian(DEFAULT)
    first = model.samples(7, 1000)
    assert first.dtype == np.int64
    assert np.array_equal(first, IcdfGaussian(DEFAULT).samples(7, 1000))
    assert np.array_equal(first[:300], model.samples(7, 300))
    assert not np.array_equal(first, model.samples(8, 1000))
    assert not np.array_equal(first, IcdfGaussian(DEFAULT, seed_in=1).samples(7, 1000))
    small = PRESETS["small"]
    z = IcdfGaussian(small).samples(0, 20_000)
    assert z.min() >= -(1 << (small.word_bits - 1)) and z.max() < (1 << (small.word_bits - 1))


def test_rom_words_hold_the_coefficients():
    table = icdf_table(12)
    w0, w1, w2 = table.c0_bits, table.c1_bits, table.c2_bits
    for word, (c0, c1, c2) in zip(table.words(), table.coefficients):
        assert word >> (w0 + w1 + w2) == 0
        field = lambda lo, n: ((word >> lo) & ((1 << n) - 1)) - (((word >> (lo + n - 1)) & 1) << n)
        assert word & ((1 << w0) - 1) == c0 and field(w0, w1) == c1 and field(w0 + w1, w2) == c2


def test_golden_samples_meet_the_quality_bar():
    ok, details = meets_quality_bar(IcdfGaussian(DEFAULT).samples_real(0, 1_000_000))
    assert ok, details


def test_tail_counts_of_1e7_golden_samples_are_normal():
    """Counts beyond 4 and 5 sigma in 1e7 samples (P = 8, step 0) inside N(0, 1)'s
    two-sided Poisson intervals at alpha = 1e-3 (4 sigma: 552..718 around 633.4;
    5 sigma: 0..15 around 5.7)."""
    n = 10_000_000
    x = np.abs(IcdfGaussian(DEFAULT).samples_real(0, n))
    for s in (4.0, 5.0):
        lo, hi = poisson_quantiles(n * math.erfc(s / math.sqrt(2.0)), TAIL_ALPHA)
        count = int(np.count_nonzero(x > s))
        assert lo <= count <= hi, (s, count, lo, hi)


def test_icdf_rejects_too_wide_words():
    with pytest.raises(ConfigError):
        IcdfGaussian(PezoConfig(lfsr_width=40, word_bits=36, frac_bits=30))


def test_exact_law_beyond_its_enumeration_limit_is_a_one_line_error():
    with pytest.raises(PezoError, match="frac_bits <= 15"):
        icdf_distribution(16)
