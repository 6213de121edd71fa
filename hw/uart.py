"""UART receiver (8N1, LSB first), the counterpart of :class:`pezo.hw.board_top.UartTx`;
the trainer's board link (hw/trainer_link.py) receives its commands and examples with it.
"""

from __future__ import annotations

import enum

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


class _Rx(enum.Enum):
    IDLE = 0
    START = 1
    DATA = 2
    STOP = 3


class UartRx(wiring.Component):
    """8N1 UART receiver, LSB first.

    Parameters
    ----------
    divisor : clocks per bit (clk_hz / baud, rounded), >= 4.

    Attributes
    ----------
    rx : In(1, init=1), the serial line (asynchronous; two flip-flops synchronise it),
        idle high.
    data : Out(stream.Signature(8)); one transfer per byte whose stop bit is 1, ``valid``
        for one clock and ``ready`` ignored (no flow control: buffer it in a FIFO). A start
        bit is checked in its middle (a shorter low pulse is ignored); each data bit and
        the stop bit are sampled in their middle (line values of clock divisor // 2 of
        each bit, counted from the falling edge). The byte is offered 2 + divisor // 2 +
        9 * divisor clocks after the start bit's falling edge, about 9.5 bit times; a new
        start bit is looked for from then on.
    """

    def __init__(self, divisor: int):
        if divisor < 4:
            raise ValueError(f"divisor must be >= 4, got {divisor}")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8))})

    def elaborate(self, platform) -> Module:
        m = Module()
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)
        state = Signal(_Rx)
        timer = Signal(range(self.divisor))
        bit = Signal(range(8))
        shreg = Signal(8)
        m.d.sync += self.data.valid.eq(0)
        with m.If(state == _Rx.IDLE):
            with m.If(~line):
                # the synchroniser's 2 clocks count towards the middle of the start bit
                m.d.sync += [state.eq(_Rx.START), timer.eq(self.divisor // 2 - 2)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += timer.eq(self.divisor - 1)
            with m.Switch(state):
                with m.Case(_Rx.START):
                    m.d.sync += bit.eq(0)
                    with m.If(line):  # too short for a start bit
                        m.d.sync += state.eq(_Rx.IDLE)
                    with m.Else():
                        m.d.sync += state.eq(_Rx.DATA)
                with m.Case(_Rx.DATA):
                    m.d.sync += [shreg.eq(Cat(shreg[1:], line)), bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.d.sync += state.eq(_Rx.STOP)
                with m.Case(_Rx.STOP):
                    m.d.sync += [state.eq(_Rx.IDLE), self.data.valid.eq(line), self.data.payload.eq(shreg)]
        return m
