"""Ctrl-C (SIGINT) and SIGTERM stop ``pezo report`` and ``pezo sweep`` within seconds,
with exit status 128 + signal, no process left behind and no half-written cache entry
(issue 9, defect 1: each interrupt used to kill one Yosys and the pool went on)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pezo.flow.workers import _descendants

COMMANDS = {
    "report": ["report", "--no-regression", "--no-training", "--target", "xilinx7", "--jobs", "2"],
    "sweep": ["sweep", "--pool-size", "64", "--parallel", "1,2,4", "--word-bits", "8,16", "--strategy", "pool",
              "--jobs", "2", "--train-steps", "50"],
}


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_signal_stops_the_command_and_every_process_it_started(command, signum, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PEZO_BUILD_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "pezo", *COMMANDS[command]], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        seen: set[int] = set()
        while not any("yosys" in _command_line(pid) for pid in seen):  # the work is under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            seen.update(_descendants(proc.pid))
            time.sleep(0.2)
        time.sleep(1.0)
        seen.update(_descendants(proc.pid))
        began = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
        stopped = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
    assert stopped < 10, f"stopped after {stopped:.1f} s"
    assert proc.returncode == 128 + signum, (out, err)
    assert "Traceback" not in err and err.count("\n") == 1, err
    time.sleep(0.5)
    assert [pid for pid in seen if _alive(pid)] == []
    cache = tmp_path / "build" / "cache"
    assert not list(cache.glob(".*.tmp"))
    for entry in cache.glob("*.json"):
        json.loads(entry.read_text())
