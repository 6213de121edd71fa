"""A JSON result cache under ``build/cache/``, keyed by everything a result depends on.

A key is the SHA-256 of a canonical JSON document of its parts: the design name and
block, the full config, the target, the tool versions, and :func:`source_digest` (the
RTL, model and flow sources), so editing a design, a config field, a tool or the flow
misses the cache while a plain rerun hits it. The sources are found through the
imported packages (``pezo.ref``, ``pezo.hw``, ``pezo``), so the digest is the same in a
source checkout and in an installed wheel, where ref/ and hw/ live under pezo/.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from pathlib import Path

from pezo.errors import PezoError
from pezo.toolchain import build_dir

#: Source trees a measurement depends on by default (repository-style paths, see
#: :func:`source_digest`).
SOURCE_GLOBS = ("hw/**/*.py", "ref/*.py", "ref/gaussian/*.py", "pezo/flow/synth.py",
                "pezo/flow/cells.py", "pezo/flow/bram_outreg.py", "pezo/flow/pnr.py", "pezo/flow/power.py", "pezo/toolchain.py")

#: First path part of a source glob -> the package that holds those files.
PACKAGES = {"ref": "pezo.ref", "hw": "pezo.hw", "sim": "pezo.sim", "pezo": "pezo"}


def package_dir(part: str) -> Path:
    """The folder of the installed package of a glob's first part (``ref`` -> pezo.ref)."""
    if part not in PACKAGES:
        raise PezoError(f"source glob must start with one of {', '.join(PACKAGES)}, not {part!r}")
    return Path(importlib.import_module(PACKAGES[part]).__file__).resolve().parent


def source_digest(globs: tuple[str, ...] = SOURCE_GLOBS) -> str:
    """SHA-256 over the files matching ``globs`` (names and contents). Each glob is
    written as in the repository (``hw/**/*.py``) and is looked up in the imported
    package of its first part, wherever it is installed; at least one file must match."""
    digest = hashlib.sha256()
    for pattern in globs:
        part, _, rest = pattern.partition("/")
        root = package_dir(part)
        paths = sorted(root.glob(rest))
        if not paths:
            raise PezoError(f"no source file matches {pattern} under {root}")
        for path in paths:
            digest.update(f"{part}/{path.relative_to(root).as_posix()}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(**parts: object) -> str:
    """Hex SHA-256 of the canonical JSON of ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Results stored as ``<dir>/<key>.json``; writes are atomic (rename)."""

    def __init__(self, directory: Path | None = None):
        self.dir = Path(directory) if directory is not None else build_dir("cache")
        self.dir.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> dict | None:
        try:
            return json.loads((self.dir / f"{key}.json").read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict) -> None:
        """Store ``value``: written to a temporary file, then renamed over the entry, so a
        reader (or a run killed mid-write) never sees half an entry."""
        tmp = self.dir / f".{key}.{os.getpid()}.tmp"
        try:
            tmp.write_text(json.dumps(value, sort_keys=True, indent=1))
            tmp.replace(self.dir / f"{key}.json")
        finally:
            tmp.unlink(missing_ok=True)
