"""The inverse-CDF generator's RTL (hw/gaussian/icdf.py): bit-exact against the golden
model on a configuration drawn per run (the fixed icdf cases of sim/tb_gaussian.py run
from tests/test_sim_gaussian.py), its coefficient ROM built as a block-RAM memory, its
comparison row meeting the quality bar, and issue 8's xilinx7 budget at P = 1 (<= 700
LUTs, <= 2 block RAM, <= 2 DSP; slow)."""

from __future__ import annotations

import random

import pytest
from amaranth import Shape

from pezo.flow.comparison import COMPARISON, quality, spec
from pezo.flow.measure import Job, measure
from pezo.hw.gaussian.box_muller import BLOCK_ROM
from pezo.hw.gaussian.icdf import IcdfCore, IcdfGaussian
from pezo.ref.config import PRESETS
from pezo.ref.gaussian.icdf import icdf_table
from pezo.sim.pysim import memories
from pezo.sim.random_config import random_gaussian_config, run_seed
from pezo.sim.tb_gaussian import gaussian_case

from cases import run_drawn

COCOTB_TESTS = 5
#: Issue 8's competence target for icdf on xilinx7 at P = 1.
BUDGET = {"luts": 700, "bram": 2, "dsp": 2}


def test_icdf_random_config_matches_model_bit_exact():
    """One config (B, F, P, LFSR width, seed) drawn per run; PEZO_RANDOM_SEED=<seed>
    reproduces a failure. B < 16 makes m = ceil(32 / B) > 2 lanes per output."""
    seed = run_seed()
    cfg = random_gaussian_config(random.Random(seed))
    run_drawn(gaussian_case("gauss_random_icdf", "icdf", cfg), seed, f"PEZO_RANDOM_SEED={seed} design=icdf config={cfg}",
              COCOTB_TESTS)


@pytest.mark.parametrize("parallel,roms", [(1, 1), (4, 2)])
def test_coefficient_rom_is_one_block_memory_per_pair_of_outputs(parallel, roms):
    """The table (c0 | c1 | c2, one word per segment) is one memory per pair of outputs,
    a read port per output, marked for block RAM, holding the golden model's words."""
    cfg = PRESETS["default"].replace(parallel=parallel)
    source = IcdfGaussian(cfg)
    table = icdf_table(cfg.frac_bits)
    width = table.c0_bits + table.c1_bits + table.c2_bits
    rom = [mem for mem in memories(source) if (Shape.cast(mem.shape).width, mem.depth) == (width, table.depth)]
    assert len(rom) == roms, rom
    for mem in rom:
        assert mem.attrs == BLOCK_ROM and len(mem.read_ports) == min(2, parallel) and not mem.write_ports
        assert list(mem.init) == list(table.words())
    assert source.latency == IcdfCore.latency == 10


@pytest.mark.parametrize("parallel", [1, 8])
def test_icdf_row_is_a_gaussian_baseline_that_meets_the_bar(parallel):
    """The report's quality step (1e6 golden samples) at both report P, with the reach
    over all inputs (at least 6 sigma and never below the sampled maximum)."""
    row = spec("icdf")
    assert row in COMPARISON and row.gaussian
    q = quality(row, row.config(PRESETS["default"].replace(parallel=parallel)))
    assert q["meets_bar"], q
    assert q["reach_all_inputs"] >= max(6.0, q["max_abs"])


@pytest.mark.slow
def test_xilinx7_p1_meets_the_issue_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("PEZO_BUILD_DIR", str(tmp_path / "build"))
    record = measure(Job("icdf", "icdf", PRESETS["p1"].to_dict(), "xilinx7", pnr=False, power=False))
    assert not record.failed, record.synth
    syn = record.synth
    print(f"xilinx7 P=1: {syn.luts} LUTs, {syn.ff} FFs, {syn.bram} BRAM, {syn.dsp} DSP")
    for key, limit in BUDGET.items():
        assert getattr(syn, key) <= limit, f"{key} {getattr(syn, key)} above {limit}"
