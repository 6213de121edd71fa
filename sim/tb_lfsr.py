"""cocotb testbench of hw/lfsr.py: every word of every lane equals ``pezo.ref.lfsr.LfsrBank``.

The bank is built by ``LfsrBank.from_config(cfg, lanes=K)`` with K from the case's
environment (``PEZO_LANES``). Randomness (advance gaps, seeds, steps) comes from
Python's ``random``, which cocotb seeds (``COCOTB_RANDOM_SEED``), so a run is
reproducible from its seed.
"""

from __future__ import annotations

import random
from functools import partial

import cocotb
import numpy as np

from pezo.hw.lfsr import LfsrBank
from pezo.ref.config import PezoConfig
from pezo.ref.lfsr import LfsrBank as RefBank
from pezo.ref.lfsr import slot_count
from pezo.sim.runner import SimCase, config_from_env, env_value
from pezo.sim.streams import clocks, reset, start_clock, value

LANES_ENV = "PEZO_LANES"


def lfsr_case(name: str, cfg: PezoConfig, lanes: int, quick: bool = True) -> SimCase:
    """A regression case of the bank with K = ``lanes`` (a one-lane bank of a ``pool``
    config has the fill slot)."""
    return SimCase(name, partial(LfsrBank.from_config, lanes=lanes), "pezo.sim.tb_lfsr", cfg,
                   env={LANES_ENV: str(lanes)}, quick=quick)


CASES = [
    lfsr_case("lfsr_w16_b8_k3", PezoConfig(lfsr_width=16, word_bits=8, frac_bits=4, step_bits=8), 3),
    lfsr_case("lfsr_w48_b16_k1_fill", PezoConfig(), 1),
    lfsr_case("lfsr_w32_b16_k2", PezoConfig(lfsr_width=32), 2),
    lfsr_case("lfsr_w8_b8_k1_fill", PezoConfig(lfsr_width=8, word_bits=8, frac_bits=4, step_bits=6,
                                               pool_size=16), 1),
    lfsr_case("lfsr_w64_b24_k5", PezoConfig(lfsr_width=64, word_bits=24, frac_bits=12, step_bits=12,
                                            seed=0xC0FFEE), 5),
]


