"""Adaptive uniform scaler: centring, moment estimate, mantissa ladder, shift-add.

The RTL of ref/scaler.py, bit for bit (B = word_bits, F = frac_bits, M = mantissa_bits,
T = moment_bits, sh = B + M - F):

* centring is free wiring: ``v = {~u[B-1], u[B-2:0], 1}`` (signed, B+1 bits, odd);
* ``|v| = {u[B-2:0] ^ {B-1{~u[B-1]}}, 1}`` (B bits, no negation), ``q = |v| >> (B-T)``
  (T bits) and the accumulator adds ``q*q + q`` per moment word;
* after the n-th moment word of a window (n = ``window``) the mantissa register takes
  ``2**M + #{m : acc < theta[m]}`` (a comparator ladder against the constant
  thresholds of :func:`pezo.ref.scaler.mantissa_thresholds`) and the accumulator clears;
  the thresholds are non-increasing, so the ladder is a thermometer code and its count
  is a one-hot encoder, not an adder tree;
* ``z = (v*mant + 2**(sh-1)) >> sh``, where ``v*mant`` is the sum of the M+1 copies
  ``v << j`` gated by the bits ``mant[j]`` (bit M is always set): adders only, no
  general multiplier, summed as a balanced tree.

Both paths are pipelined (:data:`LATENCY` clocks, all stages advanced by one enable), so
no clock holds more than one of: the moment term ``q*q + q``, the accumulator add, the
ladder, the shift-add.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.hdl import Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.scaler import acc_bits, mantissa_range, mantissa_thresholds, nominal_mantissa

#: Clocks (with ``en`` = 1) from a word on ``u`` to its scaled word on ``z``: two delay
#: stages matching the moment pipeline (term, accumulator, ladder) and the output register.
LATENCY = 3


def centred(u: Value, word_bits: int) -> Value:
    """v = 2u + 1 - 2**B as wiring: signed, B+1 bits."""
    return Cat(Const(1, 1), u[:word_bits - 1], ~u[word_bits - 1]).as_signed()


def magnitude(u: Value, word_bits: int) -> Value:
    """|v| of the centred word, unsigned B bits: the low bits of u, inverted when v < 0."""
    low = u[:word_bits - 1] ^ (~u[word_bits - 1]).replicate(word_bits - 1)
    return Cat(Const(1, 1), low)


def tree_sum(terms: list[Value]) -> Value:
    """The sum of ``terms`` as a balanced adder tree (depth ceil(log2 len))."""
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
                 for i in range(0, len(terms), 2)]
    return terms[0]


def shift_add_scale(v: Value, mant: Value, cfg: PezoConfig) -> Value:
    """z = (v*mant + 2**(sh-1)) >> sh as a sum of gated shifted copies of v: signed B bits."""
    M, sh = cfg.mantissa_bits, cfg.scale_shift
    terms = [Mux(mant[j], v << j, 0) for j in range(M)] + [v << M, Const(1 << (sh - 1))]
    return (tree_sum(terms) >> sh)[:cfg.word_bits].as_signed()


def thermometer_count(bits: list[Value]) -> Value:
    """The number of set bits of a thermometer code (bits[i] implies bits[i-1])."""
    width = len(bits).bit_length()
    ends = [bits[i] & ~bits[i + 1] for i in range(len(bits) - 1)] + [bits[-1]]
    return Cat(*(Cat(*(ends[i] for i in range(len(bits)) if (i + 1) >> k & 1)).any()
                 for k in range(width)))


def _window_and_width(cfg: PezoConfig, window: int | None, width: int | None) -> tuple[int, int]:
    """The scaler's moment window and words per clock (defaults from ``cfg``), validated."""
    pool = cfg.strategy == "pool"
    window = (cfg.pool_size if pool else cfg.moment_block) if window is None else window
    width = (1 if pool else cfg.parallel) if width is None else width
    if width < 1:
        raise ConfigError("width", width, "must be at least 1")
    if window < 1 or window & (window - 1):
        raise ConfigError("window", window, "must be a power of two")
    return window, width


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
    en : In(1), advance the pipeline this clock (both the scale and the moment path):
        a clock with ``en`` = 0 changes nothing but ``restart``'s effects.
    u : In(ArrayLayout(unsigned(B), width)), uniform words to scale, taken when ``en``.
    z : Out(ArrayLayout(signed(B), width)), ``z[k] = apply_scale(centre(u[k]), mant)``:
        signed two's complement, F fractional bits, registered. Latency :data:`LATENCY`
        (3) enabled clocks from ``u`` to ``z``; ``width`` words per clock.
    moment_u : In(unsigned(B)), the uniform word whose centred value enters the moment.
    moment_en : In(1), add ``moment_u`` this clock (only with ``en``). Words given on
        ``u`` up to this clock are scaled with the old mantissa; if it is the n-th word
        of a window, words given on ``u`` from the next enabled clock on are scaled with
        the mantissa of the window (the moment path takes three stages: term
        ``q*q + q``, accumulator, ladder; the scale path delays ``u`` to match).
    restart : In(1), accumulator, window count and moment pipeline to 0, mantissa to the
        nominal one of ``pezo.ref.scaler.nominal_mantissa(cfg, n)`` (also the value after
        reset). Acts whatever ``en``; priority over ``moment_en``.
    mant : Out(unsigned(M+1)), the mantissa register, in [2**M, 2**(M+1) - 1].
    """

    def __new__(cls, cfg: PezoConfig, *, window: int | None = None, width: int | None = None, **kwargs):
        # checked before Amaranth tracks the object, so a rejected one is not reported unused
        _window_and_width(cfg, window, width)
        return super().__new__(cls, **kwargs)

    def __init__(self, cfg: PezoConfig, *, window: int | None = None, width: int | None = None):
        window, width = _window_and_width(cfg, window, width)
        self.cfg = cfg
        self.window = window
        self.width = width
        B, M = cfg.word_bits, cfg.mantissa_bits
        super().__init__({
            "en": In(1),
            "u": In(data.ArrayLayout(unsigned(B), width)),
            "z": Out(data.ArrayLayout(signed(B), width)),
            "moment_u": In(unsigned(B)),
            "moment_en": In(1),
            "restart": In(1),
            "mant": Out(unsigned(M + 1), init=nominal_mantissa(cfg, window)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        self._moment(m)
        self._scale(m)
        return m

    def _moment(self, m: Module) -> None:
        cfg, B, T = self.cfg, self.cfg.word_bits, self.cfg.moment_bits
        q = Signal(T)
        term = Signal(2 * T)
        term_en = Signal()
        term_last = Signal()
        acc = Signal(acc_bits(self.window, cfg))
        total = Signal(len(acc))
        total_en = Signal()
        count = Signal(range(self.window))
        m.d.comb += q.eq(magnitude(self.moment_u, B)[B - T:])
        ladder = [total < theta for theta in mantissa_thresholds(cfg, self.window)]
        lo, _ = mantissa_range(cfg)

        with m.If(self.restart):
            m.d.sync += [acc.eq(0), count.eq(0), term_en.eq(0), total_en.eq(0),
                         self.mant.eq(nominal_mantissa(cfg, self.window))]
        with m.Elif(self.en):
            m.d.sync += [term.eq(q * q + q), term_en.eq(self.moment_en),
                         term_last.eq(count == self.window - 1), total_en.eq(term_en & term_last)]
            with m.If(self.moment_en):
                m.d.sync += count.eq(count + 1)
            with m.If(term_en):
                m.d.sync += acc.eq(Mux(term_last, 0, acc + term))
                m.d.sync += total.eq(acc + term)
            with m.If(total_en):
                m.d.sync += self.mant.eq(lo | thermometer_count(ladder))

    def _scale(self, m: Module) -> None:
        cfg, B = self.cfg, self.cfg.word_bits
        delayed = [Signal.like(self.u, name=f"u{i}") for i in range(LATENCY - 1)]
        with m.If(self.en):
            m.d.sync += [d.eq(src) for d, src in zip(delayed, [self.u, *delayed])]
            for k in range(self.width):
                m.d.sync += self.z[k].eq(shift_add_scale(centred(delayed[-1][k], B), self.mant, cfg))
