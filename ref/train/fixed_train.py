"""Training with the fixed-point trainer and its float twin (docs/trainer.md section 5).

* :class:`TwinModel`: the trainer's network in float64: the layout of section 3 (neuron
  rows, bias last), ReLU, features pixel / 16, loss = mean over the batch of
  ``sum_k (s_k - t_k)**2`` on one-hot targets (the fixed-point loss / 2**(2 SF)).
* :func:`train_twin`: the twin trained by the ordinary ZO-SGD loop
  (:func:`pezo.ref.train.zo.train_zo`) with eps = 2**-e, lr = 2**-l and the same source.
* :func:`train_fixed`: the golden fixed-point trainer (ref/train/fixed.py) over digits:
  the same initial parameters (the float model's Glorot init in the twin's layout,
  rounded to theta_frac), the same minibatches (``Run.batch`` of the same seed) and the
  same source words (``z_words``; the twin gets them as ``z = word / 2**F``).
* :func:`compare_fixed`: both, and the ordinary float ZO run of ``pezo train`` with the
  same source, over several seeds.

Curves and final numbers are :class:`TrainResult` (test accuracy 0..1; training loss of
the twin and the fixed run in squared-error units, of the ordinary run in nats).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.train import fixed
from pezo.ref.train.data import Dataset, digits_pixels
from pezo.ref.train.fixed_config import FEATURE_MAX, TrainerConfig
from pezo.ref.train.loop import Run, TrainResult, TrainSettings
from pezo.ref.train.models import Model, make_model
from pezo.ref.train.run import train
from pezo.ref.train.sources import source_config
from pezo.ref.train.zo import train_zo

#: Steps of a full-length run (``pezo train --fixed``, the benchmark), measured in section 5.
DEFAULT_STEPS = 30000
EVAL_EVERY = 500
#: The target of issue 10: fixed-point test accuracy within this many points of the twin's.
FIXED_TOLERANCE_POINTS = 1.5
#: The runs of :func:`compare_fixed` and how they are named in tables.
FIXED_RUNS = (("fixed", "fixed-point (golden trainer)"), ("twin", "float twin"),
              ("float", "float ZO (pezo train defaults)"))


class TwinModel(Model):
    """The trainer's network in float64 over a flat theta in the layout of
    docs/trainer.md section 3: each layer a (rows, inputs + 1) matrix, bias last."""

    def __init__(self, tcfg: TrainerConfig):
        super().__init__([(rows, inputs + 1) for rows, inputs in tcfg.layers])
        self.name = f"{tcfg.model}-twin"
        self.float_model = make_model(tcfg.model, tcfg.n_in, tcfg.n_out, tcfg.hidden)
        self.order = self._float_order()

    def _float_order(self) -> np.ndarray:
        """Index into the float model's theta of every twin parameter (models.py keeps
        W (inputs, rows) row-major and then b per layer)."""
        index = self.float_model.unpack(np.arange(self.float_model.n_params))
        parts = [np.concatenate([w.T, b[:, None]], axis=1) for w, b in zip(index[::2], index[1::2])]
        return np.concatenate([p.ravel() for p in parts])

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """The float model's Glorot init (``Model.init``: the same draws as an ordinary
        run of the seed), reordered to the twin's layout."""
        return self.float_model.init(rng)[self.order]

    def _forward(self, theta: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        """Inputs of every layer and the scores: [x, h, s] (mlp) or [x, s] (logreg)."""
        values = [x]
        for i, w in enumerate(self.unpack(theta)):
            acc = values[-1] @ w[:, :-1].T + w[:, -1]
            values.append(np.maximum(acc, 0.0) if i < len(self.shapes) - 1 else acc)
        return values

    def scores(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self._forward(theta, x)[-1]

    def _error(self, s: np.ndarray, y: np.ndarray) -> np.ndarray:
        err = s.copy()
        err[np.arange(len(y)), y] -= 1.0
        return err

    def loss(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """Mean over the batch of the squared error on one-hot targets."""
        err = self._error(self.scores(theta, x), y)
        return float(np.mean(np.sum(err * err, axis=1)))

    def loss_grad(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        values = self._forward(theta, x)
        err = self._error(values[-1], y)
        back = 2.0 * err / len(y)
        grads = []
        for i in range(len(self.shapes) - 1, -1, -1):
            w = self.unpack(theta)[i]
            grads.append(np.concatenate([back.T @ values[i], back.sum(axis=0)[:, None]], axis=1).ravel())
            back = (back @ w[:, :-1]) * (values[i] > 0)
        return float(np.mean(np.sum(err * err, axis=1))), np.concatenate(grads[::-1])


def twin_settings(tcfg: TrainerConfig, steps: int = DEFAULT_STEPS, eval_every: int = EVAL_EVERY) -> TrainSettings:
    """The ZO settings of the twin: the trainer's model, batch, eps = 2**-e, lr = 2**-l."""
    return TrainSettings(model=tcfg.model, hidden=tcfg.hidden, steps=steps, batch=tcfg.batch,
                         lr=2.0**-tcfg.lr_shift, eps=2.0**-tcfg.eps_shift, eval_every=eval_every)


def _check(tcfg: TrainerConfig, steps: int, data: Dataset) -> None:
    if (data.n_features, data.n_classes) != (tcfg.n_in, tcfg.n_out):
        raise ConfigError("n_in", tcfg.n_in, f"digits has {data.n_features} features and {data.n_classes} classes "
                                             f"(n_in={data.n_features}, n_out={data.n_classes})")
    if steps > tcfg.max_steps:
        raise ConfigError("steps", steps, f"the {tcfg.source} source addresses at most {tcfg.max_steps} steps")


def scaled(data: Dataset) -> Dataset:
    """The pixels as the twin sees them: float64 pixel / 16."""
    return Dataset(data.x_train / FEATURE_MAX, data.y_train, data.x_test / FEATURE_MAX, data.y_test)


def initial_theta(tcfg: TrainerConfig, theta: np.ndarray) -> np.ndarray:
    """Float parameters rounded (half to even) to theta_frac, saturated to theta_bits (int64)."""
    return fixed.sat(np.rint(theta * (1 << tcfg.theta_frac)), tcfg.theta_bits)


def train_twin(tcfg: TrainerConfig, seed: int, steps: int = DEFAULT_STEPS, eval_every: int = EVAL_EVERY,
               on_step: Callable[[int], None] | None = None) -> TrainResult:
    """The float twin trained by ZO-SGD with ``tcfg``'s source for ``seed``."""
    data = digits_pixels()
    _check(tcfg, steps, data)
    settings = twin_settings(tcfg, steps, eval_every)
    run = Run(settings, seed, scaled(data), TwinModel(tcfg))
    result = train_zo(settings, fixed.trainer_source(tcfg, seed), seed, on_step, run)
    result.method = f"{tcfg.source} float twin"
    return result


def _pixel_run(tcfg: TrainerConfig, seed: int, steps: int, eval_every: int) -> Run:
    """The fixed run's Run: pixels, the twin's init and minibatch order for ``seed``."""
    data = digits_pixels()
    _check(tcfg, steps, data)
    return Run(twin_settings(tcfg, steps, eval_every), seed, data, TwinModel(tcfg))


def initial_parameters(tcfg: TrainerConfig, seed: int) -> np.ndarray:
    """The fixed run's initial theta for ``seed`` (int64, signed theta_bits)."""
    return initial_theta(tcfg, _pixel_run(tcfg, seed, 1, 1).theta)


def minibatches(tcfg: TrainerConfig, seed: int, steps: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The fixed run's ``steps`` minibatches for ``seed``: (pixels int64 (b, n_in), labels)."""
    run = _pixel_run(tcfg, seed, steps, steps)
    for _ in range(steps):
        yield run.batch()


def train_fixed(tcfg: TrainerConfig, seed: int, steps: int = DEFAULT_STEPS, eval_every: int = EVAL_EVERY,
                on_step: Callable[[int], None] | None = None) -> tuple[TrainResult, np.ndarray]:
    """The golden fixed-point trainer over digits for ``seed``: (curves, final theta).

    The initial parameters are the twin's, rounded (:func:`initial_theta`); step t takes
    the seed's t-th minibatch (the twin's) and the source's words of step t, seeded
    with ``seed`` (the RTL's ``seed_in`` is ``seed`` mod 2**W). ``seconds`` times the
    steps alone (no evaluation)."""
    run = _pixel_run(tcfg, seed, steps, eval_every)
    data = run.data
    theta = initial_theta(tcfg, run.theta)
    source = fixed.trainer_source(tcfg, seed)
    result = TrainResult(f"{tcfg.source} fixed", seed)
    _record(tcfg, result, theta, data, 0)
    for step in range(steps):
        start = time.perf_counter()
        x, y = run.batch()
        theta = fixed.train_step(tcfg, theta, source.z_words(step, tcfg.n_params), x, y).theta
        result.seconds += time.perf_counter() - start
        if run.due(step + 1):
            _record(tcfg, result, theta, data, step + 1)
        if on_step:
            on_step(step + 1)
    return result, theta


def _record(tcfg: TrainerConfig, result: TrainResult, theta: np.ndarray, data: Dataset, step: int) -> None:
    result.steps.append(step)
    result.test_acc.append(fixed.accuracy(tcfg, theta, data.x_test, data.y_test))
    result.train_loss.append(fixed.mean_loss(tcfg, theta, data.x_train, data.y_train))


def float_settings(tcfg: TrainerConfig, steps: int = DEFAULT_STEPS, eval_every: int = EVAL_EVERY) -> TrainSettings:
    """The ordinary float ZO run of ``pezo train`` for ``tcfg``'s model and batch: its
    own defaults (tanh / softmax cross-entropy, standardised features, lr and eps)."""
    return TrainSettings(model=tcfg.model, hidden=tcfg.hidden, steps=steps, batch=tcfg.batch, eval_every=eval_every)


def _job(kind: str, tcfg: TrainerConfig, seed: int, steps: int, eval_every: int) -> TrainResult:
    """One run of :func:`compare_fixed`: ``fixed``, ``twin`` or ``float``."""
    if kind == "fixed":
        return train_fixed(tcfg, seed, steps, eval_every)[0]
    if kind == "twin":
        return train_twin(tcfg, seed, steps, eval_every)
    return train(tcfg.source, float_settings(tcfg, steps, eval_every), seed, _overrides(tcfg))


def compare_fixed(tcfg: TrainerConfig, seeds: Sequence[int] = range(5), steps: int = DEFAULT_STEPS,
                  eval_every: int = EVAL_EVERY, ordinary: bool = True, workers: int = 1,
                  progress: Callable[[str], None] | None = None) -> dict:
    """Fixed vs twin (vs the ordinary float ZO run of ``pezo train`` with the same
    source and steps, when ``ordinary``) for each seed of ``seeds``, in ``workers``
    processes::

        {"config": tcfg.to_dict(), "steps", "seeds",
         "runs": {"fixed" | "twin" | "float": {"test_acc": [per seed], "test_acc_mean",
                  "seconds_mean", "steps_per_s", "curves": {"step", "test_acc_mean"}}},
         "gap_points": 100 * (fixed mean - twin mean)}

    ``steps_per_s`` of the fixed run is the golden model's training steps per second on
    this CPU (source words, both passes and the update; evaluation excluded; with
    several workers they share the CPU: :func:`golden_steps_per_second` times it alone);
    those of the float runs include their evaluations (every ``eval_every`` steps)."""
    seeds = list(seeds)
    if not seeds:
        raise ConfigError("seeds", seeds, "must name at least one seed")
    kinds = ("fixed", "twin", "float") if ordinary else ("fixed", "twin")
    jobs = [(kind, seed) for seed in seeds for kind in kinds]
    done: dict[tuple[str, int], TrainResult] = {}

    def finished(kind: str, seed: int, result: TrainResult) -> None:
        done[kind, seed] = result
        if progress:
            progress(f"{kind} seed {seed}: {100 * result.final_test_acc:.2f} %")

    if workers <= 1:
        for kind, seed in jobs:
            finished(kind, seed, _job(kind, tcfg, seed, steps, eval_every))
    else:
        with ProcessPoolExecutor(workers) as pool:
            futures = {pool.submit(_job, kind, tcfg, seed, steps, eval_every): (kind, seed) for kind, seed in jobs}
            for future in as_completed(futures):
                finished(*futures[future], future.result())
    out: dict = {"config": tcfg.to_dict(), "steps": steps, "seeds": seeds, "runs": {}}
    for kind in kinds:
        results = [done[kind, seed] for seed in seeds]
        acc = [r.final_test_acc for r in results]
        seconds = float(np.mean([r.seconds for r in results]))
        out["runs"][kind] = {"test_acc": acc, "test_acc_mean": float(np.mean(acc)), "seconds_mean": seconds,
                             "steps_per_s": steps / seconds if seconds else None,
                             "curves": {"step": results[0].steps,
                                        "test_acc_mean": np.mean([r.test_acc for r in results], axis=0).tolist()}}
    out["gap_points"] = 100.0 * (out["runs"]["fixed"]["test_acc_mean"] - out["runs"]["twin"]["test_acc_mean"])
    return out


def golden_steps_per_second(tcfg: TrainerConfig, steps: int = 1000, rounds: int = 3) -> float:
    """Training steps per second of the golden model on this CPU: ``train_fixed`` of
    seed 0 for ``steps`` steps (source words, both passes, the update; no evaluation),
    the best of ``rounds`` runs."""
    return max(steps / train_fixed(tcfg, 0, steps, eval_every=steps)[0].seconds for _ in range(rounds))


def _overrides(tcfg: TrainerConfig) -> dict[str, object] | None:
    """The PezoConfig fields of ``tcfg`` that differ from its source's preset (None: none)."""
    base, ours = source_config(tcfg.source).to_dict(), tcfg.pezo.to_dict()
    return {k: v for k, v in ours.items() if base[k] != v} or None
