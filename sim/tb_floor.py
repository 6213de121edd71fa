"""cocotb testbench of hw/floor.py: every word of ``lfsr-floor`` equals
``pezo.ref.floor.FloorModel`` after reset, after runtime seeds and after a reset in the
middle of a run, under back-pressure (``ready`` low with probability ``PEZO_BACKPRESSURE``,
default 0.3)."""

from __future__ import annotations

import random

import cocotb

from pezo.hw.floor import LfsrFloor
from pezo.ref.config import PezoConfig
from pezo.ref.floor import FloorModel
from pezo.sim.runner import SimCase, config_from_env
from pezo.sim.source_checks import check_interface
from pezo.sim.streams import StreamDriver, clocks, expect_words, now, reset, start_clock, z_sink

CASES = [
    SimCase("floor_default", LfsrFloor, "pezo.sim.tb_floor", PezoConfig()),
    SimCase("floor_w17_b8_p2", LfsrFloor, "pezo.sim.tb_floor",
            PezoConfig(lfsr_width=17, word_bits=8, frac_bits=4, parallel=2, pool_size=16)),
]

WORDS = 200


@cocotb.test()
async def words_match_model_after_reset_seeds_and_mid_run_reset(dut):
    cfg = config_from_env()
    check_interface(dut, cfg)
    start_clock(dut)
    seed = StreamDriver(dut, "seed")
    StreamDriver(dut, "start")
    z = z_sink(dut, cfg.parallel, cfg.word_bits)
    await reset(dut)   # z.valid is 1 from time 0: start the sink once ready is driven
    z.start()
    z.restart(since=now())
    expect_words(await z.take(WORDS), FloorModel(cfg).words(WORDS // cfg.parallel), "after reset")
    for seed_in in (random.getrandbits(cfg.lfsr_width), 0, (1 << cfg.lfsr_width) - 1):
        z.restart(since=await seed.send(seed_in))
        expect_words(await z.take(WORDS), FloorModel(cfg, seed_in).words(WORDS // cfg.parallel), f"seed {seed_in:#x}")
    await clocks(dut, 7)
    await reset(dut)
    z.restart(since=now())
    expect_words(await z.take(WORDS), FloorModel(cfg).words(WORDS // cfg.parallel), "after a mid-run reset")
