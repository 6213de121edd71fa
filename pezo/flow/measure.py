"""One measurement job: a design and config on one target, cached; and a parallel runner.

``measure(job)`` generates the Verilog (``pezo.hw.designs.verilog``), synthesizes it
(synth.py), places and routes it for ice40/ecp5 when asked (pnr.py) and estimates its
power when asked (power.py), all under ``build/synth/<target>/<design>[-<tag>]/``. It
returns a JSON-ready record; a failing step puts ``{"error": one line, "log": path}``
under that step's name and the other steps still run. Records are cached
(cache.py) by (design, block, config, target, steps, tool versions, sources).
"""

from __future__ import annotations

import os
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from pezo.errors import PezoError
from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.flow.pnr import DEVICES, nextpnr_version, place_and_route
from pezo.flow.power import estimate_power
from pezo.flow.synth import check_target, synthesize, yosys_version
from pezo.ref.config import PezoConfig
from pezo.toolchain import build_dir

#: Targets whose cell models Icarus 11 compiles (ice40's and ecp5's need Yosys'
#: preprocessor macros), so the power estimate runs on them.
POWER_TARGETS = ("xilinx7",)


@dataclass(frozen=True)
class Job:
    """Measure ``block`` built from ``config`` (a PezoConfig dict) on ``target``;
    ``name`` labels it (and its build directory, with ``tag``)."""

    name: str
    block: str
    config: dict
    target: str
    pnr: bool = True
    power: bool = True
    tag: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def out_dir(self) -> Path:
        leaf = f"{self.name}-{self.tag}" if self.tag else self.name
        return build_dir("synth", self.target, leaf)

    def key(self, digest: str) -> str:
        return cache_key(name=self.name, block=self.block, config=self.config, target=self.target,
                         pnr=self.pnr and self.target in DEVICES,
                         power=self.power and self.target in POWER_TARGETS,
                         yosys=yosys_version(), nextpnr=nextpnr_version(self.target),
                         iverilog=_iverilog_version(), sources=digest)


def _iverilog_version() -> str:
    try:
        return subprocess.run(["iverilog", "-V"], capture_output=True, text=True,
                              timeout=30).stdout.split("\n", 1)[0]
    except (OSError, subprocess.SubprocessError):
        return "missing"


def _step(record: dict, name: str, fn: Callable[[], dict]) -> None:
    """Run one step; its result or its one-line error goes into ``record[name]``."""
    try:
        record[name] = fn()
    except PezoError as exc:
        record[name] = {"error": str(exc), "log": _log_of(str(exc))}
    except Exception as exc:  # a design that fails to build fails its step, not the report
        record[name] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                        "log": None, "trace": traceback.format_exc(limit=3)}


def _log_of(message: str) -> str | None:
    return message.rsplit("log: ", 1)[1] if "log: " in message else None


def measure(job: Job, cache: Cache | None = None, digest: str | None = None) -> dict:
    """The record of ``job`` (see the module docstring), from the cache when possible."""
    check_target(job.target)
    cache = cache or Cache()
    key = job.key(digest or source_digest())
    hit = cache.get(key)
    if hit is not None:
        return {**hit, "cached": True}
    began = time.monotonic()
    out = job.out_dir
    record: dict = {"design": job.name, "block": job.block, "target": job.target,
                    "config": job.config, "out_dir": str(out), **job.extra}

    def synth_step() -> dict:
        from pezo.hw.designs import verilog
        text = verilog(job.block, PezoConfig(**job.config))
        result = synthesize(text, job.target, out)
        record["_synth"] = result
        return {**result.resources.to_dict(), "cells": result.cells, "seconds": round(result.seconds, 1),
                "log": str(result.log)}

    _step(record, "synth", synth_step)
    result = record.pop("_synth", None)
    if result is not None and job.pnr and job.target in DEVICES:
        def pnr_step() -> dict:
            p = place_and_route(job.target, result.netlist_json, result.netlist_v, result.resources,
                                out / "pnr")
            return {"fmax_mhz": round(p.fmax_mhz, 2), "device": p.device, "utilization": p.utilization,
                    "seconds": round(p.seconds, 1), "log": str(out / "pnr" / "nextpnr.log")}
        _step(record, "pnr", pnr_step)
    if result is not None and job.power and job.target in POWER_TARGETS:
        def power_step() -> dict:
            p = estimate_power(result.netlist_v, result.netlist_json, job.target, out / "power")
            return {"units_per_clock": p.units_per_clock, "toggles_per_clock": p.toggles_per_clock,
                    "clock_units_per_clock": p.clock_units_per_clock, "clocks": p.clocks,
                    "log": str(out / "power" / "power_sim.log")}
        _step(record, "power", power_step)
    record["seconds"] = round(time.monotonic() - began, 1)
    if "error" not in record.get("synth", {}):
        cache.put(key, record)
    return {**record, "cached": False}


def _measure_in_worker(job: Job, digest: str, cache_dir: str) -> dict:
    return measure(job, Cache(Path(cache_dir)), digest)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_jobs(jobs: list[Job], workers: int | None = None, cache: Cache | None = None) -> Iterator[dict]:
    """Measure ``jobs`` over ``workers`` processes, yielding records as they finish
    (longest-looking jobs, P=8 and Gaussian, first so the cores stay busy)."""
    cache = cache or Cache()
    digest = source_digest()
    order = sorted(jobs, key=lambda j: (-j.config.get("parallel", 1), j.block == "engine"))
    workers = workers or default_workers()
    if workers == 1 or len(order) <= 1:
        for job in order:
            yield measure(job, cache, digest)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_measure_in_worker, job, digest, str(cache.dir)): job for job in order}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a crashed worker loses one job, not the report
                job = futures[future]
                yield {"design": job.name, "block": job.block, "target": job.target, "config": job.config,
                       "synth": {"error": f"worker failed: {type(exc).__name__}: {exc}", "log": None},
                       **job.extra, "cached": False}
