"""cocotb testbench of hw/reuse.py: every word read equals ``pezo.ref.reuse``.

``pool`` (:class:`PoolReuse`): a known pool of random signed words is written through
the write port (in a random order, with gaps), then a step is placed from a list of
random fresh words (the bench plays lane 0: ``word`` shows the next fresh word and
moves on at every clock where ``advance`` is 1) and read over at least two wraps with
random read gaps. Read c must show ``pool[pool_indices(*pool_draws(fresh), n)]`` for
parameters c*P .. c*P+P-1, ``words`` must hold while ``read_en`` is low, and the
words consumed must be exactly w0, w1, w2 at the placement and one per completed wrap.

``stream`` / ``none`` (:class:`StreamReuse`): random bank words are given on
``lanes``; transfers happen at random clocks (``next``), the bank advances when
``advance`` is 1 at a transfer, and every transfer's ``u`` must equal
``stream_variation`` of the fresh word i // R with r = i mod R for parameters
i = c*P + p; ``restart`` starts a new step (parameter 0).

Randomness comes from Python's ``random``, seeded by cocotb (``COCOTB_RANDOM_SEED``).
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import Timer
import numpy as np

from pezo.hw.reuse import reuse
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.reuse import pool_draws, pool_indices, stream_variation
from pezo.sim.runner import SimCase, config_from_env
from pezo.sim import streams
from pezo.sim.streams import clocks, expect_words, split_words, start_clock, value


def reuse_case(name: str, cfg: PezoConfig, quick: bool = True) -> SimCase:
    """A regression case of the reuse stage of ``cfg`` (its strategy picks the tests)."""
    tests = ["pool_reads_match_ref_over_wraps", "place_has_priority_over_read"] \
        if cfg.strategy == "pool" else ["stream_variations_match_ref"]
    return SimCase(name, reuse, "pezo.sim.tb_reuse", cfg, testcase=tests, quick=quick)


CASES = [
    reuse_case("reuse_pool_default", PRESETS["default"]),
    reuse_case("reuse_pool_small", PRESETS["small"]),
    reuse_case("reuse_pool_p1", PRESETS["p1"].replace(pool_size=64)),
    reuse_case("reuse_pool_p4_n8", PRESETS["small"].replace(parallel=4, pool_size=8)),
    reuse_case("reuse_stream_r4_p8", PRESETS["stream"]),
    reuse_case("reuse_stream_r8_p2", PezoConfig(strategy="stream", parallel=2, repeat=8)),
    reuse_case("reuse_none_small", PRESETS["small"].replace(strategy="none")),
]


async def reset(dut, ports: tuple[str, ...]) -> None:
    """Inputs to 0 and, for a clocked design, start the clock and reset it."""
    if not hasattr(dut, "clk"):
        for port in ports:
            getattr(dut, port).value = 0
        return
    start_clock(dut)
    await streams.reset(dut, zero=ports)


class Pool:
    """Writes the pool, places steps and reads them, checking every read against the ref."""

    PORTS = ("write_en", "write_index", "write_data", "word", "place", "read_en")

    def __init__(self, dut):
        self.dut = dut
        self.cfg = cfg = config_from_env()
        self.P, self.N = cfg.parallel, cfg.pool_size
        self.D = self.N // self.P
        self.pool = np.zeros(self.N, dtype=np.int64)

    def words_now(self) -> list[int]:
        return split_words(value(self.dut.words), self.P, self.cfg.word_bits)

    async def write_pool(self) -> None:
        """A fresh random pool, written in a random order with random idle clocks."""
        B = self.cfg.word_bits
        self.pool = np.array([random.randrange(-(1 << (B - 1)), 1 << (B - 1)) for _ in range(self.N)],
                             dtype=np.int64)
        for j in random.sample(range(self.N), self.N):
            while random.random() < 0.2:
                self.dut.write_en.value = 0
                await clocks(self.dut)
            self.dut.write_en.value = 1
            self.dut.write_index.value = j
            self.dut.write_data.value = int(self.pool[j]) & ((1 << B) - 1)
            await clocks(self.dut)
        self.dut.write_en.value = 0

    def fresh_words(self, reads: int) -> np.ndarray:
        """w0, w1 and one word per wrap begun, plus the one drawn ahead."""
        return np.array([random.getrandbits(self.cfg.word_bits) for _ in range(3 + reads // self.D)],
                        dtype=np.int64)

    async def run(self, fresh: np.ndarray, reads: int, gap: float, *, place_reading: bool = False) -> np.ndarray:
        """Place a step from ``fresh`` (``read_en`` high in that clock if
        ``place_reading``), then ``reads`` reads, ``read_en`` low with probability
        ``gap`` per clock; returns the words of each read, shape (reads, P), and checks
        the fresh words consumed."""
        dut = self.dut
        out: list[list[int]] = []
        taken, done, first = 0, 0, True
        while done < reads:
            rd = place_reading if first else random.random() >= gap
            dut.place.value = int(first)
            dut.read_en.value = int(rd)
            dut.word.value = int(fresh[min(taken, len(fresh) - 1)])
            await Timer(1, unit="ns")  # combinational outputs of these inputs
            advance, reading = value(dut.advance), rd and not first and value(dut.ready)
            await clocks(dut)
            await Timer(1, unit="ns")  # the registered outputs of this edge
            assert taken < len(fresh) or not advance, f"a word beyond w{len(fresh) - 1} consumed"
            taken += advance
            if reading:
                out.append(self.words_now())
                done += 1
            elif out:
                assert self.words_now() == out[-1], f"words changed while read_en was low (after read {done})"
            first = False
        dut.place.value = 0
        dut.read_en.value = 0
        assert taken == 3 + reads // self.D, f"{taken} fresh words consumed for {reads} reads"
        return np.array(out, dtype=np.int64)

    def expected(self, fresh: np.ndarray, reads: int) -> np.ndarray:
        """The ref's words of ``reads`` reads: ``pool[pool_indices(...)]``, shape (reads, P)."""
        wraps = -(-reads // self.D)
        offsets, stride = pool_draws(fresh[:1 + wraps], self.cfg)
        idx = pool_indices(offsets, int(stride), reads * self.P, self.cfg)
        return self.pool[idx].reshape(reads, self.P)


@cocotb.test()
async def pool_reads_match_ref_over_wraps(dut):
    """Two pools, each placed twice and read over 2.5 wraps with random gaps."""
    await reset(dut, Pool.PORTS)
    pool = Pool(dut)
    reads = 2 * pool.D + pool.D // 2
    for round_ in range(2):
        await pool.write_pool()
        for gap in (0.0, 0.3):
            fresh = pool.fresh_words(reads)
            got = await pool.run(fresh, reads, gap)
            expect_words(got, pool.expected(fresh, reads), f"pool {round_}, gap {gap}, fresh {fresh.tolist()}")


@cocotb.test()
async def place_has_priority_over_read(dut):
    """A place with read_en high reads nothing and starts wrap 0; a place mid-wrap restarts."""
    await reset(dut, Pool.PORTS)
    pool = Pool(dut)
    await pool.write_pool()
    await pool.run(pool.fresh_words(pool.D // 2 + 1), pool.D // 2 + 1, 0.2)
    reads = 2 * pool.D + 1
    fresh = pool.fresh_words(reads)
    got = await pool.run(fresh, reads, 0.1, place_reading=True)
    expect_words(got, pool.expected(fresh, reads), f"after a place mid-wrap, fresh {fresh.tolist()}")


async def settle(dut) -> None:
    """One clock, or a nanosecond for the purely combinational R <= P design (no ``clk``)."""
    if hasattr(dut, "clk"):
        await clocks(dut)
    else:
        await Timer(1, unit="ns")


class Stream:
    """Gives bank words on ``lanes`` and checks every transfer's ``u`` against the ref."""

    PORTS = ("lanes", "next", "restart")

    def __init__(self, dut):
        self.dut = dut
        self.cfg = config_from_env()
        self.K, self.P, self.R = self.cfg.lanes, self.cfg.parallel, self.cfg.effective_repeat
        self.fresh: list[int] = []
        self.bank: list[int] = []

    def new_bank_clock(self) -> None:
        self.bank = [random.getrandbits(self.cfg.word_bits) for _ in range(self.K)]
        self.fresh += self.bank
        B = self.cfg.word_bits
        self.dut.lanes.value = sum(w << (k * B) for k, w in enumerate(self.bank))

    async def step(self, transfers: int, gap: float) -> int:
        """Restart, then ``transfers`` transfers at random clocks; returns the words checked."""
        B, P, R = self.cfg.word_bits, self.P, self.R
        self.fresh = []
        self.dut.restart.value = 1
        self.dut.next.value = 0
        self.new_bank_clock()
        await settle(self.dut)
        self.dut.restart.value = 0
        c = 0
        while c < transfers:
            go = random.random() >= gap
            self.dut.next.value = int(go)
            await settle(self.dut)
            u = [w & ((1 << B) - 1) for w in split_words(value(self.dut.u), P, B)]
            i = np.arange(c * P, c * P + P, dtype=np.int64)
            want = stream_variation(np.array(self.fresh, dtype=np.int64)[i // R], i % R, self.cfg)
            assert u == want.tolist(), (f"transfer {c} (go={go}): u {[hex(w) for w in u]}, "
                                        f"ref {[hex(int(w)) for w in want]}")
            last = (c * P + P) % R == 0 if R > P else True
            assert value(self.dut.advance) == int(last), f"advance {value(self.dut.advance)} at transfer {c}"
            if go:
                c += 1
                if last:
                    self.new_bank_clock()
        self.dut.next.value = 0
        return transfers * P


@cocotb.test()
async def stream_variations_match_ref(dut):
    """Several steps (restart mid-bank-clock included), random transfer gaps."""
    await reset(dut, Stream.PORTS)
    s = Stream(dut)
    phases = max(1, s.R // s.P)
    for transfers, gap in [(4 * phases + 1, 0.0), (3 * phases + 1, 0.4), (5 * phases, 0.2), (1, 0.0)]:
        await s.step(transfers, gap)
