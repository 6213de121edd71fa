"""The scalers (UniformScaler, PoolScaler) and reuse stages (PoolReuse, StreamReuse) under
cocotb (Icarus), word for word against pezo.ref, and mutants that the testbenches must
reject."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import partial

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from pezo.hw.reuse import PoolReuse
from pezo.hw.scaler import PoolScaler, UniformScaler
from pezo.sim import tb_reuse, tb_scaler
from pezo.sim.random_config import random_config, run_seed
from pezo.sim.runner import SimulationFailed

from cases import cocotb_tests, run_drawn

CASES = [c for c in tb_scaler.CASES + tb_reuse.CASES if c.quick]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_block_outputs_match_ref_bit_exact(case):
    result = case.run()
    module = tb_scaler if case.test_module == tb_scaler.__name__ else tb_reuse
    want = set(case.testcase) if case.testcase else cocotb_tests(module)
    assert result.ok and set(result.passed) == want


def test_every_block_test_runs_in_some_case():
    for module in (tb_reuse, tb_scaler):
        cases = [c for c in module.CASES]
        assert {t for c in cases for t in c.testcase} == cocotb_tests(module)


class Tampered(wiring.Component):
    """``inner`` with the input ``port`` tied to ``const``: a mutant with the same ports."""

    def __init__(self, inner: wiring.Component, port: str, const: int):
        self.inner, self.port, self.const = inner, port, const
        super().__init__(inner.signature)

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.inner = self.inner
        for name, member in self.inner.signature.members.items():
            outer, inner = getattr(self, name), getattr(self.inner, name)
            if member.flow == In:
                m.d.comb += inner.eq(self.const if name == self.port else outer)
            else:
                m.d.comb += outer.eq(inner)
        return m


def _tampered(cfg, make, port, const):
    return Tampered(make(cfg), port, const)


def test_scaler_testbench_rejects_a_wrong_expected_mantissa():
    """The model expects the ladder of a window twice as long as the RTL's."""
    case = next(c for c in tb_scaler.CASES if c.name == "scaler_small")
    window = int(case.env[tb_scaler.WINDOW_ENV])
    bad = replace(case, name="scaler_wrong_window", env={**case.env, tb_scaler.WINDOW_ENV: str(2 * window)},
                  testcase=["scaled_words_and_window_mantissas_match_ref"])
    with pytest.raises(SimulationFailed, match="scaled_words_and_window_mantissas_match_ref"):
        bad.run()


def test_scaler_testbench_rejects_a_pipeline_that_ignores_stalls():
    """en tied to 1: the stall-free test still passes, the stalled one must not."""
    case = next(c for c in tb_scaler.CASES if c.name == "scaler_small")
    make = partial(UniformScaler, window=int(case.env[tb_scaler.WINDOW_ENV]),
                   width=int(case.env[tb_scaler.WIDTH_ENV]))
    bad = replace(case, name="scaler_no_stall", make_component=partial(_tampered, make=make, port="en", const=1),
                  testcase=["scaled_words_and_window_mantissas_match_ref", "random_stalls_and_moment_gaps_match_ref"])
    with pytest.raises(SimulationFailed, match="random_stalls_and_moment_gaps_match_ref") as failure:
        bad.run()
    assert "scaled_words_and_window_mantissas_match_ref" not in str(failure.value)


def test_pool_testbench_rejects_wrong_words_and_reads_that_ignore_read_en():
    """word tied to 0 (every offset and multiplier wrong) fails the read check; read_en tied
    to 1 fails the hold check of the gap run (the gap-free run alone would pass)."""
    case = next(c for c in tb_reuse.CASES if c.name == "reuse_pool_small")
    for port, const in (("word", 0), ("read_en", 1)):
        bad = replace(case, name=f"reuse_pool_{port}_{const}",
                      make_component=partial(_tampered, make=PoolReuse, port=port, const=const),
                      testcase=["pool_reads_match_ref_over_wraps"])
        with pytest.raises(SimulationFailed, match="pool_reads_match_ref_over_wraps"):
            bad.run()


def test_fill_testbench_rejects_a_fill_without_mean_subtraction():
    """A PoolScaler whose lane never reloads (reload ignored by tying word_valid high and
    the bench's words to the first pass) cannot pass; nor can one that sees only zeros."""
    case = next(c for c in tb_scaler.CASES if c.name == "pool_scaler_small")
    bad = replace(case, name="pool_scaler_word_zero",
                  make_component=partial(_tampered, make=PoolScaler, port="word", const=0),
                  testcase=["pool_fill_matches_ref"])
    with pytest.raises(SimulationFailed, match="pool_fill_matches_ref"):
        bad.run()


def test_plain_pool_fill_random_config_matches_ref_bit_exact():
    """paper-pool's fill (``PoolScaler(cfg, antithetic=False)``, N independent words) on
    a config drawn per run; PEZO_RANDOM_SEED=<seed> reproduces a failure."""
    seed = run_seed()
    cfg = random_config(random.Random(seed))
    case = tb_scaler.pool_scaler_case("pool_scaler_plain_random", cfg, antithetic=False)
    run_drawn(case, seed, f"PEZO_RANDOM_SEED={seed} config={cfg}", len(tb_scaler.POOL_TESTS))


def test_plain_fill_testbench_rejects_the_antithetic_fill():
    """The bench of the plain fill must reject pezo-pool's antithetic PoolScaler (N/2
    words and their negations) on the same config."""
    case = next(c for c in tb_scaler.CASES if c.name == "pool_scaler_plain_small")
    bad = replace(case, name="pool_scaler_plain_given_antithetic", make_component=PoolScaler,
                  testcase=["pool_fill_matches_ref"])
    with pytest.raises(SimulationFailed, match="pool_fill_matches_ref"):
        bad.run()
