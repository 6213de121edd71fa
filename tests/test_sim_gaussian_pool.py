"""gaussian-pool RTL (hw/gaussian_pool.py) equals its golden model word for word under
cocotb (sim/tb_gaussian_pool.py), and the bench fails for a design that differs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pezo.errors import ConfigError
from pezo.hw.gaussian_pool import GaussianPool
from pezo.ref.config import preset
from pezo.sim.runner import SimulationFailed
from pezo.sim.tb_gaussian_pool import CASES

QUICK = [c for c in CASES if c.quick]
SLOW = [c for c in CASES if not c.quick]


@pytest.mark.parametrize("case", QUICK, ids=[c.name for c in QUICK])
def test_gaussian_pool_rtl_matches_model_bit_exact(case):
    assert case.run().ok


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=[c.name for c in SLOW])
def test_gaussian_pool_rtl_matches_model_bit_exact_default_preset(case):
    assert case.run().ok


def test_gaussian_pool_bench_fails_for_another_seed():
    case = CASES[0]
    wrong = replace(case, name="gauss_pool_wrong_seed", testcase=["words_after_start_match_model"],
                    make_component=lambda cfg: GaussianPool(cfg.replace(seed=cfg.seed + 1), generator="icdf"))
    with pytest.raises(SimulationFailed, match="words_after_start_match_model"):
        wrong.run()


def test_gaussian_pool_rejects_stream_strategy_and_unknown_generator(recwarn):
    with pytest.raises(ConfigError, match="pool strategy"):
        GaussianPool(preset("stream"))
    with pytest.raises(ConfigError, match="known generators"):
        GaussianPool(preset("default"), generator="ziggurat")
    assert not [w for w in recwarn if "UnusedElaboratable" in str(w.category)]
