"""First-order minibatch SGD with backpropagation: the accuracy ceiling for ZO."""

from __future__ import annotations

import time
from collections.abc import Callable

from pezo.ref.train.loop import Run, TrainResult, TrainSettings


def train_sgd(settings: TrainSettings, seed: int,
              on_step: Callable[[int], None] | None = None) -> TrainResult:
    """theta -= sgd_lr * grad(loss) per minibatch; same data order as ZO for the seed."""
    run = Run(settings, seed)
    result = TrainResult("sgd", seed)
    start = time.perf_counter()
    run.record(result, 0)
    for step in range(settings.steps):
        x, y = run.batch()
        _, grad = run.model.loss_grad(run.theta, x, y)
        run.theta -= settings.sgd_lr * grad
        if run.due(step + 1):
            run.record(result, step + 1)
        if on_step:
            on_step(step + 1)
    result.seconds = time.perf_counter() - start
    return result
