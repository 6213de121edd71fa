"""cocotb testbench of the Gaussian baselines (hw/gaussian/): every word equals the golden
model (``pezo.ref.gaussian.clt.CltGaussian``, ``...box_muller.BoxMullerGaussian`` or
``...icdf.IcdfGaussian``, ``samples(t, n)``) bit for bit, and the RTL stream has the
baseline's distribution.

The design under test is named by ``PEZO_GAUSSIAN`` (``clt``, ``box_muller`` or
``icdf``). Each cocotb test checks one claim of the common source interface: words after
a start, replay, a start that abandons a run, reset in the middle of a run, the runtime
seed, all under back-pressure (``ready`` low with probability ``PEZO_BACKPRESSURE``,
default 0.3). The quality test runs only when ``PEZO_QUALITY_SAMPLES`` is set: it takes
that many words of one step with ``ready`` held high, checks each against the model and
then the distribution (see :func:`quality_test`). Randomness comes from Python's
``random``, seeded by cocotb (``COCOTB_RANDOM_SEED``), so a failing run is reproduced
from its seed.
"""

from __future__ import annotations

import math
import os
import random

import cocotb
import numpy as np

from pezo.hw.designs import DESIGNS
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.gaussian.quality import ks_distance, moment_checks
from pezo.ref.gaussian.tables import clt_scale
from pezo.sim.runner import SimCase, config_from_env, env_value
from pezo.sim.source_checks import SourceBench, source_tests
from pezo.sim.streams import StreamDriver, clocks, expect_words, reset, split_words, start_clock, value

DESIGN_ENV = "PEZO_GAUSSIAN"
QUALITY_ENV = "PEZO_QUALITY_SAMPLES"

#: The Gaussian baselines of the registry: component and golden model by design name.
RTL = {name: d.component for name, d in DESIGNS.items() if d.gaussian}
MODELS = {name: d.model for name, d in DESIGNS.items() if d.gaussian}

#: KS bar of the Box-Muller RTL stream for n samples: docs/design.md's 0.01 at n >= 1e5; for
#: a smaller n the bar is 0.01 plus the extra 99.9 % KS quantile of n samples over that
#: of 1e5 (1.95 / sqrt(n) - 1.95 / sqrt(1e5)), so the check keeps its false-fail rate.
KS_BAR = 0.01
KS_Q999 = 1.95


def ks_bar(n: int) -> float:
    return KS_BAR + max(0.0, KS_Q999 / math.sqrt(n) - KS_Q999 / math.sqrt(1e5))


def reach_sigma(n: int) -> float:
    """The |x| that n samples of N(0, 1) must exceed at least once: 4 for n >= 1e5
    (missed with probability exp(-n p4), 0.18 % at 1e5), else the s where n P(|X| > s)
    = 10 (missed with probability exp(-10) = 4.5e-5; s = 3.48 at n = 2e4)."""
    if n >= 100_000:
        return 4.0
    lo, hi = 0.0, 8.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if n * math.erfc(mid / math.sqrt(2.0)) > 10.0 else (lo, mid)
    return lo


def gaussian_case(name: str, design: str, cfg: PezoConfig, *, quality: int = 0,
                  quick: bool = True) -> SimCase:
    """A regression case of ``design``; ``quality`` > 0 runs only the quality test on
    that many RTL samples."""
    env = {DESIGN_ENV: design}
    if quality:
        env[QUALITY_ENV] = str(quality)
        return SimCase(name, RTL[design], "pezo.sim.tb_gaussian", cfg, env=env,
                       testcase=["quality_test"], quick=quick)
    return SimCase(name, RTL[design], "pezo.sim.tb_gaussian", cfg, env=env, quick=quick)


SMALL = PRESETS["small"]
#: Icarus runs the flattened netlist (sim/runner.py) at roughly 0.1 ms per LFSR lane per
#: clock, so the default suite keeps CLT to configs with few lanes and the default
#: preset's 96-lane CLT (about 2 minutes) is a slow case; the 1e5-sample Box-Muller
#: quality run (about 1 minute) is in the default suite.
CASES = [
    gaussian_case("gauss_bm_default", "box_muller", PRESETS["default"]),
    gaussian_case("gauss_bm_small", "box_muller", SMALL),
    gaussian_case("gauss_bm_p1_tables", "box_muller",
                  PRESETS["p1"].replace(bm_log_table_bits=6, bm_sqrt_table_bits=5, bm_trig_table_bits=10)),
    gaussian_case("gauss_clt_small_k5", "clt", SMALL.replace(clt_k=5)),
    gaussian_case("gauss_clt_p1_k7", "clt", PRESETS["p1"].replace(clt_k=7)),
    gaussian_case("gauss_bm_quality_1e5", "box_muller", PRESETS["default"], quality=100_000),
    gaussian_case("gauss_clt_quality_p1_3e3", "clt", PRESETS["p1"].replace(lfsr_width=16), quality=3_000),
    gaussian_case("gauss_clt_default", "clt", PRESETS["default"], quick=False),
    gaussian_case("gauss_icdf_p1", "icdf", PRESETS["p1"]),
    gaussian_case("gauss_icdf_small", "icdf", SMALL),
    gaussian_case("gauss_icdf_p4_f10", "icdf", PRESETS["default"].replace(parallel=4, frac_bits=10)),
    gaussian_case("gauss_icdf_quality_p1_2e4", "icdf", PRESETS["p1"], quality=20_000),
    gaussian_case("gauss_icdf_default", "icdf", PRESETS["default"], quick=False),
    gaussian_case("gauss_icdf_quality_1e5", "icdf", PRESETS["default"], quality=100_000, quick=False),
]


