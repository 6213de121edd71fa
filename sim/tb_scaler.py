"""cocotb testbench of hw/scaler.py: every scaled word and every mantissa equals ``pezo.ref.scaler``.

:class:`UniformScaler` (``stream`` / ``none``): the scaler is built as ``UniformScaler(cfg, window=n, width=k)`` with n and k from the
case's environment (``PEZO_WINDOW``, ``PEZO_WIDTH``). Each clock drives random inputs
(``en`` low with some probability: a stall; ``moment_en``; now and then ``restart``);
:class:`ScalerModel` predicts the registered outputs from the ref functions and the
documented timing (in enabled clocks: a word on ``u`` at clock e is on ``z`` after
clock e+2, scaled with the mantissa register as it was before that clock; the n-th
moment word of a window at clock e sets the mantissa at clock e+2; ``restart`` acts at
once, whatever ``en``). Moment words are drawn with a per-window spread (:data:`SPREADS`) so that
successive windows select different mantissas. Randomness comes from Python's ``random``, seeded
by cocotb (``COCOTB_RANDOM_SEED``), so a run is reproducible.

:class:`PoolScaler` (the pool fill; cases from :func:`pool_scaler_case`): the bench
plays lane 0 (a list of fill words; ``word`` shows the next one, ``advance`` moves on,
``reload`` starts the list over and holds ``word_valid`` low for a random number of
clocks, as a bank load does). The layout is named by ``PEZO_ANTITHETIC`` (``1``: N/2
fill words and their negations, ``pezo-pool``; ``0``: N independent words,
``paper-pool``). Every pool word written (index and value) and the mantissa must equal
``pezo.ref.scaler.fill_pool(v, cfg, antithetic)`` of the first W fill words
(``fill_words``: N/2 or N), the moment and write passes must each consume exactly W
words (two reloads in all), and ``done`` must rise once the last word is written,
within ``PoolScaler.fill_clocks`` plus the clocks the lane waited. Fill words are drawn
uniform, narrow (a high mantissa), biased (a large mean: the antithetic negated half
must still cancel it) or only full-scale (the lowest mantissa), so the negation and the
search are exercised.
"""

from __future__ import annotations

import itertools
import random
from functools import partial

import cocotb
import numpy as np

from cocotb.triggers import Timer

from pezo.hw.scaler import PoolScaler, UniformScaler
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.scaler import (apply_scale, centre, fill_pool, fill_words, moment_acc, nominal_mantissa,
                             select_mantissa)
from pezo.sim.runner import SimCase, config_from_env, env_value
from pezo.sim.streams import clocks, expect_words, reset, split_words, start_clock, value

WINDOW_ENV = "PEZO_WINDOW"
WIDTH_ENV = "PEZO_WIDTH"
ANTITHETIC_ENV = "PEZO_ANTITHETIC"
#: spread of the moment words, window after window (EXTREMES: only the two full-scale
#: words, the largest second moment, which selects the lowest mantissa; below 1: a
#: narrow window, which selects a high one), so successive windows select different
#: mantissas whatever the config
EXTREMES = 2.0
SPREADS = (1.0, EXTREMES, 0.3, 1.0, 0.6, EXTREMES, 0.9, 0.8)


LATENCY = UniformScaler.latency
#: enabled clocks from ``u`` to the shift-add stage that applies the mantissa, matching
#: the moment path (term, accumulator, ladder compare): the words of a window's last
#: moment clock are the last ones scaled with the old mantissa (the documented
#: contract); the remaining LATENCY - MANTISSA_STAGE clocks are the shift-add's own
#: registers
MANTISSA_STAGE = UniformScaler.mantissa_stage
UNIFORM_TESTS = ["reset_state_is_the_nominal_mantissa", "scaled_words_and_window_mantissas_match_ref",
                 "random_stalls_and_moment_gaps_match_ref", "restart_returns_to_the_nominal_mantissa"]
POOL_TESTS = ["pool_fill_matches_ref", "start_and_abort_restart_the_fill"]


def default_shape(cfg: PezoConfig) -> tuple[int, int]:
    """(window, width) that ``UniformScaler(cfg)`` uses by default."""
    return cfg.moment_block, cfg.parallel


def scaler_case(name: str, cfg: PezoConfig, window: int | None = None, width: int | None = None,
                quick: bool = True) -> SimCase:
    """A regression case of the scaler of ``cfg`` (window / width: the defaults when None)."""
    n, k = default_shape(cfg)
    n, k = window or n, width or k
    return SimCase(name, partial(UniformScaler, window=n, width=k), "pezo.sim.tb_scaler", cfg,
                   env={WINDOW_ENV: str(n), WIDTH_ENV: str(k)}, testcase=UNIFORM_TESTS, quick=quick)


