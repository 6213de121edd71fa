"""Training benchmark of issue 7 (slow): pezo-pool within 1.0 point of Gaussian ZO on the
digits MLP with small pools (N = 64, 128, 512, 5 seeds: every model larger than the
pool) and on a model of more than 30,000 parameters (hidden 512, 3 seeds). The first
release's bank-confined pool lost 2.8 and 4.2 points at N = 128 and 64.

The large model trains at lr 0.0015 (:data:`LARGE_MODEL_LR`): ZO-SGD is stable only for
a learning rate below about 2/(L d), and the default 0.005, set at d = 1210, diverges at
d = 38,410 (gaussian's training loss 2.29 -> 12.25 nats over 10 000 steps, test accuracy
64.2, 72.0 and 71.6 % by seed), so the -2.96 points measured there compared noise. On
gaussian, seed 0: lr 0.0005 reaches 94.67 %, 0.0015 95.11 %.

Run with ``pytest -m slow tests/test_benchmark_pool_training.py -s`` to see the table."""

from __future__ import annotations

import pytest

from pezo.ref.train.compare import compare_sources, diverged
from pezo.ref.train.loop import TrainSettings

pytestmark = pytest.mark.slow

#: Largest accepted |pezo-pool - gaussian| mean test accuracy gap, in points.
GAP = 1.0
#: ZO learning rate of the d >= 30,000 comparison (see the module docstring).
LARGE_MODEL_LR = 0.0015


def _gap(result: dict) -> float:
    acc = {name: s["test_acc_mean"] for name, s in result["sources"].items()}
    return 100 * (acc["pezo-pool"] - acc["gaussian"])


@pytest.mark.parametrize("pool_size", [64, 128, 512])
def test_small_pools_train_as_well_as_gaussian(pool_size):
    result = compare_sources(seeds=5, sources=["gaussian", "pezo-pool"], progress=False,
                             pezo_overrides={"pool_size": pool_size})
    gap = _gap(result)
    print(f"N = {pool_size}: pezo-pool - gaussian = {gap:+.2f} points")
    assert abs(gap) <= GAP


def test_a_model_of_30000_parameters_trains_as_well_as_gaussian():
    settings = TrainSettings().replace(hidden=512, lr=LARGE_MODEL_LR)
    result = compare_sources(seeds=3, sources=["gaussian", "pezo-pool"], progress=False, settings=settings)
    n_params = result["settings"]["n_params"]
    assert n_params >= 30_000
    assert not any(diverged(s) for s in result["sources"].values())
    gap = _gap(result)
    print(f"d = {n_params}: pezo-pool - gaussian = {gap:+.2f} points")
    assert abs(gap) <= GAP