class Source(SourceBench):
    """The baseline under test (``PEZO_GAUSSIAN``), checked against its golden model."""

    def __init__(self, dut):
        design = env_value(DESIGN_ENV)
        super().__init__(dut, lambda cfg, seed_in: MODELS[design](cfg, seed_in).samples,
                         words=24 * config_from_env().parallel + 5)


(words_after_start_match_model, replay_gives_identical_words, start_abandons_run,
 reset_mid_run_returns_to_idle, runtime_seed_selects_model_seed) = source_tests(
    __name__, Source, waits=(1, 3, 9), max_wait=12, skip=QUALITY_ENV in os.environ)


async def collect(dut, cfg: PezoConfig, t: int, n: int) -> np.ndarray:
    """start(t) with ready held high; the first n words (a fast monitor for long runs)."""
    start = StreamDriver(dut, "start")
    dut.z__ready.value = 1
    await reset(dut)
    await start.send(t)
    payloads: list[int] = []
    transfers = -(-n // cfg.parallel)
    while len(payloads) < transfers:
        await clocks(dut)
        if value(dut.z__valid):
            payloads.append(value(dut.z__payload))
    words = [w for p in payloads for w in split_words(p, cfg.parallel, cfg.word_bits)]
    return np.array(words[:n], dtype=np.int64)


@cocotb.test(skip=QUALITY_ENV not in os.environ)
async def quality_test(dut):
    """n = PEZO_QUALITY_SAMPLES RTL words of one step, each equal to the model, and:

    * Box-Muller and icdf: KS distance to N(0, 1) <= :func:`ks_bar` (0.01 at 1e5) and
      reach: max |x| >= :func:`reach_sigma` (4 sigma at 1e5 samples);
    * CLT-k: |mean| <= 5 / sqrt(n) and |var - 1| <= 5 sqrt(2 / n) (conservative for the
      Irwin-Hall shape, whose kurtosis is below 3), max |x| within the reach of the
      scaled sum (sqrt(3 k) up to the constant's rounding), and, for
      k >= 6, KS to N(0, 1) within the same bar.
    """
    start_clock(dut)
    cfg = config_from_env()
    design = env_value(DESIGN_ENV)
    n = int(env_value(QUALITY_ENV))
    t = random.randrange(min(40, (1 << cfg.step_bits) - 1))
    got = await collect(dut, cfg, t, n)
    expect_words(got, MODELS[design](cfg).samples(t, n), f"quality run, step {t}")
    x = got / float(1 << cfg.frac_bits)
    ks, moments, top = ks_distance(x), moment_checks(x), float(np.max(np.abs(x)))
    dut._log.info("%s: n=%d step %d KS %.5f (bar %.5f) mean %.5f var %.5f max|x| %.3f", design, n, t,
                  ks, ks_bar(n), moments["mean"], moments["var"], top)
    if design != "clt":
        assert ks <= ks_bar(n), f"KS {ks:.5f} above {ks_bar(n):.5f} over {n} samples"
        assert top >= reach_sigma(n), f"no sample beyond {reach_sigma(n):.3f} sigma (max |x| {top:.3f})"
    else:
        assert moments["mean_ok"], f"mean {moments['mean']:.5f} beyond +-{moments['mean_tol']:.5f}"
        assert moments["var_ok"], f"variance {moments['var']:.5f} beyond 1 +- {moments['var_tol']:.5f}"
        scale = clt_scale(cfg)
        reach = ((cfg.clt_k * ((1 << cfg.word_bits) - 1) * scale.mult + (1 << (scale.shift - 1)))
                 >> scale.shift) / float(1 << cfg.frac_bits)
        assert top <= reach, f"|x| {top:.4f} beyond the sum's reach {reach:.4f} (about sqrt(3k))"
        if cfg.clt_k >= 6:
            assert ks <= ks_bar(n), f"KS {ks:.5f} above {ks_bar(n):.5f} over {n} samples"
