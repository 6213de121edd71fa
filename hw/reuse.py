"""Random-number reuse: the banked pool with its address generator (``pool``), or the
repeat/variation logic (``stream`` / ``none``). The RTL of ref/reuse.py, bit for bit.

``pool`` (N = pool_size, P = parallel, D = N/P >= 2 words per bank, Q = max(P, 2)):
    the pool is P memories (``amaranth.lib.memory.Memory``, one write and one read port
    each, so Yosys may map them to LUT-RAM or block RAM); pool word j lives in bank
    j mod P at address j // P. ``place`` sets lane p's address register to
    ``(o_0 + p*s) mod D`` with ``o_0 = w0 mod D``, ``s = w1 mod (N/Q)`` (``p*s`` as
    constant shift-adds). Reads go in wraps of D (N parameters): a read adds the shared
    increment register ``inc`` to every address, which holds ``stride mod D =
    (1 + Q*s) mod D`` except for the last read of a wrap, where it holds
    ``(stride + wn) mod D`` (``wn`` = the next wrap's fresh word w_{w+1}): after D
    strides the addresses are back at ``o_w + p*s``, and the extra ``wn`` moves them to
    ``o_{w+1} + p*s``. ``inc`` is set one read ahead (from ``stride`` and the low bits of
    ``wn``), so the lanes see only a register: lane p always reads bank p, with one read
    port and one adder per lane.
``stream`` / ``none`` (R = effective_repeat, K = max(1, P/R) lanes):
    output word p of transfer c is parameter i = c*P + p, built from fresh word i // R
    with variation r = i mod R: ``rotl_B(u, (r*B)//R)``, complemented when r is odd.
    When R <= P the fresh word is lane p // R of the current bank clock and r = p mod R:
    fixed wiring, and the bank advances every transfer. When R > P (so K = 1) a phase
    counter ph = c mod (R/P) gives r = ph*P + p (a small multiplexer per lane) and the
    bank advances once every R/P transfers.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.hdl import Value
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from pezo.ref.config import PezoConfig


def _log2(n: int) -> int:
    return n.bit_length() - 1


def varied(u: Value, r: int, cfg: PezoConfig) -> Value:
    """u' = rotl_B(u, (r*B)//R), complemented for odd r (constant r: wiring and inverters)."""
    B, R = cfg.word_bits, cfg.effective_repeat
    rotated = u.rotate_left((r * B) // R % B)
    return ~rotated if r & 1 else rotated


def times_const(value: Value, factor: int) -> Value:
    """value * factor for a constant factor >= 0, as a sum of shifted copies."""
    terms = [value << b for b in range(factor.bit_length()) if factor >> b & 1]
    return sum(terms[1:], terms[0]) if terms else value & 0


class ReuseBuffer(wiring.Component):
    """The reuse stage of the PeZO engine; its ports depend on ``cfg.strategy``.

    Attributes (``pool``)
    ---------------------
    write_en : In(1), write ``write_data`` to pool word ``write_index`` at this clock edge.
    write_index : In(unsigned(log2 N)), pool index j (bank j mod P, address j // P).
    write_data : In(signed(B)), a scaled perturbation word (F fractional bits).
    place : In(1), set the lane addresses of a step from ``w0`` and ``w1`` and start
        wrap 0 (priority over ``read_en``).
    w0, w1 : In(unsigned(B)), the step's first two fresh words from lane 0.
    wn : In(unsigned(B)), the fresh word of the next wrap's offset: w_{w+1} during wrap
        w. Sampled at the second-to-last read of the wrap (``inc`` is set one read ahead),
        so it must be valid from the first read of the wrap on; the engine draws the
        next one at the ``wrap`` read.
    read_en : In(1), read the P words at the lane addresses and advance each address
        (by the stride, or across a wrap boundary as above). Latency 1: ``words`` shows
        them from the next clock on and holds them while ``read_en`` is 0. Throughput:
        P words per clock.
    wrap : Out(1), this read is the last of a wrap (combinational): ``wn`` is consumed
        when it happens, so the next word must be drawn then.
    words : Out(ArrayLayout(signed(B), P)), the last words read; element p is parameter
        c*P + p of read c after ``place``.

    Attributes (``stream`` / ``none``)
    ----------------------------------
    lanes : In(ArrayLayout(unsigned(B), K)), the bank's words of the current bank clock.
    u : Out(ArrayLayout(unsigned(B), P)), the P uniform words of this transfer
        (combinational, latency 0).
    advance : Out(1), this transfer uses the last variation of ``lanes``: the bank must
        leap when the transfer happens (constant 1 when R <= P).
    next : In(1), the transfer happens: move to the next phase.
    restart : In(1), phase to 0 (start of a step); priority over ``next``.
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        B, P = cfg.word_bits, cfg.parallel
        if cfg.strategy == "pool":
            members = {
                "write_en": In(1),
                "write_index": In(unsigned(_log2(cfg.pool_size))),
                "write_data": In(signed(B)),
                "place": In(1),
                "w0": In(unsigned(B)),
                "w1": In(unsigned(B)),
                "wn": In(unsigned(B)),
                "read_en": In(1),
                "wrap": Out(1),
                "words": Out(data.ArrayLayout(signed(B), P)),
            }
        else:
            members = {
                "lanes": In(data.ArrayLayout(unsigned(B), cfg.lanes)),
                "u": Out(data.ArrayLayout(unsigned(B), P)),
                "advance": Out(1),
                "next": In(1),
                "restart": In(1),
            }
        super().__init__(members)

    def elaborate(self, platform) -> Module:
        m = Module()
        if self.cfg.strategy == "pool":
            self._pool(m)
        else:
            self._stream(m)
        return m

    def _pool(self, m: Module) -> None:
        cfg = self.cfg
        P, N = cfg.parallel, cfg.pool_size
        Q = max(P, 2)
        D = N // P
        abits, pbits = _log2(D), _log2(P)
        s = Signal(_log2(N // Q))
        stride = Signal(abits)
        inc = Signal(abits)
        clock = Signal(abits)
        m.d.comb += [
            s.eq(self.w1),
            self.wrap.eq(clock == D - 1),
        ]
        with m.If(self.place):
            m.d.sync += [
                stride.eq(1 + (s << _log2(Q))),
                inc.eq(1 + (s << _log2(Q))),
                clock.eq(0),
            ]
        with m.Elif(self.read_en):
            m.d.sync += [
                clock.eq(clock + 1),
                inc.eq(Mux(clock == D - 2, stride + self.wn[:abits], stride)),
            ]
        for p in range(P):
            bank = Memory(shape=signed(cfg.word_bits), depth=D, init=[])
            m.submodules[f"bank{p}"] = bank
            wr = bank.write_port()
            rd = bank.read_port()
            addr = Signal(abits, name=f"addr{p}")
            m.d.comb += [
                wr.addr.eq(self.write_index >> pbits),
                wr.data.eq(self.write_data),
                wr.en.eq(self.write_en & (self.write_index[:pbits] == p if pbits else 1)),
                rd.addr.eq(addr),
                rd.en.eq(self.read_en),
                self.words[p].eq(rd.data),
            ]
            with m.If(self.place):
                m.d.sync += addr.eq(self.w0[:abits] + times_const(s, p))
            with m.Elif(self.read_en):
                m.d.sync += addr.eq(addr + inc)

    def _stream(self, m: Module) -> None:
        cfg = self.cfg
        P, R = cfg.parallel, cfg.effective_repeat
        if R <= P:
            m.d.comb += self.advance.eq(1)
            for p in range(P):
                m.d.comb += self.u[p].eq(varied(self.lanes[p // R], p % R, cfg))
            return
        phases = R // P
        phase = Signal(range(phases))
        m.d.comb += self.advance.eq(phase == phases - 1)
        with m.If(self.restart):
            m.d.sync += phase.eq(0)
        with m.Elif(self.next):
            m.d.sync += phase.eq(phase + 1)
        with m.Switch(phase):
            for ph in range(phases):
                with m.Case(ph):
                    for p in range(P):
                        m.d.comb += self.u[p].eq(varied(self.lanes[0], ph * P + p, cfg))