class Bank:
    """Drives the bank's control inputs and reads its words (one method per operation)."""

    def __init__(self, dut):
        self.dut = dut
        self.cfg = config_from_env()
        self.lanes = int(env_value(LANES_ENV))
        self.fill = self.cfg.strategy == "pool" and self.lanes == 1
        assert hasattr(dut, "fill") == self.fill, "the fill port exists exactly with a fill slot"
        for port in self.inputs:
            getattr(dut, port).value = 0

    @property
    def inputs(self) -> tuple[str, ...]:
        return ("seed__valid", "seek__valid", "load", "advance") + (("fill",) if self.fill else ())

    def ref(self, seed_in: int = 0) -> RefBank:
        c = self.cfg
        return RefBank(c.lfsr_width, c.word_bits, self.lanes, c.seed, seed_in, fill=self.fill)

    def seek_clocks(self, jumps: int) -> int:
        """Clocks ``busy`` stays high after a seek request that walks ``jumps`` steps:
        compare, decide, prime, the stop clock, and K' + 1 clocks per step."""
        return 4 + jumps * (slot_count(self.lanes, self.fill) + 1)

    def words_now(self) -> list[int]:
        """The K words the bank shows in the clock just ended (unsigned B-bit)."""
        flat, b = value(self.dut.words), self.cfg.word_bits
        return [(flat >> (k * b)) & ((1 << b) - 1) for k in range(self.lanes)]

    async def reset(self) -> None:
        await reset(self.dut, zero=self.inputs)

    async def seed(self, seed_in: int) -> None:
        self.dut.seed__payload.value = seed_in
        self.dut.seed__valid.value = 1
        await clocks(self.dut)
        self.dut.seed__valid.value = 0

    async def busy_clocks(self, limit: int) -> int:
        """Clocks after a request clock with ``busy`` high (it must rise right after)."""
        busy = 0
        while True:
            await clocks(self.dut)
            if not value(self.dut.busy):
                break
            busy += 1
            assert busy <= limit, "busy never fell"
        assert busy >= 1, "busy must be high in the clock after a request"
        return busy

    async def seek(self, t: int) -> int:
        """Seek step t; returns the clocks ``busy`` stayed high after the seek clock."""
        self.dut.seek__payload.value = t
        self.dut.seek__valid.value = 1
        await clocks(self.dut)
        assert value(self.dut.seek__ready) == 1, "seek must always be ready"
        self.dut.seek__valid.value = 0
        busy = await self.busy_clocks(self.seek_clocks(1 << self.cfg.step_bits))
        assert value(self.dut.step) == t, f"step output {value(self.dut.step)} after seeking {t}"
        return busy

    async def load(self, fill: bool) -> int:
        """Load the lanes; returns the clocks ``busy`` stayed high after the load clock."""
        if self.fill:
            self.dut.fill.value = int(fill)
        self.dut.load.value = 1
        await clocks(self.dut)
        self.dut.load.value = 0
        return await self.busy_clocks(self.lanes + 3)

    async def run(self, n: int, gap: float) -> np.ndarray:
        """Collect n clocks of words, leaving ``advance`` low with probability ``gap``
        (the words must then hold); shape (n, K), uint64."""
        out: list[list[int]] = []
        held = None
        while len(out) < n:
            adv = int(random.random() >= gap)
            self.dut.advance.value = adv
            await clocks(self.dut)
            words = self.words_now()
            assert held is None or words == held, "words changed while advance was low"
            held = None if adv else words
            if adv:
                out.append(words)
        self.dut.advance.value = 0
        return np.array(out, dtype=np.uint64)

    async def check_load(self, ref: RefBank, t: int, fill: bool, n: int, gap: float, what: str) -> None:
        """Load the lanes of the step already sought (``t``) in the step or fill domain,
        do the same on ``ref``, and compare the next n clocks of words."""
        loading = await self.load(fill)
        assert loading == (2 if fill else self.lanes), f"{what}: load kept busy {loading} clocks"
        ref.load(t, RefBank.FILL_DOMAIN if fill else RefBank.STEP_DOMAIN)
        check(await self.run(n, gap), ref.words(n), what)


def check(got: np.ndarray, want: np.ndarray, what: str) -> None:
    bad = np.argwhere(got != want)
    assert not len(bad), (f"{what}: first mismatch at clock {bad[0][0]} lane {bad[0][1]}: "
                          f"rtl {int(got[tuple(bad[0])]):#x}, ref {int(want[tuple(bad[0])]):#x}")


@cocotb.test()
async def words_after_reset_match_ref(dut):
    """Without any load the lanes run from their step-0 states."""
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    assert value(dut.step) == 0 and value(dut.busy) == 0
    ref = bank.ref()
    check(await bank.run(40, gap=0.0), ref.words(40), "after reset")


@cocotb.test()
async def seek_forward_and_backward_loads_step_domain(dut):
    """Seeks up and down; busy stays high 3 + (K' + 1) (t - c) clocks forward, 3 + (K' + 1) t
    backward."""
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    ref = bank.ref()
    top = min(40, (1 << bank.cfg.step_bits) - 1)
    current = 0
    for t in [3, 3, top, 1, 0] + [random.randrange(top + 1) for _ in range(4)]:
        busy = await bank.seek(t)
        expected = bank.seek_clocks(t - current if t >= current else t)
        assert busy == expected, f"seek {current} -> {t}: busy {busy} clocks, expected {expected}"
        current = t
        await bank.check_load(ref, t, False, 24, 0.3, f"step {t}")


