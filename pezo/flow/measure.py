"""One measurement job: a design and config on one target, cached; and a parallel runner.

``measure(job)`` generates the Verilog (``pezo.hw.designs.verilog``), synthesizes it
(synth.py), places and routes it for ice40/ecp5 when asked (pnr.py) and estimates its
power when asked (power.py), all under ``build/synth/<target>/<design>[-<tag>]/``. It
returns a JSON-ready record; a failing step puts ``{"error": one line, "log": path}``
under that step's name and the other steps still run. Each step's result is cached
(cache.py) on its own, so changing the P&R or power code re-runs only that step.
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
from pezo.flow.cells import Resources
from pezo.flow.pnr import DEVICES, nextpnr_version, place_and_route
from pezo.flow.power import estimate_power
from pezo.flow.synth import check_target, synthesize, yosys_version
from pezo.ref.config import PezoConfig
from pezo.toolchain import build_dir

#: Sources a synthesis result depends on: the RTL, the model it is built from, the flow.
DESIGN_SOURCES = ("hw/**/*.py", "ref/*.py", "ref/gaussian/*.py", "pezo/flow/synth.py",
                  "pezo/flow/cells.py", "pezo/toolchain.py")

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
        key = cache_key(step="power", synth=synth_key, iverilog=_iverilog_version(), sources=digests["power"])
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


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_jobs(jobs: list[Job], workers: int | None = None, cache: Cache | None = None) -> Iterator[dict]:
    """Measure ``jobs`` over ``workers`` processes, yielding records as they finish
    (longest-looking jobs, P=8 and Gaussian, first so the cores stay busy)."""
    cache = cache or Cache()
    digests = step_digests()
    order = sorted(jobs, key=lambda j: (-j.config.get("parallel", 1), j.block == "engine"))
    workers = workers or default_workers()
    if workers == 1 or len(order) <= 1:
        for job in order:
            yield measure(job, cache, digests)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_measure_in_worker, job, digests, str(cache.dir)): job for job in order}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a crashed worker loses one job, not the report
                job = futures[future]
                yield {"design": job.name, "block": job.block, "target": job.target, "config": job.config,
                       "synth": {"error": f"worker failed: {type(exc).__name__}: {exc}", "log": None},
                       **job.extra, "cached": False}
