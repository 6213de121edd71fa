"""Training with the fixed-point trainer and its float twin (ref/train/fixed_train.py):
the twin is the same network, the fixed run is golden_steps over the seed's minibatches,
and both learn. The 5-seed accuracy comparison is tests/test_benchmark_fixed_training.py."""

from __future__ import annotations

import numpy as np
import pytest

from pezo.errors import ConfigError
from pezo.ref.train import fixed
from pezo.ref.train.data import digits, digits_pixels
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import (TwinModel, compare_fixed, initial_theta, scaled, train_fixed, train_twin,
                                        twin_settings)
from pezo.ref.train.loop import Run, TrainSettings


@pytest.mark.parametrize("model", ["mlp", "logreg"])
def test_twin_starts_from_the_float_models_glorot_init_in_row_layout(model):
    t = TrainerConfig(model=model)
    twin = TwinModel(t)
    flat = twin.float_model.init(np.random.default_rng(4))
    theta = twin.init(np.random.default_rng(4))
    assert sorted(theta.tolist()) == sorted(flat.tolist())
    views = twin.float_model.unpack(flat)
    rows = twin.unpack(theta)
    assert np.array_equal(rows[0][:, :-1], views[0].T) and np.array_equal(rows[0][:, -1], views[1])
    assert np.array_equal(rows[-1][:, :-1], views[-2].T) and np.array_equal(rows[-1][:, -1], views[-1])


@pytest.mark.parametrize("model", ["mlp", "logreg"])
def test_fixed_scores_are_the_twins_up_to_rounding(model):
    # c = theta >> 8 loses < 2**-12 per weight; with inputs <= 1.0, hidden values near
    # 1 and 65 or 17 terms per layer the scores agree to a few hundredths
    t = TrainerConfig(model=model)
    twin = TwinModel(t)
    theta = twin.init(np.random.default_rng(1))
    data = digits_pixels()
    fixed_scores = fixed.evaluate_scores(t, initial_theta(t, theta), data.x_test) / 2**t.score_frac
    assert np.abs(fixed_scores - twin.scores(theta, data.x_test / 16)).max() < 0.03


@pytest.mark.parametrize("model", ["mlp", "logreg"])
def test_twin_gradient_matches_finite_differences(model):
    twin = TwinModel(TrainerConfig(model=model))
    data = scaled(digits_pixels())
    theta = twin.init(np.random.default_rng(2)) + 0.01
    x, y = data.x_train[:16], data.y_train[:16]
    _, grad = twin.loss_grad(theta, x, y)
    h = 1e-6
    for i in range(0, twin.n_params, 37):
        e = np.zeros(twin.n_params)
        e[i] = h
        assert abs((twin.loss(theta + e, x, y) - twin.loss(theta - e, x, y)) / (2 * h) - grad[i]) < 1e-6


def test_pixels_and_standardised_digits_share_split_and_minibatch_order():
    settings = TrainSettings(batch=64)
    a, b = Run(settings, 3, digits()), Run(settings, 3, digits_pixels())
    for _ in range(30):   # past one epoch (1347 examples)
        assert np.array_equal(a.batch()[1], b.batch()[1])


def test_fixed_run_is_golden_steps_over_the_seeds_minibatches():
    t = TrainerConfig(model="logreg", batch=16, macs=4)
    result, theta = train_fixed(t, seed=2, steps=12, eval_every=4)
    run = Run(twin_settings(t, 12), 2, digits_pixels(), TwinModel(t))
    steps = [(s, *run.batch()) for s in range(12)]
    golden = fixed.golden_steps(t, initial_theta(t, run.theta), 2, steps)
    assert np.array_equal(golden[-1].theta, theta)
    assert result.steps == [0, 4, 8, 12]


def test_fixed_and_twin_both_learn_and_stay_close():
    # 2000 steps of logreg from 11 % (Glorot init): both pass 40 % test accuracy (55-62 %
    # measured on seeds 0-2; a full run reaches about 91 %, tests/test_benchmark_fixed_training.py)
    # and their mean squared errors agree within 5 % (the same z, batches and init)
    t = TrainerConfig(model="logreg", eps_shift=8, lr_shift=10)
    fixed_run, _ = train_fixed(t, seed=0, steps=2000, eval_every=2000)
    twin_run = train_twin(t, seed=0, steps=2000, eval_every=2000)
    assert fixed_run.final_test_acc > 0.4 and twin_run.final_test_acc > 0.4
    assert abs(fixed_run.final_loss / twin_run.final_loss - 1) < 0.05
    assert fixed_run.train_loss[-1] < fixed_run.train_loss[0]


def test_compare_fixed_reports_every_run_and_the_gap():
    out = compare_fixed(TrainerConfig(model="logreg"), seeds=[0, 1], steps=20, eval_every=10)
    assert set(out["runs"]) == {"fixed", "twin", "float"}
    runs = out["runs"]
    assert len(runs["fixed"]["test_acc"]) == 2 and runs["fixed"]["steps_per_s"] > 0
    assert runs["twin"]["curves"]["step"] == [0, 10, 20]
    assert out["gap_points"] == pytest.approx(100 * (runs["fixed"]["test_acc_mean"] - runs["twin"]["test_acc_mean"]))


def test_training_rejects_a_model_that_does_not_fit_digits_and_too_many_steps():
    with pytest.raises(ConfigError, match="digits has 64 features and 10 classes"):
        train_fixed(TrainerConfig(n_in=32), seed=0, steps=1)
    with pytest.raises(ConfigError, match="addresses at most 65536 steps"):
        train_twin(TrainerConfig(), seed=0, steps=70000)


def test_compare_fixed_in_worker_processes_gives_the_same_accuracies():
    t = TrainerConfig(model="logreg")
    alone = compare_fixed(t, seeds=[0, 1], steps=8, eval_every=8, ordinary=False)
    pooled = compare_fixed(t, seeds=[0, 1], steps=8, eval_every=8, ordinary=False, workers=2)
    assert {k: r["test_acc"] for k, r in pooled["runs"].items()} == {k: r["test_acc"] for k, r in alone["runs"].items()}
