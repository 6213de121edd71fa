"""cocotb checks of the common perturbation-source interface (``start`` / ``seed`` /
``z``, see hw/source.py), shared by the testbenches of every perturbation source.

:class:`SourceBench` drives one source and compares every word it emits with the
golden model; the ``check_*`` coroutines are the claims of the interface, and
:func:`source_tests` makes them the five cocotb tests of a testbench module.
Randomness (steps, seeds, back-pressure) comes from Python's ``random``, seeded by
cocotb (``COCOTB_RANDOM_SEED``), so a failing run is reproduced from the seed it prints.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import cocotb
import numpy as np
from amaranth import Shape

from pezo.hw.source import SourceSignature
from pezo.ref.config import PezoConfig
from pezo.sim.runner import config_from_env
from pezo.sim.streams import StreamDriver, clocks, expect_words, now, reset, start_clock, z_sink

def check_interface(dut, cfg: PezoConfig) -> None:
    """The DUT has the ports of ``SourceSignature.from_config(cfg)`` (hw/source.py, the
    one definition of the interface): ``start``, ``seed`` and ``z`` streams whose
    payloads have the signature's widths (S, W and P*B bits)."""
    for name, member in SourceSignature.from_config(cfg).members.items():
        want = Shape.cast(member.signature.members["payload"].shape).width
        got = len(getattr(dut, f"{name}__payload"))
        assert got == want, f"{name}__payload has {got} bits, the source interface {want}"


#: golden model of a source: (cfg, seed_in) -> (step, n) -> n signed words (int64)
Reference = Callable[[PezoConfig, int], Callable[[int, int], np.ndarray]]


class SourceBench:
    """A source's three streams, its golden model and word-by-word checks.

    ``z`` is taken with random back-pressure (``ready`` low with probability
    ``PEZO_BACKPRESSURE``, default 0.3); ``words`` is the length of one check."""

    def __init__(self, dut, reference: Reference, words: int):
        self.dut = dut
        self.cfg = config_from_env()
        check_interface(dut, self.cfg)
        self.words = words
        start_clock(dut)
        self.start = StreamDriver(dut, "start")
        self.seed = StreamDriver(dut, "seed")
        self.z = z_sink(dut, self.cfg.parallel, self.cfg.word_bits)
        self._reference = reference
        self._models: dict[int, Callable[[int, int], np.ndarray]] = {}
        self.seed_in = 0

    @property
    def top_step(self) -> int:
        """A step range that keeps seeks short (one master jump per clock)."""
        return min(40, (1 << self.cfg.step_bits) - 2)

    def expected(self, t: int, n: int) -> np.ndarray:
        """The golden model's first n words of step t for the current runtime seed."""
        if self.seed_in not in self._models:
            self._models[self.seed_in] = self._reference(self.cfg, self.seed_in)
        return self._models[self.seed_in](t, n)

    async def reset(self) -> None:
        self.z.start()
        await reset(self.dut)
        self.seed_in = 0
        self.z.restart(since=now())

    async def send_seed(self, seed_in: int) -> None:
        self.z.restart(since=await self.seed.send(seed_in))
        self.seed_in = seed_in

    async def begin(self, t: int) -> None:
        """start(t): words recorded from the next transfer on belong to step t."""
        self.z.restart(since=await self.start.send(t))

    async def check(self, t: int, n: int | None = None) -> np.ndarray:
        """start(t), take n words and compare each with the model; returns them."""
        n = self.words if n is None else n
        await self.begin(t)
        got = await self.z.take(n)
        expect_words(got, self.expected(t, n), f"step {t} seed_in {self.seed_in:#x}")
        return got

    async def idle_for(self, clocks_: int) -> None:
        """No word may come out for ``clocks_`` clocks (no start since reset or seed)."""
        await clocks(self.dut, clocks_)
        assert len(self.z.words) == 0, f"{len(self.z.words)} words came out without a start"


async def check_words_after_start(bench: SourceBench) -> None:
    """After reset the source is idle; start(t) gives words 0.. of step t, forward and back."""
    await bench.reset()
    await bench.idle_for(8)
    top = bench.top_step
    for t in [0, random.randrange(1, top + 1), random.randrange(top + 1), 1]:
        await bench.check(t)
    assert bench.z.stalled > 0 or bench.z.backpressure == 0, "back-pressure never met a valid word"


