"""A JSON result cache under ``build/cache/``, keyed by everything a result depends on.

A key is the SHA-256 of a canonical JSON document of its parts: the design name and
block, the full config, the target, the tool versions, and :func:`source_digest` (the
RTL, model and flow sources), so editing a design, a config field, a tool or the flow
misses the cache while a plain rerun hits it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pezo.toolchain import build_dir

_ROOT = Path(__file__).resolve().parents[2]
#: Source trees a measurement depends on by default (relative to the repository).
SOURCE_GLOBS = ("hw/**/*.py", "ref/*.py", "ref/gaussian/*.py", "pezo/flow/synth.py",
                "pezo/flow/cells.py", "pezo/flow/pnr.py", "pezo/flow/power.py", "pezo/toolchain.py")


def source_digest(globs: tuple[str, ...] = SOURCE_GLOBS, root: Path = _ROOT) -> str:
    """SHA-256 over the files matching ``globs`` under ``root`` (names and contents)."""
    digest = hashlib.sha256()
    for pattern in globs:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
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
        tmp = self.dir / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value, sort_keys=True, indent=1))
        tmp.replace(self.dir / f"{key}.json")
