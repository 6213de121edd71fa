"""One measurement job: a design and config on one target, cached; and a parallel runner.

``measure(job)`` generates the Verilog (``pezo.hw.designs.verilog``), synthesizes it
(synth.py), places and routes it for ice40/ecp5 when asked (pnr.py) and estimates its
power when asked (power.py), all under ``build/synth/<target>/<design>[-<tag>]-<config
hash>/`` (one folder per configuration, locked while a run uses it, so concurrent runs
in one checkout wait for each other and then share the cached result). It returns a
:class:`Measurement` (``to_dict()`` is its JSON record); a failing step gives a
:class:`StepFailure` (one-line error, log path) and the other steps still run. Each
step's result is cached (cache.py) on its own, so changing the P&R or power code
re-runs only that step.

``run_jobs`` measures many jobs over local worker processes (workers.py: Ctrl-C kills
them and their tools at once) or over any ``concurrent.futures`` executor given to it
(a Dask cluster's, see sweep.py), which returns the records as values.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pezo.errors import PezoError
from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.flow.cells import Resources
from pezo.flow.pnr import DEVICES, nextpnr_version, place_and_route
from pezo.flow.power import estimate_power
from pezo.flow.synth import check_target, synthesize, yosys_version
from pezo.flow.workers import worker_pool
from pezo.ref.config import PezoConfig
from pezo.toolchain import build_dir, iverilog_version

#: Sources a synthesis result depends on: the RTL, the model it is built from, the flow.
DESIGN_SOURCES = ("hw/**/*.py", "ref/*.py", "ref/gaussian/*.py", "pezo/flow/synth.py",
                  "pezo/flow/bram_outreg.py", "pezo/flow/cells.py", "pezo/toolchain.py")

#: Targets whose cell models Icarus 11 compiles (ice40's and ecp5's need Yosys'
#: preprocessor macros), so the power estimate runs on them.
POWER_TARGETS = ("xilinx7",)


@dataclass(frozen=True)
class Job:
    """Measure ``block`` built from ``config`` (a PezoConfig dict) on ``target``;
    ``name`` labels it (and its build directory, with ``tag`` and a hash of ``config``)."""

    name: str
    block: str
    config: dict
    target: str
    pnr: bool = True
    power: bool = True
    tag: str = ""
    extra: dict = field(default_factory=dict)
    #: Build folder root instead of ``build/`` (a remote worker's scratch folder).
    root: str = field(default="", compare=False)

    @property
    def out_dir(self) -> Path:
        leaf = f"{self.name}{f'-{self.tag}' if self.tag else ''}-{cache_key(**self.config)[:8]}"
        if not self.root:
            return build_dir("synth", self.target, leaf)
        path = Path(self.root, "synth", self.target, leaf)
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class StepFailure:
    """A step that failed: a one-line ``error``, the path of the tool's ``log`` (None
    when no tool ran) and, for an unexpected exception, a short ``trace``."""

    error: str
    log: str | None = None
    trace: str | None = None


@dataclass(frozen=True)
class SynthFigures:
    """One Yosys synthesis: cells by class (``luts`` = ``lut_logic`` + ``lutram``; FFs,
    carry and mux cells, block RAMs and DSPs, counted as cells.py says), cell types no
    class claims (``other_types``), the raw count per cell type, seconds, log path."""

    lut_logic: int
    lutram: int
    ff: int
    carry: int
    mux: int
    bram: int
    dsp: int
    other_types: dict[str, int]
    luts: int
    cells: dict[str, int]
    seconds: float
    log: str

    @property
    def resources(self) -> Resources:
        return Resources(self.lut_logic, self.lutram, self.ff, self.carry, self.mux, self.bram, self.dsp,
                         dict(self.other_types))


@dataclass(frozen=True)
class PnrFigures:
    """One nextpnr run: Fmax in MHz of the core's clock, the device, nextpnr's
    utilization table, seconds, log path."""

    fmax_mhz: float
    device: str
    utilization: dict[str, dict[str, int]]
    seconds: float
    log: str


@dataclass(frozen=True)
class PowerFigures:
    """One switching-activity power estimate (power.py): weighted toggles per clock
    (``units_per_clock``, of which ``clock_units_per_clock`` is the clock tree), raw
    toggles per clock, simulated clocks, log path."""

    units_per_clock: float
    toggles_per_clock: float
    clock_units_per_clock: float
    clocks: int
    log: str


def _step_from_dict(kind: type, data: dict):
    return StepFailure(**data) if "error" in data else kind(**data)


@dataclass(frozen=True)
class Measurement:
    """The record of one job: what was built (``design``, ``block``, ``target``,
    ``config``, ``extra`` from the job), where (``out_dir``), each step's figures or
    failure (``pnr`` and ``power`` None where they did not apply or synthesis failed),
    wall time in seconds and whether every step came from the cache."""

    design: str
    block: str
    target: str
    config: dict
    out_dir: str
    synth: SynthFigures | StepFailure
    pnr: PnrFigures | StepFailure | None = None
    power: PowerFigures | StepFailure | None = None
    seconds: float = 0.0
    cached: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Whether synthesis failed (then there are no figures at all)."""
        return isinstance(self.synth, StepFailure)

    def to_dict(self) -> dict:
        """The JSON record: the job's fields and ``extra`` at the top level, one object
        per step that ran (``{"error", "log", "trace"}`` for a failed one)."""
        steps = {name: asdict(step) for name, step in (("synth", self.synth), ("pnr", self.pnr),
                                                       ("power", self.power)) if step is not None}
        return {"design": self.design, "block": self.block, "target": self.target, "config": self.config,
                "out_dir": self.out_dir, **self.extra, **steps, "seconds": self.seconds, "cached": self.cached}

    @classmethod
    def from_dict(cls, data: dict) -> "Measurement":
        """The inverse of :meth:`to_dict`."""
        own = {"design", "block", "target", "config", "out_dir", "synth", "pnr", "power", "seconds", "cached"}
        steps = {name: _step_from_dict(kind, data[name]) for name, kind in
                 (("synth", SynthFigures), ("pnr", PnrFigures), ("power", PowerFigures)) if name in data}
        return cls(data["design"], data["block"], data["target"], data["config"], data["out_dir"], **steps,
                   seconds=data["seconds"], cached=data["cached"],
                   extra={k: v for k, v in data.items() if k not in own})


