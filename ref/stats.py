"""Statistics of the perturbation sources (issue 7; docs/design.md section 5.2).

Every source of the training registry (:data:`pezo.ref.train.sources.SOURCES`, so a
source added there is measured too) is measured the same way on its bit-exact model:
``source.z(step, d)`` (float64, real values) for steps 0 .. T-1 at d = 8N parameters
(N = ``pool_size`` of the config, P = ``parallel``). The ``gaussian`` source measured
the same way is the noise floor: with T steps its estimates carry the sampling noise of
T draws (e.g. |E[z]|^2 ~ d/T, largest eigenvalue ~ (1 + sqrt(d/T))^2 by
Marchenko-Pastur), so every other source is judged against it, not against the
ideal values.

Statistics (one number per source; accumulated in batches of :data:`BATCH` steps,
never T x d at once):

* ``coverage``: for a pool source, the fraction of the N pool words that a parameter
  reads at least once over the T steps, for the worst parameter (the pool index of
  each parameter is the engine model's own, :func:`pool_index`). A source without a
  pool draws a fresh value for every parameter in every step, so no parameter is
  confined to a subset of words: its coverage is 1.0 by definition.
* ``mean_sq_norm``: |E[z]|^2 (sum over the d coordinates of the squared mean).
* ``eig_max``, ``frozen_dirs``: the largest eigenvalue of the second moment E[z z^T]
  (d x d, uncentred) and the number of its eigenvalues below :data:`FROZEN_EIGENVALUE`
  (directions that ZO hardly explores).
* ``spsa_cosine``: the cosine between E[(g.z) z] = E[z z^T] g and g, averaged over
  :data:`SPSA_DIRECTIONS` random Gaussian g: how well the two-point estimate recovers
  the gradient of a linear function.
* ``lane_corr``: the mean |correlation| between two output lanes of one clock (z of a
  step read as d/P clocks x P lanes; parameter i = c*P + p is lane p of clock c),
  correlated over the steps, averaged over every clock and pair of lanes. None for
  P = 1.
* ``step_corr``: the mean |correlation| over the d coordinates between the z of two
  successive steps.
* ``overlapping_steps``: the number of pairs of LFSR streams among the 2^S steps
  (S = ``step_bits``) whose starts lie closer than the stream length one step needs
  (:class:`StreamLayout`, from the source's LfsrBank, :func:`bank_of`): such streams
  share a subsequence. A counter-based source (Philox) has disjoint streams by
  construction: 0.

Targets (issue 7), checked by :func:`verdicts`: coverage 1.0; ``mean_sq_norm``,
``eig_max``, ``lane_corr`` and ``step_corr`` at most :data:`FLOOR_RATIO` times the
floor's; ``spsa_cosine`` within :data:`COSINE_GAP` of the floor's; ``frozen_dirs``
at most d/N; ``overlapping_steps`` 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from pezo.errors import ConfigError
from pezo.ref import lfsr
from pezo.ref.config import PezoConfig, preset
from pezo.ref.train.sources import PEZO_PRESETS, SOURCES, PerturbationSource, PezoSource, make_source

FLOOR = "gaussian"
STATS = ("coverage", "mean_sq_norm", "eig_max", "frozen_dirs", "spsa_cosine", "lane_corr", "step_corr",
         "overlapping_steps")
DEFAULT_STEPS = 20000
#: parameters per pool word in the measured model (d = DIM_PER_POOL_WORD * N)
DIM_PER_POOL_WORD = 8
BATCH = 256
FROZEN_EIGENVALUE = 0.1
SPSA_DIRECTIONS = 16
FLOOR_RATIO = 1.5
COSINE_GAP = 0.05
#: fewest steps per parameter: with T >= 4d the floor's eigenvalues of E[zz^T] lie in
#: about [(1 - 1/2)^2, (1 + 1/2)^2] = [0.25, 2.25] (Marchenko-Pastur), none below 0.1
MIN_STEPS_PER_DIM = 4
#: largest d measured (the d x d second moment is held in memory: 8 d^2 bytes)
MAX_DIM = 16384


@dataclass(frozen=True)
class StreamLayout:
    """Where the LFSR streams of every step start on the one m-sequence of a bank.

    positions: start of each stream, in single LFSR steps from master0 modulo
    ``period`` (uint64; one per slot of each of the 2^S steps); period: 2^W - 1;
    length: single LFSR steps one stream runs in one step (words per lane x B)."""

    positions: np.ndarray
    period: int
    length: int


@dataclass(frozen=True)
class Subject:
    """What is measured: ``z(step, d)`` (float64, shape (d,)), and optionally the pool
    index of every parameter (``pool_index(step, d)``, int64 in 0..pool_size-1) and
    the stream layout (None: streams disjoint by construction)."""

    name: str
    z: Callable[[int, int], np.ndarray]
    pool_size: int | None = None
    pool_index: Callable[[int, int], np.ndarray] | None = None
    layout: StreamLayout | None = None


def overlapping_pairs(layout: StreamLayout) -> int:
    """Pairs of streams whose starts are closer than ``layout.length`` on the circle of
    ``layout.period`` single steps (equal starts included)."""
    p = np.sort(np.asarray(layout.positions, dtype=np.uint64))
    n, period, length = len(p), layout.period, layout.length
    if 2 * length > period:
        return n * (n - 1) // 2
    reach = p + np.minimum(np.uint64(length), np.uint64(period) - p)  # no uint64 overflow
    ahead = np.searchsorted(p, reach, side="left") - np.arange(1, n + 1)
    wrapped = p[p >= np.uint64(period - length)] - np.uint64(period - length)
    return int(ahead.sum() + np.searchsorted(p, wrapped, side="left").sum())


def pool_index(source: PezoSource, step: int, d: int) -> np.ndarray:
    """Pool index of parameters 0..d-1 in ``step`` of a pool source: the engine model's
    own ``indices`` (the addressing of ref/reuse.py), int64, shape (d,)."""
    return source.engine.indices(step, d)


def bank_of(source: PerturbationSource) -> lfsr.LfsrBank | None:
    """The LfsrBank behind a source: ``source.engine.bank`` (the PeZO engine model) or
    ``source.model.bank`` (the model of an RTL source); None for a counter-based one."""
    owner = getattr(source, "engine", None) or getattr(source, "model", None)
    bank = getattr(owner, "bank", None)
    return bank if isinstance(bank, lfsr.LfsrBank) else None


def bank_layout(source: PerturbationSource, bank: lfsr.LfsrBank, d: int) -> StreamLayout:
    """Stream layout of a source's LfsrBank over the 2^S steps it addresses.

    Starts: ``lfsr.slot_positions`` of the bank's slots; length: the fresh words one
    step draws (``source.fresh_per_step(d, 1)``, which counts a whole pool fill too, so
    it bounds every slot's stream) per lane, times B single steps."""
    words = -(-int(np.ceil(source.fresh_per_step(d, 1))) // bank.lanes)
    return StreamLayout(lfsr.slot_positions(bank.width, bank.word_bits, bank.slots, source.max_steps),
                        (1 << bank.width) - 1, words * bank.word_bits)


def subject_of(source: PerturbationSource, d: int) -> Subject:
    """The measurable view of a registry source: the pool indices of a pool source,
    the stream layout of a source drawn from an LfsrBank (none for a counter-based
    one)."""
    bank = bank_of(source)
    layout = None if bank is None else bank_layout(source, bank, d)
    if not (isinstance(source, PezoSource) and source.cfg.strategy == "pool"):
        return Subject(source.name, source.z, layout=layout)
    return Subject(source.name, source.z, source.cfg.pool_size, lambda step, n: pool_index(source, step, n), layout)


def measure(subject: Subject, d: int, steps: int, parallel: int, seed: int = 0,
            progress: bool = False) -> dict[str, float | int | None]:
    """Every statistic of :data:`STATS` for one subject over steps 0 .. steps-1 at d
    parameters with ``parallel`` output lanes; ``seed`` draws the SPSA directions."""
    if d % parallel:
        raise ConfigError("parallel", parallel, f"must divide d = {d}")
    sum_z = np.zeros(d)
    second = np.zeros((d, d))
    step_corr, previous = 0.0, None
    reached = np.zeros((d, subject.pool_size), dtype=bool) if subject.pool_index else None
    rows = np.arange(d)[None, :]
    with tqdm(total=steps, desc=subject.name, unit="step", disable=not progress, leave=False) as bar:
        for first in range(0, steps, BATCH):
            batch = range(first, min(first + BATCH, steps))
            z = np.stack([subject.z(t, d) for t in batch])
            sum_z += z.sum(axis=0)
            z32 = z.astype(np.float32)  # exact for B <= 24-bit words; products summed over one batch
            second += z32.T @ z32
            centred = z - z.mean(axis=1, keepdims=True)
            unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
            if previous is not None:
                unit = np.concatenate([previous, unit])
            step_corr += np.abs(np.einsum("ij,ij->i", unit[:-1], unit[1:])).sum()
            previous = unit[-1:]
            if reached is not None:
                reached[rows, np.stack([subject.pool_index(t, d) for t in batch])] = True
            bar.update(len(batch))
    mean = sum_z / steps
    moment = second / steps
    eig = np.linalg.eigvalsh(moment)
    g = np.random.default_rng(seed).standard_normal((SPSA_DIRECTIONS, d))
    mg = g @ moment
    cosine = np.einsum("ij,ij->i", g, mg) / (np.linalg.norm(g, axis=1) * np.linalg.norm(mg, axis=1))
    return {
        "coverage": 1.0 if reached is None else float(reached.sum(axis=1).min() / subject.pool_size),
        "mean_sq_norm": float(mean @ mean),
        "eig_max": float(eig[-1]),
        "frozen_dirs": int(np.count_nonzero(eig < FROZEN_EIGENVALUE)),
        "spsa_cosine": float(cosine.mean()),
        "lane_corr": _lane_corr(moment - np.outer(mean, mean), parallel),
        "step_corr": float(step_corr / max(steps - 1, 1)),
        "overlapping_steps": 0 if subject.layout is None else overlapping_pairs(subject.layout),
    }


def _lane_corr(cov: np.ndarray, parallel: int) -> float | None:
    """Mean |corr| over the off-diagonal entries of the P x P lane blocks of ``cov``."""
    if parallel == 1:
        return None
    clocks = len(cov) // parallel
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0)).reshape(clocks, parallel)
    blocks = cov.reshape(clocks, parallel, clocks, parallel)[np.arange(clocks), :, np.arange(clocks), :]
    scale = sd[:, :, None] * sd[:, None, :]
    corr = np.divide(blocks, scale, out=np.zeros_like(blocks), where=scale > 0)
    pairs = np.triu_indices(parallel, 1)
    return float(np.abs(corr[:, pairs[0], pairs[1]]).mean())


