"""RTL of the CLT-k Gaussian baseline, bit-exact with :mod:`pezo.ref.gaussian.clt`."""

from __future__ import annotations

from amaranth import Const, Module
from amaranth.lib import wiring
from amaranth.utils import ceil_log2

from pezo.hw.gaussian.source import GaussianSource, Stages, core_signature, saturate
from pezo.hw.scaler import centred
from pezo.ref.config import PezoConfig
from pezo.ref.gaussian.tables import clt_scale


class CltCore(wiring.Component):
    """Datapath of CLT-k: P outputs, each the scaled sum of k centred uniform words.

    Output p sums lanes p*k .. p*k + k - 1 (centring is wiring, v = 2u + 1 - 2**B, signed
    B + 1 bits), by a registered adder tree of ceil(log2 k) levels; the sum S is scaled
    by the constant ``mult`` of :func:`pezo.ref.gaussian.tables.clt_scale` as a
    registered tree adding ``+-(S << bit)`` for its canonical signed digits plus the
    rounding constant ``2**(shift-1)``; the last stage shifts right by ``shift`` and
    saturates (only when sqrt(3k) * 2**F can exceed the B-bit range) into the output
    register: signed B bits, F fractional bits.

    Latency: ``ceil(log2 k) + ceil(log2(digits + 1)) + 1`` clocks (6 for k = 12, where
    the constant is 1); throughput P words per clock. Interface: :func:`core_signature`
    with K = k * P.
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        self.scale = clt_scale(cfg)
        k = cfg.clt_k
        self.latency = ceil_log2(k) + ceil_log2(len(self.scale.digits) + 1) + 1
        super().__init__(core_signature(cfg, k * cfg.parallel))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, scale = self.cfg, self.scale
        B, k = cfg.word_bits, cfg.clt_k
        st = Stages(m, self.en)
        bound = k * ((1 << B) - 1) * scale.mult
        rounding = 1 << (scale.shift - 1)
        low, high = (-bound + rounding) >> scale.shift, (bound + rounding) >> scale.shift
        for p in range(cfg.parallel):
            terms = [centred(self.u[p * k + j], B) for j in range(k)]
            total = st.adder_tree(terms, f"sum{p}")
            scaled = [(total << bit) if sign > 0 else -(total << bit) for sign, bit in scale.digits]
            product = st.adder_tree(scaled + [Const(rounding)], f"scale{p}")
            m.d.comb += self.z[p].eq(st.reg(saturate(product >> scale.shift, B, low, high), f"z{p}"))
        m.d.comb += self.z_valid.eq(st.valid_chain(self.valid, self.flush, self.latency))
        return m


class CltGaussian(GaussianSource):
    """CLT-k Gaussian baseline with the common perturbation-source interface.

    An LfsrBank of K = k * P lanes feeds a :class:`CltCore`; every word equals
    ``pezo.ref.gaussian.clt.CltGaussian(cfg, seed_in).samples(t, n)``. See
    :class:`pezo.hw.gaussian.source.GaussianSource` for ``start`` / ``seed`` / ``z``;
    latency from start(t) to the first word: 2 + J + core latency clocks.
    """

    def __init__(self, cfg: PezoConfig):
        super().__init__(cfg, cfg.clt_k * cfg.parallel, CltCore(cfg))
