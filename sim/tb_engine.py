"""cocotb testbench of hw/engine.py (``perturbation_engine(cfg)``: PoolEngine or
StreamEngine): every word equals ``pezo.ref.engine.engine_model(cfg,
seed_in).perturbation(t, n)``, bit for bit.

Each cocotb test checks one claim of the common source interface: words after a start,
replay (+eps, -eps and update passes see the same z), a start that abandons a fill or a
run, reset in the middle of a run, the runtime seed, and back-pressure (``ready`` drawn
low with probability ``PEZO_BACKPRESSURE``, default 0.3, and held low across each clock
of a wrap boundary in turn). For ``pool`` every check reads into the third wrap of the
pool, so the fresh offset of each wrap is compared too. Randomness (steps, seeds,
back-pressure) comes from Python's ``random``, seeded by cocotb (``COCOTB_RANDOM_SEED``),
so a failing run is reproduced from the seed it prints. The long multi-step regression
runs only when ``PEZO_ENGINE_LONG`` is set (the ``slow`` cases).
"""

from __future__ import annotations

import os
import random

import cocotb

from pezo.hw.engine import perturbation_engine
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.engine import engine_model
from pezo.sim.runner import SimCase, config_from_env
from pezo.sim.source_checks import (SourceBench, check_replay, check_reset_mid_run, check_runtime_seed,
                                    check_start_abandons_run, check_words_after_start, expect_words)
from pezo.sim.streams import clocks

LONG_ENV = "PEZO_ENGINE_LONG"


def engine_case(name: str, cfg: PezoConfig, *, long: bool = False) -> SimCase:
    """A regression case of the engine; ``long`` runs the multi-step regression only."""
    if long:
        return SimCase(name, perturbation_engine, "pezo.sim.tb_engine", cfg, env={LONG_ENV: "1"},
                       testcase=["long_multi_step_regression"], quick=False)
    return SimCase(name, perturbation_engine, "pezo.sim.tb_engine", cfg)


CASES = [
    engine_case("engine_default", PRESETS["default"]),
    engine_case("engine_stream", PRESETS["stream"]),
    engine_case("engine_none", PRESETS["none"]),
    engine_case("engine_refresh", PRESETS["refresh"]),
    engine_case("engine_p1", PRESETS["p1"]),
    engine_case("engine_small", PRESETS["small"]),
    engine_case("engine_stream_r8_p2", PRESETS["small"].replace(strategy="stream", repeat=8)),
    engine_case("engine_default_long", PRESETS["default"], long=True),
    engine_case("engine_stream_long", PRESETS["stream"], long=True),
    engine_case("engine_refresh_long", PRESETS["refresh"], long=True),
]


class Engine(SourceBench):
    """The engine under test, checked against ``engine_model(cfg, seed_in)``."""

    def __init__(self, dut):
        super().__init__(dut, lambda cfg, seed_in: engine_model(cfg, seed_in).perturbation,
                         words=self._words(config_from_env()))

    @staticmethod
    def _words(cfg: PezoConfig) -> int:
        """Words per check: into the third wrap of the pool (two wrap boundaries, each
        with a fresh offset) for ``pool``, and past the first moment block for
        ``stream`` / ``none`` when that stays small."""
        if cfg.strategy == "pool":
            return 2 * cfg.pool_size + 8 * cfg.parallel
        per_clock = cfg.lanes * cfg.effective_repeat
        return min(per_clock * (cfg.moment_block + 4), 400)

    @property
    def boundary(self) -> int:
        """Transfers between the points where the engine changes what it reads: one wrap
        of the pool (N/P), or one moment block of lane 0 for ``stream`` / ``none``."""
        cfg = self.cfg
        if cfg.strategy == "pool":
            return cfg.pool_size // cfg.parallel
        return cfg.moment_block * max(1, cfg.effective_repeat // cfg.parallel)


@cocotb.test()
async def words_after_start_match_model(dut):
    """After reset the engine is idle; start(t) gives words 0.. of step t, forward and back."""
    await check_words_after_start(Engine(dut))


@cocotb.test()
async def replay_gives_identical_words(dut):
    """start(t) three times (+eps, -eps, update) gives identical words; t+1 differs;
    going back to an earlier step reproduces it."""
    await check_replay(Engine(dut))


@cocotb.test()
async def start_abandons_fill_and_run(dut):
    """A start in the middle of a pool fill or of a run discards what was in flight."""
    eng = Engine(dut)
    cfg = eng.cfg
    await check_start_abandons_run(eng, [random.randrange(1, cfg.pool_size + 8)])
    # a start in the second (scaled write) pass of a fill
    await eng.reset()
    await eng.begin(random.randrange(eng.top_step + 1))
    await clocks(dut, random.randrange(2 * cfg.pool_size, cfg.pool_size * (cfg.mantissa_bits + 2)))
    await eng.check(random.randrange(eng.top_step + 1))


@cocotb.test()
async def reset_mid_run_returns_to_idle(dut):
    """Reset during a run and during a pool fill: idle afterwards, then exact words."""
    await check_reset_mid_run(Engine(dut), max_wait=20)


@cocotb.test()
async def runtime_seed_selects_model_seed(dut):
    """seed(x) gives the words of the model with seed_in = x (and idles until a start)."""
    await check_runtime_seed(Engine(dut))


@cocotb.test()
async def stall_at_wrap_boundary_loses_nothing(dut):
    """``ready`` held low for a few clocks from each position between three transfers
    before and one after the first two wrap boundaries (moment-block boundaries for
    ``stream``; the engine reads one transfer ahead, and the stall may begin one edge
    late): the words across them still match the model."""
    eng = Engine(dut)
    await eng.reset()
    t = random.randrange(eng.top_step + 1)
    P, span = eng.cfg.parallel, eng.boundary
    for shift in range(-3, 2):
        eng.z.backpressure = 0.0
        await eng.begin(t)
        for edge in (span + shift, 2 * span + shift):
            await eng.z.take(edge * P)
            eng.z.backpressure = 1.0
            await clocks(dut, 3)
            eng.z.backpressure = 0.0
        n = (2 * span + 4) * P
        got = await eng.z.take(n)
        expect_words(got, eng.expected(t, n), f"step {t}, stall from boundary {shift:+d}")
    assert eng.z.stalled, "the sink never stalled the engine"


@cocotb.test(skip=LONG_ENV not in os.environ)
async def long_multi_step_regression(dut):
    """Many steps (successive, replayed and random) and two seeds, with back-pressure."""
    eng = Engine(dut)
    await eng.reset()
    top = min(200, (1 << eng.cfg.step_bits) - 1)
    for t in range(min(24, top)):
        for _ in range(1 + (t % 3 == 0) * 2):
            await eng.check(t)
    await eng.send_seed(random.getrandbits(eng.cfg.lfsr_width))
    for _ in range(20):
        await eng.check(random.randrange(top + 1), eng.words * 2)
    dut._log.info("long regression: %d stalled clocks seen", eng.z.stalled)