def pool_scaler_case(name: str, cfg: PezoConfig, quick: bool = True, antithetic: bool = True) -> SimCase:
    """A regression case of the pool fill of ``cfg`` (``antithetic``: its layout)."""
    return SimCase(name, partial(PoolScaler, antithetic=antithetic), "pezo.sim.tb_scaler", cfg,
                   env={ANTITHETIC_ENV: str(int(antithetic))}, testcase=POOL_TESTS, quick=quick)


CASES = [
    scaler_case("scaler_default", PRESETS["default"]),
    scaler_case("scaler_small", PRESETS["small"]),
    scaler_case("scaler_stream", PRESETS["stream"]),
    scaler_case("scaler_default_n16_k3", PRESETS["default"], window=16, width=3),
    pool_scaler_case("pool_scaler_small", PRESETS["small"]),
    pool_scaler_case("pool_scaler_p1_n64", PRESETS["p1"].replace(pool_size=64)),
    pool_scaler_case("pool_scaler_m1_t2", PRESETS["small"].replace(mantissa_bits=1, moment_bits=2, pool_size=32)),
    pool_scaler_case("pool_scaler_m6", PRESETS["default"].replace(mantissa_bits=6, pool_size=32, parallel=1)),
    pool_scaler_case("pool_scaler_n2", PRESETS["p1"].replace(pool_size=2, mantissa_bits=2)),
    pool_scaler_case("pool_scaler_plain_small", PRESETS["small"], antithetic=False),
    pool_scaler_case("pool_scaler_plain_m1_t2", PRESETS["small"].replace(mantissa_bits=1, moment_bits=2, pool_size=32),
                     antithetic=False),
    pool_scaler_case("pool_scaler_plain_n2", PRESETS["p1"].replace(pool_size=2, mantissa_bits=2), antithetic=False),
]


class ScalerModel:
    """Clock-by-clock prediction of ``z`` and ``mant`` from the ref functions."""

    def __init__(self, cfg: PezoConfig, window: int, width: int):
        self.cfg, self.window, self.width = cfg, window, width
        self.nominal = nominal_mantissa(cfg, window)
        self.mant = self.nominal
        self.z = [0] * width
        self.delayed = [[0] * width for _ in range(MANTISSA_STAGE)]
        self.out = [[0] * width for _ in range(LATENCY - MANTISSA_STAGE)]
        self.moment: list[int] = []
        self.pending: list[list[int]] = []  # [enabled clocks to go, mantissa]
        self.chosen: list[int] = []

    def clock(self, en: bool, restart: bool, u: list[int], moment_en: bool, moment_u: int) -> None:
        cfg = self.cfg
        if en:
            last = np.array(self.delayed[-1], dtype=np.int64)
            scaled = [int(x) for x in apply_scale(centre(last, cfg.word_bits), self.mant, cfg)]
            self.out = [scaled] + self.out[:-1]
            self.z = self.out[-1]
            self.delayed = [list(u)] + self.delayed[:-1]
        if restart:
            self.mant, self.moment, self.pending = self.nominal, [], []
            return
        if not en:
            return
        for p in self.pending:
            p[0] -= 1
        for _, mant in (p for p in self.pending if p[0] == 0):
            self.mant = mant
        self.pending = [p for p in self.pending if p[0] > 0]
        if moment_en:
            self.moment.append(moment_u)
            if len(self.moment) == self.window:
                acc = moment_acc(centre(np.array(self.moment, dtype=np.int64), cfg.word_bits), cfg)
                mant = select_mantissa(acc, cfg, self.window)
                self.chosen.append(mant)
                self.pending.append([MANTISSA_STAGE, mant])
                self.moment = []


