"""Model-speed benchmark of issue 7 item 6 (slow: a timing, not a unit test; the report
and ``pezo speed`` print the same measurement): the bit-exact z of a new step (lane
load, draws, addressing, gather, scaling; the pool epoch's fill done once, as in
training) is at least as fast as numpy's ``standard_normal(n)`` with one reused
Generator, best of 5 rounds each, at the digits MLP's d = 1210 and at 2**14. On a busy
machine the model, a handful of small numpy calls per step, loses more than numpy's
single call: run it on an idle one."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pezo.ref.config import preset
from pezo.ref.engine import engine_model

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("n", [1210, 1 << 14])
@pytest.mark.parametrize("name", ["default", "stream"])
def test_new_step_is_at_least_as_fast_as_numpy_standard_normal(name, n):
    calls = 20_000_000 // n
    engine = engine_model(preset(name))
    engine.perturbation_real(0, n)
    rng = np.random.default_rng(0)

    def best(run) -> float:
        times = []
        for r in range(5):
            t0 = time.perf_counter()
            for k in range(calls):
                run(1 + (r * calls + k) % 60000)
            times.append(time.perf_counter() - t0)
        return min(times)

    model = best(lambda t: engine.perturbation_real(t, n))
    numpy = best(lambda t: rng.standard_normal(n))
    print(f"{name} d = {n}: model {model / calls * 1e6:.1f} us per step, numpy {numpy / calls * 1e6:.1f} us")
    assert model <= numpy