def _step(fn: Callable[[], object]):
    """Run one step: its figures, or a StepFailure with its one-line error."""
    try:
        return fn()
    except PezoError as exc:
        return StepFailure(str(exc), getattr(exc, "log", None))
    except Exception as exc:  # a design that fails to build fails its step, not the report
        return StepFailure(f"{type(exc).__name__}: {exc}".splitlines()[0], None, traceback.format_exc(limit=3))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (another run of the same job waits)."""
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cached_step(cache: Cache, key: str, kind: type, fn: Callable[[], object],
                 valid: Callable[[dict], bool] = lambda value: True) -> tuple[object, bool]:
    """(figures or StepFailure, cache hit) of a step: from the cache under ``key``, else
    by running it (and caching its figures or its failure, unless a tool was missing)."""
    hit = cache.get(key)
    if hit is not None and valid(hit):
        return _step_from_dict(kind, hit), True
    result = _step(fn)
    if not (isinstance(result, StepFailure) and "not found" in result.error):
        cache.put(key, asdict(result))
    return result, False


def measure(job: Job, cache: Cache | None = None, digests: dict[str, str] | None = None) -> Measurement:
    """The record of ``job`` (see the module docstring); each step is cached on its own
    (synthesis by design, config, target, Yosys and RTL/model/synthesis sources; P&R
    and power by the synthesis key, their tool and their own source)."""
    check_target(job.target)
    cache = cache or Cache()
    digests = digests or step_digests()
    with _locked(job.out_dir):
        return _measure(job, cache, digests)


def _measure(job: Job, cache: Cache, digests: dict[str, str]) -> Measurement:
    began = time.monotonic()
    out = job.out_dir
    synth_key = cache_key(step="synth", name=job.name, block=job.block, config=job.config, target=job.target,
                          yosys=yosys_version(), sources=digests["synth"])
    netlist_v, netlist_json = out / "netlist.v", out / "netlist.json"

    stamp = out / "synth.key"

    def synth_step() -> SynthFigures:
        from pezo.hw.designs import verilog
        stamp.unlink(missing_ok=True)  # the netlists are rewritten: no stamp until they are whole
        text = verilog(job.block, PezoConfig(**job.config))
        result = synthesize(text, job.target, out)
        stamp.write_text(synth_key)
        return SynthFigures(**result.resources.to_dict(), cells=result.cells, seconds=round(result.seconds, 1),
                            log=str(result.log))

    def netlist_is_this_synthesis(hit: dict) -> bool:
        """P&R and power read the netlist files: they must come from this very synthesis
        (another run may have written the folder since)."""
        return "error" in hit or (netlist_v.exists() and netlist_json.exists() and stamp.exists()
                                  and stamp.read_text() == synth_key)

    syn, hit = _cached_step(cache, synth_key, SynthFigures, synth_step, netlist_is_this_synthesis)
    hits, pnr, power = [hit], None, None
    if isinstance(syn, SynthFigures) and job.pnr and job.target in DEVICES:
        def pnr_step() -> PnrFigures:
            p = place_and_route(job.target, netlist_json, netlist_v, syn.resources, out / "pnr")
            return PnrFigures(round(p.fmax_mhz, 2), p.device, p.utilization, round(p.seconds, 1),
                              str(out / "pnr" / "nextpnr.log"))
        key = cache_key(step="pnr", synth=synth_key, nextpnr=nextpnr_version(job.target), sources=digests["pnr"])
        pnr, hit = _cached_step(cache, key, PnrFigures, pnr_step)
        hits.append(hit)
    if isinstance(syn, SynthFigures) and job.power and job.target in POWER_TARGETS:
        def power_step() -> PowerFigures:
            p = estimate_power(netlist_v, netlist_json, job.target, out / "power")
            return PowerFigures(p.units_per_clock, p.toggles_per_clock, p.clock_units_per_clock, p.clocks,
                                str(out / "power" / "power_sim.log"))
        key = cache_key(step="power", synth=synth_key, iverilog=iverilog_version(), sources=digests["power"])
        power, hit = _cached_step(cache, key, PowerFigures, power_step)
        hits.append(hit)
    return Measurement(job.name, job.block, job.target, job.config, str(out), syn, pnr, power,
                       seconds=round(time.monotonic() - began, 1), cached=all(hits), extra=dict(job.extra))


def step_digests() -> dict[str, str]:
    """Source digests of each step: what a cached result of that step depends on."""
    return {"synth": source_digest(DESIGN_SOURCES),
            "pnr": source_digest(("pezo/flow/pnr.py", "pezo/flow/bram_outreg.py", "pezo/flow/measure.py")),
            "power": source_digest(("pezo/flow/power.py", "pezo/flow/cells.py", "pezo/flow/measure.py"))}


def _measure_in_worker(job: Job, digests: dict[str, str], cache_dir: str) -> Measurement:
    return measure(job, Cache(Path(cache_dir)), digests)


def _measure_remote(job: Job, digests: dict[str, str]) -> Measurement:
    """A job on a remote worker: built in a scratch folder there, returned as a value."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="pezo-") as scratch:
        return measure(dataclasses.replace(job, root=scratch), Cache(Path(scratch) / "cache"), digests)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_jobs(jobs: list[Job], workers: int | None = None, cache: Cache | None = None,
             executor: Executor | None = None) -> Iterator[Measurement]:
    """Measure ``jobs``, yielding records as they finish (longest-looking jobs, P=8 and
    Gaussian, first so the cores stay busy): over ``workers`` local processes, or over
    ``executor`` (e.g. a Dask cluster's), whose workers build in scratch folders of
    their own and return the records, which this process caches."""
    cache = cache or Cache()
    digests = step_digests()
    order = sorted(jobs, key=lambda j: (-j.config.get("parallel", 1), j.block == "engine"))
    if executor is not None:
        yield from _run_remote(order, digests, cache, executor)
        return
    workers = workers or default_workers()
    if workers == 1 or len(order) <= 1:
        for job in order:
            yield measure(job, cache, digests)
        return
    with worker_pool(workers) as pool:
        futures = {pool.submit(_measure_in_worker, job, digests, str(cache.dir)): job for job in order}
        for future in as_completed(futures):
            yield _result(future, futures[future])