class Scaler:
    """Drives the scaler's inputs each clock and checks its outputs against the model."""

    def __init__(self, dut):
        self.dut = dut
        self.cfg = config_from_env()
        self.window = int(env_value(WINDOW_ENV))
        self.width = int(env_value(WIDTH_ENV))
        self.model = ScalerModel(self.cfg, self.window, self.width)
        self.spreads = itertools.cycle(SPREADS)
        self.spread = next(self.spreads)
        self.checked = 0

    def idle(self) -> None:
        for port in ("en", "u", "moment_u", "moment_en", "restart"):
            getattr(self.dut, port).value = 0

    async def reset(self) -> None:
        self.idle()
        await reset(self.dut, zero=())
        self.model = ScalerModel(self.cfg, self.window, self.width)

    def moment_word(self) -> int:
        """A uniform word whose centred value is within ``spread`` of full scale (only
        the two full-scale words for :data:`EXTREMES`)."""
        B = self.cfg.word_bits
        if self.spread == EXTREMES:
            return random.choice([0, (1 << B) - 1])
        half = 1 << (B - 1)
        reach = max(1, int(half * self.spread))
        return half + random.randrange(-reach, reach) if reach < half else random.getrandbits(B)

    async def run(self, clocks_: int, *, stall: float, moment: float, restart: float = 0.0) -> None:
        """Drive ``clocks_`` random clocks, checking ``z`` and ``mant`` after every one."""
        B, model = self.cfg.word_bits, self.model
        for _ in range(clocks_):
            en = random.random() >= stall
            rst = random.random() < restart
            u = [random.getrandbits(B) for _ in range(self.width)]
            if random.random() < 0.05:
                u = [random.choice([0, (1 << B) - 1, 1 << (B - 1)]) for _ in range(self.width)]
            m_en = random.random() < moment
            m_u = self.moment_word()
            self.dut.en.value = int(en)
            self.dut.restart.value = int(rst)
            self.dut.u.value = sum(w << (k * B) for k, w in enumerate(u))
            self.dut.moment_en.value = int(m_en)
            self.dut.moment_u.value = m_u
            await clocks(self.dut)
            self.check()
            windows = len(model.chosen)
            model.clock(en, rst, u, m_en, m_u)
            if len(model.chosen) > windows:
                self.spread = next(self.spreads)
        self.idle()
        await clocks(self.dut)
        self.check()

    def check(self) -> None:
        """The registered outputs after the clock just ended equal the model's state."""
        z = split_words(value(self.dut.z), self.width, self.cfg.word_bits)
        mant = value(self.dut.mant)
        assert mant == self.model.mant, (f"mantissa {mant}, ref {self.model.mant} after "
                                         f"{len(self.model.chosen)} windows (chosen {self.model.chosen})")
        assert z == self.model.z, f"z {z}, ref {self.model.z} (mantissa {mant}) after {self.checked} clocks"
        self.checked += 1


def clocks_for(windows: int, window: int, moment: float, stall: float) -> int:
    """Clocks that give about ``windows`` full moment windows, plus the pipeline."""
    return int(windows * window / (moment * (1 - stall))) + 4 * LATENCY


@cocotb.test()
async def reset_state_is_the_nominal_mantissa(dut):
    start_clock(dut)
    s = Scaler(dut)
    await s.reset()
    await clocks(dut)
    s.check()
    assert value(dut.mant) == nominal_mantissa(s.cfg, s.window)


@cocotb.test()
async def scaled_words_and_window_mantissas_match_ref(dut):
    """No stalls, a moment word every clock: at least four windows, every z and mant exact."""
    start_clock(dut)
    s = Scaler(dut)
    await s.reset()
    await s.run(clocks_for(4, s.window, 1.0, 0.0), stall=0.0, moment=1.0)
    assert len(s.model.chosen) >= 4, f"only {len(s.model.chosen)} windows completed"


@cocotb.test()
async def random_stalls_and_moment_gaps_match_ref(dut):
    """en low 30% of clocks, moment_en 70%: the pipeline holds and the timing stays exact."""
    start_clock(dut)
    s = Scaler(dut)
    await s.reset()
    await s.run(clocks_for(4, s.window, 0.7, 0.3), stall=0.3, moment=0.7)
    assert len(s.model.chosen) >= 3, f"only {len(s.model.chosen)} windows completed"
    assert len(set(s.model.chosen)) > 1, f"every window chose {s.model.chosen[0]}: stimulus too narrow"


@cocotb.test()
async def restart_returns_to_the_nominal_mantissa(dut):
    """Restarts at random clocks (enabled or not) drop the window in progress."""
    start_clock(dut)
    s = Scaler(dut)
    await s.reset()
    n = clocks_for(3, s.window, 0.8, 0.2)
    await s.run(n, stall=0.2, moment=0.8, restart=2.0 / n)
    await s.run(clocks_for(1, s.window, 1.0, 0.0), stall=0.0, moment=1.0, restart=0.0)
    assert s.model.chosen, "no window completed"


#: fill-word spreads of successive pools: full range, narrow, biased (+ and -), extremes
FILL_KINDS = ("uniform", "narrow", "biased_up", "biased_down", "extremes")


