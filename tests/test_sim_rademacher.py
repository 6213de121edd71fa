"""The Rademacher source's RTL (hw/rademacher.py) under cocotb (Icarus): every word equals
the golden model (pezo.ref.rademacher) bit for bit under back-pressure, mid-run reset,
replay and runtime seed, for the fixed cases of sim/tb_rademacher.py and a configuration
drawn per run."""

from __future__ import annotations

import random

import pytest

from pezo.sim.random_config import random_gaussian_config, run_seed
from pezo.sim.tb_rademacher import CASES, rademacher_case

from cases import case_params, run_drawn


@pytest.mark.parametrize("case", case_params(CASES))
def test_rtl_words_match_model_bit_exact(case):
    result = case.run()
    assert result.ok and len(result.passed) == 5


def test_rtl_random_config_matches_model_bit_exact():
    """One config (B, F, P, LFSR width, seed) drawn per run, P up to 64;
    PEZO_RANDOM_SEED=<seed> reproduces a failure."""
    seed = run_seed()
    rng = random.Random(seed)
    cfg = random_gaussian_config(rng)
    parallel = rng.choice([1, 2, 4, 16, 64])
    cfg = cfg.replace(parallel=parallel, pool_size=max(cfg.pool_size, 2 * parallel))
    result = run_drawn(rademacher_case("rademacher_random", cfg), seed, f"PEZO_RANDOM_SEED={seed} config={cfg}", 5)
    assert len(result.passed) == 5
