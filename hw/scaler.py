"""Adaptive uniform scaling, the RTL of ref/scaler.py bit for bit (B = word_bits,
F = frac_bits, M = mantissa_bits, T = moment_bits, sh = B + M - F):

* :class:`UniformScaler` (``stream`` / ``none``): P words per clock, a running moment
  over windows of L words and a mantissa ladder, pipelined (``latency`` 3);
* :class:`PoolScaler` (``pool``): the pool fill, sequential, since it runs once per
  epoch: a moment-and-mean pass, an M-clock binary search, and a bit-serial scaling
  pass that writes the mean-free words (ref/scaler.py section 5).

Shared wiring: centring ``v = {~u[B-1], u[B-2:0], 1}`` (signed, B+1 bits, odd);
``|v| = {u[B-2:0] ^ {B-1{~u[B-1]}}, 1}`` (B bits, no negation); ``q = |v| >> (B-T)``
and the moment term ``q*q + q`` from a 2**T-entry table (:func:`moment_term`).
"""

from __future__ import annotations

import enum

from amaranth import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.hdl import Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from pezo.errors import ConfigError
from pezo.hw.arith import adder_tree
from pezo.ref.config import PezoConfig
from pezo.ref.scaler import acc_bits, mantissa_range, mantissa_thresholds, nominal_mantissa, search_thresholds


def centred(u: Value, word_bits: int) -> Value:
    """v = 2u + 1 - 2**B as wiring: signed, B+1 bits."""
    return Cat(Const(1, 1), u[:word_bits - 1], ~u[word_bits - 1]).as_signed()


def magnitude(u: Value, word_bits: int) -> Value:
    """|v| of the centred word, unsigned B bits: the low bits of u, inverted when v < 0."""
    low = u[:word_bits - 1] ^ (~u[word_bits - 1]).replicate(word_bits - 1)
    return Cat(Const(1, 1), low)


def moment_term(q: Value, moment_bits: int) -> Value:
    """q*q + q of the T-bit q as a 2**T-entry constant table (no multiplier): 2T bits."""
    return Array(Const(x * x + x, 2 * moment_bits) for x in range(1 << moment_bits))[q]


def shift_add_scale(v: Value, mant: Value, cfg: PezoConfig) -> Value:
    """z = (v*mant + 2**(sh-1)) >> sh as a sum of gated shifted copies of v: signed B bits."""
    M, sh = cfg.mantissa_bits, cfg.scale_shift
    terms = [Mux(mant[j], v << j, 0) for j in range(M)] + [v << M, Const(1 << (sh - 1))]
    return (adder_tree(terms) >> sh)[:cfg.word_bits].as_signed()


def thermometer_count(bits: list[Value]) -> Value:
    """The number of set bits of a thermometer code (bits[i] implies bits[i-1])."""
    width = len(bits).bit_length()
    ends = [bits[i] & ~bits[i + 1] for i in range(len(bits) - 1)] + [bits[-1]]
    return Cat(*(Cat(*(ends[i] for i in range(len(bits)) if (i + 1) >> k & 1)).any()
                 for k in range(width)))


