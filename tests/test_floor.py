"""lfsr-floor: the model's words are bare leap-forward LFSR words, and the RTL equals the
model word for word under cocotb."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pezo.hw.floor import LfsrFloor
from pezo.ref.config import PezoConfig
from pezo.ref.floor import FloorModel
from pezo.ref.lfsr import step
from pezo.sim.runner import SimulationFailed
from pezo.sim.tb_floor import CASES


def test_floor_words_are_successive_leaps_of_seeded_lanes():
    cfg = PezoConfig(lfsr_width=20, word_bits=8, frac_bits=4, parallel=2, pool_size=16)
    model = FloorModel(cfg, seed_in=0xABCDE)
    words = model.words(5).reshape(5, 2)
    for k, base in enumerate(model.bases):
        s = (0xABCDE ^ base) | 1
        for c in range(5):
            bits = 0
            for _ in range(8):
                s = step(s, 20)
                bits = (bits << 1) | (s & 1)
            assert words[c, k] == (bits - 256 if bits >= 128 else bits)
    assert (FloorModel(cfg).state != 0).all()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_floor_rtl_matches_model_bit_exact(case):
    assert case.run().ok


def test_floor_bench_can_fail():
    """A floor built with another config seed must fail the bench."""
    case = CASES[1]
    wrong = replace(case, name="floor_wrong_seed",
                    make_component=lambda cfg: LfsrFloor(cfg.replace(seed=cfg.seed + 1)))
    with pytest.raises(SimulationFailed, match="words_match_model"):
        wrong.run()
