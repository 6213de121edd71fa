"""The cocotb regression: every case of every ``sim/tb_*.py`` module, one after another.

Convention for testbench modules (follow it and ``pezo sim`` picks your cases up):

* the module is ``sim/tb_<block>.py`` (importable as ``pezo.sim.tb_<block>``) and holds
  the ``@cocotb.test()`` coroutines;
* it defines ``CASES``: a list of :class:`pezo.sim.runner.SimCase`, each naming a unique
  build directory (``build/sim/<name>``), the component factory (``cfg -> Component``),
  the test module (usually the module itself), the config and extra environment; set
  ``quick=False`` on the long or redundant ones (``pezo sim --quick`` skips them);
* the cocotb side reads the config with :func:`pezo.sim.runner.config_from_env`;
* its pytest file (``tests/test_sim_<block>.py``) runs the same ``CASES`` through
  ``case.run()``, so ``pytest`` and ``pezo sim`` check the same things.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pezo.sim
from pezo.errors import PezoError, ToolError
from pezo.sim.runner import SimCase, SimulationFailed

PREFIX = "tb_"


def testbench_modules() -> list[str]:
    """Module names of every ``pezo.sim.tb_*`` testbench, sorted."""
    return sorted(f"pezo.sim.{m.name}" for m in pkgutil.iter_modules(pezo.sim.__path__)
                  if m.name.startswith(PREFIX))


def collect(quick: bool = False, select: str = "") -> list[SimCase]:
    """The cases of every testbench module that defines ``CASES`` (``quick``: quick ones
    only; ``select``: only names containing that text)."""
    cases: list[SimCase] = []
    for name in testbench_modules():
        module = importlib.import_module(name)
        cases += [c for c in getattr(module, "CASES", []) if (c.quick or not quick) and select in c.name]
    names = [c.name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PezoError(f"simulation case names must be unique; repeated: {', '.join(duplicates)}")
    return cases


@dataclass(frozen=True)
class Outcome:
    """Result of one case: ``passed`` and a one-line ``detail`` (tests passed, or why not)."""

    case: str
    passed: bool
    detail: str
    seconds: float


def run_all(cases: list[SimCase], *, waves: bool = False) -> Iterator[Outcome]:
    """Run the cases one by one, yielding each outcome as it finishes."""
    for case in cases:
        began = time.monotonic()
        try:
            result = case.run(waves=waves)
            detail = f"{len(result.passed)} tests passed"
            if result.waves is not None:
                detail += f", waves {result.waves}"
            yield Outcome(case.name, True, detail, time.monotonic() - began)
        except ToolError:
            raise
        except SimulationFailed as exc:
            yield Outcome(case.name, False, str(exc), time.monotonic() - began)
        except Exception as exc:  # a design that fails to build fails its case, not the run
            yield Outcome(case.name, False, f"{type(exc).__name__}: {exc}", time.monotonic() - began)


def regression(*, quick: bool = False, select: str = "", waves: bool = False,
               report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Collect and run every case; ``report`` is called after each one."""
    outcomes = []
    for outcome in run_all(collect(quick, select), waves=waves):
        report(outcome)
        outcomes.append(outcome)
    return outcomes
