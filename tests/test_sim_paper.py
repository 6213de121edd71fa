"""paper-pool and paper-rotate RTL (hw/paper.py) equal their golden models word for word
under cocotb (sim/tb_paper.py), and the bench fails for a design that differs."""

from __future__ import annotations

from functools import partial

import pytest

from pezo.errors import ConfigError
from pezo.hw.paper import PaperPool, PaperRotate
from pezo.ref.config import preset
from pezo.sim.tb_paper import CASES

from cases import case_params, expect_bench_fails


@pytest.mark.parametrize("case", case_params(CASES))
def test_paper_rtl_matches_model_bit_exact(case):
    assert case.run().ok


def test_paper_pool_bench_fails_for_another_d():
    case = next(c for c in CASES if c.name == "paper_pool_small")
    expect_bench_fails(case, "paper_pool_wrong_d", partial(PaperPool, params=22))


def test_paper_rotate_bench_fails_without_rotation():
    """A rotate design built for R = 1 (no concatenation) differs from the R = 2 model."""
    case = next(c for c in CASES if c.name == "paper_rotate_small_r2")
    expect_bench_fails(case, "paper_rotate_wrong", lambda cfg: PaperRotate(cfg.replace(strategy="none")))


def test_paper_designs_reject_a_wrong_strategy_or_d_in_one_line(recwarn):
    with pytest.raises(ConfigError, match="paper-pool needs the pool strategy"):
        PaperPool(preset("stream"))
    with pytest.raises(ConfigError, match="must be at least 1"):
        PaperPool(preset("default"), params=0)
    with pytest.raises(ConfigError, match="paper-rotate needs a stream or none strategy"):
        PaperRotate(preset("default"))
    assert not [w for w in recwarn if "UnusedElaboratable" in str(w.category)]
