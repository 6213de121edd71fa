"""Fast unit tests of small blocks in Amaranth's own simulator (sim/pysim.py), no Icarus
build: each drives the block with an async testbench and compares every word with ref/
(the cocotb testbenches of sim/ cover the same blocks inside whole designs).

Blocks: the LFSR lane leap and the bank after reset and a seek (ref/lfsr.py), the
scaler's centring, magnitude, moment term and shift-and-add rounding (ref/scaler.py),
the shared adder tree (hw/arith.py), the pool addressing and the stream variations of
the reuse stage (ref/reuse.py), the Rademacher core and source (ref/rademacher.py), and
the pool sources' rule that no pool read comes beside a pool write (hw/reuse.py).
Inputs are drawn from ``random.Random`` with fixed seeds, so every run is the same.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth import Fragment, Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from pezo.hw.arith import adder_tree
from pezo.hw.engine import PoolEngine
from pezo.hw.gaussian_pool import GaussianPool
from pezo.hw.lfsr import LfsrBank, apply_rows
from pezo.hw.rademacher import RademacherCore, RademacherSource
from pezo.hw.reuse import PoolReuse, StreamReuse
from pezo.hw.scaler import centred, magnitude, moment_term, shift_add_scale
from pezo.ref import lfsr as ref_lfsr
from pezo.ref.config import PRESETS
from pezo.ref.rademacher import Rademacher, rademacher_lanes, rademacher_words
from pezo.ref.reuse import pool_draws, pool_indices, stream_variation
from pezo.ref.scaler import apply_scale, centre, mantissa_range, moment_terms
from pezo.sim.pysim import simulate
from pezo.sim.streams import expect_words

SMALL = PRESETS["small"]


# LFSR

@pytest.mark.parametrize("width,bits", [(16, 8), (48, 16), (5, 5), (64, 24)])
def test_lane_leap_is_b_single_lfsr_steps(width, bits):
    """The lane's leap network (hw/lfsr.apply_rows of leap_rows) equals B applications of
    ref/lfsr.step, the executable definition of the LFSR, on random states."""
    m = Module()
    state, leap = Signal(width), Signal(width)
    m.d.comb += leap.eq(apply_rows(ref_lfsr.leap_rows(width, bits), state))
    rng = random.Random(width)
    states = [rng.getrandbits(width) | 1 for _ in range(40)]

    async def bench(ctx):
        for s in states:
            ctx.set(state, s)
            want = s
            for _ in range(bits):
                want = ref_lfsr.step(want, width)
            assert ctx.get(leap) == want, f"leap of {s:#x}"

    simulate(m, bench, clocked=False)


def test_bank_words_after_reset_and_after_a_seek_match_ref():
    """A three-lane bank: the words of its reset state, then those of step 5 after a seek
    and a chain load, each clock against ref/lfsr.LfsrBank, with clocks without
    ``advance`` holding the words."""
    W, B, K, step = 16, 8, 3, 5
    dut = LfsrBank(W, B, K, SMALL.seed, step_bits=8)
    model = ref_lfsr.LfsrBank(W, B, K, SMALL.seed)
    rng = random.Random(1)

    async def words(ctx, n):
        out = []
        while len(out) < n:
            advance = rng.random() < 0.7
            if advance:
                out.append(list(ctx.get(dut.words)))
            ctx.set(dut.advance, advance)
            await ctx.tick()
        ctx.set(dut.advance, 0)
        return np.array(out, dtype=np.uint64)

    async def wait_idle(ctx):
        await ctx.tick()
        while ctx.get(dut.busy):
            await ctx.tick()

    async def bench(ctx):
        expect_words(await words(ctx, 12), model.words(12), "after reset")
        ctx.set(dut.seek.payload, step)
        ctx.set(dut.seek.valid, 1)
        await ctx.tick()
        ctx.set(dut.seek.valid, 0)
        await wait_idle(ctx)
        assert ctx.get(dut.step) == step
        ctx.set(dut.load, 1)
        await ctx.tick()
        ctx.set(dut.load, 0)
        await wait_idle(ctx)
        model.load(step)
        expect_words(await words(ctx, 12), model.words(12), f"step {step}")

    simulate(dut, bench)


# scaler helpers and the adder tree

class _ScaleHelpers(wiring.Component):
    """The scaler's wiring helpers on one word ``u`` and one mantissa ``mant``."""

    def __init__(self, cfg):
        self.cfg = cfg
        B, M, T = cfg.word_bits, cfg.mantissa_bits, cfg.moment_bits
        super().__init__({"u": In(unsigned(B)), "mant": In(unsigned(M + 1)), "v": Out(signed(B + 1)),
                          "mag": Out(unsigned(B)), "term": Out(unsigned(2 * T)), "z": Out(signed(B))})

    def elaborate(self, platform) -> Module:
        m = Module()
        B, T = self.cfg.word_bits, self.cfg.moment_bits
        mag = magnitude(self.u, B)
        m.d.comb += [self.v.eq(centred(self.u, B)), self.mag.eq(mag),
                     self.term.eq(moment_term(mag[B - T:], T)),
                     self.z.eq(shift_add_scale(centred(self.u, B), self.mant, self.cfg))]
        return m


