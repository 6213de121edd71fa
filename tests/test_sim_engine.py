"""The engine RTL (PoolEngine, StreamEngine) under cocotb (Icarus): every word equals
pezo.ref.engine.engine_model, bit for bit, over presets and a random config; pool
checks read several wraps of the pool (a fresh offset per wrap), with stalls at the wrap
boundaries."""

from __future__ import annotations

import random

import pytest

from pezo.hw.engine import PoolEngine, StreamEngine, perturbation_engine
from pezo.ref.config import PezoConfig
from pezo.sim.runner import SimCase
from pezo.sim.random_config import random_config, run_seed
from pezo.sim.streams import BACKPRESSURE_ENV
from pezo.sim.tb_engine import CASES

from cases import case_params, expect_bench_fails, run_drawn

COCOTB_TESTS = 6


@pytest.mark.parametrize("case", case_params(CASES))
def test_engine_words_match_model_bit_exact(case):
    """Slow: the long multi-step regression (one cocotb test)."""
    result = case.run()
    assert result.ok and len(result.passed) >= (COCOTB_TESTS if case.quick else 1)


def test_engine_random_config_matches_model_bit_exact():
    """One config drawn per run; PEZO_RANDOM_SEED=<seed> reproduces a failure."""
    seed = run_seed()
    rng = random.Random(seed)
    cfg = random_config(rng)
    backpressure = round(rng.uniform(0.1, 0.6), 2)
    case = SimCase("engine_random", perturbation_engine, "pezo.sim.tb_engine", cfg,
                   env={BACKPRESSURE_ENV: str(backpressure)})
    run_drawn(case, seed, f"PEZO_RANDOM_SEED={seed} backpressure={backpressure} config={cfg}", COCOTB_TESTS)


def _engine_with_other_seed(cfg: PezoConfig) -> PoolEngine | StreamEngine:
    return perturbation_engine(cfg.replace(seed=cfg.seed + 1))


def test_engine_testbench_detects_wrong_words():
    """An engine whose constants differ from the testbench's config must fail, by name."""
    case = next(c for c in CASES if c.name == "engine_small")
    expect_bench_fails(case, "engine_wrong_seed", _engine_with_other_seed)
