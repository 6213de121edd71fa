"""Amaranth's own simulator (``amaranth.sim``) for fast unit tests of small blocks.

The cocotb testbenches (sim/tb_*.py) build every design with Icarus, which costs
seconds a case; a block whose contract is a few lines of ref/ (a lane leap, the
scaler's centring and rounding, the reuse addressing, a datapath core) is checked here
instead, in-process and in well under a second, the way Amaranth tests its own
library: an async testbench ``async def bench(ctx)`` that sets inputs with
``ctx.set``, advances the ``sync`` clock with ``await ctx.tick()`` and reads outputs
with ``ctx.get``, comparing every word with ref/::

    def test_leap(...):
        async def bench(ctx):
            ctx.set(dut.a, 3)
            await ctx.tick()
            assert ctx.get(dut.b) == model(3)
        simulate(dut, bench)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from amaranth.hdl import Elaboratable, Fragment
from amaranth.lib.memory import Memory
from amaranth.sim import Simulator

#: Period of the ``sync`` clock in the unit tests, in seconds (only the order of events matters).
CLOCK_PERIOD = 1e-6


def simulate(dut: Elaboratable, bench: Callable[..., Awaitable[None]], *, clocked: bool = True) -> None:
    """Run the async testbench ``bench(ctx)`` on ``dut`` in Amaranth's simulator.

    ``clocked``: ``dut`` has a ``sync`` domain, driven by a clock of
    :data:`CLOCK_PERIOD` with its reset low; False for a purely combinational design."""
    sim = Simulator(dut)
    if clocked:
        sim.add_clock(CLOCK_PERIOD)
    sim.add_testbench(bench)
    sim.run()


def memories(dut: Elaboratable) -> list[Memory]:
    """Every :class:`amaranth.lib.memory.Memory` of ``dut``'s elaborated design (with
    ``platform`` None), in the order of its hierarchy."""
    found: list[Memory] = []

    def walk(fragment: Fragment) -> None:
        found.extend(origin for origin in fragment.origins or () if isinstance(origin, Memory))
        for sub, _name, _src_loc in fragment.subfragments:
            walk(sub)

    walk(Fragment.get(dut, None))
    return found