@cocotb.test()
async def fill_domain_load_matches_ref(dut):
    """The fill slot (G master in lane 0), alternating with step-domain loads; a bank
    without a fill slot has no ``fill`` port (checked by ``Bank``) and loads steps only."""
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    ref = bank.ref()
    for t, fill in [(0, True), (0, False), (5, True), (2, True), (2, False)]:
        await bank.seek(t)
        await bank.check_load(ref, t, fill and bank.fill, 20, 0.2, f"step {t} fill={fill and bank.fill}")


@cocotb.test()
async def runtime_seed_sets_master0(dut):
    """seed(x) gives master0 = ((x << 1) | 1) ^ master_base at step 0 (x = all ones too)."""
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    width, ref = bank.cfg.lfsr_width, bank.ref()
    for seed_in in [random.getrandbits(width), (1 << width) - 1, ref.master_base >> 1]:
        await bank.seek(4)
        await bank.seed(seed_in)
        assert await bank.busy_clocks(bank.seek_clocks(0)) == bank.seek_clocks(0)
        assert value(dut.step) == 0, "seed must return to step 0"
        ref = bank.ref(seed_in)
        for t in (0, 6, 2):
            await bank.seek(t)
            await bank.check_load(ref, t, bank.fill and bool(t & 2), 12, 0.25,
                                  f"seed_in {seed_in:#x} step {t}")


@cocotb.test()
async def seed_and_seek_in_one_clock_seek_from_the_new_master0(dut):
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    seed_in, t = random.getrandbits(bank.cfg.lfsr_width), 3
    await bank.seek(5)
    dut.seed__payload.value = seed_in
    dut.seek__payload.value = t
    dut.seed__valid.value = 1
    dut.seek__valid.value = 1
    await clocks(dut)
    dut.seed__valid.value = 0
    dut.seek__valid.value = 0
    assert await bank.busy_clocks(bank.seek_clocks(t)) == bank.seek_clocks(t)
    assert value(dut.step) == t
    await bank.load(fill=False)
    ref = bank.ref(seed_in)
    ref.load(t)
    check(await bank.run(12, gap=0.0), ref.words(12), f"seed_in {seed_in:#x} with seek {t}")


@cocotb.test()
async def reset_mid_run_returns_to_after_reset_state(dut):
    """Reset during a seek and during a run: step 0, master0 = master_base, lanes at their step-0 states."""
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    await bank.seed(random.getrandbits(bank.cfg.lfsr_width) | 1)
    dut.seek__payload.value = 9
    dut.seek__valid.value = 1
    await clocks(dut)
    dut.seek__valid.value = 0
    await clocks(dut, 3)
    await bank.reset()
    assert value(dut.step) == 0 and value(dut.busy) == 0
    check(await bank.run(16, gap=0.0), bank.ref().words(16), "after reset during seek")
    await bank.seek(5)
    await bank.load(fill=False)
    await bank.run(7, gap=0.0)
    await bank.reset()
    ref = bank.ref()
    check(await bank.run(16, gap=0.0), ref.words(16), "after reset during run")
    await bank.seek(3)
    await bank.load(fill=False)
    ref.load(3)
    check(await bank.run(16, gap=0.0), ref.words(16), "step 3 after reset")


@cocotb.test()
async def seek_abandoned_mid_walk_still_lands_on_its_step(dut):
    """A seek request in any clock of a running seek (decide, prime, walk) restarts the
    seek from master0: the master and ``step`` agree again once ``busy`` falls."""
    start_clock(dut)
    bank = Bank(dut)
    await bank.reset()
    ref = bank.ref()
    top = min(12, (1 << bank.cfg.step_bits) - 1)
    for delay in range(bank.seek_clocks(3)):
        first, then = random.randrange(top + 1), random.randrange(top + 1)
        dut.seek__payload.value = first
        dut.seek__valid.value = 1
        await clocks(dut)
        dut.seek__valid.value = 0
        await clocks(dut, delay)
        await bank.seek(then)
        await bank.check_load(ref, then, False, 8, 0.0, f"seek {first}, {delay} clocks, then {then}")
