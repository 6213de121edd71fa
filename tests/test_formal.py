"""Bounded formal checks of the source interface (pezo.flow.formal): the engine keeps
the stream rule, the checks can fail, and the depth reaches real transfers."""

from __future__ import annotations

import pytest
from amaranth import Module, Signal
from amaranth.hdl import Assert
from amaranth.lib import wiring

from pezo.flow import formal
from pezo.flow.formal import SourceProperties, prove
from pezo.hw.designs import make_design
from pezo.hw.source import SourceSignature
from pezo.ref.config import preset

SMALL_STREAM = preset("small").replace(strategy="stream")


class Counter(wiring.Component):
    """A 4-bit toy source: z = a counter that start(t) sets to t (unless ``keeps``) and
    each transfer advances (each clock, if ``ignores_ready``)."""

    def __init__(self, *, keeps: bool = False, ignores_ready: bool = False):
        self.keeps, self.ignores_ready = keeps, ignores_ready
        super().__init__(SourceSignature(step_bits=4, seed_bits=4, word_bits=4, parallel=1))

    def elaborate(self, platform):
        m = Module()
        count = Signal(4)
        m.d.comb += [self.start.ready.eq(1), self.seed.ready.eq(1), self.z.payload[0].eq(count)]
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
    (Counter(keeps=True), False),        # a replayed start gives other words
    (Counter(ignores_ready=True), False),  # z changes while not ready
], ids=["good", "no-replay", "ignores-ready"])
def test_checks_pass_on_a_good_source_and_fail_on_mutants(source, passes, tmp_path):
    assert prove(lambda cfg: source, SMALL_STREAM, tmp_path, depth=8, name="counter").passed is passes


def test_engine_keeps_the_stream_rule_for_16_clocks(tmp_path):
    result = prove(lambda cfg: make_design("engine", cfg), SMALL_STREAM, tmp_path, depth=16, name="engine")
    assert result.passed, result.log


def test_16_clocks_reach_a_transfer_of_the_engine(tmp_path, monkeypatch):
    """The check is not vacuous: asserting that no transfer happens fails within the depth."""
    class NoTransfer(SourceProperties):
        def elaborate(self, platform):
            m = super().elaborate(platform)
            m.d.comb += Assert(~(self.dut.z.valid & self.dut.z.ready))
            return m

    monkeypatch.setattr(formal, "SourceProperties", NoTransfer)
    assert not prove(lambda cfg: make_design("engine", cfg), SMALL_STREAM, tmp_path, depth=16, name="reach").passed
