"""The trainer's UART link (hw/trainer_link.py, hw/uart.py) under cocotb: a host speaking
the byte protocol trains over the simulated serial lines, bit-exact with the golden
trainer (sim/tb_trainer_link.py)."""

from __future__ import annotations

import pytest

from pezo.sim.tb_trainer_link import CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_host_trains_over_uart_bit_exact(case):
    assert case.run().ok