@pytest.mark.parametrize("cfg", [SMALL, SMALL.replace(word_bits=6, frac_bits=2, moment_bits=4, mantissa_bits=2)],
                         ids=["B8_M3", "B6_M2"])
def test_scaler_centring_moment_and_rounding_match_ref(cfg):
    """Every word u: v = centre(u), |v|, the moment term q*q + q of q = |v| >> (B - T),
    and z = apply_scale(v, mant) (round half up, then >> sh) for the lowest, a random
    and the highest mantissa."""
    dut = _ScaleHelpers(cfg)
    B = cfg.word_bits
    lo, hi = mantissa_range(cfg)
    u = np.arange(1 << B)
    v = centre(u, B)

    async def bench(ctx):
        for mant in (lo, random.Random(B).randrange(lo, hi + 1), hi):
            ctx.set(dut.mant, mant)
            got = {"v": [], "mag": [], "term": [], "z": []}
            for word in u:
                ctx.set(dut.u, int(word))
                for name, out in got.items():
                    out.append(ctx.get(getattr(dut, name)))
            expect_words(np.array(got["v"]), v, "centre")
            expect_words(np.array(got["mag"]), np.abs(v), "|v|")
            expect_words(np.array(got["term"]), moment_terms(v, cfg), "q*q + q")
            expect_words(np.array(got["z"]), apply_scale(v, mant, cfg), f"apply_scale, mant {mant}")

    simulate(dut, bench, clocked=False)


@pytest.mark.parametrize("count", [2, 3, 5, 8, 13])
def test_adder_tree_sums_and_its_registered_form_has_log2_latency(count):
    """The combinational tree equals the sum of signed and unsigned terms; the
    registered tree shows that sum ceil(log2 count) clocks after its inputs; a tree of
    one term is that term."""
    rng = random.Random(count)
    terms = [Signal(signed(9)) if k % 2 else Signal(unsigned(7)) for k in range(count)]
    assert adder_tree(terms[:1]) is terms[0]
    m = Module()
    total, piped = Signal(signed(16)), Signal(signed(16))

    def register(values, level):
        regs = [Signal.like(v, name=f"l{level}_{i}") if isinstance(v, Signal)
                else Signal(v.shape(), name=f"l{level}_{i}") for i, v in enumerate(values)]
        m.d.sync += [r.eq(v) for r, v in zip(regs, values)]
        return regs

    m.d.comb += [total.eq(adder_tree(terms)), piped.eq(adder_tree(terms, register))]
    rows = [[rng.randrange(-256, 256) if k % 2 else rng.randrange(128) for k in range(count)] for _ in range(12)]
    latency = ceil_log2(count)

    async def bench(ctx):
        seen = []
        for row in rows + [[0] * count] * latency:
            for term, x in zip(terms, row):
                ctx.set(term, x)
            seen.append((ctx.get(total), ctx.get(piped)))
            await ctx.tick()
        sums = [sum(row) for row in rows]
        assert [s for s, _ in seen[:len(rows)]] == sums
        assert [p for _, p in seen[latency:]] == sums

    simulate(m, bench)


