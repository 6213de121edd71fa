"""One measurement job: a design and config on one target, cached; and a parallel runner.

``measure(job)`` generates the Verilog (``pezo.hw.designs.verilog``), synthesizes it
(synth.py), places and routes it for ice40/ecp5 when asked (pnr.py) and estimates its
power when asked (power.py), all under ``build/synth/<target>/<design>[-<tag>]-<config
hash>/`` (one folder per configuration, locked while a run uses it, so concurrent runs
in one checkout wait for each other and then share the cached result). It returns a
JSON-ready record; a failing step puts ``{"error": one line, "log": path}`` under that
step's name and the other steps still run. Each step's result is cached (cache.py) on
its own, so changing the P&R or power code re-runs only that step.

``run_jobs`` measures many jobs over local worker processes (workers.py: Ctrl-C kills
them and their tools at once) or over any ``concurrent.futures`` executor given to it
(a Dask cluster's, see sweep.py), which returns the records as values.
"""

from __future__ import annotations

import fcntl
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
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
                  "pezo/flow/cells.py", "pezo/toolchain.py")

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


def _step(record: dict, name: str, fn: Callable[[], dict]) -> None:
    """Run one step; its result or its one-line error goes into ``record[name]``."""
    try:
        record[name] = fn()
    except PezoError as exc:
        record[name] = {"error": str(exc), "log": getattr(exc, "log", None)}
    except Exception as exc:  # a design that fails to build fails its step, not the report
        record[name] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                        "log": None, "trace": traceback.format_exc(limit=3)}


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (another run of the same job waits)."""
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cached_step(cache: Cache, key: str, record: dict, name: str, fn: Callable[[], dict],
                 valid: Callable[[dict], bool] = lambda value: True) -> bool:
    """``record[name]`` from the cache under ``key``, else by running the step (and
    caching its result or its error, unless a tool was missing). True on a cache hit."""
    hit = cache.get(key)
    if hit is not None and valid(hit):
        record[name] = hit
        return True
    _step(record, name, fn)
    if "not found" not in record[name].get("error", ""):
        cache.put(key, record[name])
    return False


def measure(job: Job, cache: Cache | None = None, digests: dict[str, str] | None = None) -> dict:
    """The record of ``job`` (see the module docstring); each step is cached on its own
    (synthesis by design, config, target, Yosys and RTL/model/synthesis sources; P&R
    and power by the synthesis key, their tool and their own source)."""
    check_target(job.target)
    cache = cache or Cache()
    digests = digests or step_digests()
    with _locked(job.out_dir):
        return _measure(job, cache, digests)


def _measure(job: Job, cache: Cache, digests: dict[str, str]) -> dict:
    began = time.monotonic()
    out = job.out_dir
    record: dict = {"design": job.name, "block": job.block, "target": job.target,
                    "config": job.config, "out_dir": str(out), **job.extra}
    synth_key = cache_key(step="synth", name=job.name, block=job.block, config=job.config, target=job.target,
                          yosys=yosys_version(), sources=digests["synth"])
    netlist_v, netlist_json = out / "netlist.v", out / "netlist.json"

    stamp = out / "synth.key"

    def synth_step() -> dict:
        from pezo.hw.designs import verilog
        stamp.unlink(missing_ok=True)  # the netlists are rewritten: no stamp until they are whole
        text = verilog(job.block, PezoConfig(**job.config))
        result = synthesize(text, job.target, out)
        stamp.write_text(synth_key)
        return {**result.resources.to_dict(), "cells": result.cells, "seconds": round(result.seconds, 1),
                "log": str(result.log)}

    def netlist_is_this_synthesis(hit: dict) -> bool:
        """P&R and power read the netlist files: they must come from this very synthesis
        (another run may have written the folder since)."""
        return "error" in hit or (netlist_v.exists() and netlist_json.exists() and stamp.exists()
                                  and stamp.read_text() == synth_key)

    hits = [_cached_step(cache, synth_key, record, "synth", synth_step, netlist_is_this_synthesis)]
    syn = record["synth"]
    if "error" not in syn and job.pnr and job.target in DEVICES:
        def pnr_step() -> dict:
            p = place_and_route(job.target, netlist_json, netlist_v, resources_of(syn), out / "pnr")
            return {"fmax_mhz": round(p.fmax_mhz, 2), "device": p.device, "utilization": p.utilization,
                    "seconds": round(p.seconds, 1), "log": str(out / "pnr" / "nextpnr.log")}
        key = cache_key(step="pnr", synth=synth_key, nextpnr=nextpnr_version(job.target), sources=digests["pnr"])
        hits.append(_cached_step(cache, key, record, "pnr", pnr_step))
    if "error" not in syn and job.power and job.target in POWER_TARGETS:
        def power_step() -> dict:
            p = estimate_power(netlist_v, netlist_json, job.target, out / "power")
            return {"units_per_clock": p.units_per_clock, "toggles_per_clock": p.toggles_per_clock,
                    "clock_units_per_clock": p.clock_units_per_clock, "clocks": p.clocks,
                    "log": str(out / "power" / "power_sim.log")}
        key = cache_key(step="power", synth=synth_key, iverilog=iverilog_version(), sources=digests["power"])
        hits.append(_cached_step(cache, key, record, "power", power_step))
    record["seconds"] = round(time.monotonic() - began, 1)
    record["cached"] = all(hits)
    return record


def resources_of(synth: dict) -> Resources:
    """The Resources of a cached synthesis record."""
    return Resources(**{f: synth[f] for f in ("lut_logic", "lutram", "ff", "carry", "mux", "bram", "dsp",
                                               "other_types")})


def step_digests() -> dict[str, str]:
    """Source digests of each step: what a cached result of that step depends on."""
    return {"synth": source_digest(DESIGN_SOURCES),
            "pnr": source_digest(("pezo/flow/pnr.py", "pezo/flow/measure.py")),
            "power": source_digest(("pezo/flow/power.py", "pezo/flow/cells.py", "pezo/flow/measure.py"))}


def _measure_in_worker(job: Job, digests: dict[str, str], cache_dir: str) -> dict:
    return measure(job, Cache(Path(cache_dir)), digests)


def _measure_remote(job: Job, digests: dict[str, str]) -> dict:
    """A job on a remote worker: built in a scratch folder there, returned as a value."""
    import dataclasses
    import tempfile
    with tempfile.TemporaryDirectory(prefix="pezo-") as scratch:
        return measure(dataclasses.replace(job, root=scratch), Cache(Path(scratch) / "cache"), digests)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_jobs(jobs: list[Job], workers: int | None = None, cache: Cache | None = None,
             executor: Executor | None = None) -> Iterator[dict]:
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


def _run_remote(order: list[Job], digests: dict[str, str], cache: Cache, executor: Executor) -> Iterator[dict]:
    futures = {}
    for job in order:
        hit = cache.get(_remote_key(job, digests))
        if hit is not None:
            yield {**hit, "cached": True}
        else:
            futures[executor.submit(_measure_remote, job, digests)] = job
    try:
        for future in as_completed(futures):
            job = futures[future]
            record = _result(future, job)
            errors = " ".join(step.get("error", "") for step in record.values() if isinstance(step, dict))
            if "worker failed" not in errors and "not found" not in errors:
                cache.put(_remote_key(job, digests), record)
            yield record
    finally:
        for future in futures:
            future.cancel()


def _result(future, job: Job) -> dict:
    try:
        return future.result()
    except Exception as exc:  # a crashed worker loses one job, not the report
        return {"design": job.name, "block": job.block, "target": job.target, "config": job.config,
                "synth": {"error": f"worker failed: {type(exc).__name__}: {exc}", "log": None},
                **job.extra, "cached": False}
