"""Adaptive uniform scaling, the RTL of ref/scaler.py bit for bit (B = word_bits,
F = frac_bits, M = mantissa_bits, T = moment_bits, sh = B + M - F):

* :class:`UniformScaler` (``stream`` / ``none``): P words per clock, a running moment
  over windows of L words and a mantissa ladder, pipelined (``latency`` 7);
* :class:`PoolScaler` (``pool``): the pool fill, sequential, since it runs once per
  epoch: a moment pass, a (2**M - 1)-clock search by subtraction, and a bit-serial
  scaling pass that writes each scaled word and its negation, or (``antithetic`` False)
  each of N scaled words once (ref/scaler.py section 5).

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
from pezo.ref.scaler import (acc_bits, acc_limit, fill_words, ladder_steps, mantissa_range, mantissa_thresholds,
                             nominal_mantissa)


def centred(u: Value, word_bits: int) -> Value:
    """v = 2u + 1 - 2**B as wiring: signed, B+1 bits."""
    return Cat(Const(1, 1), u[:word_bits - 1], ~u[word_bits - 1]).as_signed()


def magnitude(u: Value, word_bits: int) -> Value:
    """|v| of the centred word, unsigned B bits: the low bits of u, inverted when v < 0."""
    low = u[:word_bits - 1] ^ (~u[word_bits - 1]).replicate(word_bits - 1)
    return Cat(Const(1, 1), low)


def plus_held(h: Value, a: Value) -> Value:
    """h + a for signed h and a no wider than h, one bit wider than h, written as the
    subtraction (2h) - (2 ~a + 1) = 2 (h + a) + 1 so that Yosys' Xilinx carry chain
    takes its carry-generate input (DI) from ``h``, a register, and needs one LUT per
    bit (S = h ^ a) instead of a second one that forms ``a`` again for DI."""
    width = len(h) + 1
    h_wide = Cat(h, h[-1].replicate(width - len(h)))
    a_wide = Cat(a, a[-1].replicate(width - len(a)))
    return (Cat(Const(0, 1), h_wide) - Cat(Const(1, 1), ~a_wide))[1:width + 1].as_signed()


def moment_term(q: Value, moment_bits: int) -> Value:
    """q*q + q of the T-bit q as a 2**T-entry constant table (no multiplier): 2T bits."""
    return Array(Const(x * x + x, 2 * moment_bits) for x in range(1 << moment_bits))[q]


def scale_terms(v: Value, mant: Value, cfg: PezoConfig) -> list[Value]:
    """The addends of v*mant + 2**(sh-1): v << j gated by mant[j] (j < M), v << M (the
    mantissa's top bit, always 1) and the rounding constant, last."""
    M, sh = cfg.mantissa_bits, cfg.scale_shift
    return [Mux(mant[j], v << j, 0) for j in range(M)] + [v << M, Const(1 << (sh - 1))]


def scaled_word(total: Value, cfg: PezoConfig) -> Value:
    """z from the sum of :func:`scale_terms`: ``total >> sh``, signed B bits."""
    return (total >> cfg.scale_shift)[:cfg.word_bits].as_signed()


def shift_add_scale(v: Value, mant: Value, cfg: PezoConfig, register: Register | None = None) -> Value:
    """z = (v*mant + 2**(sh-1)) >> sh as a sum of gated shifted copies of v: signed B bits.
    ``register`` registers tree levels as in :func:`pezo.hw.arith.adder_tree`."""
    return scaled_word(adder_tree(scale_terms(v, mant, cfg), register), cfg)


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
    registered thermometer code), its count, the mantissa's gating of the shifted
    copies of v (registered), one level of the shift-add tree (the first two levels
    registered, the rest with the output register). The ladder
    compares against the constant thresholds of
    :func:`pezo.ref.scaler.mantissa_thresholds`; they are non-increasing, so it is a
    thermometer code and its count a one-hot encoder.
    """

    #: enabled clocks from ``u`` to the shift-add stage that applies the mantissa: the
    #: moment pipeline's term, accumulator and ladder compare (the count writes the
    #: mantissa register in the clock the delayed words reach that stage)
    mantissa_stage = 3
    #: enabled clocks from ``u`` to ``z``: the delay stages, the registered gated
    #: copies of v, the registered first two levels of the shift-add tree and the
    #: output register
    latency = mantissa_stage + 4

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
        # the window's running sum; it holds the whole window's sum in the clock after
        # the window's last term (``total_en``) and restarts from the next term
        acc = Signal(acc_bits(self.window, cfg))
        first = Signal()   # the next term starts a window
        total_en = Signal()
        thresholds = mantissa_thresholds(cfg, self.window)
        below = Signal(len(thresholds))   # total < threshold, one bit per threshold
        below_en = Signal()
        count = Signal(range(self.window))
        m.d.comb += q.eq(magnitude(self.moment_u, B)[B - T:])
        lo, _ = mantissa_range(cfg)

        with m.If(self.restart):
            m.d.sync += [acc.eq(0), first.eq(0), count.eq(0), term_en.eq(0), total_en.eq(0), below_en.eq(0),
                         self.mant.eq(nominal_mantissa(cfg, self.window))]
        with m.Elif(self.en):
            m.d.sync += [term.eq(moment_term(q, T)), term_en.eq(self.moment_en),
                         term_last.eq(count == self.window - 1), total_en.eq(term_en & term_last),
                         below_en.eq(total_en)]
            with m.If(self.moment_en):
                m.d.sync += count.eq(count + 1)
            with m.If(term_en):
                m.d.sync += [acc.eq(Mux(first, 0, acc) + term), first.eq(term_last)]
            with m.If(total_en):
                m.d.sync += below.eq(Cat(*(acc < theta for theta in thresholds)))
            with m.If(below_en):
                m.d.sync += self.mant.eq(lo | thermometer_count(list(below)))

    def _scale(self, m: Module) -> None:
        cfg, B = self.cfg, self.cfg.word_bits
        delayed = [Signal.like(self.u, name=f"u{i}") for i in range(self.mantissa_stage)]
        with m.If(self.en):
            m.d.sync += [d.eq(src) for d, src in zip(delayed, [self.u, *delayed])]
            for k in range(self.width):
                # the mantissa gates the shifted copies of v into registers of their own
                # (no gate before the first adders' carry chains); the pair sums and the
                # next level are registered, the rest of the tree fills the output
                # register's stage
                def pair_registers(values: list[Value], level: int, k: int = k) -> list[Value]:
                    if level > 1:
                        return values
                    regs = [Signal(value.shape(), name=f"sum{k}_{level}_{i}") for i, value in enumerate(values)]
                    m.d.sync += [r.eq(value) for r, value in zip(regs, values)]
                    return regs

                *terms, rounding = scale_terms(centred(delayed[-1][k], B), self.mant, cfg)
                gated = [Signal(t.shape(), name=f"term{k}_{j}") for j, t in enumerate(terms)]
                m.d.sync += [g.eq(t) for g, t in zip(gated, terms)]
                m.d.sync += self.z[k].eq(scaled_word(adder_tree([*gated, rounding], pair_registers), cfg))


class _Fill(enum.Enum):
    """Fill phases, one-hot (IDLE: none), so each decode is one flip-flop."""
    IDLE = 0
    LOAD = 1 << 0
    MOMENT = 1 << 1
    RELOAD = 1 << 2
    SEARCH = 1 << 3
    PREP = 1 << 4
    HORNER = 1 << 5
    NEXT = 1 << 6


class PoolScaler(wiring.Component):
    """The pool fill: W fill words in, N scaled pool words out
    (``pezo.ref.scaler.fill_pool(v, cfg, antithetic)``): ``antithetic`` (default,
    ``pezo-pool``) W = N/2, each word's negation beside it, an exactly zero-sum pool;
    else (``paper-pool``) W = N, each word written once. Every step sequential, with
    two adders: ``acc`` (moment, then mantissa search) and the Horner ``h``.

    Schedule (clocks; n = log2 N; the lane's words are usable once ``word_valid``):

    1. ``start`` (``acc`` preset to ``-steps[0]``, the smallest clamped threshold of
       :func:`pezo.ref.scaler.ladder_steps` for W words); next clock ``reload``
       (load the fill lane);
    2. moment pass, W clocks with ``word_valid``: each consumes ``word``
       (``advance``), registers its top bits ``q`` (T bits, 0 in every other clock)
       and, one clock later, adds the table term ``q*q + q`` to ``acc`` (signed
       bits: 1 + the width of ``acc_limit(W) + 1``): one table level before the
       carry chain, ORed with the search's addend (0 in this pass), so the
       accumulator needs neither a multiplexer nor a clock enable;
    3. one clock: ``reload`` (the lane starts over, meanwhile:)
    4. 2**M - 1 search clocks by subtraction from ``acc`` (no comparator): in clock k,
       ``c += 1`` when acc < 0, and ``acc -= steps[k + 1]``, a 2**M-entry ROM indexed
       by the pass counter and registered in ``operand`` a clock ahead (no ROM on the
       carry path; ``operand`` is 0 outside the search, ``q`` 0 in it), so c counts
       the thresholds above the moment
       (:func:`pezo.ref.scaler.ladder_mantissa`); ``mant = 2**M + c``;
    5. one clock with ``word_valid``: ``h = 2**(sh-1)`` (a constant: a synchronous
       set/reset, no multiplexer), the mantissa into ``bits``;
    6. per pool word (counter c_w = 0 .. N-1; antithetic: lane word k = c_w >> 1,
       negated when c_w is odd; else lane word k = c_w), M+1 Horner clocks ``h = (h +
       mant[i]*v') >> 1`` for i = 0 .. M (arithmetic shift, the mantissa's low bit
       first) with ``v' = centre(u_k)`` or ``centre(~u_k) = -centre(u_k)`` (wiring),
       so ``h = floor((v'*mant + 2**(sh-1)) / 2**(M+1))``, then one write clock:
       ``write_en`` with z = ``h >> (sh-M-1)`` at pool index ``k + (c_w & 1) * N/2``
       (antithetic; the lane advances after an odd word) or ``k`` (the lane advances
       after every word), and ``h``, ``bits`` are preset for the next word;
    7. ``done`` rises at the end of the last write clock.

    Only the phase and ``done`` are reset; the data registers are ``reset_less``, so
    each clear above is a flip-flop's synchronous set/reset (no multiplexer) and the
    schedule sets every one of them before it is used. The Horner reads the lane's word
    directly (it holds while ``advance`` is 0): no word register and no subtractor.

    Fill time: :attr:`fill_clocks` = 2 + W + 1 + (2**M - 1) + 1 + N*(M+2) clocks
    from ``start`` to ``done`` plus the lane loads' waits (the second load's overlaps
    the search). The lane leaps W times in the write pass, the last time past the fill
    words (harmless, the step reloads the bank).

    Parameters
    ----------
    cfg : the configuration (B, F, M, T, N = ``pool_size``).
    antithetic : the pool layout above: True (W = N/2, ``PoolEngine``) or False (W = N,
        ``PaperPool``).

    Attributes
    ----------
    start : In(1), begin a fill (restarts one in progress); ``done`` falls.
    abort : In(1), stop a fill in progress (idle, ``done`` 0); priority over ``start``.
    word : In(unsigned(B)), lane 0's current word (fill domain).
    word_valid : In(1), ``word`` is usable (the bank is not busy).
    advance : Out(1), ``word`` is consumed at this clock edge: a decode of the phase
        register, the pool counter and ``word_valid``, also in a clock of ``start`` or
        ``abort`` (the word is then dropped; a new fill reloads the lane).
    reload : Out(1), load the fill lane (combinational, one clock per pass, two
        passes).
    write_en : Out(1), write ``write_data`` to pool index ``write_index`` at this
        clock edge (a decode of registers).
    write_index : Out(unsigned(n)), the pool index.
    write_data : Out(signed(B)), the pool word: signed two's complement, F fractional
        bits.
    mant : Out(unsigned(M+1)), the mantissa (valid from the end of the search).
    done : Out(1), the pool is written (registered).
    """

    def __init__(self, cfg: PezoConfig, antithetic: bool = True):
        self.cfg = cfg
        self.antithetic = antithetic
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
            "done": Out(1),
        })

    @property
    def fill_clocks(self) -> int:
        """Clocks from ``start`` to ``done`` when the lane never waits (``word_valid``
        always 1): W + N*(M+2) + 2**M + 3."""
        N, M = self.cfg.pool_size, self.cfg.mantissa_bits
        return 2 + fill_words(self.cfg, self.antithetic) + 1 + ((1 << M) - 1) + 1 + N * (M + 2)

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        B, M, T, N, sh = cfg.word_bits, cfg.mantissa_bits, cfg.moment_bits, cfg.pool_size, cfg.scale_shift
        n = exact_log2(N)
        phase = Signal(_Fill)

        def is_(p: _Fill) -> Value:
            """The phase flip-flop of ``p`` (one-hot)."""
            return phase[exact_log2(p.value)]

        def go(src: _Fill, dst: _Fill) -> list:
            """Leave phase ``src`` for ``dst``: set and clear single flip-flops, so each
            phase bit's logic sees only its own transitions."""
            return [is_(src).eq(0)] + ([is_(dst).eq(1)] if dst is not _Fill.IDLE else [])

        W = fill_words(cfg, self.antithetic)
        steps = ladder_steps(cfg, W)
        # the moment, then the search clock, then the pool word: n bits, or M for the search
        count = Signal(range(max(N, 1 << M)), reset_less=True)
        acc = Signal(signed((acc_limit(W, cfg) + 1).bit_length() + 1), reset_less=True)
        # the addends of the next clock, each 0 outside its pass: q of the word taken
        # (its table term q*q + q is then 0 too) and -steps[k]
        q = Signal(T, reset_less=True)
        operand = Signal.like(acc)
        c = Signal(M, reset_less=True)
        # the pool word in progress is the negation of the lane word (never in a plain fill)
        odd = count[0] if self.antithetic else Const(0, 1)
        h = Signal(signed(((1 << B) + (1 << (sh - 1))).bit_length() + 1), reset_less=True)
        # mantissa bits still to apply, next at the bottom, above them a 1 that ends the word
        bits = Signal(M + 2, reset_less=True)
        moment, search, horner, next_ = is_(_Fill.MOMENT), is_(_Fill.SEARCH), is_(_Fill.HORNER), is_(_Fill.NEXT)
        reload = is_(_Fill.LOAD) | is_(_Fill.RELOAD)
        take = moment & self.word_valid
        # count[:log2 W] is all ones, registered: no AND tree after ``word_valid``
        ones = Signal(reset_less=True)
        moment_end = take & ones
        search_end = search & count[:M].all()
        last_word = ones & count[n - 1] if self.antithetic else ones
        begin_word = (is_(_Fill.PREP) & self.word_valid) | (next_ & ~last_word)
        m.d.comb += [
            self.mant.eq(Cat(c, Const(1, 1))),
            self.reload.eq(reload),
            self.write_en.eq(next_),
            self.write_index.eq(Cat(count[1:n], odd) if self.antithetic else count[:n]),
            self.write_data.eq((h >> (sh - M - 1))[:B]),
            # a decode of registers (and the bank's registered ``word_valid``), not of
            # ``start`` / ``abort``: a word taken in an aborted clock is never used
            self.advance.eq(take | (next_ & odd if self.antithetic else next_)),
        ]
        self._datapath(m, steps, count, ones, last_word, q, operand, c, acc[-1], take, moment_end | search_end,
                       search, is_(_Fill.RELOAD))
        # data registers, outside the start / abort priority: each clear or preset is
        # the flip-flop's own synchronous set/reset, each hold its clock enable
        with m.If(begin_word):
            m.d.sync += [h.eq(1 << (sh - 1)), bits.eq(Cat(self.mant, Const(1, 1)))]
        with m.Elif(horner):
            word = self.word ^ odd.replicate(B)  # ~u: centre(~u) = -centre(u)
            m.d.sync += [h.eq(plus_held(h, Mux(bits[0], centred(word, B), 0)) >> 1), bits.eq(bits >> 1)]
        with m.If(self.start):
            m.d.sync += acc.eq(-steps[0])
        with m.Else():
            # one addend is 0 in each clock: an OR, no multiplexer, and no clock enable
            m.d.sync += acc.eq(acc + (moment_term(q, T) | operand))

        with m.If(self.abort):
            m.d.sync += [phase.eq(_Fill.IDLE), self.done.eq(0)]
        with m.Elif(self.start):
            m.d.sync += [phase.eq(_Fill.LOAD), self.done.eq(0)]
        with m.Else():
            with m.If(is_(_Fill.LOAD)):
                m.d.sync += go(_Fill.LOAD, _Fill.MOMENT)
            with m.If(moment_end):
                m.d.sync += go(_Fill.MOMENT, _Fill.RELOAD)
            with m.If(is_(_Fill.RELOAD)):
                m.d.sync += go(_Fill.RELOAD, _Fill.SEARCH)
            with m.If(search_end):
                m.d.sync += go(_Fill.SEARCH, _Fill.PREP)
            with m.If(is_(_Fill.PREP) & self.word_valid):
                m.d.sync += go(_Fill.PREP, _Fill.HORNER)
            with m.If(horner & (bits[2:] == 0)):  # applying the mantissa's top bit
                m.d.sync += go(_Fill.HORNER, _Fill.NEXT)
            with m.If(next_ & last_word):
                m.d.sync += [self.done.eq(1), *go(_Fill.NEXT, _Fill.IDLE)]
            with m.Elif(next_):
                m.d.sync += go(_Fill.NEXT, _Fill.HORNER)
        return m

    def _datapath(self, m: Module, steps: tuple[int, ...], count: Signal, ones: Signal, last_word: Value,
                  q: Signal, operand: Signal, c: Signal, negative: Value, take: Value, clear: Value,
                  search: Value, reload: Value) -> None:
        """The pass counter, the accumulator's addends and the search count: ``count``
        cleared by ``start`` and at the end of the moment pass and of the search,
        else counting its pass's steps (not past ``last_word``), ``ones`` =
        ``count[:log2 W].all()`` updated with it; ``q`` the registered top bits of the
        word taken (``take``, not in a clock of ``start``), else 0; ``operand`` ROM entry
        ``-steps[count + 1]`` in the search and the clock before it (not in a clock of
        ``start``), else 0; ``c`` counts the search clocks with ``negative``."""
        cfg, B, T, M = self.cfg, self.cfg.word_bits, self.cfg.moment_bits, self.cfg.mantissa_bits
        w = exact_log2(fill_words(cfg, self.antithetic))
        # entries from 2**M - 2 on are never added before the last check: they repeat
        # the one before, so the table's upper bits stay constant
        needed = [-t for t in steps[1:(1 << M) - 1]] or [-steps[0]]
        rom = Array(Const(t, operand.shape()) for t in needed + needed[-1:] * ((1 << M) - len(needed)))
        with m.If(self.start | clear):
            m.d.sync += [count.eq(0), ones.eq(w == 0)]
        with m.Elif(take | search | reload | (self.write_en & ~last_word)):
            m.d.sync += [count.eq(count + 1), ones.eq(count[:w] == (1 << w) - 2 if w else 1)]
        # both 0 after a clock of ``start``, which presets the accumulator
        m.d.sync += [q.eq(Mux(take & ~self.start, magnitude(self.word, B)[B - T:], 0)),
                     operand.eq(Mux((search | reload) & ~self.start, rom[count[:M]], 0))]
        with m.If(reload):
            m.d.sync += c.eq(0)
        with m.Elif(search):
            m.d.sync += c.eq(c + negative)
