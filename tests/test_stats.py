"""The perturbation statistics (ref/stats.py, `pezo stats`): the Gaussian floor matches
theory and passes against an independent Gaussian, and the old engine design (tests/
old_engine.py) fails the checks that its defects should fail."""

from __future__ import annotations

import json

import numpy as np
import pytest

from old_engine import BankConfinedPool, RotationSeededLanes
from pezo.cli import main
from pezo.flow.stats_section import markdown
from pezo.ref import lfsr, stats
from pezo.ref.config import preset
from pezo.ref.train.sources import SOURCES, make_source

CFG = preset("small").replace(step_bits=12)  # d = 8N = 128, P = 2, 4096 steps addressable
D = 8 * CFG.pool_size
STEPS = 4000


def _gaussian(seed: int) -> dict:
    return stats.measure(stats.subject_of(make_source("gaussian", seed), D), D, STEPS, CFG.parallel)


@pytest.fixture(scope="module")
def floor() -> dict:
    return _gaussian(0)


def _verdicts(measured: dict, floor: dict) -> dict[str, bool]:
    return {s: stats.check(s, measured[s], floor[s], D // CFG.pool_size) for s in stats.STATS}


def test_gaussian_floor_matches_sampling_theory(floor):
    """T i.i.d. N(0, I_d) draws: |mean|^2 ~ d/T, Marchenko-Pastur edges (1 +- sqrt(d/T))^2,
    cosine of (Z^T Z / T) g with g ~ 1/sqrt(1 + d/T), mean |corr| of n samples ~ sqrt(2/(pi n))."""
    r = D / STEPS
    assert floor["coverage"] == 1.0 and floor["overlapping_steps"] == 0
    assert floor["mean_sq_norm"] == pytest.approx(r, rel=0.3)
    assert floor["eig_max"] == pytest.approx((1 + np.sqrt(r)) ** 2, rel=0.1)
    assert floor["frozen_dirs"] == 0  # smallest eigenvalue ~ (1 - sqrt(r))^2 = 0.67
    assert floor["spsa_cosine"] == pytest.approx(1 / np.sqrt(1 + r), abs=0.02)
    assert floor["step_corr"] == pytest.approx(np.sqrt(2 / (np.pi * D)), rel=0.15)
    assert floor["lane_corr"] == pytest.approx(np.sqrt(2 / (np.pi * STEPS)), rel=0.15)


def test_independent_gaussian_and_uniform_pass_against_the_floor(floor):
    assert all(_verdicts(_gaussian(1), floor).values())
    uniform = stats.measure(stats.subject_of(make_source("uniform", 0), D), D, STEPS, CFG.parallel)
    assert all(_verdicts(uniform, floor).values())


def test_bank_confined_pool_is_rejected(floor):
    """Parameter i reads only bank i mod P: N/P of N words, each coordinate's mean is
    its bank's mean, and a block sum is pinned per (wrap, bank)."""
    measured = stats.measure(BankConfinedPool(CFG).subject(), D, STEPS, CFG.parallel)
    assert measured["coverage"] == 1 / CFG.parallel
    assert measured["mean_sq_norm"] > 10 * floor["mean_sq_norm"]
    assert measured["eig_max"] > 3 * floor["eig_max"]
    assert measured["frozen_dirs"] > D // CFG.pool_size
    assert measured["spsa_cosine"] < floor["spsa_cosine"] - 0.1
    failed = {s for s, ok in _verdicts(measured, floor).items() if not ok}
    assert failed >= {"coverage", "mean_sq_norm", "eig_max", "frozen_dirs", "spsa_cosine"}


def test_rotation_seeded_lanes_are_rejected(floor):
    """Lane k = base_k XOR rotl(master, k): lanes of one clock correlate over the steps,
    and with a 2**24 jump on a 2**16 - 1 period successive masters are 256 single steps
    apart, less than the 64 x 8 steps a step's lane runs."""
    measured = stats.measure(RotationSeededLanes(CFG, D, STEPS).subject(), D, STEPS, CFG.parallel)
    assert measured["lane_corr"] > 5 * floor["lane_corr"]
    assert measured["overlapping_steps"] > 0
    failed = {s for s, ok in _verdicts(measured, floor).items() if not ok}
    assert failed >= {"lane_corr", "overlapping_steps"}


def test_overlapping_pairs_counts_close_starts_on_the_circle():
    layout = stats.StreamLayout(np.array([0, 5, 20, 20, 97], dtype=np.uint64), 100, 6)
    assert stats.overlapping_pairs(layout) == 3  # (0, 5), (20, 20), (97, 0) across the wrap; (97, 5) is 8 apart
    rng = np.random.default_rng(1)
    for _ in range(20):
        period, length = int(rng.integers(50, 500)), int(rng.integers(1, 20))
        p = rng.integers(0, period, 40)
        dist = np.abs(p[:, None] - p[None, :])
        dist = np.minimum(dist, period - dist)
        expected = int(np.count_nonzero(np.triu(dist < length, 1)))
        assert stats.overlapping_pairs(stats.StreamLayout(p.astype(np.uint64), period, length)) == expected


@pytest.mark.parametrize("name, cfg", [("pezo-stream", preset("stream")), ("pezo-pool", CFG)])
def test_bank_overlaps_agree_with_the_stream_separation(name, cfg):
    """No pair of streams overlaps exactly when the smallest distance between two slot
    starts (lfsr.stream_separation) is at least one step's stream: true for the default
    48-bit bank, false for the small preset's 16-bit bank over 2**12 steps."""
    source = make_source(name, 0, cfg)
    bank = stats.bank_of(source)
    layout = stats.bank_layout(source, bank, D)
    separation = lfsr.stream_separation(bank.width, bank.word_bits, bank.slots, source.max_steps)
    assert (stats.overlapping_pairs(layout) == 0) == (separation >= layout.length)
    assert (separation >= layout.length) == (bank.width == 48)
    assert stats.bank_of(make_source("gaussian", 0)) is None


def test_pool_coverage_reads_the_engine_pool_indices():
    """z of the pool source is the engine's pool read at the indices coverage counts."""
    source = make_source("pezo-pool", 0, CFG)
    pool = source.engine.pool_fill(0)[0] / 2.0**CFG.frac_bits
    for step in (0, 1, 77):
        np.testing.assert_array_equal(source.z(step, D), pool[stats.pool_index(source, step, D)])


def test_pezo_stats_cli_writes_every_source(tmp_path, capsys):
    out = tmp_path / "stats.json"
    assert main(["stats", "--preset", "small", "--set", "step_bits=12", "--steps", "600", "--no-progress",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["d"] == 128 and result["steps"] == 600 and result["floor"] == "gaussian"
    assert set(result["sources"]) == set(SOURCES)
    for name in SOURCES:
        assert set(result["sources"][name]) == set(stats.STATS)
        if name != "gaussian":
            assert sum(line.startswith(name + " ") for line in text.splitlines()) == len(stats.STATS)


@pytest.mark.parametrize("argv, message", [
    (["--steps", "1"], "at least 4 * d = 16384"),
    (["--preset", "small", "--steps", "600"], "at most 256 steps"),
    (["--preset", "small", "--json", "/nonexistent/stats.json"], "the folder /nonexistent does not exist"),
    (["--set", "pool_size=4096"], "exceeds"),
    (["--source", "normal"], "known sources are gaussian"),
])
def test_pezo_stats_bad_input_is_one_line(argv, message, capsys):
    assert main(["stats", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pezo: error:") and message in err and "\n" not in err


def test_pezo_stats_source_option_measures_only_those_and_the_floor(capsys):
    assert main(["stats", "--preset", "small", "--set", "step_bits=12", "--steps", "600", "--no-progress",
                 "--source", "pezo-pool"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert set(rows) == {"pezo-pool"} and len(rows) == len(stats.STATS)


def test_report_section_prints_each_statistic_beside_the_floor_with_a_verdict():
    result = stats.measure_sources(CFG, 600, names=["uniform"])
    assert set(result["sources"]) == {"gaussian", "uniform"}  # the floor is always measured
    assert all(result["verdicts"]["uniform"].values())
    result["sources"]["uniform"]["mean_sq_norm"] = 10 * result["sources"]["gaussian"]["mean_sq_norm"]
    result["verdicts"] = stats.verdicts(result)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in markdown({"stats": result}) if line.startswith("| ")}
    assert set(stats.STATS) <= set(rows)
    assert rows["mean_sq_norm"].endswith("MISS |")
    assert rows["eig_max"].endswith("PASS |") and "1.5x floor" in rows["eig_max"]
    assert markdown({}) == []


#: a PeZO config large enough for the targets: a permutation read of N words correlates
#: two lanes of a wrap by -1/(N-1), and a 16-bit LFSR cannot keep 4096 step streams apart
REUSE_CFG = preset("default").replace(pool_size=128, step_bits=12)
REUSE_STEPS = 4 * 8 * 128


@pytest.fixture(scope="module")
def reuse_result() -> dict:
    return stats.measure_sources(REUSE_CFG, REUSE_STEPS, names=["pezo-pool", "pezo-stream", "gaussian-pool"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pezo-pool", "pezo-stream", "gaussian-pool"])
def test_pezo_reuse_passes_every_target(reuse_result, name):
    """The field-multiplier pool read (2-transitive per wrap: only the d/N wrap sums are
    pinned) and the uncorrelated stream variations meet every target against the floor
    (N = 128, d = 1024, P = 8, 4096 steps)."""
    failed = {s for s, ok in reuse_result["verdicts"][name].items() if not ok}
    assert not failed, {s: reuse_result["sources"][name][s] for s in failed}
