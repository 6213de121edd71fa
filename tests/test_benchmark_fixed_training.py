"""Training benchmark of issue 10 (slow): the fixed-point golden trainer with its default
widths, eps and lr (docs/trainer.md) within 1.5 test-accuracy points of its float twin
(same network, init, minibatches and source words), digits, logistic regression and the
MLP 64-16-10, 5 seeds, pezo-pool and a source of every other kind.

Run with ``pytest -m slow tests/test_benchmark_fixed_training.py -s`` to see the numbers
(``pezo train --fixed --seeds 5 [--model logreg] [--perturb NAME]`` prints the same
comparison with the ordinary float ZO run beside it)."""

from __future__ import annotations

import pytest

from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import FIXED_TOLERANCE_POINTS, compare_fixed

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("model", ["mlp", "logreg"])
@pytest.mark.parametrize("source", ["pezo-pool", "rademacher", "gaussian"])
def test_fixed_point_training_is_within_1_5_points_of_the_float_twin(model, source):
    result = compare_fixed(TrainerConfig(model=model, source=source), seeds=range(5), ordinary=False)
    fixed, twin = (result["runs"][name]["test_acc_mean"] for name in ("fixed", "twin"))
    print(f"{model} {source}: fixed {100 * fixed:.2f} %, twin {100 * twin:.2f} %, "
          f"gap {result['gap_points']:+.2f} points, {result['runs']['fixed']['steps_per_s']:.0f} steps/s")
    assert abs(result["gap_points"]) <= FIXED_TOLERANCE_POINTS
    assert fixed > 0.8   # it learned: 10 % at the Glorot init
