"""The fixed-point ZO trainer: the exact integer arithmetic of the ``ZoTrainer`` RTL
(hw/trainer.py), vectorised in numpy int64. docs/trainer.md is the contract; each
function below names the section it implements. :class:`TrainerConfig`
(ref/train/fixed_config.py) holds every width and derives every shift.

One step t on parameters theta (int64, shape (d,), signed theta_bits) with the b
examples x (int64, shape (b, n_in), 0..16) and labels y (int64, shape (b,)):

1. z = the source's words of step t (``z_words(t, d)``: signed B bits, F fractional);
   d_i = z_i << k or z_i >> -k, k = theta_frac - F - e               (:func:`perturbation`)
2. c = sat((theta + s d) >> (theta_frac - compute_frac), compute_bits), s = +1, -1
                                                                      (:func:`weights`)
   layer 1: acc = c x + 16 c_bias; h = clamp(acc >> (compute_frac + 4 - act_frac),
   0, 2**act_bits - 1); layer 2: acc = c h + 2**act_frac c_bias; s_k = acc >>
   (compute_frac + act_frac - SF) (logreg: layer 1's acc >> (compute_frac + 4 - SF))
                                                                      (:func:`scores`)
3. L = sum_k sat(s_k - t_k, 16)**2, t_k = 2**SF at the label          (:func:`example_loss`)
4. delta = sum_b L(+) - L(-)                                          (:func:`loss_difference`)
5. gq = sat(rshr(delta, a), grad_bits), a = 2 SF + 1 + log2 b + l - e - theta_frac
                                                                      (:func:`gradient_word`)
6. theta_i = sat(theta_i - rshr(gq z_i, F), theta_bits)               (:func:`update`)

No intermediate overflows int64 for any valid TrainerConfig: |theta + s d| < 2**theta_bits
<= 2**32; a product is at most 2**15 * 2**15 (weight x activation, gq x z: every
operand is at most 16 bits signed); an accumulator sums at most 4097 of them (< 2**43),
a loss is at most
n_out * 2**30 <= 2**38, and |delta| < 2**47 (validated, ``delta_bound``); the rounding
constant of ``rshr(delta, a)`` is below 2**47 (a < 48).

The model evaluates z once per step; the hardware replays it (the engine restarted at
step t) for the +eps pass, the -eps pass and the update of every round, and gets the
same words because the source is deterministic in (seed_in, t).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pezo.errors import PezoError
from pezo.ref.train.fixed_config import ERROR_BITS, FEATURE_FRAC, FEATURE_MAX, TrainerConfig
from pezo.ref.train.sources import PerturbationSource, make_source


def sat(v: np.ndarray | int, bits: int) -> np.ndarray:
    """``v`` clamped to the signed ``bits``-bit range (int64)."""
    top = 1 << (bits - 1)
    return np.clip(np.asarray(v, dtype=np.int64), -top, top - 1)


def rshr(v: np.ndarray | int, k: int) -> np.ndarray:
    """Round-half-up right shift ``(v + 2**(k-1)) >> k``; ``v`` for k = 0 (int64)."""
    v = np.asarray(v, dtype=np.int64)
    return v if k == 0 else (v + (1 << (k - 1))) >> k


def perturbation(tcfg: TrainerConfig, z: np.ndarray) -> np.ndarray:
    """Section 4.1: eps*z in theta LSBs, ``z << k`` or ``z >> -k`` (floor), int64."""
    k = tcfg.perturb_shift
    return z << k if k >= 0 else z >> -k


def weights(tcfg: TrainerConfig, theta: np.ndarray, d: np.ndarray | int, sign: int) -> np.ndarray:
    """Section 4.2: the effective weights ``sat((theta + sign*d) >> (theta_frac -
    compute_frac), compute_bits)`` (int64, signed compute_bits)."""
    return sat((theta + sign * d) >> tcfg.compute_shift, tcfg.compute_bits)


def _layer(c: np.ndarray, rows: int, inputs: int, x: np.ndarray, bias_input: int) -> np.ndarray:
    """acc (int64, shape (batch, rows)) of one layer: neuron rows of ``inputs`` weights
    then the bias, times ``x`` (shape (batch, inputs)) and the constant bias input."""
    w = c.reshape(rows, inputs + 1)
    return x @ w[:, :inputs].T + bias_input * w[:, inputs]


def scores(tcfg: TrainerConfig, c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Section 4.2: the scores s (int64, shape (batch, n_out), SF fractional bits) of
    examples ``x`` (int64 features 0..16, shape (batch, n_in)) for weights ``c``."""
    (rows1, in1), *rest = tcfg.layers
    split = rows1 * (in1 + 1)
    acc = _layer(c[:split], rows1, in1, x, FEATURE_MAX)
    if not rest:
        return acc >> tcfg.score_shift
    h = np.clip(acc >> tcfg.layer1_shift, 0, (1 << tcfg.act_bits) - 1)
    (rows2, in2), = rest
    return _layer(c[split:], rows2, in2, h, 1 << tcfg.act_frac) >> tcfg.score_shift


