"""Training benchmark of issue 10 (slow): the fixed-point golden trainer with its default
widths, eps and lr (docs/trainer.md) within 1.5 test-accuracy points of its float twin
(same network, init, minibatches and source words), digits, logistic regression and the
MLP 64-16-10, 5 seeds, with pezo-pool, Rademacher and (quantised) Gaussian z. The MLP
with Rademacher z misses by 0.06 points (``MISSED``, strict xfail).

Run with ``pytest -m slow tests/test_benchmark_fixed_training.py -s`` to see the numbers
(``pezo train --fixed --seeds 5 [--model logreg] [--perturb NAME]`` prints the same
comparison with the ordinary float ZO run beside it)."""

from __future__ import annotations

import pytest

from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import FIXED_TOLERANCE_POINTS, compare_fixed

pytestmark = pytest.mark.slow


CASES = [(model, source) for source in ("pezo-pool", "rademacher", "gaussian") for model in ("mlp", "logreg")]
#: A target missed (docs/trainer.md section 5): with lr 2**-9 the MLP's fixed and float
#: trajectories drift apart by up to 3.8 points on a seed (the same z, batches and init),
#: and with Rademacher z the mean lands at +1.56 points; lr 2**-10 keeps them within 0.04
#: but trains to 84 % instead of 89 % in the same steps.
MISSED = {("mlp", "rademacher"): "fixed 88.98 % vs twin 87.42 % (+1.56 points) with lr 2**-9"}


@pytest.mark.parametrize("model, source", [
    pytest.param(m, s, marks=pytest.mark.xfail(strict=True, reason=MISSED[m, s])) if (m, s) in MISSED else (m, s)
    for m, s in CASES])
def test_fixed_point_training_is_within_1_5_points_of_the_float_twin(model, source):
    result = compare_fixed(TrainerConfig(model=model, source=source), seeds=range(5), ordinary=False)
    fixed, twin = (result["runs"][name]["test_acc_mean"] for name in ("fixed", "twin"))
    per_seed = {name: " ".join(f"{100 * a:.2f}" for a in result["runs"][name]["test_acc"]) for name in ("fixed", "twin")}
    print(f"{model} {source}: fixed {100 * fixed:.2f} % ({per_seed['fixed']}), twin {100 * twin:.2f} % "
          f"({per_seed['twin']}), gap {result['gap_points']:+.2f} points")
    assert abs(result["gap_points"]) <= FIXED_TOLERANCE_POINTS
    assert fixed > 0.8   # it learned: 10 % at the Glorot init
