"""An installed wheel is complete (issue 11, item 8): built with ``pip wheel``, installed
into a fresh virtual environment and run from a folder outside the checkout, ``pezo
verilog``, ``pezo build --board icebreaker`` (constraints read as package data) and
``pezo synth`` work.

The fresh environment sees the dependencies of this one through a ``.pth`` line (so
nothing is downloaded) but not its editable pezo: every pezo module it imports must come
from the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(map(str, argv))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_wheel_installed_elsewhere_runs_verilog_build_and_synth(tmp_path):
    wheels, venv, work = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    work.mkdir()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
          str(ROOT)], tmp_path)
    (wheel,) = wheels.glob("pezo-*.whl")
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], tmp_path)

    env = {k: v for k, v in os.environ.items() if k not in ("PEZO_BUILD_DIR", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}{os.pathsep}{Path(sys.executable).parent}"
    where = _run([str(python), "-c", "import pezo, pezo.hw, pezo.ref, pezo.constraints as c; "
                                     "print(pezo.__file__, pezo.hw.__file__, pezo.ref.__file__, c.__file__)"],
                 work, env)
    assert all(path.startswith(str(venv)) for path in where.split()), where

    pezo = str(venv / "bin" / "pezo")
    _run([pezo, "verilog", "--out", "v"], work, env)
    assert "module top(" in (work / "v" / "engine.v").read_text()
    assert (work / "v" / "engine.core").read_text().startswith("CAPI=2:")
    built = _run([pezo, "build", "--board", "icebreaker", "--preset", "small"], work, env)
    assert (work / "build" / "boards" / "icebreaker" / "top.bin").stat().st_size > 0, built
    assert "program the board" in built
    synth = _run([pezo, "synth", "--target", "ice40", "--design", "lfsr", "--preset", "small"], work, env)
    assert "LUTs" in synth and "Fmax" in synth, synth