def _remote_key(job: Job, digests: dict[str, str]) -> str:
    return cache_key(step="remote", name=job.name, block=job.block, config=job.config, target=job.target,
                     pnr=job.pnr, power=job.power, yosys=yosys_version(), digests=digests)


def _run_remote(order: list[Job], digests: dict[str, str], cache: Cache,
                executor: Executor) -> Iterator[Measurement]:
    futures = {}
    for job in order:
        hit = cache.get(_remote_key(job, digests))
        if hit is not None:
            yield dataclasses.replace(Measurement.from_dict(hit), cached=True)
        else:
            futures[executor.submit(_measure_remote, job, digests)] = job
    try:
        for future in as_completed(futures):
            job = futures[future]
            record = _result(future, job)
            errors = " ".join(step.error for step in (record.synth, record.pnr, record.power)
                              if isinstance(step, StepFailure))
            if "worker failed" not in errors and "not found" not in errors:
                cache.put(_remote_key(job, digests), record.to_dict())
            yield record
    finally:
        for future in futures:
            future.cancel()


def _result(future, job: Job) -> Measurement:
    try:
        return future.result()
    except Exception as exc:  # a crashed worker loses one job, not the report
        return Measurement(job.name, job.block, job.target, job.config, "",
                           StepFailure(f"worker failed: {type(exc).__name__}: {exc}"), extra=dict(job.extra))
