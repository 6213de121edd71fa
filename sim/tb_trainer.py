"""cocotb testbench of hw/trainer.py (``ZoTrainer``): after every step the loss
difference ``delta`` and every parameter read back equal the fixed-point golden
trainer's (``pezo.ref.train.fixed.golden_steps``), bit for bit.

The stimulus: initial parameters written through ``write`` (random signed theta_bits
integers, a few at the extremes so the saturations are exercised), a runtime seed,
then steps t with random examples (features 0..16, labels 0..n_out-1) offered on
``examples`` with random gaps (``valid`` low with probability ``PEZO_EXAMPLE_GAPS``,
default 0.3) and the trainer's back-pressure (the byte is held while ``ready`` is 0),
and ``delta`` taken under random back-pressure. Randomness comes from Python's
``random`` seeded by cocotb (``COCOTB_RANDOM_SEED``, printed by cocotb).

The TrainerConfig travels as JSON in ``PEZO_TRAINER`` (its source's PezoConfig through
the runner's ``PEZO_CONFIG``, see sim/runner.py). ``cycles_per_step`` measures the
clocks from an accepted ``step`` to ``delta`` offered and writes them to
``cycles.json`` in the build directory (read by :func:`measure_cycles_per_step`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from pezo.errors import ConfigError
from pezo.hw.trainer import ZoTrainer
from pezo.ref.config import PRESETS
from pezo.ref.train.fixed import golden_steps
from pezo.ref.train.fixed_config import DELTA_BITS, FEATURE_MAX, TrainerConfig
from pezo.sim.random_config import random_config
from pezo.sim.runner import CONFIG_ENV, SimCase, config_from_env, env_value
from pezo.sim.streams import StreamDriver, clocks, start_clock, value

TRAINER_ENV = "PEZO_TRAINER"
GAPS_ENV = "PEZO_EXAMPLE_GAPS"
STEPS_ENV = "PEZO_TRAINER_STEPS"
#: File (in the case's build directory) where ``cycles_per_step`` writes its measurement.
CYCLES_FILE = "cycles.json"
#: Clocks a step may take before the bench gives up.
STEP_TIMEOUT = 2_000_000


def trainer_case(name: str, tcfg: TrainerConfig, *, steps: int = 3, testcase: list[str] | None = None,
                 quick: bool = True) -> SimCase:
    """A regression case of the trainer built from ``tcfg``; ``steps`` training steps
    per check."""
    return SimCase(name, lambda pcfg: ZoTrainer(tcfg.replace(pezo=pcfg)), "pezo.sim.tb_trainer", tcfg.pezo,
                   env={TRAINER_ENV: json.dumps(trainer_fields(tcfg)), STEPS_ENV: str(steps)},
                   testcase=testcase, quick=quick)


def trainer_fields(tcfg: TrainerConfig) -> dict[str, object]:
    """The fields of ``tcfg`` but its PezoConfig (which travels as the runner's config)."""
    return {f.name: getattr(tcfg, f.name) for f in dataclasses.fields(tcfg) if f.name != "pezo"}


def trainer_from_env() -> TrainerConfig:
    """cocotb side: the TrainerConfig the simulated trainer was built from."""
    return TrainerConfig(**json.loads(env_value(TRAINER_ENV)), pezo=config_from_env())


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


class TrainerBench:
    """Clock, reset, the streams of the trainer and the golden model's expectations."""

    def __init__(self, dut):
        self.dut = dut
        self.cfg = trainer_from_env()
        self.steps = int(env_value(STEPS_ENV, "3"))
        self.gaps = float(os.environ.get(GAPS_ENV, "0.3"))
        start_clock(dut)
        self.seed = StreamDriver(dut, "seed")
        self.step = StreamDriver(dut, "step")
        self.write = StreamDriver(dut, "write")
        self.read = StreamDriver(dut, "read")
        for name in ("examples", "delta", "param"):
            getattr(dut, f"{name}__valid" if name == "examples" else f"{name}__ready").value = 0
        self.examples_taken = 0

    async def reset(self) -> None:
        for name in ("seed", "step", "write", "read", "examples"):
            getattr(self.dut, f"{name}__valid").value = 0
        self.dut.rst.value = 1
        await clocks(self.dut, 2)
        self.dut.rst.value = 0

    # --- stimulus -------------------------------------------------------------------
    def random_theta(self) -> np.ndarray:
        """Initial parameters: mostly within +-0.5, a few at the extremes of theta_bits."""
        cfg = self.cfg
        top = 1 << (cfg.theta_bits - 1)
        theta = [random.randint(-(1 << (cfg.theta_frac - 1)), 1 << (cfg.theta_frac - 1))
                 for _ in range(cfg.n_params)]
        for i in random.sample(range(cfg.n_params), min(4, cfg.n_params)):
            theta[i] = random.choice([-top, top - 1, -top + 3, top - 4])
        return np.clip(np.array(theta, dtype=np.int64), -top, top - 1)

    def random_examples(self) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        x = np.array([[random.randint(0, FEATURE_MAX) for _ in range(cfg.n_in)] for _ in range(cfg.batch)],
                     dtype=np.int64)
        return x, np.array([random.randrange(cfg.n_out) for _ in range(cfg.batch)], dtype=np.int64)

    async def load(self, theta: np.ndarray) -> None:
        bits = self.cfg.theta_bits
        for i, v in enumerate(theta):
            await self.write.send(i | ((int(v) & ((1 << bits) - 1)) << self.cfg.addr_bits))

    async def read_back(self) -> np.ndarray:
        """Every parameter through ``read`` / ``param`` (signed theta_bits, int64)."""
        dut, out = self.dut, []
        dut.param__ready.value = 1
        for i in range(self.cfg.n_params):
            await self.read.send(i)
            for _ in range(10):
                await RisingEdge(dut.clk)
                if value(dut.param__valid):
                    out.append(_signed(value(dut.param__payload), self.cfg.theta_bits))
                    break
            else:
                raise AssertionError(f"no param for address {i}")
        dut.param__ready.value = 0
        return np.array(out, dtype=np.int64)

    async def feed(self, x: np.ndarray, y: np.ndarray) -> None:
        """Offer the step's example bytes in order with random gaps, each held until taken."""
        dut = self.dut
        data = [int(b) for row, label in zip(x, y) for b in (*row, label)]
        for byte in data:
            while random.random() < self.gaps:
                dut.examples__valid.value = 0
                await RisingEdge(dut.clk)
            dut.examples__valid.value = 1
            dut.examples__payload.value = byte
            while True:
                await RisingEdge(dut.clk)
                if value(dut.examples__ready):
                    break
            self.examples_taken += 1
        dut.examples__valid.value = 0

    async def run_step(self, t: int, x: np.ndarray, y: np.ndarray) -> tuple[int, int]:
        """Step t on examples (x, y): (delta, clocks from the accepted step to delta
        offered). ``delta`` is taken under random back-pressure."""
        dut = self.dut
        feeder = cocotb.start_soon(self.feed(x, y))
        await self.step.send(t)
        offered = None
        for cycles in range(1, STEP_TIMEOUT):
            dut.delta__ready.value = int(random.random() < 0.5)
            await RisingEdge(dut.clk)
            if value(dut.delta__valid):
                offered = offered or cycles
                if value(dut.delta__ready):
                    break
        else:
            raise AssertionError(f"step {t}: no delta in {STEP_TIMEOUT} clocks")
        dut.delta__ready.value = 0
        await feeder
        return _signed(value(dut.delta__payload), DELTA_BITS), offered

    async def check_run(self, n_steps: int, label: str, *, model_seed_flip: int = 0,
                        consecutive: bool = False) -> list[int]:
        """Load parameters, seed, run ``n_steps`` steps (random step indices t, or 0, 1,
        2, ... as in training where ``consecutive``); every delta and the parameters
        after every step must equal the golden trainer's (whose seed is the trainer's
        XOR ``model_seed_flip``, nonzero only to show that the check can fail). Returns
        the clocks of each step."""
        cfg = self.cfg
        theta0 = self.random_theta()
        seed_in = random.getrandbits(cfg.pezo.lfsr_width)
        await self.load(theta0)
        await self.seed.send(seed_in)
        steps = [(n if consecutive else random.randrange(cfg.max_steps), *self.random_examples())
                 for n in range(n_steps)]
        want = golden_steps(cfg, theta0, seed_in ^ model_seed_flip, steps)
        cycles = []
        for n, ((t, x, y), ref) in enumerate(zip(steps, want)):
            delta, clk = await self.run_step(t, x, y)
            cycles.append(clk)
            self.dut._log.info("%s: step %d (t=%d): delta %d, gq %d, %d clocks", label, n, t, delta, ref.gq, clk)
            assert delta == ref.delta, f"{label}: step {n} (t={t}): delta {delta}, golden {ref.delta}"
            theta = await self.read_back()
            bad = np.flatnonzero(theta != ref.theta)
            assert not len(bad), (f"{label}: step {n} (t={t}, gq={ref.gq}): {len(bad)} parameters differ, "
                                  f"first {bad[0]}: {theta[bad[0]]} vs golden {ref.theta[bad[0]]}")
        return cycles


@cocotb.test()
async def steps_match_golden_model(dut):
    """Parameters and seed loaded, then several steps: each delta and all parameters
    after each step equal the golden trainer's; busy while a step runs."""
    bench = TrainerBench(dut)
    await bench.reset()
    assert not value(dut.busy), "busy after reset"
    cycles = await bench.check_run(bench.steps, "run")
    assert bench.examples_taken == bench.steps * bench.cfg.batch * (bench.cfg.n_in + 1)
    dut._log.info("clocks per step: %s", cycles)


@cocotb.test()
async def reset_mid_step_restarts_cleanly(dut):
    """A reset at a random clock inside a step (while examples stream or a pass runs):
    afterwards the trainer is idle, and a fresh run (parameters reloaded, seeded) matches."""
    bench = TrainerBench(dut)
    await bench.reset()
    cfg = bench.cfg
    await bench.load(bench.random_theta())
    await bench.seed.send(random.getrandbits(cfg.pezo.lfsr_width))
    x, y = bench.random_examples()
    feeder = cocotb.start_soon(bench.feed(x, y))
    await bench.step.send(random.randrange(cfg.max_steps))
    await clocks(dut, random.randrange(1, 4 * cfg.n_params * cfg.rounds))
    assert value(dut.busy), "the step ended before the reset"
    feeder.cancel()
    await bench.reset()
    await clocks(dut, 2)
    assert not value(dut.busy) and not value(dut.delta__valid), "not idle after reset"
    await bench.check_run(min(2, bench.steps), "after reset")


@cocotb.test()
async def wrong_seed_is_detected(dut):
    """The check can fail: with the golden model seeded one bit off the trainer, the
    first step's comparison must report a difference."""
    bench = TrainerBench(dut)
    await bench.reset()
    try:
        await bench.check_run(1, "mutant", model_seed_flip=1)
    except AssertionError as exc:
        dut._log.info("detected as expected: %s", exc)
    else:
        raise AssertionError("a golden model with another seed matched the trainer")


@cocotb.test()
async def cycles_per_step(dut):
    """Steps 0 and 1 after a seed, as a training run begins, checked, and their clocks
    (from the accepted ``step`` to ``delta`` offered, examples offered every clock)
    written to ``cycles.json``: step 1 (``cycles_per_step``, what every later step of a
    run takes) and step 0, which includes the source's start-up after a seed (the pool
    fill of ``pool``). The PeZO engine reaches a new step t from the last one at one
    step per clock, so a jump to a distant t costs about that many clocks more."""
    bench = TrainerBench(dut)
    bench.gaps = 0.0
    await bench.reset()
    first, steady = await bench.check_run(2, "timed steps", consecutive=True)
    (Path(os.environ[CONFIG_ENV]).parent / CYCLES_FILE).write_text(
        json.dumps({"cycles_per_step": steady, "first_step_after_seed": first}))


def measure_cycles_per_step(tcfg: TrainerConfig, name: str = "trainer_cycles") -> int:
    """Clocks of one training step of ``tcfg`` in simulation (from the accepted ``step``
    to ``delta`` offered, examples offered every clock), the step checked against the
    golden trainer on the way."""
    result = trainer_case(name, tcfg, testcase=["cycles_per_step"]).run()
    return int(json.loads((result.directory / CYCLES_FILE).read_text())["cycles_per_step"])


def random_trainer_config(rng: random.Random) -> TrainerConfig:
    """A small, legal trainer config: model, sizes, M, b, widths, shifts and the source
    (``pezo-pool``, ``pezo-stream`` or ``rademacher`` on a small random engine config)
    drawn from ``rng``, redrawn until TrainerConfig accepts it."""
    while True:
        source = rng.choice(["pezo-pool", "pezo-stream", "rademacher"])
        pcfg = random_config(rng)
        strategy = {"pezo-pool": "pool", "pezo-stream": rng.choice(["stream", "none"])}.get(source, pcfg.strategy)
        macs = rng.choice([1, 2, 4])
        theta_bits = rng.randint(16, 24)
        compute_bits = rng.randint(8, 16)
        try:
            return TrainerConfig(
                model=rng.choice(["mlp", "logreg"]), n_in=rng.choice([8, 16, 64]), hidden=rng.randint(1, 6),
                n_out=rng.randint(2, 10), macs=macs, batch=macs * rng.choice([1, 2, 4]), theta_bits=theta_bits,
                theta_frac=theta_bits - rng.randint(2, 5), compute_bits=compute_bits,
                compute_frac=compute_bits - rng.randint(2, 5), act_bits=rng.randint(8, 15),
                act_frac=rng.randint(4, 10), score_frac=rng.randint(6, 12), eps_shift=rng.randint(0, 12),
                lr_shift=rng.randint(4, 16), grad_bits=rng.randint(8, 16), source=source,
                pezo=pcfg.replace(strategy=strategy))
        except ConfigError:
            continue


#: The cocotb tests of a regression case (``cycles_per_step`` runs where it is measured).
QUICK_TESTS = ["steps_match_golden_model", "reset_mid_step_restarts_cleanly", "wrong_seed_is_detected"]
#: The fixed regression configurations (default test run): both models, M from 1 to 4,
#: three sources, an output row shorter than M (the squarer's pause), a one-unit hidden
#: layer, and eps below one z LSB in theta units (d_i = z_i >> 2: floor, then sign) with
#: theta seen by the multipliers unshifted (compute_frac = theta_frac).
CONFIGS = {
    "trainer_mlp_pool": TrainerConfig(hidden=4, macs=2, batch=4, pezo=PRESETS["small"]),
    "trainer_logreg_rademacher": TrainerConfig(model="logreg", n_in=16, n_out=10, macs=4, batch=8,
                                               source="rademacher", pezo=PRESETS["small"]),
    "trainer_mlp_stream_short_rows": TrainerConfig(n_in=16, hidden=2, n_out=4, macs=4, batch=8, source="pezo-stream",
                                                   pezo=PRESETS["small"].replace(strategy="stream", repeat=2)),
    "trainer_mlp_hidden1_m1_small_eps": TrainerConfig(n_in=8, hidden=1, n_out=3, macs=1, batch=2, theta_bits=16,
                                                      theta_frac=12, eps_shift=10, lr_shift=4,
                                                      pezo=PRESETS["small"]),
}
#: The regression cases, the last one slow: the full-size MLP 64-16-10 with the default
#: PeZO engine, one step.
CASES = [*(trainer_case(name, tcfg, testcase=QUICK_TESTS) for name, tcfg in CONFIGS.items()),
         trainer_case("trainer_mlp_full", TrainerConfig(), steps=1, testcase=["steps_match_golden_model"],
                      quick=False)]