def example_loss(tcfg: TrainerConfig, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Section 4.3: ``sum_k sat(s_k - t_k, 16)**2`` per example (int64, shape (batch,),
    2*SF fractional bits), t the one-hot target scaled to 2**SF."""
    err = s.copy()
    err[np.arange(len(y)), y] -= 1 << tcfg.score_frac
    err = sat(err, ERROR_BITS)
    return (err * err).sum(axis=1)


def loss_difference(tcfg: TrainerConfig, theta: np.ndarray, z: np.ndarray, x: np.ndarray,
                    y: np.ndarray) -> int:
    """Section 4.4: ``delta = sum over the batch of L(+) - L(-)`` (exact, signed, fits
    DELTA_BITS)."""
    d = perturbation(tcfg, z)
    plus = example_loss(tcfg, scores(tcfg, weights(tcfg, theta, d, 1), x), y)
    minus = example_loss(tcfg, scores(tcfg, weights(tcfg, theta, d, -1), x), y)
    return int(plus.sum() - minus.sum())


def gradient_word(tcfg: TrainerConfig, delta: int) -> int:
    """Section 4.5: ``gq = sat(rshr(delta, a), grad_bits)`` = lr*g in theta LSBs."""
    return int(sat(rshr(delta, tcfg.grad_shift), tcfg.grad_bits))


def update(tcfg: TrainerConfig, theta: np.ndarray, gq: int, z: np.ndarray) -> np.ndarray:
    """Section 4.6: ``sat(theta - rshr(gq*z, F), theta_bits)`` (a new int64 array)."""
    return sat(theta - rshr(gq * z, tcfg.pezo.frac_bits), tcfg.theta_bits)


def evaluate_scores(tcfg: TrainerConfig, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Scores of ``x`` with the unperturbed parameters (d = 0), as the trainer computes them."""
    return scores(tcfg, weights(tcfg, theta, 0, 1), x)


def accuracy(tcfg: TrainerConfig, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction (0..1) of examples whose highest score (first on a tie) is the label."""
    return float(np.mean(evaluate_scores(tcfg, theta, x).argmax(axis=1) == y))


def mean_loss(tcfg: TrainerConfig, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error per example (real units: L / 2**(2 SF)) with d = 0."""
    loss = example_loss(tcfg, evaluate_scores(tcfg, theta, x), y)
    return float(loss.mean()) / float(1 << (2 * tcfg.score_frac))


@dataclass(frozen=True)
class StepResult:
    """What one step leaves: theta (int64, shape (d,)), delta (int) and gq (int)."""

    theta: np.ndarray
    delta: int
    gq: int


def check_examples(tcfg: TrainerConfig, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) as int64, or a PezoError: x of shape (batch, n_in) with features 0..16,
    y of shape (batch,) with labels 0..n_out-1."""
    x, y = np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64)
    if x.shape != (tcfg.batch, tcfg.n_in) or y.shape != (tcfg.batch,):
        raise PezoError(f"a step takes {tcfg.batch} examples of {tcfg.n_in} features, "
                        f"got x {x.shape} and y {y.shape}")
    if x.min() < 0 or x.max() > FEATURE_MAX:
        raise PezoError(f"features must be 0..{FEATURE_MAX} (pixels, {FEATURE_FRAC} fractional bits)")
    if y.min() < 0 or y.max() >= tcfg.n_out:
        raise PezoError(f"labels must be 0..{tcfg.n_out - 1}")
    return x, y


def check_theta(tcfg: TrainerConfig, theta: Sequence[int] | np.ndarray) -> np.ndarray:
    """``theta`` as int64 of shape (n_params,) in the signed theta_bits range, or a PezoError."""
    theta = np.asarray(theta, dtype=np.int64)
    top = 1 << (tcfg.theta_bits - 1)
    if theta.shape != (tcfg.n_params,):
        raise PezoError(f"theta must have {tcfg.n_params} parameters, got shape {theta.shape}")
    if theta.min() < -top or theta.max() >= top:
        raise PezoError(f"theta must be signed {tcfg.theta_bits}-bit integers")
    return theta


def train_step(tcfg: TrainerConfig, theta: np.ndarray, z: np.ndarray, x: np.ndarray,
               y: np.ndarray) -> StepResult:
    """One step (sections 4.1-4.6) with the step's words z (int64, shape (d,))."""
    delta = loss_difference(tcfg, theta, z, x, y)
    gq = gradient_word(tcfg, delta)
    return StepResult(update(tcfg, theta, gq, z), delta, gq)


def trainer_source(tcfg: TrainerConfig, seed_in: int) -> PerturbationSource:
    """The source of ``tcfg`` for the RTL's ``seed`` value ``seed_in``: its
    ``z_words(t, n_params)`` are the words the trainer's engine emits after start(t)."""
    return make_source(tcfg.source, seed_in, tcfg.pezo)


def golden_steps(tcfg: TrainerConfig, theta0: Sequence[int] | np.ndarray, seed_in: int,
                 steps: Sequence[tuple[int, np.ndarray, np.ndarray]]) -> list[StepResult]:
    """The trainer's expected results: from parameters ``theta0`` (signed theta_bits
    integers, layout of docs/trainer.md section 3) and seed ``seed_in``, run each
    ``(t, x, y)`` of ``steps`` (step index t, b examples x of n_in features 0..16, b
    labels y) in order; one :class:`StepResult` per step (theta after it, delta, gq)."""
    theta = check_theta(tcfg, theta0)
    source = trainer_source(tcfg, seed_in)
    out = []
    for t, x, y in steps:
        if not 0 <= t < tcfg.max_steps:
            raise PezoError(f"step {t} is outside 0..{tcfg.max_steps - 1} (step_bits={tcfg.pezo.step_bits})")
        x, y = check_examples(tcfg, x, y)
        out.append(train_step(tcfg, theta, source.z_words(t, tcfg.n_params), x, y))
        theta = out[-1].theta
    return out
