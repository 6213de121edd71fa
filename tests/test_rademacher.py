"""The Rademacher source (issue 8.4): golden model (bit order, values, balance, replay),
the ``rademacher`` training source, its registered design and its row in the comparison
set (the RTL under cocotb: tests/test_sim_rademacher.py).

Statistical tolerance: the mean of n signs within 5 standard errors (5 / sqrt(n))."""

from __future__ import annotations

import math

import numpy as np
import pytest
from amaranth.hdl import Fragment

from pezo.flow.comparison import COMPARISON, spec
from pezo.hw.designs import make_design
from pezo.hw.source import SourceSignature
from pezo.ref.config import PRESETS
from pezo.ref.lfsr import LfsrBank
from pezo.ref.rademacher import Rademacher, rademacher_lanes, rademacher_words
from pezo.ref.train.sources import make_source

DEFAULT = PRESETS["default"]


@pytest.mark.parametrize("parallel,bits,lanes", [(1, 16, 1), (8, 16, 1), (16, 16, 1), (32, 16, 2), (64, 6, 11)])
def test_one_lane_per_word_of_parameters(parallel, bits, lanes):
    cfg = PRESETS["small"].replace(parallel=parallel, word_bits=bits, frac_bits=bits - 4, pool_size=128)
    assert rademacher_lanes(cfg) == lanes
    assert Rademacher(cfg).lanes == lanes


def test_element_p_is_bit_p_mod_b_of_lane_p_div_b():
    """z[c, p] = -2**F where bit (p mod B) of lane (p div B)'s word of clock c is 1, else
    +2**F (scalar reference per element)."""
    cfg = PRESETS["small"].replace(parallel=32, word_bits=12, frac_bits=5, pool_size=64)
    u = np.random.default_rng(4).integers(0, 1 << 12, (9, 3))
    z = rademacher_words(u, cfg)
    for c in range(9):
        for p in range(32):
            bit = (int(u[c, p // 12]) >> (p % 12)) & 1
            assert z[c, p] == (-32 if bit else 32)


def test_model_words_are_the_signs_of_its_bank_bits():
    cfg = DEFAULT.replace(parallel=32)
    bank = LfsrBank(cfg.lfsr_width, cfg.word_bits, 2, cfg.seed, 5)
    bank.load(11)
    assert np.array_equal(Rademacher(cfg, 5).samples(11, 32 * 40), rademacher_words(bank.words(40), cfg).reshape(-1))


def test_values_are_exactly_plus_minus_one_and_balanced():
    n = 200_000
    x = Rademacher(DEFAULT).samples_real(3, n)
    assert set(np.unique(x).tolist()) == {-1.0, 1.0}
    assert abs(x.mean()) <= 5 / math.sqrt(n)


def test_samples_are_replayable_and_step_and_seed_dependent():
    model = Rademacher(DEFAULT)
    first = model.samples(7, 1000)
    assert np.array_equal(first, Rademacher(DEFAULT).samples(7, 1000))
    assert np.array_equal(first[:100], model.samples(7, 100))
    assert not np.array_equal(first, model.samples(8, 1000))
    assert not np.array_equal(first, Rademacher(DEFAULT, seed_in=1).samples(7, 1000))


def test_training_source_is_the_model_as_plus_minus_one():
    source = make_source("rademacher", seed=9)
    model = Rademacher(PRESETS["default"], 9)
    for step in (0, 5, 300):
        z = source.z(step, 1210)
        assert np.array_equal(z, model.samples(step, 1210) / float(1 << DEFAULT.frac_bits))
        assert set(np.unique(z).tolist()) == {-1.0, 1.0}
    assert source.fresh_per_step(1210, 100) == 1210


def test_rademacher_is_a_registered_design_and_a_non_gaussian_row():
    source = make_design("rademacher", DEFAULT)
    Fragment.get(source, None)   # it elaborates
    assert source.signature == SourceSignature.from_config(DEFAULT)
    row = spec("rademacher")
    assert row in COMPARISON and row.block == "rademacher" and not row.gaussian
