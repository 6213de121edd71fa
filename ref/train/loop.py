"""What every training run shares: settings, minibatches, evaluation and the result.

A run is fully determined by its settings, its seed and its update rule: the seed fixes
the initial parameters and the minibatch order (identical for every perturbation
source of the same seed), and the source fixes z.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.train.data import Dataset, digits
from pezo.ref.train.models import Model, make_model


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters of one training run (shared by every source of a comparison).

    model : ``mlp`` or ``logreg``; hidden : MLP hidden units.
    steps : optimizer steps; batch : samples per minibatch (drawn without replacement
        within an epoch of the training set).
    lr, eps : ZO-SGD learning rate and perturbation size (theta units).
    sgd_lr : learning rate of first-order SGD (the ceiling).
    eval_every : steps between two points of the curves (test accuracy, train loss).
    """

    model: str = "mlp"
    hidden: int = 16
    steps: int = 10000
    batch: int = 64
    lr: float = 5e-3
    eps: float = 1e-3
    sgd_lr: float = 0.1
    eval_every: int = 500

    def __post_init__(self) -> None:
        for name in ("hidden", "steps", "batch", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(name, getattr(self, name), "must be at least 1")
        for name in ("lr", "eps", "sgd_lr"):
            if not getattr(self, name) > 0:
                raise ConfigError(name, getattr(self, name), "must be positive")
        make_model(self.model, 1, 2, self.hidden)

    def replace(self, **changes: object) -> "TrainSettings":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """Curves of one run: test accuracy (0..1) and full training loss (nats) per step."""

    method: str
    seed: int
    steps: list[int] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_test_acc(self) -> float:
        return self.test_acc[-1]

    @property
    def final_loss(self) -> float:
        return self.train_loss[-1]


class Run:
    """The model, data, initial parameters and minibatch stream of one (settings, seed).

    ``data`` defaults to the standardised digits and ``model`` to ``settings.model``;
    the minibatch order depends only on the seed and the training-set size, so runs of
    the same seed on other features of the same split (the fixed-point trainer's
    pixels) see the same examples in the same order."""

    def __init__(self, settings: TrainSettings, seed: int, data: Dataset | None = None,
                 model: Model | None = None):
        if seed < 0:
            raise ConfigError("seed", seed, "must be >= 0")
        self.settings = settings
        self.seed = seed
        self.data = data or digits()
        self.model: Model = model or make_model(settings.model, self.data.n_features, self.data.n_classes,
                                                settings.hidden)
        rng = np.random.default_rng([seed, 0])
        self.theta = self.model.init(rng)
        self._order_rng = np.random.default_rng([seed, 1])
        self._order = np.zeros(0, dtype=np.int64)

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next minibatch: a fresh permutation of the training set per epoch."""
        size = min(self.settings.batch, len(self.data.y_train))
        if len(self._order) < size:
            self._order = self._order_rng.permutation(len(self.data.y_train))
        idx, self._order = self._order[:size], self._order[size:]
        return self.data.x_train[idx], self.data.y_train[idx]

    def record(self, result: TrainResult, step: int) -> None:
        """Append the curve point of ``step`` (after ``step`` updates)."""
        d = self.data
        result.steps.append(step)
        result.test_acc.append(self.model.accuracy(self.theta, d.x_test, d.y_test))
        result.train_loss.append(self.model.loss(self.theta, d.x_train, d.y_train))

    def due(self, step: int) -> bool:
        """Whether a curve point is taken after ``step`` updates (always at the end)."""
        return step % self.settings.eval_every == 0 or step == self.settings.steps
