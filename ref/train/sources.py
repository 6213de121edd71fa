"""Perturbation sources for ZO training: replayable z vectors, one per step.

Every source is deterministic in (seed, step): ``source.z(step, n)`` returns the same n
float64 values each time it is asked for the same step, so the optimizer regenerates z
for the +eps and -eps evaluations and for the update instead of storing it (the MeZO
trick, and what the hardware does by restarting the engine at the same step).

* ``gaussian``: i.i.d. N(0, 1); a Philox generator keyed by the seed with the step in
  the top word of its 256-bit counter (counter-based, so any step is reachable at once);
* ``uniform``: i.i.d. U(-sqrt 3, sqrt 3) (unit variance) from the same kind of generator;
* ``pezo-pool`` / ``pezo-stream``: the bit-exact engine model
  (:func:`pezo.ref.engine.engine_model`) with the ``default`` (pool) and
  ``stream`` presets, the training seed as its runtime ``seed_in``; z = word / 2**F.
* ``rademacher`` / ``icdf``: the bit-exact models of those RTL sources
  (:class:`pezo.ref.rademacher.Rademacher`, z exactly +-1.0, and
  :class:`pezo.ref.gaussian.icdf.IcdfGaussian`) with the ``default`` preset, seeded the
  same way.
* ``paper-pool`` / ``paper-rotate``: the paper's reuse schemes (ref/paper.py) with the
  ``default`` and ``stream`` presets; ``gaussian-pool``: the PeZO pool filled by
  the inverse-CDF generator (ref/gaussian_pool.py), ``default`` preset. Same seeding as ``pezo-*``.

Interface of a source (also what an RTL co-simulation source implements): ``name``,
``z(step, n) -> np.ndarray[float64]`` and ``fresh_per_step(n, steps) -> float``, the
fresh random numbers drawn per step (averaged over a run of ``steps`` steps).

Every source also gives its z as integer words, ``z_words(step, n)``: int64, signed
B-bit, F fractional bits (B, F = ``cfg.word_bits``, ``cfg.frac_bits``), what the
fixed-point trainer (ref/train/fixed.py) multiplies. For the RTL-backed sources these
are the bit-exact words of the golden model (``z = z_words / 2**F`` exactly); the float
``gaussian`` and ``uniform`` sources, which have no RTL, are quantised to that format
(round half to even, saturated to B bits), with ``cfg`` the ``default`` preset unless
given.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig, preset
from pezo.ref.engine import EngineModel, engine_model
from pezo.ref.gaussian.icdf import IcdfGaussian
from pezo.ref.gaussian_pool import GaussianPoolModel
from pezo.ref.paper import PaperPoolModel, PaperRotateModel
from pezo.ref.rademacher import Rademacher

SQRT3 = float(np.sqrt(3.0))


class PerturbationSource(ABC):
    """A replayable perturbation: ``z(step, n)`` depends only on (seed, step, n).

    ``z`` regenerates the vector at every call and keeps nothing: the +eps, -eps and
    update passes of a ZO step each replay it, as the hardware does by restarting the
    engine at the same step.
    """

    name = ""
    #: steps the source can address (None: unbounded)
    max_steps: int | None = None
    #: the word format of ``z_words`` (and the RTL configuration, where there is one)
    cfg: PezoConfig

    def __init__(self, seed: int):
        self.seed = seed

    @abstractmethod
    def generate(self, step: int, n: int) -> np.ndarray:
        """z of ``step``: float64, shape (n,), computed from scratch."""

    @abstractmethod
    def fresh_per_step(self, n: int, steps: int) -> float:
        """Fresh random numbers drawn per step for n parameters over ``steps`` steps."""

    def z(self, step: int, n: int) -> np.ndarray:
        """z of ``step`` (float64, shape (n,)), regenerated: the same for the same step."""
        return self.generate(step, n)

    def _check_step(self, step: int) -> None:
        """A ConfigError unless ``step`` is in 0 .. max_steps - 1 (the ``start`` payload)."""
        if self.max_steps is not None and not 0 <= step < self.max_steps:
            raise ConfigError("step", step, f"must be in 0..{self.max_steps - 1} (step_bits={self.cfg.step_bits})")

    def z_words(self, step: int, n: int) -> np.ndarray:
        """z of ``step`` as int64 signed B-bit words with F fractional bits (B, F =
        ``cfg.word_bits``, ``cfg.frac_bits``), shape (n,): ``z(step, n) * 2**F`` rounded
        half to even and saturated to B bits (exact for a z on that grid)."""
        top = 1 << (self.cfg.word_bits - 1)
        scaled = np.rint(self.z(step, n) * (1 << self.cfg.frac_bits))
        return np.clip(scaled, -top, top - 1).astype(np.int64)


class _PhiloxSource(PerturbationSource):
    """i.i.d. numbers from Philox-4x64 keyed by the seed, counter = step << 192;
    ``cfg`` gives the word format of :meth:`z_words` (default: the ``default`` preset)."""

    def __init__(self, seed: int, cfg: PezoConfig | None = None):
        super().__init__(seed)
        if not 0 <= seed < 2**128:
            raise ConfigError("seed", seed, "must be in 0 .. 2**128-1")
        self.cfg = cfg or preset("default")

    def _generator(self, step: int) -> np.random.Generator:
        if step < 0:
            raise ConfigError("step", step, "must be >= 0")
        return np.random.Generator(np.random.Philox(key=self.seed, counter=[0, 0, 0, step]))

    def fresh_per_step(self, n: int, steps: int) -> float:
        return float(n)


class GaussianSource(_PhiloxSource):
    """i.i.d. N(0, 1) per parameter per step."""

    name = "gaussian"

    def generate(self, step: int, n: int) -> np.ndarray:
        return self._generator(step).standard_normal(n)


class UniformSource(_PhiloxSource):
    """i.i.d. U(-sqrt 3, sqrt 3) per parameter per step (unit variance)."""

    name = "uniform"

    def generate(self, step: int, n: int) -> np.ndarray:
        return self._generator(step).uniform(-SQRT3, SQRT3, n)


class PezoSource(PerturbationSource):
    """A bit-exact model built on a PezoConfig (the PeZO engine by default, or ``model``,
    a class taking ``(cfg, seed_in)``), ``seed_in`` = seed mod 2**W; steps 0 ..
    2**step_bits - 1, the range of the ``start`` payload."""

    def __init__(self, name: str, cfg: PezoConfig, seed: int,
                 model: Callable[[PezoConfig, int], EngineModel] = engine_model):
        super().__init__(seed)
        if seed < 0:
            raise ConfigError("seed", seed, "must be >= 0")
        self.name = name
        self.cfg = cfg
        self.engine = model(cfg, seed & ((1 << cfg.lfsr_width) - 1))
        self.max_steps = 1 << cfg.step_bits

    def generate(self, step: int, n: int) -> np.ndarray:
        """``engine.perturbation_real(step, n)``: the bit-exact words of a new step."""
        self._check_step(step)
        return self.engine.perturbation_real(step, n)

    def z_words(self, step: int, n: int) -> np.ndarray:
        """``engine.perturbation(step, n)``: the bit-exact integer words."""
        self._check_step(step)
        return self.engine.perturbation(step, n)

    def fresh_per_step(self, n: int, steps: int) -> float:
        return self.engine.fresh_words_per_step(n, steps)


class ModelSource(PerturbationSource):
    """A bit-exact RTL source model with ``samples_real(step, n)`` (z = word / 2**F),
    ``seed_in`` = seed mod 2**W; steps 0 .. 2**step_bits - 1. Every parameter gets a
    fresh random number per step."""

    def __init__(self, name: str, model: Callable[[PezoConfig, int], Rademacher | IcdfGaussian],
                 cfg: PezoConfig, seed: int):
        super().__init__(seed)
        if seed < 0:
            raise ConfigError("seed", seed, "must be >= 0")
        self.name = name
        self.cfg = cfg
        self.model = model(cfg, seed & ((1 << cfg.lfsr_width) - 1))
        self.max_steps = 1 << cfg.step_bits

    def generate(self, step: int, n: int) -> np.ndarray:
        self._check_step(step)
        return self.model.samples_real(step, n)

    def z_words(self, step: int, n: int) -> np.ndarray:
        """``model.samples(step, n)``: the bit-exact integer words."""
        self._check_step(step)
        return self.model.samples(step, n)

    def fresh_per_step(self, n: int, steps: int) -> float:
        return float(n)


SOURCES = ("gaussian", "uniform", "pezo-pool", "pezo-stream", "rademacher", "icdf", "paper-pool", "paper-rotate",
           "gaussian-pool")
#: Sources built on a PezoConfig preset (``--set`` overrides apply to them).
PEZO_PRESETS = {"pezo-pool": "default", "pezo-stream": "stream", "paper-pool": "default",
                "paper-rotate": "stream", "gaussian-pool": "default"}
#: The sources whose RTL is the PeZO engine (``pezo train --rtl``).
ENGINE_SOURCES = ("pezo-pool", "pezo-stream")
#: The model class of every PEZO_PRESETS source.
MODELS: dict[str, Callable[[PezoConfig, int], EngineModel]] = {
    "pezo-pool": engine_model, "pezo-stream": engine_model, "paper-pool": PaperPoolModel,
    "paper-rotate": PaperRotateModel, "gaussian-pool": GaussianPoolModel}
#: Sources backed by the golden model of an RTL source, built with the default preset.
MODEL_SOURCES = {"rademacher": Rademacher, "icdf": IcdfGaussian}


def source_config(name: str, cfg: PezoConfig | None = None) -> PezoConfig:
    """The PezoConfig the named source is built on: ``cfg``, or the source's preset
    (``PEZO_PRESETS``; ``default`` for the others). The strategy of a ``pezo-*`` config
    must match the name; an unknown name raises a ConfigError listing the known ones."""
    if name not in SOURCES:
        raise ConfigError("perturb", name, f"known sources are {', '.join(SOURCES)}")
    base = preset(PEZO_PRESETS.get(name, "default"))
    cfg = cfg or base
    if name in PEZO_PRESETS:
        if cfg.strategy == "pool" and base.strategy != "pool":
            raise ConfigError("strategy", cfg.strategy, f"{name} needs a stream or none strategy")
        if cfg.strategy != "pool" and base.strategy == "pool":
            raise ConfigError("strategy", cfg.strategy, f"{name} needs the pool strategy")
    return cfg


def make_source(name: str, seed: int, cfg: PezoConfig | None = None) -> PerturbationSource:
    """The named source for a training seed.

    ``cfg`` replaces the preset of a ``pezo-*`` source (e.g. another pool size; its
    strategy must match the name) or of a model-backed source (``rademacher``,
    ``icdf``), or sets the word format of the float sources' ``z_words``
    (:func:`source_config`). An unknown name raises a ConfigError listing the known ones.
    """
    cfg = source_config(name, cfg)
    if name == "gaussian":
        return GaussianSource(seed, cfg)
    if name == "uniform":
        return UniformSource(seed, cfg)
    if name in PEZO_PRESETS:
        return PezoSource(name, cfg, seed, MODELS[name])
    return ModelSource(name, MODEL_SOURCES[name], cfg, seed)
