"""The LfsrBank RTL under cocotb (Icarus) against pezo.ref.lfsr, and the runner's contract."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import partial

import pytest

from pezo.cli import main
from pezo.errors import ToolError
from pezo.hw.lfsr import LfsrBank
from pezo.ref.config import PezoConfig
from pezo.sim.random_config import run_seed, width_and_bits
from pezo.sim.regression import collect
from pezo.sim.runner import SimulationFailed, run_testbench
from pezo.sim import tb_lfsr
from pezo.sim.tb_lfsr import CASES, LANES_ENV

from cases import cocotb_tests, run_drawn

QUICK = [c for c in CASES if c.quick]
#: Names of the cocotb tests in the testbench module (each case must pass all of them).
COCOTB_TESTS = cocotb_tests(tb_lfsr)


@pytest.mark.parametrize("case", QUICK, ids=[c.name for c in QUICK])
def test_lfsr_bank_words_match_ref_bit_exact(case):
    result = case.run()
    assert result.ok and set(result.passed) == COCOTB_TESTS


def test_lfsr_bank_random_config_matches_ref_bit_exact():
    """One (W, B, K, seed) drawn per run; PEZO_RANDOM_SEED=<seed> reproduces a failure."""
    seed = run_seed()
    rng = random.Random(seed)
    width, bits = width_and_bits(rng, (4, 64), (4, 24))
    cfg = PezoConfig(lfsr_width=width, word_bits=bits, frac_bits=0, moment_bits=min(8, bits), repeat=1,
                     step_bits=rng.randint(4, 10), seed=rng.getrandbits(63) | 1)
    lanes = rng.randint(1, 6)
    what = f"PEZO_RANDOM_SEED={seed} lanes={lanes} config={cfg}"
    result = run_drawn(tb_lfsr.lfsr_case("lfsr_random", cfg, lanes), seed, what, len(COCOTB_TESTS))
    assert set(result.passed) == COCOTB_TESTS, what


def _wrong_seed_bank(cfg, lanes):
    return LfsrBank.from_config(cfg.replace(seed=cfg.seed + 1), lanes=lanes)


def test_runner_names_failing_cocotb_tests():
    """A bank whose constants differ from the config the testbench reads must fail, by name."""
    case = QUICK[0]
    with pytest.raises(SimulationFailed, match="words_after_reset_match_ref"):
        run_testbench("lfsr_wrong_seed", partial(_wrong_seed_bank, lanes=int(case.env[LANES_ENV])),
                      case.test_module, case.cfg, env=case.env,
                      testcase=["words_after_reset_match_ref"])


def test_runner_writes_waves_on_request():
    case = QUICK[0]
    result = run_testbench("lfsr_waves", case.make_component, case.test_module, case.cfg,
                           env=case.env, waves=True, testcase=["words_after_reset_match_ref"])
    assert result.waves is not None and result.waves.stat().st_size > 0


def test_runner_without_icarus_is_a_one_line_tool_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("pezo.toolchain.sys.executable", str(tmp_path / "python"))
    case = QUICK[0]
    with pytest.raises(ToolError, match="apt-get install -y iverilog"):
        case.run()


def test_regression_collects_every_testbench_case_once():
    names = [c.name for c in collect()]
    assert {c.name for c in CASES} <= set(names) and len(names) == len(set(names))
    assert {c.name for c in collect(quick=True, select="lfsr")} == {c.name for c in QUICK}


def test_pezo_sim_prints_a_line_per_case_and_exits_1_on_failure(monkeypatch, capsys):
    good = replace(QUICK[0], name="lfsr_good_one", testcase=["words_after_reset_match_ref"])
    bad = replace(good, name="lfsr_bad_seed",
                  make_component=partial(_wrong_seed_bank, lanes=int(good.env[LANES_ENV])))
    monkeypatch.setattr("pezo.sim.regression.collect", lambda quick, select: [good, bad])
    assert main(["sim"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("PASS") and good.name in lines[0]
    assert lines[1].startswith("FAIL") and "words_after_reset_match_ref" in lines[1]
    assert lines[2] == "1 of 2 cases passed; failed: lfsr_bad_seed"
