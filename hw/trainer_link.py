"""The trainer on a board: :class:`TrainerLink` puts a ``ZoTrainer`` (hw/trainer.py)
behind a UART that speaks the byte link of docs/trainer.md section 7 (the framing and
its golden model ``LinkDevice`` are ``pezo.ref.train.link``; the host driver is
``pezo.host.TrainerHost``), and :class:`TrainerBoardTop` wires it to a board of
hw/boards.py (``pezo build --board NAME --design trainer``).

The UART runs 8N1 at :data:`BAUD` on the boards. Requests (``S`` seed, ``W`` write, ``R``
read, ``T`` step and its b examples) map one to one onto the trainer's streams; the
replies (``R``: the parameter, ``T``: the step's delta when the update is written) go
out on ``tx``. Where the golden model raises a protocol error (an unknown command byte),
the hardware skips the byte; an address beyond the parameters reaches the trainer's
``read`` / ``write`` unchanged (memory beyond d is undefined). Requests run in order;
received bytes wait in a FIFO (``fifo_depth`` bytes, default 512, one block RAM; there
is no flow control) while the trainer computes or a reply goes out. The longest pause in
a step's intake of examples is two forward passes plus, on the first step after a seed,
the PeZO pool fill: about 6000 clocks for the default MLP and engine, 6 bytes' time at
115200 baud and 12 MHz; a host that sends all n_params ``R`` requests at once
(``TrainerHost.read_parameters``) gains a few clocks per request on the replies, under
one byte per hundred requests at 12 MHz. So a host may stream without pauses.
"""

from __future__ import annotations

import enum

from amaranth import Elaboratable, Module, Signal
from amaranth.build import Platform
from amaranth.lib import io, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from pezo.hw.board_top import UartTx
from pezo.hw.trainer import ZoTrainer
from pezo.hw.uart import UartRx
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.link import READ, SEED, STEP, WRITE, LinkFields

#: Bit rate of the boards' UART.
BAUD = 115200


class _Link(enum.Enum):
    COMMAND = 0
    ARGUMENTS = 1
    EXECUTE = 2
    PARAM = 3
    EXAMPLES = 4
    DELTA = 5
    ANSWER = 6


