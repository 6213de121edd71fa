"""ZO optimizer, perturbation sources, models and the comparison (ref/train)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pezo.errors import ConfigError
from pezo.ref.config import preset
from pezo.ref.train import compare
from pezo.ref.train.compare import compare_sources, target_checks
from pezo.ref.train.data import digits
from pezo.ref.train.loop import Run, TrainSettings
from pezo.ref.train.models import make_model
from pezo.ref.train.run import train
from pezo.ref.train.sources import SOURCES, make_source
from pezo.ref.train.zo import zo_step

N_PARAMS = 1210  # the default MLP 64-16-10


@pytest.mark.parametrize("name", SOURCES)
def test_source_replays_the_same_z_for_the_same_step(name):
    first = make_source(name, seed=3)
    again = make_source(name, seed=3)
    z5 = first.generate(5, N_PARAMS)
    first.generate(6, N_PARAMS)
    assert np.array_equal(first.generate(5, N_PARAMS), z5)
    assert np.array_equal(again.z(5, N_PARAMS), z5)
    assert np.array_equal(first.z(5, N_PARAMS), z5)
    assert z5.dtype == np.float64 and z5.shape == (N_PARAMS,)


@pytest.mark.parametrize("name", SOURCES)
def test_source_differs_between_steps_and_seeds(name):
    a = make_source(name, seed=1)
    b = make_source(name, seed=2)
    assert not np.array_equal(a.z(7, N_PARAMS), a.generate(8, N_PARAMS))
    assert not np.array_equal(a.z(7, N_PARAMS), b.z(7, N_PARAMS))


@pytest.mark.parametrize("name", SOURCES)
def test_source_has_zero_mean_unit_variance(name):
    # 50 steps x 1210 values; the pool reuses 256 words per step, so its sample is
    # smaller: 6 sigma of the mean of 50*256 unit-variance values is 0.053.
    z = np.concatenate([make_source(name, seed=0).generate(t, N_PARAMS) for t in range(50)])
    assert abs(z.mean()) < 0.06
    assert 0.85 < z.var() < 1.15


@pytest.mark.parametrize("name", ["pezo-pool", "pezo-stream"])
def test_pezo_source_is_the_bit_exact_engine(name):
    source = make_source(name, seed=9)
    for step in (0, 1, 2, 255, 256, 700):
        for n in (1, 100, N_PARAMS):
            assert np.array_equal(source.generate(step, n), source.engine.perturbation_real(step, n))


def test_pezo_source_keeps_the_engine_with_a_refreshed_pool():
    cfg = preset("refresh")
    source = make_source("pezo-pool", seed=4, cfg=cfg)
    for step in (0, 3, 4, 9, 2):
        assert np.array_equal(source.generate(step, 300), source.engine.perturbation_real(step, 300))


def test_fresh_per_step_counts_every_parameter_for_iid_sources_and_few_for_the_pool():
    assert make_source("gaussian", 0).fresh_per_step(N_PARAMS, 1000) == N_PARAMS
    assert make_source("uniform", 0).fresh_per_step(N_PARAMS, 1000) == N_PARAMS
    pool = make_source("pezo-pool", 0)
    assert pool.fresh_per_step(N_PARAMS, 1000) == pool.engine.fresh_words_per_step(N_PARAMS, 1000)
    assert pool.fresh_per_step(N_PARAMS, 1000) < N_PARAMS / 100


def test_unknown_source_and_model_raise_config_errors_listing_the_known_ones():
    with pytest.raises(ConfigError, match="gaussian, uniform, pezo-pool, pezo-stream"):
        make_source("normal", 0)
    with pytest.raises(ConfigError, match="mlp, logreg"):
        make_model("cnn", 64, 10)
    with pytest.raises(ConfigError, match="sgd"):
        train("adam", TrainSettings(steps=1), 0)


# The paper's schemes confine z to a subspace for d = 64 (paper-pool: N/d = 8 distinct
# vectors; paper-rotate: z[p] = z[p + n] in every clock), tested in tests/test_ref_paper.py.
@pytest.mark.parametrize("name", [s for s in SOURCES if s not in ("paper-pool", "paper-rotate")])
def test_zo_sgd_lowers_a_quadratic(name):
    # loss = |theta - target|^2 / 2 in 64 dims; ZO-SGD with lr 0.01 contracts the
    # error by about lr per step in expectation, so 600 steps cut it well below half.
    rng = np.random.default_rng(0)
    target = rng.standard_normal(64)
    theta = np.zeros(64)
    loss = lambda th: 0.5 * float(np.sum((th - target) ** 2))  # noqa: E731
    start = loss(theta)
    source = make_source(name, seed=1)
    for step in range(600):
        zo_step(theta, loss, source, step, lr=0.01, eps=1e-3)
    assert loss(theta) < 0.5 * start


def test_zo_step_restores_theta_when_the_loss_is_flat():
    theta = np.linspace(-1, 1, 50)
    before = theta.copy()
    g = zo_step(theta, lambda th: 1.0, make_source("gaussian", 0), 0, lr=0.1, eps=1e-3)
    assert g == 0.0
    np.testing.assert_allclose(theta, before, atol=1e-12)


@pytest.mark.parametrize("name", ["gaussian", "pezo-pool"])
def test_zo_lowers_the_digits_loss_in_a_few_hundred_steps(name):
    settings = TrainSettings(steps=300, eval_every=300)
    result = train(name, settings, seed=0)
    assert result.train_loss[-1] < 0.9 * result.train_loss[0]
    assert result.test_acc[-1] > result.test_acc[0]


def test_sgd_reaches_high_accuracy_on_digits():
    result = train("sgd", TrainSettings(steps=500, eval_every=500), seed=0)
    assert result.final_test_acc > 0.9  # chance is 0.1
    assert result.final_loss < 0.5 * result.train_loss[0]


@pytest.mark.parametrize("model", ["mlp", "logreg"])
def test_backprop_gradient_matches_finite_differences(model):
    data = digits()
    m = make_model(model, data.n_features, data.n_classes, hidden=5)
    theta = m.init(np.random.default_rng(0))
    x, y = data.x_train[:20], data.y_train[:20]
    _, grad = m.loss_grad(theta, x, y)
    h = 1e-6
    for i in np.random.default_rng(1).choice(m.n_params, 12, replace=False):
        e = np.zeros(m.n_params)
        e[i] = h
        fd = (m.loss(theta + e, x, y) - m.loss(theta - e, x, y)) / (2 * h)
        assert abs(fd - grad[i]) < 1e-6


def test_digits_split_is_stratified_and_standardised():
    d = digits()
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-9)
    assert np.all(np.isin(np.round(d.x_train.std(axis=0), 9), [0.0, 1.0]))
    train_share = np.bincount(d.y_train) / len(d.y_train)
    test_share = np.bincount(d.y_test) / len(d.y_test)
    assert np.max(np.abs(train_share - test_share)) < 0.01


def test_runs_of_one_seed_share_initial_parameters_and_batches():
    a, b = Run(TrainSettings(), 4), Run(TrainSettings(), 4)
    assert np.array_equal(a.theta, b.theta)
    for _ in range(30):  # more than one epoch of the training set
        assert np.array_equal(a.batch()[1], b.batch()[1])


def test_compare_returns_every_key_the_report_reads():
    result = compare_sources(model="logreg", seeds=2, steps=40, progress=False,
                             settings=TrainSettings(eval_every=20), workers=1)
    assert set(result["sources"]) == set(SOURCES) | {"sgd"}
    assert result["settings"]["numpy_standard_normal_words_per_s"] > 0
    for name, s in result["sources"].items():
        for key in ("test_acc_mean", "test_acc_std", "final_loss_mean", "fresh_per_step", "words_per_s"):
            assert key in s
        assert s["curves"]["step"] == [0, 20, 40]
        assert len(s["curves"]["test_acc_mean"]) == len(s["curves"]["train_loss_mean"]) == 3
        assert (s["words_per_s"] is None) == (name == "sgd")
    assert len(result["checks"]) == 5


@pytest.mark.slow
def test_full_comparison_meets_the_stream_parity_and_pool_cost_targets():
    result = compare_sources(seeds=5, progress=False)
    checks = {c["name"]: c["passed"] for c in result["checks"]}
    assert checks["pezo-stream test accuracy within 1.0 point of gaussian"]
    assert checks["pezo-pool fresh numbers per step vs gaussian"]


def test_parameters_one_pool_apart_are_not_tied_across_steps():
    # One offset per step would give z[i] = z[i+N] at every step, and ZO would only explore
    # an N-dimensional subspace. With a fresh offset per wrap, wrap 1 is wrap 0 read at a
    # lag delta (a multiple of P) in the pool: the pair product of a step is the pool's
    # circular autocorrelation at that lag, 1 only when delta = 0 (probability P/N),
    # else ~ N(0, 1/N).
    source = make_source("pezo-pool", seed=0)
    size, lanes = source.cfg.pool_size, source.cfg.parallel
    products = np.array([np.mean(z[:size] * z[size:])
                         for z in (source.generate(step, 2 * size) for step in range(200))])
    tied = np.isclose(products, np.mean(source.generate(0, size) ** 2))
    assert tied.mean() <= 4 * lanes / size + 0.02
    assert np.abs(products[~tied]).max() < 6 / np.sqrt(size)


@pytest.mark.slow
def test_pool_at_least_as_large_as_the_model_matches_gaussian_accuracy():
    result = compare_sources(seeds=5, sources=["gaussian", "pezo-pool"], progress=False,
                             pezo_overrides={"pool_size": 2048})
    checks = {c["name"]: c["passed"] for c in result["checks"]}
    assert checks["pezo-pool test accuracy within 1.0 point of gaussian"]


def _fake_result(pool_acc: float, pool_size: int, gaussian_final_loss: float = 0.3) -> dict:
    def entry(acc: float, fresh: float, rate: float, final_loss: float = 0.3) -> dict:
        return {"test_acc_mean": acc, "fresh_per_step": fresh, "words_per_s": rate,
                "initial_loss_mean": 2.3, "final_loss_mean": final_loss}
    return {"settings": {"n_params": N_PARAMS, "numpy_standard_normal_words_per_s": 5e7,
                         "pezo_configs": {"pezo-pool": {"strategy": "pool", "pool_size": pool_size}}},
            "sources": {"gaussian": entry(0.93, 1210.0, 2e7, gaussian_final_loss),
                        "pezo-pool": entry(pool_acc, 2.5, 4e7), "pezo-stream": entry(0.924, 303.0, 6e7)}}


def test_target_checks_compare_measured_numbers_with_the_targets():
    checks = {c["name"]: c for c in target_checks(_fake_result(0.925, 2048))}
    assert checks["pezo-pool test accuracy within 1.0 point of gaussian"]["passed"]
    assert checks["pezo-pool fresh numbers per step vs gaussian"]["passed"]  # 484x
    assert not checks["pezo-pool words/s vs numpy standard_normal"]["passed"]  # 0.8x
    assert checks["pezo-stream words/s vs numpy standard_normal"]["passed"]  # 1.2x
    assert not any("note" in c for c in checks.values())


def test_a_missed_accuracy_target_of_a_small_pool_says_why():
    check = target_checks(_fake_result(0.70, 256))[0]
    assert not check["passed"]
    assert "only 256 distinct values" in check["note"]


def test_a_missed_accuracy_target_next_to_a_diverged_baseline_says_the_gap_is_noise():
    check = target_checks(_fake_result(0.66, 256, gaussian_final_loss=12.3))[0]
    assert not check["passed"]
    assert "gaussian runs diverged (training loss 2.30 -> 12.30 nats)" in check["note"]


def test_words_per_second_times_new_steps_of_a_new_generator_with_its_set_up():
    """Item 6 of issue 7: no warm-up, no cache filled before the timed region. A
    generator whose set-up (a pool fill) takes 20 ms is charged for it in every run,
    and every run starts from a new generator at step 0."""
    runs: list[list[int]] = []

    def factory():
        time.sleep(0.02)
        runs.append([])
        return lambda step: runs[-1].append(step)

    steps, n = 10, 1
    rate = compare.words_per_second({"slow set-up": factory}, n, steps)["slow set-up"]
    assert rate <= n * steps / 0.02
    assert runs == [list(range(steps))] * compare.TIMING_ROUNDS


def test_numpy_reference_reuses_one_generator_per_run():
    generate = compare._numpy_run(8)
    assert not np.array_equal(generate(0), generate(0))  # the Generator advances, it is not rebuilt per call
    np.testing.assert_array_equal(compare._numpy_run(8)(0), compare._numpy_run(8)(5))  # one per run