def source_config(name: str, cfg: PezoConfig) -> PezoConfig | None:
    """The config a registry source runs with: ``cfg`` for the pezo source of its
    strategy; for a pezo source of the other kind (pool vs stream) ``cfg`` with that
    source's preset strategy and repeat; None for a source without a config."""
    if name not in PEZO_PRESETS:
        return None
    own = preset(PEZO_PRESETS[name])
    if (own.strategy == "pool") == (cfg.strategy == "pool"):
        return cfg
    return cfg.replace(strategy=own.strategy, repeat=min(own.repeat, cfg.word_bits))


def measure_sources(cfg: PezoConfig, steps: int = DEFAULT_STEPS, names: Iterable[str] = SOURCES,
                    seed: int = 0, progress: bool = False) -> dict:
    """Measure every named source (training seed ``seed``) at d = 8N, the floor
    included, and judge each against the floor; JSON-ready::

        {"config": cfg.to_dict(), "d": d, "steps": steps, "floor": "gaussian",
         "sources": {name: {stat: value}}, "verdicts": {name: {stat: bool}}}
    """
    d = DIM_PER_POOL_WORD * cfg.pool_size
    if d > MAX_DIM:
        raise ConfigError("pool_size", cfg.pool_size, f"d = 8 * pool_size = {d} exceeds {MAX_DIM} (d x d moment)")
    if steps < MIN_STEPS_PER_DIM * d:
        raise ConfigError("steps", steps, f"must be at least {MIN_STEPS_PER_DIM} * d = {MIN_STEPS_PER_DIM * d} "
                                          "for a stable Gaussian floor")
    names = list(names)
    if FLOOR not in names:
        names.insert(0, FLOOR)
    sources = {name: make_source(name, seed, source_config(name, cfg)) for name in names}
    for name, source in sources.items():
        if source.max_steps is not None and steps > source.max_steps:
            raise ConfigError("steps", steps, f"the {name} source addresses at most {source.max_steps} steps")
    measured = {name: measure(subject_of(source, d), d, steps, cfg.parallel, seed, progress)
                for name, source in sources.items()}
    result = {"config": cfg.to_dict(), "d": d, "steps": steps, "floor": FLOOR, "sources": measured}
    return {**result, "verdicts": verdicts(result)}


