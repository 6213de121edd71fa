"""Worker processes that stop when the user says stop.

A terminal's Ctrl-C reaches every process of its foreground process group. A pool
worker that receives it loses its current job and takes the next one, and a pool
leaving its ``with`` block by an exception waits for every running job: together they
made ``pezo report`` run on for minutes after Ctrl-C. Here:

* :func:`worker_pool` starts each worker as the leader of its own process group, so
  only pezo's main process sees Ctrl-C; when the block is left by an exception
  (``KeyboardInterrupt`` included) it cancels the pending jobs and kills every worker's
  process group (the worker and the Yosys/nextpnr/Icarus it runs) without waiting.
* :func:`stop_children` kills every process pezo started, directly or not (the CLI
  calls it on an interrupt), so nothing outlives the command.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path


def _own_group() -> None:
    """Worker initializer: lead a new process group (the terminal's Ctrl-C goes to pezo only)."""
    os.setpgrp()


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor]:
    """A ``ProcessPoolExecutor`` of ``workers`` processes that is killed, not awaited,
    when the block raises (see the module docstring)."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_own_group)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop_children()
        raise
    pool.shutdown(wait=True)


def _descendants(root: int) -> list[int]:
    """Process ids below ``root`` (children first), from Linux's /proc; [] elsewhere."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (name) state ppid ...": the name may contain spaces and parentheses
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pid: int, own_group: int) -> None:
    try:
        group = os.getpgid(pid)
        if group == pid and group != own_group:
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_children() -> None:
    """Kill every process started by this one, its children and their process groups
    included, and reap the ones ``multiprocessing`` started."""
    own_group = os.getpgrp()
    pids = _descendants(os.getpid()) or [p.pid for p in multiprocessing.active_children()]
    for pid in pids:
        _kill(pid, own_group)
    for process in multiprocessing.active_children():
        process.join(timeout=5)
