"""``lfsr-floor``: P bare leap-forward LFSR lanes with a seed load, the physical floor
of every design's cost (the RTL of ref/floor.py, whose docstring is the contract).

It has the common interface so that the same synthesis and place-and-route harness
measures it, but it is not a perturbation source: ``start`` is accepted and ignored
(no seek, no replay).
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring

from pezo.hw.lfsr import apply_rows
from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig
from pezo.ref.floor import FloorModel
from pezo.ref.lfsr import derive_seeds, leap_rows


class LfsrFloor(wiring.Component):
    """P W-bit LFSR lanes leaping B bits per clock: P words per clock.

    Attributes
    ----------
    start : In(stream of unsigned(S)), always ready, ignored.
    seed : In(stream of unsigned(W)), always ready: lane k <- (payload ^ base[k]) | 1.
    z : Out(stream of ArrayLayout(signed(B), P)), valid in every clock; element p is
        lane p's next leap word (the low B bits after the leap, as signed); the lanes
        leap when a transfer happens. Latency 0, throughput P words per clock.
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        W, B = cfg.lfsr_width, cfg.word_bits
        leap = leap_rows(W, B)
        m.d.comb += [self.start.ready.eq(1), self.seed.ready.eq(1), self.z.valid.eq(1)]
        bases = derive_seeds(cfg.seed, cfg.parallel, W)
        for k, init in enumerate(FloorModel.initial_states(cfg)):
            state = Signal(W, name=f"lane{k}", init=init)
            nxt = apply_rows(leap, state)
            m.d.comb += self.z.payload[k].eq(nxt[:B])
            with m.If(self.seed.valid):
                m.d.sync += state.eq((self.seed.payload ^ bases[k]) | 1)
            with m.Elif(self.z.ready):
                m.d.sync += state.eq(nxt)
        return m
