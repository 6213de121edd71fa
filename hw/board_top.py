"""Board-independent top logic: a perturbation source driven by two buttons, shown on
LEDs and printed on a UART.

:class:`BoardCore` wraps any component with the common interface (``start``, ``seed``,
``z``; see hw/engine.py) so that it can be tried on a development board by hand:

* after reset it sends one ``seed`` transfer (``seed_in``) and then ``start(0)``;
* a press of the *step* button advances the step index t by one and sends ``start(t)``;
  a press of the *replay* button sends ``start(t)`` again (the words must repeat);
* ``z.ready`` is held high, so the source runs at full rate (P words per clock);
* the first transfer after each start (words 0 .. P-1 of step t) is captured: its P
  words, XOR-folded to ``leds - 1`` bits, are shown on LEDs 1 and up (so a replay shows
  the same pattern and a new step a different one), and a line
  ``"\\r\\n" + hex(t) + ":" + (" " + hex(word)) * min(P, 8)`` is sent on the UART (8N1,
  idle high, lower-case hex, most significant digit first, words as their B-bit two's
  complement pattern), to be compared with ``pezo.ref.engine.engine_model``;
* LED 0 is a heartbeat (toggles every 2**k clocks, k = floor(log2(clk_hz)) - 1, so about
  one blink per second).

Buttons are asynchronous, active-high inputs: they are synchronised (2 flip-flops),
sampled at about 100 Hz (which debounces them) and acted upon on the sampled rising edge,
so a press takes effect 2 .. clk_hz/100 + 3 clocks after it happens.
"""

from __future__ import annotations

from amaranth import Array, C, Cat, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig

SAMPLE_HZ = 100
UART_WORDS = 8


def hex_digits(bits: int) -> int:
    """Hex digits needed to print an unsigned ``bits``-bit value."""
    return (bits + 3) // 4


def _hex_chars(value: Value, bits: int) -> list[Value]:
    """ASCII characters (8-bit values) of ``value`` in lower-case hex, MSD first."""
    digits = hex_digits(bits)
    padded = Cat(value[:bits], C(0, digits * 4 - bits))
    chars = []
    for d in reversed(range(digits)):
        nib = padded[4 * d:4 * d + 4]
        chars.append(Mux(nib > 9, nib + (ord("a") - 10), nib + ord("0"))[:8])
    return chars


def xor_fold(value: Value, width: int) -> Value:
    """XOR of the ``width``-bit slices of ``value`` (zero-padded at the top)."""
    folded = C(0, width)
    for lo in range(0, len(value), width):
        chunk = value[lo:lo + width]
        folded = folded ^ Cat(chunk, C(0, width - len(chunk)))
    return folded