class Fill:
    """Plays lane 0 for a :class:`PoolScaler` and checks the fill against ``fill_pool``."""

    PORTS = ("start", "abort", "word", "word_valid")

    def __init__(self, dut):
        self.dut = dut
        self.cfg = config_from_env()
        self.N = self.cfg.pool_size
        self.antithetic = env_value(ANTITHETIC_ENV) == "1"
        self.W = fill_words(self.cfg, self.antithetic)

    def fill_words(self, kind: str) -> list[int]:
        B = self.cfg.word_bits
        top = (1 << B) - 1
        count = self.W + 2  # the write pass leaps one word beyond the fill words
        if kind == "uniform":
            return [random.getrandbits(B) for _ in range(count)]
        if kind == "narrow":
            return [(1 << (B - 1)) + random.randrange(-(1 << (B - 3)), 1 << (B - 3)) for _ in range(count)]
        if kind == "extremes":
            return [random.choice([0, top]) for _ in range(count)]
        lo, hi = (top // 2, top) if kind == "biased_up" else (0, top // 2)
        return [random.randint(lo, hi) for _ in range(count)]

    async def run(self, words: list[int], *, stop_after: int | None = None) -> dict[int, int] | None:
        """Start a fill with ``words``; returns {index: word} of every write (checked
        for duplicates) once ``done`` rises, or None after ``stop_after`` clocks."""
        dut = self.dut
        B = self.cfg.word_bits
        dut.start.value = 1
        await clocks(dut)
        dut.start.value = 0
        k, wait, pass_words, passes, written, waited = 0, 0, 0, 0, {}, 0
        fill_clocks = PoolScaler(self.cfg, self.antithetic).fill_clocks
        for clock in range(2 * fill_clocks + 200):
            if stop_after is not None and clock == stop_after:
                return None
            dut.word_valid.value = int(wait == 0)
            dut.word.value = words[min(k, len(words) - 1)]
            await Timer(1, unit="ns")
            advance, reload = value(dut.advance), value(dut.reload)
            assert not (advance and wait), "advance while word_valid is low"
            if value(dut.write_en):
                j = value(dut.write_index)
                assert j not in written, f"pool word {j} written twice"
                written[j] = split_words(value(dut.write_data), 1, B)[0]
            await clocks(dut)
            if wait:
                wait -= 1
                waited += 1
            k += advance
            pass_words += advance
            if reload:
                assert passes < 2, "a third lane reload"
                passes += 1
                # the moment pass reads the W fill words from the lane's start
                if passes == 2:
                    assert pass_words == self.W, f"moment pass took {pass_words} words, expected {self.W}"
                pass_words = 0
                k, wait = 0, random.choice([0, 1, 3, 9])
            if value(dut.done):
                assert passes == 2, f"done after {passes} passes"
                assert pass_words == self.W, f"write pass took {pass_words} words, expected {self.W}"
                # done is read as it was before this edge: it rose `clock + 1` clocks after
                # the clock of start, `waited` of which the lane's (some overlap the search)
                assert fill_clocks <= clock + 1 <= fill_clocks + waited, \
                    f"fill took {clock + 1} clocks, fill_clocks {fill_clocks} + {waited} waiting"
                return written
        raise AssertionError("the fill never finished")

    def check(self, written: dict[int, int], words: list[int], what: str) -> None:
        cfg = self.cfg
        v = centre(np.array(words[:self.W], dtype=np.int64), cfg.word_bits)
        z, acc, mant = fill_pool(v, cfg, self.antithetic)
        assert sorted(written) == list(range(self.N)), f"{what}: {len(written)} of {self.N} words written"
        got = np.array([written[j] for j in range(self.N)], dtype=np.int64)
        assert value(self.dut.mant) == mant, f"{what}: mantissa {value(self.dut.mant)}, ref {mant} (acc {acc})"
        expect_words(got, z, f"{what} (mant {mant})")


@cocotb.test()
async def pool_fill_matches_ref(dut):
    """Five fills of different spreads: every pool word and the mantissa exact."""
    await reset_ports(dut, Fill.PORTS)
    fill = Fill(dut)
    mants = set()
    for kind in FILL_KINDS:
        words = fill.fill_words(kind)
        written = await fill.run(words)
        fill.check(written, words, kind)
        mants.add(value(dut.mant))
    assert len(mants) > 1 or fill.cfg.mantissa_bits == 1, f"every fill chose mantissa {mants}"


@cocotb.test()
async def start_and_abort_restart_the_fill(dut):
    """A start in the middle of a fill, and an abort, drop it; the next fill is exact."""
    await reset_ports(dut, Fill.PORTS)
    fill = Fill(dut)
    stop = random.randrange(1, 3 * fill.N)
    assert await fill.run(fill.fill_words("uniform"), stop_after=stop) is None
    words = fill.fill_words("biased_up")
    fill.check(await fill.run(words), words, f"after a start at clock {stop}")
    await fill.run(fill.fill_words("narrow"), stop_after=random.randrange(1, 3 * fill.N))
    dut.abort.value = 1
    await clocks(dut)
    dut.abort.value = 0
    await clocks(dut, 3)
    assert not value(dut.done) and not value(dut.advance) and not value(dut.reload), "abort did not idle"
    words = fill.fill_words("extremes")
    fill.check(await fill.run(words), words, "after an abort")


async def reset_ports(dut, ports: tuple[str, ...]) -> None:
    """Inputs to 0, clock started, reset."""
    start_clock(dut)
    await reset(dut, zero=ports)
