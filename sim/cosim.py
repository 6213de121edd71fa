"""Co-simulated training: ZO-SGD whose perturbations come from the simulated engine RTL.

1. :func:`record_rtl_perturbations` simulates ``hw/engine.py`` (Icarus, cocotb
   recorder ``sim/tb_cosim.py``): after reset it sends the runtime seed, then for every
   step t it issues start(t) ``passes`` times (the +eps, -eps and update passes of one
   ZO-SGD step, each a real RTL replay) and records the first n words of each pass
   (signed B-bit words, F fractional bits, int64), under random back-pressure.
2. :class:`RtlSource` serves those words to the optimizer as ``z = word / 2**F``
   (float64, exact), pass by pass in the order the optimizer asks (+eps, -eps,
   update), so every pass the trainer uses is the one the hardware produced for it.
3. :func:`trace_zo` trains with a source through the project's ZO-SGD step
   (:func:`pezo.ref.train.zo.zo_step`) and records every loss the optimizer evaluated
   (minibatch L+ and L- per step), the projected gradients, the full training loss
   and test accuracy after every step, and the final parameters;
   :func:`run_rtl_training` does this for the RTL and for the golden
   :class:`pezo.ref.train.sources.PezoSource` with the same settings and seed, and
   :func:`compare_traces` says whether the two runs are equal bit for bit.

Cost: one simulation of steps x passes x n words at P words per clock (plus one seek
and, for the pool strategy, one pool fill per start); a few thousand words take
seconds on Icarus, most of them Verilog conversion and compilation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from pezo.errors import ConfigError, PezoError
from pezo.hw.engine import perturbation_engine
from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import engine_model
from pezo.ref.train.loop import Run, TrainResult, TrainSettings
from pezo.ref.train.sources import ENGINE_SOURCES, PEZO_PRESETS, PerturbationSource, make_source
from pezo.ref.train.zo import zo_step
from pezo.sim.runner import run_testbench
from pezo.sim.streams import BACKPRESSURE_ENV
from pezo.sim.tb_cosim import OUT_ENV, PASSES_ENV, SEED_IN_ENV, STEPS_ENV, WORDS_ENV
from pezo.toolchain import build_dir

#: ZO-SGD passes per step: +eps, -eps, update.
ZO_PASSES = 3


class CosimError(PezoError):
    """The optimizer asked the RTL source for words that were not recorded."""


def seed_in_for(cfg: PezoConfig, seed: int) -> int:
    """The runtime ``seed_in`` of a training seed: its low W bits (as ``PezoSource``)."""
    return seed & ((1 << cfg.lfsr_width) - 1)


def record_rtl_perturbations(cfg: PezoConfig, seed_in: int, steps: int, n: int, passes: int = ZO_PASSES,
                             *, backpressure: float = 0.3, name: str = "cosim",
                             sim_seed: int | None = None) -> np.ndarray:
    """Words of the engine RTL: int64, shape (steps, passes, n); [t, k, i] is word i
    after the k-th start(t), signed B-bit with F fractional bits.

    Simulates ``perturbation_engine(cfg)`` in ``build/sim/<name>`` (the words are saved
    there as ``words.npy``); ``backpressure`` is the probability of ``z.ready`` = 0 on a
    clock, ``sim_seed`` fixes cocotb's random seed. Raises ``ToolError`` without Icarus,
    ``SimulationFailed`` if the recorder did not finish.
    """
    if not 1 <= steps <= 1 << cfg.step_bits:
        raise ConfigError("steps", steps, f"must be in 1 .. 2**step_bits = {1 << cfg.step_bits}")
    for what, value in (("words", n), ("passes", passes)):
        if value < 1:
            raise ConfigError(what, value, "must be at least 1")
    if not 0 <= seed_in < 1 << cfg.lfsr_width:
        raise ConfigError("seed_in", seed_in, f"must be in 0 .. 2**{cfg.lfsr_width}-1")
    if not 0.0 <= backpressure < 1.0:
        raise ConfigError("backpressure", backpressure, "must be in [0, 1)")
    out = build_dir("sim", name).resolve() / "words.npy"
    out.unlink(missing_ok=True)
    env = {OUT_ENV: str(out), SEED_IN_ENV: str(seed_in), STEPS_ENV: str(steps), PASSES_ENV: str(passes),
           WORDS_ENV: str(n), BACKPRESSURE_ENV: str(backpressure)}
    run_testbench(name, perturbation_engine, "pezo.sim.tb_cosim", cfg, env=env, seed=sim_seed)
    words = np.load(out)
    if words.shape != (steps, passes, n) or words.dtype != np.int64:
        raise PezoError(f"{out}: expected int64 words of shape {(steps, passes, n)}, "
                        f"got {words.dtype} {words.shape}")
    return words


class RtlSource(PerturbationSource):
    """Perturbations recorded from the engine RTL, served pass by pass.

    ``words`` (int64, shape (steps, passes, n_rec)) as returned by
    :func:`record_rtl_perturbations`. The k-th request for step t (k = 0, 1, 2: +eps,
    -eps, update) returns the words of the k-th RTL pass of step t, as float64
    ``word / 2**F`` (exact), never a cached vector. A request for a step that was not
    recorded, for more passes than were recorded, or for more than n_rec words raises
    :class:`CosimError`; ``n`` up to n_rec gives the first n words (the engine emits
    words 0, 1, ... of a step). :attr:`unused` lists the recorded passes not served yet.
    """

    def __init__(self, name: str, cfg: PezoConfig, seed: int, words: np.ndarray):
        super().__init__(seed)
        if words.ndim != 3 or words.dtype != np.int64:
            raise PezoError(f"RTL words must be int64 of shape (steps, passes, n), got {words.dtype} {words.shape}")
        self.name = name
        self.cfg = cfg
        self.words = words
        self.served = np.zeros(words.shape[:2], dtype=bool)
        self._scale = 1.0 / (1 << cfg.frac_bits)

    def generate(self, step: int, n: int) -> np.ndarray:
        """The next recorded RTL pass of ``step`` (float64, shape (n,), read-only)."""
        steps, passes, recorded = self.words.shape
        if not 0 <= step < steps:
            raise CosimError(f"RTL source: step {step} was not recorded (recorded steps 0..{steps - 1})")
        if n > recorded:
            raise CosimError(f"RTL source: step {step} asks {n} words, but {recorded} were recorded per pass")
        done = int(self.served[step].sum())
        if done == passes:
            raise CosimError(f"RTL source: step {step} asks pass {done + 1}, but {passes} passes were recorded")
        self.served[step, done] = True
        z = self.words[step, done, :n] * self._scale
        z.flags.writeable = False
        return z

    def fresh_per_step(self, n: int, steps: int) -> float:
        return engine_model(self.cfg, seed_in_for(self.cfg, self.seed)).fresh_words_per_step(n, steps)

    @property
    def unused(self) -> list[tuple[int, int]]:
        """(step, pass) of every recorded pass the optimizer has not asked for."""
        return [(int(t), int(k)) for t, k in np.argwhere(~self.served)]


@dataclass
class ZoTrace:
    """Everything one ZO-SGD run computed, in order.

    loss_plus, loss_minus : minibatch losses at theta + eps z and theta - eps z (nats),
        one per step; grads : projected gradients g; curve : full training loss and
        test accuracy at steps 0..steps; theta : final parameters (float64).
    """

    loss_plus: list[float] = field(default_factory=list)
    loss_minus: list[float] = field(default_factory=list)
    grads: list[float] = field(default_factory=list)
    curve: TrainResult = field(default_factory=lambda: TrainResult("", 0))
    theta: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def train_loss(self) -> list[float]:
        return self.curve.train_loss


def trace_zo(settings: TrainSettings, source: PerturbationSource, seed: int) -> ZoTrace:
    """ZO-SGD on digits (``settings.steps`` steps of :func:`zo_step`), recording every
    loss evaluation, gradient and curve point (the curve at every step)."""
    run = Run(settings, seed)
    trace = ZoTrace(curve=TrainResult(source.name, seed))
    run.record(trace.curve, 0)
    for step in range(settings.steps):
        x, y = run.batch()
        losses: list[float] = []

        def loss(theta: np.ndarray) -> float:
            losses.append(run.model.loss(theta, x, y))
            return losses[-1]

        trace.grads.append(zo_step(run.theta, loss, source, step, settings.lr, settings.eps))
        trace.loss_plus.append(losses[0])
        trace.loss_minus.append(losses[1])
        run.record(trace.curve, step + 1)
    trace.theta = run.theta.copy()
    return trace


def compare_traces(a: ZoTrace, b: ZoTrace) -> list[str]:
    """Names of the recorded quantities that differ between two runs (bit for bit)."""
    pairs = {"minibatch L+": (a.loss_plus, b.loss_plus), "minibatch L-": (a.loss_minus, b.loss_minus),
             "projected gradients": (a.grads, b.grads), "training loss": (a.train_loss, b.train_loss),
             "test accuracy": (a.curve.test_acc, b.curve.test_acc), "final parameters": (a.theta, b.theta)}
    return [what for what, (x, y) in pairs.items()
            if not np.array_equal(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))]


@dataclass
class CosimRun:
    """An RTL-fed run and the golden run with the same settings, seed and config."""

    method: str
    cfg: PezoConfig
    settings: TrainSettings
    seed: int
    n_params: int
    rtl: ZoTrace
    golden: ZoTrace
    unused_passes: list[tuple[int, int]]
    sim_seconds: float

    @property
    def differences(self) -> list[str]:
        diff = compare_traces(self.rtl, self.golden)
        return diff + (["unused RTL passes"] if self.unused_passes else [])

    @property
    def bit_exact(self) -> bool:
        return not self.differences


def engine_config(method: str, overrides: dict[str, object] | None = None) -> PezoConfig:
    """The engine config of a ``pezo-*`` method (its preset with ``overrides``)."""
    if method not in ENGINE_SOURCES:
        raise ConfigError("perturb", method, f"--rtl needs an engine source: {', '.join(ENGINE_SOURCES)}")
    return make_source(method, 0, preset(PEZO_PRESETS[method]).replace(**(overrides or {}))).cfg


def run_rtl_training(method: str, settings: TrainSettings, seed: int,
                     overrides: dict[str, object] | None = None, *, backpressure: float = 0.3,
                     name: str = "cosim_train", sim_seed: int | None = None) -> CosimRun:
    """Record the RTL words for ``settings`` (one pass per optimizer request), train with
    them and with the golden ``PezoSource``; returns both traces."""
    cfg = engine_config(method, overrides)
    n_params = Run(settings, seed).model.n_params
    began = time.monotonic()
    words = record_rtl_perturbations(cfg, seed_in_for(cfg, seed), settings.steps, n_params,
                                     backpressure=backpressure, name=name, sim_seed=sim_seed)
    sim_seconds = time.monotonic() - began
    rtl_source = RtlSource(method, cfg, seed, words)
    rtl = trace_zo(settings, rtl_source, seed)
    golden = trace_zo(settings, make_source(method, seed, cfg), seed)
    return CosimRun(method, cfg, settings, seed, n_params, rtl, golden, rtl_source.unused, sim_seconds)


def report_lines(result: CosimRun) -> list[str]:
    """The side-by-side table of ``pezo train --rtl`` and its verdict line."""
    s, cfg = result.settings, result.cfg
    hidden = f"{s.hidden}-" if s.model == "mlp" else ""
    lines = [f"co-simulation: {result.method} engine RTL (Icarus; strategy {cfg.strategy}, P={cfg.parallel}, "
             f"B={cfg.word_bits}, F={cfg.frac_bits}, W={cfg.lfsr_width}, seed_in {seed_in_for(cfg, result.seed):#x}), "
             f"{ZO_PASSES} RTL passes of {result.n_params} words per step, "
             f"{s.steps * ZO_PASSES * result.n_params} words in {result.sim_seconds:.1f} s",
             f"training: {s.model} 64-{hidden}10 ({result.n_params} parameters), {s.steps} steps, batch {s.batch}, "
             f"lr {s.lr}, eps {s.eps}, seed {result.seed}",
             f"{'step':>5} {'train loss (RTL)':>22} {'train loss (golden)':>22} {'L+ (RTL)':>20} "
             f"{'L+ (golden)':>20}  same"]
    rtl, gold = result.rtl, result.golden
    plus_rtl, plus_gold = [float("nan"), *rtl.loss_plus], [float("nan"), *gold.loss_plus]
    for step, (a, b, c, d) in enumerate(zip(rtl.train_loss, gold.train_loss, plus_rtl, plus_gold)):
        same = a == b and (step == 0 or c == d)
        lp = f"{c!r:>20} {d!r:>20}" if step else f"{'':>20} {'':>20}"
        lines.append(f"{step:>5} {a!r:>22} {b!r:>22} {lp}  {'yes' if same else 'NO'}")
    diff = result.differences
    lines.append("compared: minibatch L+ and L-, projected gradients, training loss, test accuracy, "
                 "final parameters" + (f"; differ: {', '.join(diff)}" if diff else ""))
    lines.append(f"bit-exact: {'yes' if result.bit_exact else 'no'}")
    return lines
