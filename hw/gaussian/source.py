"""What the Gaussian baselines share: the pipeline core interface and its helpers, and the
wrapper that feeds a core from an :class:`pezo.hw.lfsr.LfsrBank` behind the common
``start`` / ``seed`` / ``z`` interface of every perturbation source.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from pezo.hw.arith import adder_tree
from pezo.hw.lfsr import LfsrBank
from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig


def core_signature(cfg: PezoConfig, lanes: int, lane_bits: int | None = None) -> wiring.Signature:
    """Interface of a baseline datapath core (K = ``lanes`` uniform words in, P out).

    ``u`` : In(ArrayLayout(unsigned(L), K)), the uniform words of one clock (L =
    ``lane_bits``, default B);
    ``valid`` : In(1), ``u`` holds words to be transformed at this clock;
    ``en`` : In(1), the whole pipeline advances at this clock edge (stall when 0);
    ``flush`` : In(1), every word in flight is discarded (valid bits cleared);
    ``z`` : Out(ArrayLayout(signed(B), P)), ``z_valid`` : Out(1), the registered result.
    """
    return wiring.Signature({
        "u": In(data.ArrayLayout(lane_bits or cfg.word_bits, lanes)),
        "valid": In(1),
        "en": In(1),
        "flush": In(1),
        "z": Out(data.ArrayLayout(signed(cfg.word_bits), cfg.parallel)),
        "z_valid": Out(1),
    })


class Stages:
    """Pipeline registers of a core: ``reg(value)`` is ``value`` one clock later, loaded
    only when ``en`` is 1 (reset-less datapath flip-flops with clock enable)."""

    def __init__(self, m: Module, en: Value):
        self.m = m
        self.en = en

    def reg(self, value: Value, name: str) -> Signal:
        r = Signal(Value.cast(value).shape(), name=name, reset_less=True)
        with self.m.If(self.en):
            self.m.d.sync += r.eq(value)
        return r

    def regs(self, values: list[Value], name: str) -> list[Signal]:
        return [self.reg(v, f"{name}{i}") for i, v in enumerate(values)]

    def delay(self, value: Value, clocks: int, name: str) -> Value:
        for i in range(clocks):
            value = self.reg(value, f"{name}_d{i}")
        return value

    def valid_chain(self, valid: Value, flush: Value, latency: int) -> Signal:
        """The valid bit of the word that entered ``latency`` clocks ago (reset to 0,
        cleared by ``flush``)."""
        bits = Signal(latency, name="valid_chain")
        with self.m.If(flush):
            self.m.d.sync += bits.eq(0)
        with self.m.Elif(self.en):
            self.m.d.sync += bits.eq((bits << 1) | valid)
        return bits[latency - 1]

    def adder_tree(self, terms: list[Value], name: str) -> Value:
        """Sum of ``terms`` by :func:`pezo.hw.arith.adder_tree` with one register level
        per adder level (registers ``<name>_l<level>_<i>``): latency ceil(log2
        len(terms)) clocks."""
        return adder_tree(terms, lambda values, level: self.regs(values, f"{name}_l{level}_"))


def saturate(value: Value, bits: int, low: int, high: int) -> Value:
    """``value`` clamped to signed ``bits`` bits when its known range [low, high] exceeds
    them; plain truncation (no logic) when it does not."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    out = value
    if high > hi:
        out = Mux(value > hi, hi, out)
    if low < lo:
        out = Mux(value < lo, lo, out)
    return out.as_signed()[:bits].as_signed()


class GaussianSource(wiring.Component):
    """A perturbation source: an LfsrBank of K lanes feeding a pipelined datapath core.

    ``core`` is the datapath: a component with :func:`core_signature` for K = ``lanes``
    and L = ``lane_bits`` (the bank's word width, default B) and a ``latency`` attribute
    (clocks from ``u`` to ``z``).

    Attributes (the common interface)
    ---------------------------------
    start : In(stream of unsigned(S)), always ready. start(t) flushes the pipeline,
        seeks step t in the bank (one master jump per clock), loads the lanes (K
        clocks, a chain), then feeds the core one clock of words per pipeline advance,
        forever.
    seed : In(stream of unsigned(W)), always ready. Sets the bank's master0 (see
        :class:`pezo.hw.lfsr.LfsrBank`), flushes and goes idle at step 0. A start in the
        same clock applies after the seed.
    z : Out(stream of ArrayLayout(signed(B), P)): element p of transfer c is word c*P + p
        of the step, F fractional bits. Back-pressure stalls the whole pipeline and the
        bank (``en = ~z.valid | z.ready``), so nothing is lost or duplicated.
    latency : int, the core's ``latency``: clocks from a clock of lane words to its z
        words.

    Latency: ``J + K + 4 + latency`` clocks from the clock where start(t) is valid to the
    first valid z (J = master jumps of the seek, K lanes loaded by a chain; the bank's
    registered ``busy`` adds a clock to the seek and to the load); then P words per
    clock.
    """

    def __init__(self, cfg: PezoConfig, lanes: int, core: wiring.Component, lane_bits: int | None = None):
        self.cfg = cfg
        self.lanes = lanes
        self.lane_bits = lane_bits or cfg.word_bits
        self.core = core
        self.latency = core.latency
        super().__init__(SourceSignature.from_config(cfg))

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        m.submodules.bank = bank = LfsrBank(cfg.lfsr_width, self.lane_bits, self.lanes, cfg.seed,
                                            cfg.step_bits)
        m.submodules.core = core = self.core
        pending = Signal()   # a seek is under way: load the lanes when the bank is idle
        loading = Signal()   # the lanes are loading: run when the bank is idle again
        running = Signal()   # lanes loaded: bank.words is the next clock of words
        en = ~self.z.valid | self.z.ready
        restart = self.start.valid | self.seed.valid
        m.d.comb += [
            self.start.ready.eq(1),
            self.seed.ready.eq(1),
            bank.seed.valid.eq(self.seed.valid),
            bank.seed.payload.eq(self.seed.payload),
            bank.seek.valid.eq(self.start.valid),
            bank.seek.payload.eq(self.start.payload),
            bank.load.eq(pending & ~bank.busy & ~restart),
            bank.advance.eq(running & en & ~restart),
            core.u.eq(bank.words),
            core.valid.eq(running),
            core.en.eq(en),
            core.flush.eq(restart),
            self.z.payload.eq(core.z),
            self.z.valid.eq(core.z_valid),
        ]
        with m.If(restart):
            m.d.sync += [pending.eq(self.start.valid), loading.eq(0), running.eq(0)]
        with m.Elif(bank.load):
            m.d.sync += [pending.eq(0), loading.eq(1)]
        with m.Elif(loading & ~bank.busy):
            m.d.sync += [loading.eq(0), running.eq(1)]
        return m