def verdicts(result: dict) -> dict[str, dict[str, bool]]:
    """Pass (True) / miss of every statistic of every source against the targets of the
    module docstring, with the floor's values from the same result."""
    floor = result["sources"][result["floor"]]
    limit = result["d"] // result["config"]["pool_size"]
    out = {}
    for name, stats in result["sources"].items():
        out[name] = {stat: check(stat, stats[stat], floor[stat], limit) for stat in STATS}
    return out


def check(stat: str, value: float | int | None, floor: float | int | None, frozen_limit: int) -> bool:
    """One statistic against its target (see the module docstring); None (a lane
    correlation with one lane) passes."""
    if value is None:
        return True
    if stat == "coverage":
        return value >= 1.0
    if stat == "spsa_cosine":
        return abs(value - floor) <= COSINE_GAP
    if stat == "frozen_dirs":
        return value <= frozen_limit
    if stat == "overlapping_steps":
        return value == 0
    return value <= FLOOR_RATIO * floor


def target_text(stat: str, frozen_limit: int) -> str:
    """The target of a statistic in words, e.g. ``<= 1.5x floor``."""
    return {"coverage": "1.0", "spsa_cosine": f"floor +- {COSINE_GAP}", "frozen_dirs": f"<= d/N = {frozen_limit}",
            "overlapping_steps": "0"}.get(stat, f"<= {FLOOR_RATIO}x floor")


def format_value(value: float | int | None) -> str:
    """A statistic as printed: integers as they are, floats to 4 significant digits,
    None as ``-``."""
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.4g}"
