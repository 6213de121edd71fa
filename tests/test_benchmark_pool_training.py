"""Training benchmark of issue 7 (slow): pezo-pool within 1.0 point of Gaussian ZO on the
digits MLP with small pools (N = 64, 128, 512, 5 seeds: every model larger than the
pool) and on a model of more than 30,000 parameters (hidden 512, 3 seeds). The first
release's bank-confined pool lost 2.8 and 4.2 points at N = 128 and 64.

Run with ``pytest -m slow tests/test_benchmark_pool_training.py -s`` to see the table."""

from __future__ import annotations

import pytest

from pezo.ref.train.compare import compare_sources
from pezo.ref.train.loop import TrainSettings

pytestmark = pytest.mark.slow

#: Largest accepted |pezo-pool - gaussian| mean test accuracy gap, in points.
GAP = 1.0


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


@pytest.mark.xfail(strict=True, reason="a target this release misses (README): -2.96 points at d = 38,410 "
                   "with the default N = 512, 3 seeds (66.30 % vs 69.26 %), measured with the field-permutation "
                   "read (the former odd-stride read: -2.74); N = 4096 gives -1.19, N = 32768 -6.89")
def test_a_model_of_30000_parameters_trains_as_well_as_gaussian():
    settings = TrainSettings().replace(hidden=512)
    result = compare_sources(seeds=3, sources=["gaussian", "pezo-pool"], progress=False, settings=settings)
    n_params = result["settings"]["n_params"]
    assert n_params >= 30_000
    gap = _gap(result)
    print(f"d = {n_params}: pezo-pool - gaussian = {gap:+.2f} points")
    assert abs(gap) <= GAP