def _window_and_width(cfg: PezoConfig, window: int | None, width: int | None) -> tuple[int, int]:
    """The scaler's moment window and words per clock (defaults L and P), validated."""
    window = cfg.moment_block if window is None else window
    width = cfg.parallel if width is None else width
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
    window : n, moment words per mantissa update (a power of two); default L
        (``moment_block``).
    width : words scaled per clock; default P.

    Attributes
    ----------
    en : In(1), advance the pipeline this clock (both the scale and the moment path):
        a clock with ``en`` = 0 changes nothing but ``restart``'s effects.
    u : In(ArrayLayout(unsigned(B), width)), uniform words to scale, taken when ``en``.
    z : Out(ArrayLayout(signed(B), width)), ``z[k] = apply_scale(centre(u[k]), mant)``:
        signed two's complement, F fractional bits, registered. Latency :attr:`latency`
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

    Both paths are pipelined (all stages advanced by ``en``), so no clock holds more
    than one of: the moment term, the accumulator add, the ladder, the shift-add. The
    ladder compares against the constant thresholds of
    :func:`pezo.ref.scaler.mantissa_thresholds`; they are non-increasing, so it is a
    thermometer code and its count a one-hot encoder.
    """

    #: enabled clocks from ``u`` to ``z``: two delay stages matching the moment
    #: pipeline (term, accumulator, ladder) and the output register
    latency = 3

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
            m.d.sync += [term.eq(moment_term(q, T)), term_en.eq(self.moment_en),
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
        delayed = [Signal.like(self.u, name=f"u{i}") for i in range(self.latency - 1)]
        with m.If(self.en):
            m.d.sync += [d.eq(src) for d, src in zip(delayed, [self.u, *delayed])]
            for k in range(self.width):
                m.d.sync += self.z[k].eq(shift_add_scale(centred(delayed[-1][k], B), self.mant, cfg))


class _Fill(enum.Enum):
    IDLE = 0
    LOAD_MOMENT = 1
    MOMENT = 2
    LOAD_WRITE = 3
    SEARCH = 4
    PREP = 5
    NEXT = 6
    HORNER = 7
    LAST = 8


class PoolScaler(wiring.Component):
    """The pool fill: N fill words in, N mean-free scaled pool words out
    (``pezo.ref.scaler.fill_pool``), every step sequential.

    Schedule (clocks; n = log2 N; the lane's words are usable once ``word_valid``):

    1. ``start``; next clock ``reload`` (load the fill lane);
    2. moment pass, N clocks with ``word_valid``: each takes ``word`` into the word
       register (``advance``) and, one clock later, adds the table term ``q*q + q`` to
       ``acc`` (2T + n bits) and v to ``total`` (started at N/2, so ``mean = total >>
       n`` is wiring: floor((sum(v) + N/2) / N), signed B+2 bits);
    3. one clock: ``reload`` (the lane starts over for the second pass, meanwhile):
    4. 3M search clocks, three per mantissa bit: from the top bit k down, the first
       clock registers ``table[c | 2**k]`` (:func:`pezo.ref.scaler.search_thresholds`;
       the index ``c | 2**k`` is a register, so the table is a 2**M-entry ROM), the
       second registers ``acc < table[c | 2**k]`` (one comparator), the third sets
       ``c |= 2**k`` when it holds; ``mant = 2**M + c``;
    5. one clock with ``word_valid`` takes word 0 into the word register;
    6. per pool word j, one load clock and M+1 Horner clocks (one adder): the load
       clock writes word j-1 (``write_en``, for j >= 1), sets ``v' = v_j - mean``
       (``vreg``, signed B+2 bits), takes word j+1 and presets ``h = 2**(sh-M-2)``
       (a constant: a synchronous set/reset, no multiplexer); the Horner clocks apply
       ``h = 2*h + mant[k]*v'`` for k = M .. 0, so ``h = v'*mant + 2**(sh-1)`` and
       z_j = ``h >> sh``;
    7. a last load clock writes word N-1; ``done`` rises at its end.

    Only the phase, ``have`` and ``done`` are reset; the data registers are
    ``reset_less``, so each clear above is a flip-flop's synchronous set/reset (no
    multiplexer) and the schedule sets every one of them before it is used.

    Fill time: 2 + N + 1 + 3M + 1 + N*(M+2) + 1 clocks plus the lane loads' waits (the
    second load overlaps the search). The lane leaps N + 1 times in pass 2 (one word
    beyond the pool; harmless, the step reloads the bank).

    Attributes
    ----------
    start : In(1), begin a fill (restarts one in progress); ``done`` falls.
    abort : In(1), stop a fill in progress (idle, ``done`` 0); priority over ``start``.
    word : In(unsigned(B)), lane 0's current word (fill domain).
    word_valid : In(1), ``word`` is usable (the bank is not busy).
    advance : Out(1), ``word`` is consumed at this clock edge (combinational).
    reload : Out(1), load the fill lane (combinational, one clock per pass).
    write_en : Out(1), write ``write_data`` to pool index ``write_index`` at this
        clock edge (a decode of registers).
    write_index : Out(unsigned(n)), the pool index j.
    write_data : Out(signed(B)), z_j: signed two's complement, F fractional bits.
    mant : Out(unsigned(M+1)), the mantissa (valid from the end of the search).
    mean : Out(signed(B+2)), the fill words' mean (valid from the end of pass 1).
    done : Out(1), the pool is written (registered).
    """

    def __init__(self, cfg: PezoConfig):
        self.cfg = cfg
        B, M, N = cfg.word_bits, cfg.mantissa_bits, cfg.pool_size
        super().__init__({
            "start": In(1),
            "abort": In(1),
            "word": In(unsigned(B)),
            "word_valid": In(1),
            "advance": Out(1),
            "reload": Out(1),
            "write_en": Out(1),
            "write_index": Out(unsigned(exact_log2(N))),
            "write_data": Out(signed(B)),
            "mant": Out(unsigned(M + 1)),
            "mean": Out(signed(B + 2)),
            "done": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        B, M, T, N, sh = cfg.word_bits, cfg.mantissa_bits, cfg.moment_bits, cfg.pool_size, cfg.scale_shift
        n = exact_log2(N)
        phase = Signal(_Fill)
        count = Signal(range(N), reset_less=True)
        last = Signal(reset_less=True)  # count == N - 1, registered
        word = Signal(B, reset_less=True)
        word_new = Signal()
        acc = Signal(acc_bits(N, cfg), reset_less=True)
        total = Signal(signed(B + 2 + n), reset_less=True)
        c = Signal(M, reset_less=True)
        index = Signal(M, reset_less=True)  # c | probe
        probe = Signal(M, reset_less=True)
        c_next = Signal(M)
        threshold = Signal(len(acc), reset_less=True)  # table[index], registered
        below = Signal(reset_less=True)  # acc < threshold, registered
        stage = Signal(range(3), reset_less=True)  # clock of a search step
        vreg = Signal(signed(B + 2), reset_less=True)
        h = Signal(signed(B + M + 3), reset_less=True)
        have = Signal()  # h holds a finished word
        bits = Signal(M + 1, reset_less=True)  # mantissa bits still to apply, next at the top
        step = Signal(range(M + 1), reset_less=True)
        table = Array(Const(t, len(acc)) for t in search_thresholds(cfg, N))
        m.d.comb += [
            self.mean.eq(total >> n),
            self.mant.eq(Cat(c, Const(1, 1))),
            self.reload.eq((phase == _Fill.LOAD_MOMENT) | (phase == _Fill.LOAD_WRITE)),
            self.write_en.eq(((phase == _Fill.NEXT) | (phase == _Fill.LAST)) & have),
            self.write_index.eq(count),
            self.write_data.eq((h >> sh)[:B]),
            c_next.eq(Mux(below, index, c)),
        ]
        m.d.sync += word_new.eq(0)
        with m.If(word_new):
            m.d.sync += [acc.eq(acc + moment_term(magnitude(word, B)[B - T:], T)),
                         total.eq(total + centred(word, B))]

        def take() -> None:
            m.d.comb += self.advance.eq(1)
            m.d.sync += word.eq(self.word)

        with m.If(self.abort):
            m.d.sync += [phase.eq(_Fill.IDLE), self.done.eq(0)]
        with m.Elif(self.start):
            m.d.sync += [phase.eq(_Fill.LOAD_MOMENT), self.done.eq(0), acc.eq(0), total.eq(N // 2),
                         count.eq(0), last.eq(0)]
        with m.Else():
            with m.Switch(phase):
                with m.Case(_Fill.LOAD_MOMENT):
                    m.d.sync += phase.eq(_Fill.MOMENT)
                with m.Case(_Fill.MOMENT):
                    with m.If(self.word_valid):
                        take()
                        m.d.sync += [word_new.eq(1), count.eq(count + 1), last.eq(count == N - 2)]
                        with m.If(last):
                            m.d.sync += phase.eq(_Fill.LOAD_WRITE)
                with m.Case(_Fill.LOAD_WRITE):
                    m.d.sync += [c.eq(0), index.eq(1 << (M - 1)), probe.eq(1 << (M - 1)), stage.eq(0),
                                 phase.eq(_Fill.SEARCH)]
                with m.Case(_Fill.SEARCH):
                    m.d.sync += [threshold.eq(table[index]), below.eq(acc < threshold),
                                 stage.eq(Mux(stage == 2, 0, stage + 1))]
                    with m.If(stage == 2):
                        m.d.sync += [c.eq(c_next), index.eq(c_next | (probe >> 1)), probe.eq(probe >> 1)]
                        with m.If(probe[0]):
                            m.d.sync += phase.eq(_Fill.PREP)
                with m.Case(_Fill.PREP):
                    with m.If(self.word_valid):
                        take()
                        m.d.sync += [have.eq(0), phase.eq(_Fill.NEXT)]
                with m.Case(_Fill.NEXT):
                    take()
                    m.d.sync += [vreg.eq(centred(word, B) - self.mean), h.eq(1 << (sh - M - 2)),
                                 bits.eq(self.mant), step.eq(M), phase.eq(_Fill.HORNER)]
                    with m.If(have):
                        m.d.sync += [count.eq(count + 1), last.eq(count == N - 2)]
                with m.Case(_Fill.HORNER):
                    m.d.sync += [h.eq((h << 1) + Mux(bits[M], vreg, 0)), bits.eq(bits << 1),
                                 step.eq(step - 1)]
                    with m.If(step == 0):
                        m.d.sync += [have.eq(1), phase.eq(Mux(last, _Fill.LAST, _Fill.NEXT))]
                with m.Case(_Fill.LAST):
                    m.d.sync += [self.done.eq(1), phase.eq(_Fill.IDLE)]
        return m
