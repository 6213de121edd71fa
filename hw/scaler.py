"""Adaptive uniform scaling, the RTL of ref/scaler.py bit for bit (B = word_bits,
F = frac_bits, M = mantissa_bits, T = moment_bits, sh = B + M - F):

* :class:`UniformScaler` (``stream`` / ``none``): P words per clock, a running moment
  over windows of L words and a mantissa ladder, pipelined (``latency`` 6);
* :class:`PoolScaler` (``pool``): the pool fill, sequential, since it runs once per
  epoch: a moment-and-mean pass, a 2**M-clock search by subtraction, and a bit-serial scaling
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
from pezo.hw.arith import Register, adder_tree
from pezo.ref.config import PezoConfig
from pezo.ref.scaler import acc_bits, ladder_steps, mantissa_range, mantissa_thresholds, nominal_mantissa


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


def shift_add_scale(v: Value, mant: Value, cfg: PezoConfig, register: Register | None = None) -> Value:
    """z = (v*mant + 2**(sh-1)) >> sh as a sum of gated shifted copies of v: signed B bits.
    ``register`` registers tree levels as in :func:`pezo.hw.arith.adder_tree`."""
    M, sh = cfg.mantissa_bits, cfg.scale_shift
    terms = [Mux(mant[j], v << j, 0) for j in range(M)] + [v << M, Const(1 << (sh - 1))]
    return (adder_tree(terms, register) >> sh)[:cfg.word_bits].as_signed()


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
        (6) enabled clocks from ``u`` to ``z``; ``width`` words per clock.
    moment_u : In(unsigned(B)), the uniform word whose centred value enters the moment.
    moment_en : In(1), add ``moment_u`` this clock (only with ``en``). Words given on
        ``u`` up to this clock are scaled with the old mantissa; if it is the n-th word
        of a window, words given on ``u`` from the next enabled clock on are scaled with
        the mantissa of the window (the moment path takes four stages: term
        ``q*q + q``, accumulator, ladder compare, ladder count; the scale path delays
        ``u`` by :attr:`mantissa_stage` clocks to match).
    restart : In(1), accumulator, window count and moment pipeline to 0, mantissa to the
        nominal one of ``pezo.ref.scaler.nominal_mantissa(cfg, n)`` (also the value after
        reset). Acts whatever ``en``; priority over ``moment_en``.
    mant : Out(unsigned(M+1)), the mantissa register, in [2**M, 2**(M+1) - 1].

    Both paths are pipelined (all stages advanced by ``en``), so no clock holds more
    than one of: the moment term, the accumulator add, the ladder's comparators (a
    registered thermometer code), its count, one level of the shift-add tree (the
    first two levels registered, the rest with the output register). The ladder
    compares against the constant thresholds of
    :func:`pezo.ref.scaler.mantissa_thresholds`; they are non-increasing, so it is a
    thermometer code and its count a one-hot encoder.
    """

    #: enabled clocks from ``u`` to the shift-add stage that applies the mantissa: the
    #: moment pipeline's term, accumulator and ladder compare (the count writes the
    #: mantissa register in the clock the delayed words reach that stage)
    mantissa_stage = 3
    #: enabled clocks from ``u`` to ``z``: the delay stages, the registered first two
    #: levels of the shift-add tree and the output register
    latency = mantissa_stage + 3

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
        thresholds = mantissa_thresholds(cfg, self.window)
        below = Signal(len(thresholds))   # total < threshold, one bit per threshold
        below_en = Signal()
        count = Signal(range(self.window))
        m.d.comb += q.eq(magnitude(self.moment_u, B)[B - T:])
        lo, _ = mantissa_range(cfg)

        with m.If(self.restart):
            m.d.sync += [acc.eq(0), count.eq(0), term_en.eq(0), total_en.eq(0), below_en.eq(0),
                         self.mant.eq(nominal_mantissa(cfg, self.window))]
        with m.Elif(self.en):
            m.d.sync += [term.eq(moment_term(q, T)), term_en.eq(self.moment_en),
                         term_last.eq(count == self.window - 1), total_en.eq(term_en & term_last),
                         below_en.eq(total_en)]
            with m.If(self.moment_en):
                m.d.sync += count.eq(count + 1)
            with m.If(term_en):
                m.d.sync += acc.eq(Mux(term_last, 0, acc + term))
                m.d.sync += total.eq(acc + term)
            with m.If(total_en):
                m.d.sync += below.eq(Cat(*(total < theta for theta in thresholds)))
            with m.If(below_en):
                m.d.sync += self.mant.eq(lo | thermometer_count(list(below)))

    def _scale(self, m: Module) -> None:
        cfg, B = self.cfg, self.cfg.word_bits
        delayed = [Signal.like(self.u, name=f"u{i}") for i in range(self.mantissa_stage)]
        with m.If(self.en):
            m.d.sync += [d.eq(src) for d, src in zip(delayed, [self.u, *delayed])]
            for k in range(self.width):
                # the mantissa applies at the pair sums; they and the next level are
                # registered, the rest of the tree fills the output register's stage
                def pair_registers(values: list[Value], level: int, k: int = k) -> list[Value]:
                    if level > 1:
                        return values
                    regs = [Signal(value.shape(), name=f"sum{k}_{level}_{i}") for i, value in enumerate(values)]
                    m.d.sync += [r.eq(value) for r, value in zip(regs, values)]
                    return regs

                m.d.sync += self.z[k].eq(shift_add_scale(centred(delayed[-1][k], B), self.mant, cfg,
                                                         pair_registers))


