"""cocotb testbench of hw/trainer_link.py (``TrainerLink``: a ZoTrainer behind a UART
speaking the byte link of docs/trainer.md section 7) and of the UART receiver
(hw/uart.py) on the way: a host on the simulated serial lines loads parameters, seeds,
runs steps with their examples streamed as bytes and reads every parameter back; every
reply byte must equal that of the golden link device (``pezo.ref.train.link.LinkDevice``,
the golden trainer behind the framing) for the same request bytes. The line runs at
``divisor`` clocks per bit (4 in simulation); a glitch shorter than half a bit and
unknown command bytes come first and must be ignored.
"""

from __future__ import annotations

import json
import random

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

from pezo.hw.trainer_link import TrainerLink
from pezo.ref.config import PRESETS
from pezo.ref.train.fixed_config import FEATURE_MAX, TrainerConfig
from pezo.ref.train.link import READ, SEED, WRITE, LinkDevice, LinkFields, encode
from pezo.sim.runner import SimCase, env_value
from pezo.sim.streams import clocks, start_clock, value
from pezo.sim.tb_trainer import TRAINER_ENV, trainer_fields, trainer_from_env

DIVISOR_ENV = "PEZO_UART_DIVISOR"


def link_case(name: str, tcfg: TrainerConfig, divisor: int = 4) -> SimCase:
    """A regression case of the link around a trainer of ``tcfg``."""
    return SimCase(name, lambda pcfg: TrainerLink(tcfg.replace(pezo=pcfg), divisor), "pezo.sim.tb_trainer_link",
                   tcfg.pezo, env={TRAINER_ENV: json.dumps(trainer_fields(tcfg)), DIVISOR_ENV: str(divisor)})


class SerialHost:
    """The host end of the two serial lines: sends bytes on ``rx``, collects ``tx``."""

    def __init__(self, dut):
        self.dut = dut
        self.divisor = int(env_value(DIVISOR_ENV))
        self.received: list[int] = []
        dut.rx.value = 1
        cocotb.start_soon(self._listen())

    async def send(self, data: bytes) -> None:
        for byte in data:
            for bit in [0, *((byte >> k) & 1 for k in range(8)), 1]:
                self.dut.rx.value = bit
                await ClockCycles(self.dut.clk, self.divisor)

    async def _listen(self) -> None:
        dut, n = self.dut, self.divisor
        while True:
            await FallingEdge(dut.tx)
            await ClockCycles(dut.clk, n // 2)
            assert not value(dut.tx), "start bit of tx too short"
            byte = 0
            for k in range(8):
                await ClockCycles(dut.clk, n)
                byte |= value(dut.tx) << k
            await ClockCycles(dut.clk, n)
            assert value(dut.tx), "stop bit of tx is 0"
            self.received.append(byte)

    async def answer(self, n: int, timeout: int = 200_000) -> bytes:
        for _ in range(timeout):
            if len(self.received) >= n:
                out, self.received = self.received[:n], self.received[n:]
                return bytes(out)
            await RisingEdge(self.dut.clk)
        raise AssertionError(f"only {len(self.received)} of {n} answer bytes arrived")


@cocotb.test()
async def host_trains_over_uart(dut):
    """A glitch and unknown command bytes are ignored; then parameters written, a seed,
    steps with their examples streamed and every parameter read back (all ``R``
    requests sent at once, as ``TrainerHost.read_parameters`` does): every reply byte
    equals the golden ``LinkDevice``'s for the same requests."""
    cfg = trainer_from_env()
    fields, device = LinkFields(cfg), LinkDevice(cfg)
    start_clock(dut)
    host = SerialHost(dut)
    dut.rst.value = 1
    await clocks(dut, 2)
    dut.rst.value = 0
    await clocks(dut, 4)
    dut.rx.value = 0  # a glitch of a quarter bit: no start bit
    await ClockCycles(dut.clk, max(1, host.divisor // 4))
    dut.rx.value = 1
    await ClockCycles(dut.clk, 2 * host.divisor)
    await host.send(bytes([0x00, 0xFF, ord("x")]))

    async def request(data: bytes, what: str) -> None:
        want = device.receive(data)
        await host.send(data)
        got = await host.answer(len(want))
        assert got == want, f"{what}: reply {got.hex()}, golden {want.hex()}"

    top = 1 << (cfg.theta_bits - 1)
    await request(b"".join(WRITE + encode(i, 8 * fields.addr) + encode(random.randrange(-top, top), cfg.theta_bits)
                           for i in range(cfg.n_params)), "writes")
    await request(SEED + encode(random.getrandbits(cfg.pezo.lfsr_width), 8 * fields.seed), "seed")
    for n in range(2):
        x = np.array([[random.randint(0, FEATURE_MAX) for _ in range(cfg.n_in)] for _ in range(cfg.batch)])
        y = np.array([random.randrange(cfg.n_out) for _ in range(cfg.batch)])
        await request(fields.step_request(random.randrange(cfg.max_steps), x, y), f"step {n}")
        await request(b"".join(READ + encode(i, 8 * fields.addr) for i in range(cfg.n_params)),
                      f"parameters after step {n}")
    assert device.steps == 2
    await clocks(dut, 20 * host.divisor)
    assert not host.received, f"unexpected bytes {host.received}"


#: A small MLP on the small engine preset (a short pool fill, so the simulation stays short).
CASES = [link_case("trainer_link", TrainerConfig(n_in=8, hidden=3, n_out=4, macs=2, batch=4, lr_shift=12,
                                                  eps_shift=4, pezo=PRESETS["small"]))]
