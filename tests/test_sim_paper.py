"""paper-pool and paper-rotate RTL (hw/paper.py) equal their golden models word for word
under cocotb (sim/tb_paper.py), and the bench fails for a design that differs."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import pytest

from pezo.errors import ConfigError
from pezo.hw.paper import PaperPool, PaperRotate
from pezo.ref.config import preset
from pezo.sim.runner import SimulationFailed
from pezo.sim.tb_paper import CASES

QUICK = [c for c in CASES if c.quick]
SLOW = [c for c in CASES if not c.quick]


@pytest.mark.parametrize("case", QUICK, ids=[c.name for c in QUICK])
def test_paper_rtl_matches_model_bit_exact(case):
    assert case.run().ok


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=[c.name for c in SLOW])
def test_paper_rtl_matches_model_bit_exact_default_presets(case):
    assert case.run().ok


def test_paper_pool_bench_fails_for_another_d():
    case = next(c for c in CASES if c.name == "paper_pool_small")
    wrong = replace(case, name="paper_pool_wrong_d", make_component=partial(PaperPool, params=22),
                    testcase=["words_after_start_match_model"])
    with pytest.raises(SimulationFailed, match="words_after_start_match_model"):
        wrong.run()


def test_paper_rotate_bench_fails_without_rotation():
    """A rotate design built for R = 1 (no concatenation) differs from the R = 2 model."""
    case = next(c for c in CASES if c.name == "paper_rotate_small_r2")
    wrong = replace(case, name="paper_rotate_wrong", testcase=["words_after_start_match_model"],
                    make_component=lambda cfg: PaperRotate(cfg.replace(strategy="none")))
    with pytest.raises(SimulationFailed, match="words_after_start_match_model"):
        wrong.run()


def test_paper_designs_reject_a_wrong_strategy_or_d_in_one_line(recwarn):
    with pytest.raises(ConfigError, match="paper-pool needs the pool strategy"):
        PaperPool(preset("stream"))
    with pytest.raises(ConfigError, match="must be at least 1"):
        PaperPool(preset("default"), params=0)
    with pytest.raises(ConfigError, match="paper-rotate needs a stream or none strategy"):
        PaperRotate(preset("default"))
    assert not [w for w in recwarn if "UnusedElaboratable" in str(w.category)]
