"""RTL of the Rademacher source, bit-exact with :mod:`pezo.ref.rademacher` (whose
docstring defines the bit order and values)."""

from __future__ import annotations

from amaranth import Module, Mux
from amaranth.lib import wiring

from pezo.hw.gaussian.source import GaussianSource, Stages, core_signature
from pezo.ref.config import PezoConfig
from pezo.ref.rademacher import rademacher_lanes


class RademacherCore(wiring.Component):
    """Datapath: element p is -2**F when bit (p mod B) of lane (p div B) is 1, else
    +2**F, into the output register (signed B bits, F fractional bits).

    Latency 1 clock, throughput P words per clock; one B-bit register per element
    (two constant values: a 2:1 choice per bit, mostly wiring). Interface:
    :func:`pezo.hw.gaussian.source.core_signature` with K = ceil(P / B).
    """

    #: clocks from ``u`` to ``z``
    latency = 1

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        super().__init__(core_signature(cfg, rademacher_lanes(cfg)))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        B, one = cfg.word_bits, 1 << cfg.frac_bits
        st = Stages(m, self.en)
        for p in range(cfg.parallel):
            bit = self.u[p // B][p % B]
            m.d.comb += self.z[p].eq(st.reg(Mux(bit, -one, one), f"z{p}"))
        m.d.comb += self.z_valid.eq(st.valid_chain(self.valid, self.flush, self.latency))
        return m


class RademacherSource(GaussianSource):
    """Rademacher (+-1) perturbations with the common perturbation-source interface.

    An LfsrBank of K = ceil(P / B) lanes feeds a :class:`RademacherCore` through the
    wrapper of the baselines (:class:`pezo.hw.gaussian.source.GaussianSource`: the same
    ``start`` / ``seed`` / ``z``, seek, lane load, back-pressure and replay); every word
    equals ``pezo.ref.rademacher.Rademacher(cfg, seed_in).samples(t, n)``. Latency from
    start(t) to the first word: J + K + 4 + 1 clocks (GaussianSource).
    """

    def __init__(self, cfg: PezoConfig):
        super().__init__(cfg, rademacher_lanes(cfg), RademacherCore(cfg))
