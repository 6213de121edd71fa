"""cocotb testbench of hw/gaussian_pool.py: every word of ``gaussian-pool`` equals
``pezo.ref.gaussian_pool.GaussianPoolModel(cfg, seed_in, generator).perturbation(t, n)``,
bit for bit; the fill generator is named by ``PEZO_GENERATOR``.

Each cocotb test checks one claim of the common source interface (the checks of
sim/source_checks.py): words after a start, replay, a start that abandons a fill or a
run, reset in the middle of a run, the runtime seed, all under back-pressure (``ready``
low with probability ``PEZO_BACKPRESSURE``, default 0.3). A check reads into the third
wrap of the pool, so the fresh offset of each wrap is compared too.
"""

from __future__ import annotations

from functools import partial


from pezo.hw.gaussian_pool import GaussianPool
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.gaussian_pool import GaussianPoolModel
from pezo.sim.runner import SimCase, config_from_env, env_value
from pezo.sim.source_checks import SourceBench, source_tests


GENERATOR_ENV = "PEZO_GENERATOR"


def case(name: str, cfg: PezoConfig, generator: str, *, quick: bool = True) -> SimCase:
    return SimCase(name, partial(GaussianPool, generator=generator), "pezo.sim.tb_gaussian_pool", cfg,
                   env={GENERATOR_ENV: generator}, quick=quick)


SMALL = PRESETS["small"]
CASES = [
    case("gauss_pool_icdf_small", SMALL, "icdf"),
    case("gauss_pool_icdf_refresh", PRESETS["refresh"], "icdf"),
    case("gauss_pool_bm_small", SMALL, "box-muller"),
    case("gauss_pool_bm_p1", SMALL.replace(parallel=1, pool_size=32), "box-muller"),
    case("gauss_pool_icdf_default", PRESETS["default"], "icdf", quick=False),
    case("gauss_pool_bm_refresh", PRESETS["refresh"], "box-muller", quick=False),
]


class Source(SourceBench):
    """gaussian-pool, checked against its golden model."""

    def __init__(self, dut):
        cfg = config_from_env()
        generator = env_value(GENERATOR_ENV)
        super().__init__(dut, lambda cfg, seed_in: GaussianPoolModel(cfg, seed_in, generator).perturbation,
                         words=2 * cfg.pool_size + 3 * cfg.parallel + 1)


(words_after_start_match_model, replay_gives_identical_words, start_abandons_run,
 reset_mid_run_returns_to_idle, runtime_seed_selects_model_seed) = source_tests(
    __name__, Source, waits=(1, 3, 9, 40), max_wait=60)
