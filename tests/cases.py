"""How the tests run the cocotb regression cases of sim/tb_*.py (``CASES``, each a
:class:`pezo.sim.runner.SimCase`): one pytest parameter per case, the long ones marked
``slow``; a case on a configuration drawn per run, reproducible from its seed; and a
case on a mutant design, which its bench must reject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from types import ModuleType

import pytest

from pezo.sim.runner import ComponentFactory, SimCase, SimResult, SimulationFailed


def cocotb_tests(module: ModuleType) -> set[str]:
    """Names of the cocotb tests of a testbench module (sim/tb_*.py)."""
    return {name for name, obj in vars(module).items() if type(obj).__module__.startswith("cocotb")}


def case_params(cases: Iterable[SimCase]) -> list:
    """``pytest.param`` per case, named by the case; those not ``quick`` marked slow."""
    return [pytest.param(case, id=case.name, marks=() if case.quick else pytest.mark.slow) for case in cases]


def run_drawn(case: SimCase, seed: int, what: str, tests: int) -> SimResult:
    """Run ``case`` (built from a configuration drawn from ``seed``) with cocotb's seed
    ``seed``; a failure, or fewer than ``tests`` passed cocotb tests, fails the test
    with ``what`` (the seed and the configuration), which is also printed."""
    print(what)
    try:
        result = case.run(seed=seed)
    except SimulationFailed as exc:
        pytest.fail(f"{what}: {exc}")
    assert len(result.passed) >= tests, what
    return result


def expect_bench_fails(case: SimCase, name: str, make_component: ComponentFactory,
                       test: str = "words_after_start_match_model") -> None:
    """The cocotb test ``test`` of ``case``'s bench, run on the mutant design that
    ``make_component`` builds (build directory ``name``), must fail, by name."""
    wrong = replace(case, name=name, make_component=make_component, testcase=[test])
    with pytest.raises(SimulationFailed, match=test):
        wrong.run()
