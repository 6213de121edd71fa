"""Adaptive uniform scaler: centring, moment estimate, mantissa ladder, shift-add.

The RTL of ref/scaler.py, bit for bit (B = word_bits, F = frac_bits, M = mantissa_bits,
T = moment_bits, sh = B + M - F):

* centring is free wiring: ``v = {~u[B-1], u[B-2:0], 1}`` (signed, B+1 bits, odd);
* ``|v| = {u[B-2:0] ^ {B-1{~u[B-1]}}, 1}`` (B bits, no negation), ``q = |v| >> (B-T)``
  (T bits) and the accumulator adds ``q*q + q`` per moment word;
* after the n-th moment word of a window (n = ``window``) the mantissa register takes
  ``2**M + #{m : acc < theta[m]}`` (a comparator ladder against the constant
  thresholds of :func:`pezo.ref.scaler.mantissa_thresholds`) and the accumulator clears;
* ``z = (v*mant + 2**(sh-1)) >> sh``, where ``v*mant`` is the sum of the M+1 copies
  ``v << j`` gated by the bits ``mant[j]`` (bit M is always set): adders only, no
  general multiplier.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.hdl import Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.scaler import acc_bits, mantissa_range, mantissa_thresholds, nominal_mantissa


def centred(u: Value, word_bits: int) -> Value:
    """v = 2u + 1 - 2**B as wiring: signed, B+1 bits."""
    return Cat(Const(1, 1), u[:word_bits - 1], ~u[word_bits - 1]).as_signed()


def magnitude(u: Value, word_bits: int) -> Value:
    """|v| of the centred word, unsigned B bits: the low bits of u, inverted when v < 0."""
    low = u[:word_bits - 1] ^ (~u[word_bits - 1]).replicate(word_bits - 1)
    return Cat(Const(1, 1), low)


def shift_add_scale(v: Value, mant: Value, cfg: PezoConfig) -> Value:
    """z = (v*mant + 2**(sh-1)) >> sh as a sum of gated shifted copies of v: signed B bits."""
    M, sh = cfg.mantissa_bits, cfg.scale_shift
    terms = [Mux(mant[j], v << j, 0) for j in range(M)] + [v << M]
    total = sum(terms[1:], terms[0]) + (1 << (sh - 1))
    return (total >> sh)[:cfg.word_bits].as_signed()


class UniformScaler(wiring.Component):
    """Centring, running second moment and shift-add scaling of uniform words.

    Parameters
    ----------
    cfg : the configuration (B, F, M, T).
    window : n, moment words per mantissa update (a power of two); default N
        (``pool_size``) for ``pool``, L (``moment_block``) for ``stream`` / ``none``.
    width : words scaled per clock; default 1 for ``pool`` (the pool is filled one word
        per clock), P for ``stream`` / ``none``.

    Attributes
    ----------
    u : In(ArrayLayout(unsigned(B), width)), uniform words to scale.
    z : Out(ArrayLayout(signed(B), width)), ``z[k] = apply_scale(centre(u[k]), mant)``:
        signed two's complement, F fractional bits. Combinational from ``u`` and the
        mantissa register (latency 0, ``width`` words per clock).
    moment_u : In(unsigned(B)), the uniform word whose centred value enters the moment.
    moment_en : In(1), add ``moment_u`` this clock; on the n-th word of a window the
        mantissa register is updated from the accumulator (including this word) at the
        clock edge and the accumulator clears, so the next clock scales with it.
    restart : In(1), accumulator and window count to 0, mantissa to the nominal one of
        ``pezo.ref.scaler.nominal_mantissa(cfg, n)`` (also the value after reset).
        Has priority over ``moment_en``.
    mant : Out(unsigned(M+1)), the mantissa in use, in [2**M, 2**(M+1) - 1].
    """

    def __init__(self, cfg: PezoConfig, *, window: int | None = None, width: int | None = None):
        pool = cfg.strategy == "pool"
        window = (cfg.pool_size if pool else cfg.moment_block) if window is None else window
        width = (1 if pool else cfg.parallel) if width is None else width
        if window < 1 or window & (window - 1) or width < 1:
            self._MustUse__silence = True  # never built: no "created but never used" warning
            if width < 1:
                raise ConfigError("width", width, "must be at least 1")
            raise ConfigError("window", window, "must be a power of two")
        self.cfg = cfg
        self.window = window
        self.width = width
        B, M = cfg.word_bits, cfg.mantissa_bits
        super().__init__({
            "u": In(data.ArrayLayout(unsigned(B), width)),
            "z": Out(data.ArrayLayout(signed(B), width)),
            "moment_u": In(unsigned(B)),
            "moment_en": In(1),
            "restart": In(1),
            "mant": Out(unsigned(M + 1), init=nominal_mantissa(cfg, window)),
        })

    def elaborate(self, platform) -> Module:
        cfg, B, T = self.cfg, self.cfg.word_bits, self.cfg.moment_bits
        m = Module()

        acc = Signal(acc_bits(self.window, cfg))
        count = Signal(range(self.window))
        q = Signal(T)
        acc_next = Signal(len(acc))
        m.d.comb += [
            q.eq(magnitude(self.moment_u, B)[B - T:]),
            acc_next.eq(acc + q * q + q),
        ]
        lo, _ = mantissa_range(cfg)
        ladder = [acc_next < theta for theta in mantissa_thresholds(cfg, self.window)]
        last = count == self.window - 1

        with m.If(self.restart):
            m.d.sync += [acc.eq(0), count.eq(0), self.mant.eq(nominal_mantissa(cfg, self.window))]
        with m.Elif(self.moment_en):
            m.d.sync += count.eq(count + 1)
            with m.If(last):
                m.d.sync += [acc.eq(0), self.mant.eq(lo + sum(ladder))]
            with m.Else():
                m.d.sync += acc.eq(acc_next)

        for k in range(self.width):
            m.d.comb += self.z[k].eq(shift_add_scale(centred(self.u[k], B), self.mant, cfg))
        return m