async def check_replay(bench: SourceBench) -> None:
    """start(t) three times (+eps, -eps, update) gives identical words; t+1 differs;
    going back to an earlier step and to t again reproduces them."""
    await bench.reset()
    t = random.randrange(1, bench.top_step)
    passes = [await bench.check(t) for _ in range(3)]
    assert all((p == passes[0]).all() for p in passes), "replay of the same step differs"
    following = await bench.check(t + 1)
    assert not (following == passes[0]).all(), f"step {t + 1} repeats step {t}"
    await bench.check(random.randrange(t))
    again = await bench.check(t)
    assert (again == passes[0]).all(), "returning to an earlier step changed its words"


async def check_start_abandons_run(bench: SourceBench, waits: Sequence[int]) -> None:
    """A start after each of ``waits`` clocks (into a seek, a fill or the pipeline) and
    one in the middle of a run discard what was in flight."""
    await bench.reset()
    top = bench.top_step
    for wait in waits:
        await bench.begin(random.randrange(top + 1))
        await clocks(bench.dut, wait)
        await bench.check(random.randrange(top + 1))
    await bench.begin(random.randrange(top + 1))
    await bench.z.take(random.randrange(1, 4 * bench.cfg.parallel))
    await bench.check(random.randrange(top + 1))


async def check_reset_mid_run(bench: SourceBench, max_wait: int) -> None:
    """Reset during a run (after a seed) and up to ``max_wait`` clocks after a start:
    idle afterwards with seed_in back to 0, then exact words."""
    await bench.reset()
    await bench.send_seed(random.getrandbits(bench.cfg.lfsr_width))
    await bench.begin(random.randrange(bench.top_step + 1))
    await bench.z.take(random.randrange(1, 6 * bench.cfg.parallel))
    await bench.reset()
    await bench.idle_for(6)
    await bench.check(2)
    await bench.begin(random.randrange(bench.top_step + 1))
    await clocks(bench.dut, random.randrange(1, max_wait))
    await bench.reset()
    await bench.idle_for(6)
    await bench.check(random.randrange(bench.top_step + 1))


async def check_runtime_seed(bench: SourceBench) -> None:
    """seed(x) gives the words of the model with seed_in = x (and idles until a start)."""
    await bench.reset()
    t = random.randrange(bench.top_step + 1)
    plain = await bench.check(t)
    seed_in = random.getrandbits(bench.cfg.lfsr_width) | 1
    await bench.send_seed(seed_in)
    await bench.idle_for(6)
    seeded = await bench.check(t)
    assert not (seeded == plain).all(), f"seed_in {seed_in:#x} did not change step {t}"
    await bench.check(t + 1)
    await bench.send_seed(0)
    await bench.check(t)


def source_tests(module: str, bench: Callable[[object], SourceBench], *, waits: Sequence[int],
                 max_wait: int, skip: bool = False) -> tuple[object, ...]:
    """The five cocotb tests of the common interface for the testbench module ``module``
    (pass ``__name__``), each building ``bench(dut)``:

    ``words_after_start_match_model``, ``replay_gives_identical_words``,
    ``start_abandons_run`` (a start after each of ``waits`` clocks and in a run),
    ``reset_mid_run_returns_to_idle`` (a reset up to ``max_wait`` clocks after a start)
    and ``runtime_seed_selects_model_seed``, in that order. Each test carries its
    module's name, so cocotb names it (and seeds its ``random``) as if it were written
    out in that module; ``skip`` skips all five."""
    async def words_after_start_match_model(dut) -> None:
        await check_words_after_start(bench(dut))

    async def replay_gives_identical_words(dut) -> None:
        await check_replay(bench(dut))

    async def start_abandons_run(dut) -> None:
        await check_start_abandons_run(bench(dut), waits)

    async def reset_mid_run_returns_to_idle(dut) -> None:
        await check_reset_mid_run(bench(dut), max_wait)

    async def runtime_seed_selects_model_seed(dut) -> None:
        await check_runtime_seed(bench(dut))

    tests = []
    for test, check in ((words_after_start_match_model, check_words_after_start),
                        (replay_gives_identical_words, check_replay),
                        (start_abandons_run, check_start_abandons_run),
                        (reset_mid_run_returns_to_idle, check_reset_mid_run),
                        (runtime_seed_selects_model_seed, check_runtime_seed)):
        test.__module__, test.__qualname__, test.__doc__ = module, test.__name__, check.__doc__
        tests.append(cocotb.test(skip=skip)(test))
    return tuple(tests)
