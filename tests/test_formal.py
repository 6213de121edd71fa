"""Bounded formal checks (pezo.flow.formal): each property holds on the real components,
each check rejects a deliberately broken circuit, and each depth reaches the event the
property is about. ``make formal`` runs the longer checks of ``formal.checks()``."""

from __future__ import annotations

import pytest
from amaranth import Module, Signal
from amaranth.hdl import Assert
from amaranth.lib import wiring
from amaranth.lib.memory import Memory

from pezo.flow import formal
from pezo.flow.formal import (SMALL_STREAM, TINY_STREAM, BankProperties, ReplayMiter, SourceProperties, check,
                              prove)
from pezo.hw.designs import make_design
from pezo.hw.lfsr import LfsrBank
from pezo.hw.source import SourceSignature
from pezo.ref.config import preset


class Counter(wiring.Component):
    """A 4-bit toy source: z = a counter that start(t) sets to t (unless ``keeps``) and
    each transfer advances (each clock, if ``ignores_ready``). With ``table`` = D, z
    also reads a D-word memory at the counter (out of range for D < 16)."""

    def __init__(self, *, keeps: bool = False, ignores_ready: bool = False, table: int = 0):
        self.keeps, self.ignores_ready, self.table = keeps, ignores_ready, table
        super().__init__(SourceSignature(step_bits=4, seed_bits=4, word_bits=4, parallel=1))

    def elaborate(self, platform):
        m = Module()
        count = Signal(4)
        m.d.comb += [self.start.ready.eq(1), self.seed.ready.eq(1), self.z.payload[0].eq(count)]
        if self.table:
            m.submodules.table = table = Memory(shape=4, depth=self.table, init=range(self.table))
            read = table.read_port(domain="comb")
            m.d.comb += read.addr.eq(count)
        with m.If(self.start.valid):
            m.d.sync += self.z.valid.eq(1)
            if not self.keeps:
                m.d.sync += count.eq(self.start.payload)
        with m.Elif(self.seed.valid):
            m.d.sync += [self.z.valid.eq(0), count.eq(0)]
        with m.Elif(self.z.ready | self.ignores_ready):
            m.d.sync += count.eq(count + 1)
        return m


@pytest.mark.parametrize("source, passes", [
    (Counter(), True),
    (Counter(table=16), True),            # every 4-bit address lies in 16 words
    (Counter(keeps=True), False),         # a replayed start gives other words
    (Counter(ignores_ready=True), False),  # z changes while not ready
    (Counter(table=12), False),           # an address counter one bit too wide for its memory
], ids=["good", "table-in-range", "no-replay", "ignores-ready", "address-out-of-range"])
def test_source_checks_pass_on_a_good_source_and_fail_on_mutants(source, passes, tmp_path):
    assert prove(lambda cfg: source, SMALL_STREAM, tmp_path, depth=8, name="counter").passed is passes


@pytest.mark.parametrize("source, passes", [(Counter(), True), (Counter(ignores_ready=True), False)],
                         ids=["good", "ignores-ready"])
def test_yosys_sat_engine_agrees_with_symbiyosys(source, passes, tmp_path):
    """The fallback engine (Yosys' SAT solver) passes and rejects what SymbiYosys does."""
    assert check(SourceProperties(source), tmp_path, depth=8, name="counter", engine="sat").passed is passes


def test_engine_keeps_the_stream_rule_for_16_clocks(tmp_path):
    result = prove(lambda cfg: make_design("engine", cfg), SMALL_STREAM, tmp_path, depth=16, name="engine")
    assert result.passed, result.log


def test_the_pool_engine_reads_its_pool_in_range(tmp_path):
    """The pool copies' addresses (and the stream rule) on the small pool engine."""
    result = prove(lambda cfg: make_design("engine", cfg), preset("small"), tmp_path, depth=12, name="pool")
    assert result.passed, result.log
    assert "memory address out of range" in (tmp_path / "pool.il").read_text(), "no pool memory was found"


def test_the_source_depth_reaches_a_transfer_of_the_engine(tmp_path, monkeypatch):
    """The check is not vacuous: asserting that no transfer happens fails within the depth
    make formal gives the stream rule (21 clocks since UniformScaler registers its
    mantissa-gated copies of v: 20 no longer do)."""
    class NoTransfer(SourceProperties):
        def elaborate(self, platform):
            m = super().elaborate(platform)
            m.d.comb += Assert(~(self.dut.z.valid & self.dut.z.ready))
            return m

    monkeypatch.setattr(formal, "SourceProperties", NoTransfer)
    assert not prove(lambda cfg: make_design("engine", cfg), SMALL_STREAM, tmp_path, depth=formal.SOURCE_DEPTH,
                     name="reach").passed


class ZeroSeedBank(LfsrBank):
    """A broken bank: master_base keeps bit 0, so one runtime seed makes master0 zero and
    the next load puts zero into the lanes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.master_base |= 1


@pytest.mark.parametrize("cfg", [preset("small"), preset("stream")], ids=["small-pool", "stream"])
def test_no_lane_of_the_bank_holds_zero(cfg, tmp_path):
    result = check(BankProperties(LfsrBank.from_config(cfg)), tmp_path, depth=12, name="bank")
    assert result.passed, result.log


@pytest.mark.parametrize("cfg", [preset("small"), preset("stream")], ids=["small-pool", "stream"])
def test_the_lane_check_rejects_a_bank_that_can_load_zero(cfg, tmp_path):
    assert not check(BankProperties(ZeroSeedBank.from_config(cfg)), tmp_path, depth=12, name="zero").passed


def test_replay_miter_holds_for_the_stream_engine(tmp_path):
    result = check(ReplayMiter(lambda: make_design("engine", TINY_STREAM)), tmp_path, depth=16, name="replay")
    assert result.passed, result.log


def test_replay_miter_reaches_both_first_transfers(tmp_path):
    class Reach(ReplayMiter):
        def elaborate(self, platform):
            m = super().elaborate(platform)
            m.d.comb += Assert(~self.compared)
            return m

    # the depth make formal gives the miters reaches the compare (22 clocks since
    # UniformScaler registers its mantissa-gated copies of v: 21 no longer do)
    assert not check(Reach(lambda: make_design("engine", TINY_STREAM)), tmp_path, depth=formal.REPLAY_DEPTH,
                     name="reach").passed


@pytest.mark.parametrize("source, passes", [(Counter, True), (lambda: Counter(keeps=True), False)],
                         ids=["good", "history-dependent"])
def test_replay_miter_rejects_a_source_whose_words_depend_on_history(source, passes, tmp_path):
    assert check(ReplayMiter(source, words=2), tmp_path, depth=8, name="miter").passed is passes


def test_make_formal_checks_all_pass(tmp_path):
    """Every check of ``make formal`` (about 20 s with SymbiYosys and Boolector, so CI runs
    them all)."""
    for item in formal.checks():
        name = item.name.split(":")[0]
        result = check(item.harness(), tmp_path / name, depth=item.depth, name=name)
        assert result.passed, (item.name, result.log)
