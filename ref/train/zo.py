"""ZO-SGD with the two-point (SPSA) estimate, MeZO style, in place.

One step t, parameters theta (float64, d), source z(t) replayed from its seed::

    theta += eps*z(t);      L+ = loss(theta)          # perturb
    theta -= 2*eps*z(t);    L- = loss(theta)          # mirror
    g = (L+ - L-) / (2*eps)                           # projected gradient (scalar)
    theta += (eps - lr*g) * z(t)                      # restore and update in one pass

z is asked from the source three times (never kept by the optimizer), as the hardware
restarts the engine at step t for each pass. Both losses use the same minibatch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.train.loop import Run, TrainResult, TrainSettings
from pezo.ref.train.sources import PerturbationSource

Loss = Callable[[np.ndarray], float]


def zo_step(theta: np.ndarray, loss: Loss, source: PerturbationSource, step: int,
            lr: float, eps: float) -> float:
    """One in-place ZO-SGD step on ``theta``; returns the projected gradient g."""
    n = len(theta)
    theta += eps * source.z(step, n)
    loss_plus = loss(theta)
    theta -= (2.0 * eps) * source.z(step, n)
    loss_minus = loss(theta)
    g = (loss_plus - loss_minus) / (2.0 * eps)
    theta += (eps - lr * g) * source.z(step, n)
    return g


def train_zo(settings: TrainSettings, source: PerturbationSource, seed: int,
             on_step: Callable[[int], None] | None = None, run: Run | None = None) -> TrainResult:
    """Train ``settings.model`` on digits with ZO-SGD and ``source``; returns the curves.
    ``run`` replaces ``Run(settings, seed)`` (another model or data, same settings)."""
    if source.max_steps is not None and settings.steps > source.max_steps:
        raise ConfigError("steps", settings.steps,
                          f"the {source.name} source addresses at most {source.max_steps} steps")
    run = run or Run(settings, seed)
    result = TrainResult(source.name, seed)
    start = time.perf_counter()
    run.record(result, 0)
    for step in range(settings.steps):
        x, y = run.batch()
        zo_step(run.theta, lambda th: run.model.loss(th, x, y), source, step, settings.lr, settings.eps)
        if run.due(step + 1):
            run.record(result, step + 1)
        if on_step:
            on_step(step + 1)
    result.seconds = time.perf_counter() - start
    return result