class TrainerLink(wiring.Component):
    """A ZoTrainer driven over a UART (the byte link: module docstring).

    Parameters
    ----------
    tcfg : the trainer's configuration.
    divisor : clocks per UART bit (clk_hz / baud), >= 4.
    fifo_depth : bytes of the receive FIFO (default 512).

    Attributes
    ----------
    rx : In(1), serial input (idle high). tx : Out(1), serial output (idle high).
    busy : Out(1), the trainer's ``busy``.
    """

    def __init__(self, tcfg: TrainerConfig, divisor: int, fifo_depth: int = 512):
        self.cfg = tcfg
        self.divisor = divisor
        self.fifo_depth = fifo_depth
        self.fields = LinkFields(tcfg)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "busy": Out(1)})

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, f = self.cfg, self.fields
        m.submodules.trainer = trainer = ZoTrainer(cfg)
        m.submodules.rx = rx = UartRx(self.divisor)
        m.submodules.tx = tx = UartTx(self.divisor)
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=8, depth=self.fifo_depth)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx), self.busy.eq(trainer.busy),
                     fifo.w_stream.valid.eq(rx.data.valid), fifo.w_stream.payload.eq(rx.data.payload)]
        byte = fifo.r_stream

        arg_bytes = {SEED[0]: f.seed, WRITE[0]: f.addr + f.param, READ[0]: f.addr, STEP[0]: f.step}
        args = Signal(8 * max(arg_bytes.values()))
        index = Signal(range(max(arg_bytes.values()) + 1))
        command = Signal(8)
        examples = cfg.batch * f.example
        count = Signal(range(examples))
        answer = Signal(8 * max(f.param, f.delta))
        left = Signal(range(len(answer) // 8 + 1))
        addr_bits = 8 * f.addr
        m.d.comb += [
            trainer.seed.payload.eq(args),
            trainer.write.payload.addr.eq(args),
            trainer.write.payload.value.eq(args[addr_bits:]),
            trainer.read.payload.eq(args),
            trainer.step.payload.eq(args),
            trainer.examples.payload.eq(byte.payload),
            tx.data.payload.eq(answer[:8]),
        ]
        state = Signal(_Link)
        with m.Switch(state):
            with m.Case(_Link.COMMAND):
                m.d.comb += byte.ready.eq(1)
                with m.If(byte.valid):
                    m.d.sync += [command.eq(byte.payload), index.eq(0), args.eq(0)]
                    with m.Switch(byte.payload):
                        with m.Case(*arg_bytes):
                            m.d.sync += state.eq(_Link.ARGUMENTS)
            with m.Case(_Link.ARGUMENTS):
                m.d.comb += byte.ready.eq(1)
                with m.If(byte.valid):
                    m.d.sync += [args.word_select(index, 8).eq(byte.payload), index.eq(index + 1)]
                    with m.Switch(command):
                        for c, n in arg_bytes.items():
                            with m.Case(c):
                                with m.If(index == n - 1):
                                    m.d.sync += state.eq(_Link.EXECUTE)
            with m.Case(_Link.EXECUTE):
                with m.Switch(command):
                    with m.Case(SEED[0]):
                        m.d.comb += trainer.seed.valid.eq(1)
                        with m.If(trainer.seed.ready):
                            m.d.sync += state.eq(_Link.COMMAND)
                    with m.Case(WRITE[0]):
                        m.d.comb += trainer.write.valid.eq(1)
                        with m.If(trainer.write.ready):
                            m.d.sync += state.eq(_Link.COMMAND)
                    with m.Case(READ[0]):
                        m.d.comb += trainer.read.valid.eq(1)
                        with m.If(trainer.read.ready):
                            m.d.sync += state.eq(_Link.PARAM)
                    with m.Case(STEP[0]):
                        m.d.comb += trainer.step.valid.eq(1)
                        with m.If(trainer.step.ready):
                            m.d.sync += [count.eq(0), state.eq(_Link.EXAMPLES)]
            with m.Case(_Link.PARAM):
                m.d.comb += trainer.param.ready.eq(1)
                with m.If(trainer.param.valid):
                    m.d.sync += [answer.eq(trainer.param.payload), left.eq(f.param),
                                 state.eq(_Link.ANSWER)]
            with m.Case(_Link.EXAMPLES):
                m.d.comb += [trainer.examples.valid.eq(byte.valid), byte.ready.eq(trainer.examples.ready)]
                with m.If(byte.valid & trainer.examples.ready):
                    m.d.sync += count.eq(count + 1)
                    with m.If(count == examples - 1):
                        m.d.sync += state.eq(_Link.DELTA)
            with m.Case(_Link.DELTA):
                m.d.comb += trainer.delta.ready.eq(1)
                with m.If(trainer.delta.valid):
                    m.d.sync += [answer.eq(trainer.delta.payload), left.eq(f.delta),
                                 state.eq(_Link.ANSWER)]
            with m.Case(_Link.ANSWER):
                m.d.comb += tx.data.valid.eq(1)
                with m.If(tx.data.ready):
                    m.d.sync += [answer.eq(answer >> 8), left.eq(left - 1)]
                    with m.If(left == 1):
                        m.d.sync += state.eq(_Link.COMMAND)
        return m


class TrainerBoardTop(Elaboratable):
    """:class:`TrainerLink` on one board of hw/boards.py: the board's USB-UART at
    :data:`BAUD`; LED 0 a heartbeat (about one blink per second), LED 1 the trainer's
    ``busy``.

    Parameters
    ----------
    board : a :class:`pezo.hw.boards.BoardSpec`.
    tcfg : the trainer's configuration.
    """

    def __init__(self, board, tcfg: TrainerConfig):
        self.board = board
        self.cfg = tcfg

    def elaborate(self, platform: Platform) -> Module:
        m = Module()
        clk_hz = int(platform.default_clk_frequency)
        m.submodules.link = link = TrainerLink(self.cfg, max(4, round(clk_hz / BAUD)))
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [link.rx.eq(rx.i), tx.o.eq(link.tx)]
        beat = Signal(max(1, clk_hz.bit_length() - 1))
        m.d.sync += beat.eq(beat + 1)
        for i, value in enumerate([beat[-1], link.busy]):
            name, number = self.board.leds[i]
            m.submodules[f"led_{i}"] = led = io.Buffer("o", platform.request(name, number, dir="-"))
            m.d.comb += led.o.eq(value)
        return m