# reuse

@pytest.mark.parametrize("parallel, pool_size", [(4, 32), (1, 16)], ids=["P4", "P1"])
def test_pool_addresses_match_ref_over_wraps(parallel, pool_size):
    """A pool holding its own indices (pool[j] = j), so each word read is the address
    read: a placement from random fresh words, then 2.5 wraps read without gaps, equal
    ``pool_indices(pool_draws(...))``; w0, w1, w2 and one word per wrap are consumed."""
    cfg = SMALL.replace(parallel=parallel, pool_size=pool_size)
    P, N = cfg.parallel, cfg.pool_size
    D = N // P
    reads = 2 * D + D // 2
    rng = random.Random(7)
    fresh = [rng.getrandbits(cfg.word_bits) for _ in range(3 + reads // D)]
    dut = PoolReuse(cfg)

    async def bench(ctx):
        ctx.set(dut.write_en, 1)
        for j in range(N):
            ctx.set(dut.write_index, j)
            ctx.set(dut.write_data, j)
            await ctx.tick()
        ctx.set(dut.write_en, 0)
        out, taken, first = [], 0, True
        while len(out) < reads:
            ctx.set(dut.place, first)
            ctx.set(dut.read_en, not first)
            ctx.set(dut.word, fresh[min(taken, len(fresh) - 1)])
            advance, reading = ctx.get(dut.advance), not first and ctx.get(dut.ready)
            await ctx.tick()
            taken += advance
            if reading:
                out.append(list(ctx.get(dut.words)))
            first = False
        assert taken == len(fresh), f"{taken} fresh words consumed, expected {len(fresh)}"
        offsets, stride = pool_draws(np.array(fresh[:1 + -(-reads // D)]), cfg)
        want = pool_indices(offsets, int(stride), reads * P, cfg).reshape(reads, P)
        expect_words(np.array(out), want, f"fresh {fresh}")

    simulate(dut, bench)


@pytest.mark.parametrize("cfg", [PRESETS["stream"], SMALL.replace(strategy="stream", repeat=8)],
                         ids=["R4_P8", "R8_P2"])
def test_stream_variations_match_ref(cfg):
    """Transfers c = 0, 1, ...: ``u`` equals stream_variation of fresh word i // R with
    r = i mod R for parameters i = c*P + p, and ``advance`` marks a transfer's last use
    of the bank words (every transfer when R <= P)."""
    P, R, K, B = cfg.parallel, cfg.effective_repeat, cfg.lanes, cfg.word_bits
    rng = random.Random(R)
    transfers = 3 * max(1, R // P) + 1
    dut = StreamReuse(cfg)

    async def bench(ctx):
        fresh, got = [], []
        bank = [rng.getrandbits(B) for _ in range(K)]
        fresh += bank
        ctx.set(dut.restart, 1)
        ctx.set(dut.lanes, bank)
        if R > P:
            await ctx.tick()
        ctx.set(dut.restart, 0)
        ctx.set(dut.next, 1)
        for c in range(transfers):
            got.append(list(ctx.get(dut.u)))
            last = (c * P + P) % R == 0 if R > P else True
            assert ctx.get(dut.advance) == last, f"advance at transfer {c}"
            if R > P:
                await ctx.tick()
            if last:
                bank = [rng.getrandbits(B) for _ in range(K)]
                fresh += bank
                ctx.set(dut.lanes, bank)
        i = np.arange(transfers * P)
        want = stream_variation(np.array(fresh)[i // R], i % R, cfg).reshape(transfers, P)
        expect_words(np.array(got), want, "u")

    simulate(dut, bench, clocked=R > P)


# Rademacher

def test_rademacher_core_signs_match_ref():
    """Each element is -2**F for a set bit (p mod B) of lane (p div B), else +2**F, one
    clock after its lane words (P = 32 over B = 12: K = 3, the top bits of lane 2 unused)."""
    cfg = SMALL.replace(parallel=32, word_bits=12, frac_bits=5, pool_size=64)
    K, B = rademacher_lanes(cfg), cfg.word_bits
    rng = random.Random(3)
    u = np.array([[rng.getrandbits(B) for _ in range(K)] for _ in range(16)])
    dut = RademacherCore(cfg)

    async def bench(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.valid, 1)
        got = []
        for row in u:
            ctx.set(dut.u, [int(w) for w in row])
            await ctx.tick()
            assert ctx.get(dut.z_valid)
            got.append(list(ctx.get(dut.z)))
        expect_words(np.array(got), rademacher_words(u, cfg), "z")

    simulate(dut, bench)


def test_rademacher_source_words_match_model_under_back_pressure():
    """start(t) for a few steps, a runtime seed, then start(t) again: every word of the
    first 40 equals Rademacher(cfg, seed_in).samples(t, 40), with ``z.ready`` low on
    a third of the clocks."""
    cfg = SMALL.replace(parallel=4)
    dut = RademacherSource(cfg)
    rng = random.Random(5)
    n = 40

    async def send(ctx, stream, payload):
        ctx.set(stream.payload, payload)
        ctx.set(stream.valid, 1)
        await ctx.tick()
        ctx.set(stream.valid, 0)

    async def take(ctx):
        words = []
        while len(words) < n:
            ready = rng.random() >= 1 / 3
            ctx.set(dut.z.ready, ready)
            if ready and ctx.get(dut.z.valid):
                words += list(ctx.get(dut.z.payload))
            await ctx.tick()
        ctx.set(dut.z.ready, 0)
        return np.array(words[:n])

    async def bench(ctx):
        for seed_in, t in ((0, 3), (0, 0), (0, 3), (0x1234, 3)):
            if seed_in:
                await send(ctx, dut.seed, seed_in)
            await send(ctx, dut.start, t)
            expect_words(await take(ctx), Rademacher(cfg, seed_in).samples(t, n), f"step {t} seed_in {seed_in:#x}")

    simulate(dut, bench)


@pytest.mark.parametrize("design", [PoolEngine, GaussianPool])
@pytest.mark.parametrize("parallel", [1, 2])
def test_pool_sources_never_read_their_pool_beside_a_write(design, parallel):
    """The pool copies carry Yosys' ``no_rw_check`` (hw/reuse.py): no source built on
    PoolReuse may ask ``read_en`` in a clock with ``write_en``. Fills (after reset, of a
    new epoch, one cut short by a start, one by a seed) and streams under back-pressure,
    checked every clock, and the check must see both enables."""
    cfg = SMALL.replace(parallel=parallel, pool_refresh=4)
    engine = design(cfg)
    dut = Fragment.get(engine, None)
    reuse = next(origin for sub, name, *_ in dut.subfragments if name == "reuse"
                 for origin in sub.origins if isinstance(origin, PoolReuse))
    rng = random.Random(9)
    seen = {"write_en": 0, "read_en": 0}

    async def clocks(ctx, n):
        for _ in range(n):
            ctx.set(engine.z.ready, rng.random() >= 1 / 3)
            await ctx.tick()
            write, read = ctx.get(reuse.write_en), ctx.get(reuse.read_en)
            assert not (write and read), "a pool read beside a pool write"
            seen["write_en"] += write
            seen["read_en"] += read

    async def send(ctx, stream, payload):
        ctx.set(stream.payload, payload)
        ctx.set(stream.valid, 1)
        await clocks(ctx, 1)
        ctx.set(stream.valid, 0)

    async def bench(ctx):
        for stream, payload, run in ((engine.start, 0, 400), (engine.start, 5, 60), (engine.start, 6, 400),
                                     (engine.start, 9, 200), (engine.seed, 0x1234, 30), (engine.start, 1, 400),
                                     (engine.start, 2, 100)):
            await send(ctx, stream, payload)
            await clocks(ctx, run)
        assert seen["write_en"] and seen["read_en"], seen

    simulate(dut, bench)
