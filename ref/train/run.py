"""One training run by method name: a perturbation source (ZO-SGD) or ``sgd``."""

from __future__ import annotations

from collections.abc import Callable

from pezo.errors import ConfigError
from pezo.ref.config import preset
from pezo.ref.train.loop import TrainResult, TrainSettings
from pezo.ref.train.sgd import train_sgd
from pezo.ref.train.sources import PEZO_PRESETS, SOURCES, PerturbationSource, make_source
from pezo.ref.train.zo import train_zo

METHODS = SOURCES + ("sgd",)


def check_method(name: str) -> str:
    """``name`` if it is a source or ``sgd``; otherwise a ConfigError listing them."""
    if name not in METHODS:
        raise ConfigError("perturb", name, f"known methods are {', '.join(METHODS)}")
    return name


def source_for(method: str, seed: int, pezo_overrides: dict[str, object] | None = None) -> PerturbationSource:
    """The source of ``method`` for ``seed``; ``pezo_overrides`` change the pezo presets."""
    check_method(method)
    cfg = None
    if method in PEZO_PRESETS and pezo_overrides:
        cfg = preset(PEZO_PRESETS[method]).replace(**pezo_overrides)
    return make_source(method, seed, cfg)


def train(method: str, settings: TrainSettings, seed: int,
          pezo_overrides: dict[str, object] | None = None,
          on_step: Callable[[int], None] | None = None) -> TrainResult:
    """Train with ZO-SGD and the named source, or with ``sgd``; returns the curves."""
    if check_method(method) == "sgd":
        return train_sgd(settings, seed, on_step)
    return train_zo(settings, source_for(method, seed, pezo_overrides), seed, on_step)