class UartTx(wiring.Component):
    """8N1 UART transmitter, LSB first.

    Parameters
    ----------
    divisor : clocks per bit (clk_hz / baud, rounded), >= 1.

    Attributes
    ----------
    data : In(stream.Signature(8)); accepted (ready=1) only while idle, one byte per
        10 * divisor clocks.
    tx : Out(1), the serial line, idle high.
    """

    def __init__(self, divisor: int):
        if divisor < 1:
            raise ValueError(f"divisor must be >= 1, got {divisor}")
        self.divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform) -> Module:
        m = Module()
        shreg = Signal(10, init=0x3FF)
        bits_left = Signal(range(11))
        timer = Signal(range(self.divisor))
        m.d.comb += [self.tx.eq(shreg[0]), self.data.ready.eq(bits_left == 0)]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [shreg.eq(Cat(C(0, 1), self.data.payload, C(1, 1))),
                         bits_left.eq(10), timer.eq(self.divisor - 1)]
        with m.Elif(bits_left != 0):
            with m.If(timer == 0):
                m.d.sync += [shreg.eq(Cat(shreg[1:], C(1, 1))), bits_left.eq(bits_left - 1),
                             timer.eq(self.divisor - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class BoardCore(wiring.Component):
    """A perturbation source with button control, LED display and a UART (see module doc).

    Parameters
    ----------
    cfg : the source's configuration (gives S = step_bits, W = lfsr_width, B, P).
    source : a component with the common interface built from ``cfg``
        (``SourceSignature.from_config(cfg)``, hw/source.py), else a ConfigError.
    clk_hz : frequency of the ``sync`` clock in Hz (sets heartbeat, sampling and baud).
    leds : number of LEDs, >= 2.
    seed_in : the runtime seed sent once after reset (W bits; 0 keeps the master seed).
    baud : UART bit rate (default 115200).

    Attributes
    ----------
    step_btn, replay_btn : In(1), asynchronous, active high.
    leds : Out(leds); bit 0 heartbeat, bits 1.. the folded first transfer of the step.
    uart_tx : Out(1), 8N1 serial output, idle high.
    step : the current step index t (S-bit register), for inspection in simulation.
    """

    def __new__(cls, cfg: PezoConfig, source: wiring.Component, *args, **kwargs):
        # checked before Amaranth tracks the object, so a rejected one is not reported unused
        if source.signature != SourceSignature.from_config(cfg):
            raise ConfigError("source", type(source).__name__,
                              f"a board top drives the perturbation-source interface {SourceSignature.from_config(cfg)}")
        return super().__new__(cls, **kwargs)

    def __init__(self, cfg: PezoConfig, source: wiring.Component, clk_hz: int, leds: int, *,
                 seed_in: int = 0, baud: int = 115200):
        if leds < 2:
            raise ValueError(f"need at least 2 LEDs, got {leds}")
        self.cfg = cfg
        self.source = source
        self.clk_hz = int(clk_hz)
        self.seed_in = seed_in
        self.divisor = max(1, round(self.clk_hz / baud))
        self.step = Signal(cfg.step_bits)
        super().__init__({"step_btn": In(1), "replay_btn": In(1),
                          "leds": Out(leds), "uart_tx": Out(1, init=1)})

    def message(self, step: Value, first: Value) -> list[Value]:
        """The UART line for step ``step`` whose first transfer is ``first`` (P*B bits)."""
        cfg = self.cfg
        chars: list[Value] = [C(ord("\r"), 8), C(ord("\n"), 8), *_hex_chars(step, cfg.step_bits),
                              C(ord(":"), 8)]
        for p in range(min(cfg.parallel, UART_WORDS)):
            word = first[p * cfg.word_bits:(p + 1) * cfg.word_bits]
            chars += [C(ord(" "), 8), *_hex_chars(word, cfg.word_bits)]
        return chars

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        m = Module()
        m.submodules.source = src = self.source
        m.submodules.uart = uart = UartTx(self.divisor)
        m.d.comb += [src.z.ready.eq(1), self.uart_tx.eq(uart.tx)]

        step_press, replay_press = self._presses(m)

        # Heartbeat: about one blink per second.
        beat = Signal(max(1, self.clk_hz.bit_length() - 1))
        m.d.sync += beat.eq(beat + 1)

        # Seed once after reset, then start(0); afterwards start(t) on every press.
        capture = Signal()
        with m.FSM():
            with m.State("SEED"):
                m.d.comb += [src.seed.valid.eq(1), src.seed.payload.eq(self.seed_in)]
                with m.If(src.seed.ready):
                    m.next = "START"
            with m.State("START"):
                m.d.comb += [src.start.valid.eq(1), src.start.payload.eq(self.step)]
                with m.If(src.start.ready):
                    m.d.sync += capture.eq(1)
                    m.next = "RUN"
            with m.State("RUN"):
                with m.If(step_press):
                    m.d.sync += self.step.eq(self.step + 1)
                    m.next = "START"
                with m.Elif(replay_press):
                    m.next = "START"

        # First transfer of the step: LEDs and the UART line.
        first = Signal(cfg.parallel * cfg.word_bits)
        shown_step = Signal(cfg.step_bits)
        chars = self.message(shown_step, first)
        index = Signal(range(len(chars)))
        sending = Signal()
        with m.If(capture & src.z.valid):
            m.d.sync += [first.eq(src.z.payload.as_value()), shown_step.eq(self.step),
                         capture.eq(0), index.eq(0), sending.eq(1)]
        with m.Elif(uart.data.valid & uart.data.ready):
            m.d.sync += index.eq(index + 1)
            with m.If(index == len(chars) - 1):
                m.d.sync += sending.eq(0)
        m.d.comb += [uart.data.valid.eq(sending), uart.data.payload.eq(Array(chars)[index]),
                     self.leds.eq(Cat(beat[-1], xor_fold(first, len(self.leds) - 1)))]
        return m

    def _presses(self, m: Module) -> tuple[Signal, Signal]:
        """One-clock pulses on the sampled rising edges of the two buttons."""
        period = max(1, self.clk_hz // SAMPLE_HZ)
        timer = Signal(range(period))
        tick = Signal()
        m.d.comb += tick.eq(timer == 0)
        m.d.sync += timer.eq(Mux(timer == period - 1, 0, timer + 1))
        presses = []
        for name, button in (("step", self.step_btn), ("replay", self.replay_btn)):
            synced = Signal(name=f"{name}_sync")
            m.submodules[f"{name}_cdc"] = FFSynchronizer(button, synced)
            sampled = Signal(name=f"{name}_sampled")
            press = Signal(name=f"{name}_press")
            with m.If(tick):
                m.d.sync += sampled.eq(synced)
            m.d.comb += press.eq(tick & synced & ~sampled)
            presses.append(press)
        return presses[0], presses[1]
