"""cocotb testbench of hw/paper.py: every word of ``paper-pool`` / ``paper-rotate`` equals
``pezo.ref.paper.PaperPoolModel(cfg, seed_in, params)`` / ``PaperRotateModel(cfg,
seed_in)``, ``perturbation(t, n)``, bit for bit.

The design is named by ``PEZO_PAPER`` (``pool`` or ``rotate``) and paper-pool's d by
``PEZO_PARAMS``. Each cocotb test checks one claim of the common source interface (the
checks of sim/source_checks.py): words after a start, replay, a start that abandons a
fill or a run, reset in the middle of a run, the runtime seed, all under back-pressure
(``ready`` low with probability ``PEZO_BACKPRESSURE``, default 0.3). A check reads past
the end of the pool (paper-pool) or into the second moment block (paper-rotate), so the
wrap and the mantissa update are compared too.
"""

from __future__ import annotations

from functools import partial


from pezo.hw.paper import PaperPool, PaperRotate
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.paper import PaperPoolModel, PaperRotateModel
from pezo.sim.runner import SimCase, config_from_env, env_value
from pezo.sim.source_checks import SourceBench, source_tests

DESIGN_ENV = "PEZO_PAPER"
PARAMS_ENV = "PEZO_PARAMS"


def pool_case(name: str, cfg: PezoConfig, params: int, *, quick: bool = True) -> SimCase:
    """A paper-pool case with d = ``params``."""
    return SimCase(name, partial(PaperPool, params=params), "pezo.sim.tb_paper", cfg,
                   env={DESIGN_ENV: "pool", PARAMS_ENV: str(params)}, quick=quick)


def rotate_case(name: str, cfg: PezoConfig, *, quick: bool = True) -> SimCase:
    """A paper-rotate case."""
    return SimCase(name, PaperRotate, "pezo.sim.tb_paper", cfg, env={DESIGN_ENV: "rotate"}, quick=quick)


SMALL = PRESETS["small"]
CASES = [
    pool_case("paper_pool_small", SMALL, 21),
    pool_case("paper_pool_refresh", PRESETS["refresh"], 100),
    pool_case("paper_pool_p1", SMALL.replace(parallel=1, pool_size=32), 45),
    pool_case("paper_pool_default", PRESETS["default"], 1210, quick=False),
    rotate_case("paper_rotate_small_r2", SMALL.replace(strategy="stream", repeat=2)),
    rotate_case("paper_rotate_small_none", SMALL.replace(strategy="none")),
    rotate_case("paper_rotate_small_r8", SMALL.replace(strategy="stream", repeat=8)),
    rotate_case("paper_rotate_stream", PRESETS["stream"], quick=False),
]


def _reference(cfg: PezoConfig, seed_in: int):
    if env_value(DESIGN_ENV) == "pool":
        return PaperPoolModel(cfg, seed_in, int(env_value(PARAMS_ENV))).perturbation
    return PaperRotateModel(cfg, seed_in).perturbation


def _words(cfg: PezoConfig) -> int:
    if env_value(DESIGN_ENV) == "pool":
        return cfg.pool_size + 3 * cfg.parallel + 1
    return (cfg.moment_block + 3) * cfg.lanes * cfg.effective_repeat + 1


class Source(SourceBench):
    """The scheme under test (``PEZO_PAPER``), checked against its golden model."""

    def __init__(self, dut):
        super().__init__(dut, _reference, words=_words(config_from_env()))


(words_after_start_match_model, replay_gives_identical_words, start_abandons_run,
 reset_mid_run_returns_to_idle, runtime_seed_selects_model_seed) = source_tests(
    __name__, Source, waits=(1, 3, 9, 40), max_wait=60)
