"""gaussian-pool RTL (hw/gaussian_pool.py) equals its golden model word for word under
cocotb (sim/tb_gaussian_pool.py), and the bench fails for a design that differs."""

from __future__ import annotations

import pytest

from pezo.errors import ConfigError
from pezo.hw.gaussian_pool import GaussianPool
from pezo.ref.config import preset
from pezo.sim.tb_gaussian_pool import CASES

from cases import case_params, expect_bench_fails


@pytest.mark.parametrize("case", case_params(CASES))
def test_gaussian_pool_rtl_matches_model_bit_exact(case):
    assert case.run().ok


def test_gaussian_pool_bench_fails_for_another_seed():
    expect_bench_fails(CASES[0], "gauss_pool_wrong_seed",
                       lambda cfg: GaussianPool(cfg.replace(seed=cfg.seed + 1), generator="icdf"))


def test_gaussian_pool_rejects_stream_strategy_and_unknown_generator(recwarn):
    with pytest.raises(ConfigError, match="pool strategy"):
        GaussianPool(preset("stream"))
    with pytest.raises(ConfigError, match="known generators"):
        GaussianPool(preset("default"), generator="ziggurat")
    assert not [w for w in recwarn if "UnusedElaboratable" in str(w.category)]