class _Fill(enum.Enum):
    """Fill phases, one-hot (IDLE: none), so each decode is one flip-flop."""
    IDLE = 0
    LOAD_MOMENT = 1 << 0
    MOMENT = 1 << 1
    LOAD_TOTAL = 1 << 2
    SEARCH = 1 << 3
    TOTAL = 1 << 4
    LOAD_WRITE = 1 << 5
    PREP = 1 << 6
    NEXT = 1 << 7
    HORNER = 1 << 8
    LAST = 1 << 9


class PoolScaler(wiring.Component):
    """The pool fill: N fill words in, N mean-free scaled pool words out
    (``pezo.ref.scaler.fill_pool``), every step sequential, with two adders: ``acc``
    (moment, mantissa search and sum, one after the other) and the Horner ``h``.

    Schedule (clocks; n = log2 N; the lane's words are usable once ``word_valid``):

    1. ``start``; next clock ``reload`` (load the fill lane);
    2. moment pass, N clocks with ``word_valid``: each consumes ``word`` (``advance``),
       registers its table term ``q*q + q`` (``operand``) and, one clock later, adds it
       to ``acc`` (signed W bits, W = 1 + the widest of the moment, the sum and the
       largest threshold), so no table sits on the accumulator's carry path;
    3. one clock: ``reload`` (the lane starts over, meanwhile:)
    4. 2**M search clocks by subtraction from ``acc`` (no comparator): in clock k,
       ``c += 1`` when acc < 0, and ``acc -= steps[k]`` from
       :func:`pezo.ref.scaler.ladder_steps` (a 2**M-entry ROM indexed by the counter
       k), so c counts the thresholds above the moment
       (:func:`pezo.ref.scaler.ladder_mantissa`); ``mant = 2**M + c``; the last clock
       sets ``acc = floor(3N/4)``;
    5. sum pass, N clocks with ``word_valid``: ``acc += u`` (registered as in 2); with X = ``acc >> (n-1)``
       (B+1 bits), ``mean = X - 2**B`` = floor((sum(v) + N/2) / N) is wiring;
    6. one clock: ``reload`` (the lane starts over for the write pass);
    7. one clock with ``word_valid`` takes word 0 into the word register;
    8. per pool word j, one load clock and M+1 Horner clocks: the load clock writes
       word j-1 (``write_en``, for j >= 1), sets ``v' = v_j - mean = 2u_j + 1 - X``
       (``vreg``, signed B+2 bits), takes word j+1 and presets ``h = 2**(sh-1)`` (a
       constant: a synchronous set/reset, no multiplexer); the Horner clocks apply ``h
       = (h + mant[k]*v') >> 1`` for k = 0 .. M (arithmetic shift, the mantissa's low
       bit first), so ``h = floor((v'*mant + 2**(sh-1)) / 2**(M+1))`` and z_j = ``h >>
       (sh-M-1)``;
    9. a last load clock writes word N-1; ``done`` rises at its end.

    Only the phase, ``have`` and ``done`` are reset; the data registers are
    ``reset_less``, so each clear above is a flip-flop's synchronous set/reset (no
    multiplexer) and the schedule sets every one of them before it is used.

    Fill time: :attr:`fill_clocks` = 2 + N + 1 + 2**M + N + 1 + 1 + N*(M+2) + 1 clocks
    from ``start`` to ``done`` plus the lane loads' waits (the second load's overlaps
    the search). The lane leaps N + 1 times in the write pass (one word beyond the
    pool; harmless, the step reloads the bank).

    Attributes
    ----------
    start : In(1), begin a fill (restarts one in progress); ``done`` falls.
    abort : In(1), stop a fill in progress (idle, ``done`` 0); priority over ``start``.
    word : In(unsigned(B)), lane 0's current word (fill domain).
    word_valid : In(1), ``word`` is usable (the bank is not busy).
    advance : Out(1), ``word`` is consumed at this clock edge: a decode of the phase
        register and ``word_valid``, also in a clock of ``start`` or ``abort`` (the
        word is then dropped; a new fill reloads the lane).
    reload : Out(1), load the fill lane (combinational, one clock per pass, three
        passes).
    write_en : Out(1), write ``write_data`` to pool index ``write_index`` at this
        clock edge (a decode of registers).
    write_index : Out(unsigned(n)), the pool index j.
    write_data : Out(signed(B)), z_j: signed two's complement, F fractional bits.
    mant : Out(unsigned(M+1)), the mantissa (valid from the end of the search).
    mean : Out(signed(B+2)), the fill words' mean (valid from the end of the sum pass).
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

    @property
    def fill_clocks(self) -> int:
        """Clocks from ``start`` to ``done`` when the lane never waits (``word_valid``
        always 1): N*(M+4) + 2**M + 6."""
        N, M = self.cfg.pool_size, self.cfg.mantissa_bits
        return 2 + N + 1 + (1 << M) + N + 1 + 1 + N * (M + 2) + 1

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        B, M, T, N, sh = cfg.word_bits, cfg.mantissa_bits, cfg.moment_bits, cfg.pool_size, cfg.scale_shift
        n = exact_log2(N)
        phase = Signal(_Fill)
        last = Signal(reset_less=True)  # count == N - 1, registered

        def is_(p: _Fill) -> Value:
            """The phase flip-flop of ``p`` (one-hot)."""
            return phase[exact_log2(p.value)]

        def go(src: _Fill, dst: _Fill | Value) -> list:
            """Leave phase ``src`` for ``dst`` (a phase, or the Mux of LAST and NEXT on
            ``last``): set and clear single flip-flops, so each phase bit's logic sees
            only its own transitions."""
            if isinstance(dst, _Fill):
                return [is_(src).eq(0)] + ([is_(dst).eq(1)] if dst is not _Fill.IDLE else [])
            return [is_(src).eq(0), is_(_Fill.LAST).eq(last), is_(_Fill.NEXT).eq(~last)]

        steps = ladder_steps(cfg, N)
        count = Signal(range(N), reset_less=True)
        word = Signal(B, reset_less=True)
        operand = Signal(max(B, 2 * T), reset_less=True)  # the pass's addend of the word taken last clock
        word_new = Signal()
        # the moment, then acc - threshold (>= -threshold), then floor(3N/4) + sum(u)
        acc = Signal(signed(max(acc_bits(N, cfg), sum(steps).bit_length(), B + n) + 1), reset_less=True)
        x = Signal(B + 1)  # mean + 2**B
        c = Signal(M, reset_less=True)
        k = Signal(M, reset_less=True)  # search clock
        vreg = Signal(signed(B + 2), reset_less=True)
        # |h + v'| < 2**(B+2) + 2**(sh-1): h stays within 2**(B+1) + 2**(sh-1)
        h = Signal(signed(((1 << (B + 2)) + (1 << (sh - 1))).bit_length() + 1), reset_less=True)
        have = Signal()  # h holds a finished word
        # mantissa bits still to apply, next at the bottom, above them a 1 that ends the word
        bits = Signal(M + 2, reset_less=True)
        rom = Array(Const(-t, signed(len(acc))) for t in steps)
        moment, total, search = is_(_Fill.MOMENT), is_(_Fill.TOTAL), is_(_Fill.SEARCH)
        m.d.comb += [
            x.eq(acc[n - 1:n + B]),
            self.mean.eq(Cat(x[:B], ~x[B], ~x[B]).as_signed()),
            self.mant.eq(Cat(c, Const(1, 1))),
            self.reload.eq(is_(_Fill.LOAD_MOMENT) | is_(_Fill.LOAD_TOTAL) | is_(_Fill.LOAD_WRITE)),
            self.write_en.eq((is_(_Fill.NEXT) | is_(_Fill.LAST)) & have),
            self.write_index.eq(count),
            self.write_data.eq((h >> (sh - M - 1))[:B]),
        ]

        # a decode of registers (and the bank's registered ``word_valid``), not of
        # ``start`` / ``abort``: a word taken in an aborted clock is never used
        m.d.comb += self.advance.eq(((moment | total | is_(_Fill.PREP)) & self.word_valid)
                                    | is_(_Fill.NEXT))

        m.d.sync += word_new.eq(0)
        with m.If(self.abort):
            m.d.sync += [phase.eq(_Fill.IDLE), self.done.eq(0)]
        with m.Elif(self.start):
            m.d.sync += [phase.eq(_Fill.LOAD_MOMENT), self.done.eq(0), acc.eq(0), count.eq(0), last.eq(0)]
        with m.Else():
            with m.If(word_new | search):
                m.d.sync += acc.eq(acc + Mux(search, rom[k], operand))
            with m.If(is_(_Fill.LOAD_MOMENT)):
                m.d.sync += go(_Fill.LOAD_MOMENT, _Fill.MOMENT)
            with m.If((moment | total) & self.word_valid):
                # registered, so the term table is not on the accumulator's carry path
                m.d.sync += [operand.eq(Mux(moment, moment_term(magnitude(self.word, B)[B - T:], T), self.word)),
                             word_new.eq(1), count.eq(count + 1), last.eq(count == N - 2)]
                with m.If(last):
                    m.d.sync += [is_(_Fill.MOMENT).eq(0), is_(_Fill.LOAD_TOTAL).eq(moment),
                                 is_(_Fill.TOTAL).eq(0), is_(_Fill.LOAD_WRITE).eq(total)]
            with m.If(is_(_Fill.LOAD_TOTAL)):
                m.d.sync += [c.eq(0), k.eq(0), *go(_Fill.LOAD_TOTAL, _Fill.SEARCH)]
            with m.If(search):
                m.d.sync += [c.eq(c + acc[-1]), k.eq(k + 1)]
                with m.If(k.all()):
                    m.d.sync += [acc.eq(3 * N // 4), *go(_Fill.SEARCH, _Fill.TOTAL)]
            with m.If(is_(_Fill.LOAD_WRITE)):
                m.d.sync += go(_Fill.LOAD_WRITE, _Fill.PREP)
            with m.If(is_(_Fill.PREP)):
                with m.If(self.word_valid):
                    m.d.sync += [word.eq(self.word), have.eq(0), *go(_Fill.PREP, _Fill.NEXT)]
            with m.If(is_(_Fill.NEXT)):
                m.d.sync += [word.eq(self.word), vreg.eq(Cat(Const(1, 1), word) - x), h.eq(1 << (sh - 1)),
                             bits.eq(Cat(self.mant, Const(1, 1))), *go(_Fill.NEXT, _Fill.HORNER)]
                with m.If(have):
                    m.d.sync += [count.eq(count + 1), last.eq(count == N - 2)]
            with m.If(is_(_Fill.HORNER)):
                m.d.sync += [h.eq((h + Mux(bits[0], vreg, 0)) >> 1), bits.eq(bits >> 1)]
                with m.If(bits[2:] == 0):  # applying the mantissa's top bit
                    m.d.sync += [have.eq(1), *go(_Fill.HORNER, Mux(last, _Fill.LAST, _Fill.NEXT))]
            with m.If(is_(_Fill.LAST)):
                m.d.sync += [self.done.eq(1), *go(_Fill.LAST, _Fill.IDLE)]
        return m
