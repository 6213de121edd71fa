"""Classifiers in numpy over one flat float64 parameter vector ``theta``.

A ZO optimizer only sees ``theta`` (perturbed in place) and the loss; SGD also needs
the gradient. Every model maps features (float64, shape (batch, in)) to class scores
and is trained with the mean softmax cross-entropy (nats per sample).

* ``logreg``: multinomial logistic regression, scores = x W + b;
* ``mlp``: one hidden tanh layer, scores = tanh(x W1 + b1) W2 + b2.

The layout of ``theta`` is the concatenation of the row-major weight matrices and the
bias vectors in the order above; the views returned by ``unpack`` share its memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from pezo.errors import ConfigError


def softmax_xent(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean cross-entropy, its gradient with respect to the scores)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(len(y))
    loss = float(np.mean(log_z - shifted[rows, y]))
    grad = np.exp(shifted - log_z[:, None])
    grad[rows, y] -= 1.0
    return loss, grad / len(y)


class Model(ABC):
    """A classifier whose parameters are the slices of one flat vector."""

    name = ""

    def __init__(self, shapes: list[tuple[int, ...]]):
        self.shapes = shapes
        sizes = [int(np.prod(s)) for s in shapes]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @property
    def n_params(self) -> int:
        return int(self.bounds[-1])

    def unpack(self, theta: np.ndarray) -> list[np.ndarray]:
        """Views of ``theta``, one per tensor, in layout order."""
        return [theta[a:b].reshape(s) for a, b, s in zip(self.bounds[:-1], self.bounds[1:], self.shapes)]

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """Glorot-normal weights, zero biases (float64, shape (n_params,))."""
        theta = np.zeros(self.n_params, dtype=np.float64)
        for view in self.unpack(theta):
            if view.ndim == 2:
                view[...] = rng.standard_normal(view.shape) * np.sqrt(2.0 / sum(view.shape))
        return theta

    @abstractmethod
    def scores(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Class scores (float64, shape (batch, classes))."""

    def loss(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """Mean softmax cross-entropy of the batch (nats)."""
        return softmax_xent(self.scores(theta, x), y)[0]

    @abstractmethod
    def loss_grad(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, d loss / d theta) by backpropagation."""

    def accuracy(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """Fraction of samples whose highest score is the label (0..1)."""
        return float(np.mean(self.scores(theta, x).argmax(axis=1) == y))


class LogReg(Model):
    """Multinomial logistic regression: (in+1)*out parameters."""

    name = "logreg"

    def __init__(self, n_in: int, n_out: int):
        super().__init__([(n_in, n_out), (n_out,)])

    def scores(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        w, b = self.unpack(theta)
        return x @ w + b

    def loss_grad(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss, d_scores = softmax_xent(self.scores(theta, x), y)
        return loss, np.concatenate([(x.T @ d_scores).ravel(), d_scores.sum(axis=0)])


class Mlp(Model):
    """One hidden tanh layer: (in+1)*hidden + (hidden+1)*out parameters."""

    name = "mlp"

    def __init__(self, n_in: int, n_out: int, hidden: int):
        super().__init__([(n_in, hidden), (hidden,), (hidden, n_out), (n_out,)])

    def scores(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = self.unpack(theta)
        return np.tanh(x @ w1 + b1) @ w2 + b2

    def loss_grad(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = self.unpack(theta)
        h = np.tanh(x @ w1 + b1)
        loss, d_scores = softmax_xent(h @ w2 + b2, y)
        d_pre = (d_scores @ w2.T) * (1.0 - h * h)
        return loss, np.concatenate([(x.T @ d_pre).ravel(), d_pre.sum(axis=0),
                                     (h.T @ d_scores).ravel(), d_scores.sum(axis=0)])


MODELS = ("mlp", "logreg")


def make_model(name: str, n_in: int, n_out: int, hidden: int = 32) -> Model:
    """The named model; an unknown name raises a ConfigError listing the known ones."""
    if name == "mlp":
        if hidden < 1:
            raise ConfigError("hidden", hidden, "must be at least 1")
        return Mlp(n_in, n_out, hidden)
    if name == "logreg":
        return LogReg(n_in, n_out)
    raise ConfigError("model", name, f"known models are {', '.join(MODELS)}")
