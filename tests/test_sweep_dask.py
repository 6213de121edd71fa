"""``pezo sweep --scheduler``: the same grid on a Dask distributed cluster (a two-worker
LocalCluster here) gives the same records as the local run; the cache stays on the
client and the workers return values (issue 9, new capability 1)."""

from __future__ import annotations

import distributed
import pytest

from pezo.cli import main
from pezo.flow.cache import Cache
from pezo.flow.sweep import SweepGrid, run_sweep
from pezo.ref.config import preset

GRID = SweepGrid(pool_sizes=(64,), parallels=(1, 2), word_bits=(8,), strategies=("pool",), targets=("xilinx7",),
                 train_steps=20, train_seeds=1)


@pytest.mark.slow
def test_sweep_on_a_local_dask_cluster_equals_the_local_run(tmp_path, monkeypatch, capsys):
    base = preset("small")
    monkeypatch.setenv("PEZO_BUILD_DIR", str(tmp_path / "local"))
    local = run_sweep(GRID, base, workers=1, out_dir=tmp_path / "local-out")
    monkeypatch.setenv("PEZO_BUILD_DIR", str(tmp_path / "client"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = run_sweep(GRID, base, out_dir=tmp_path / "remote-out", executor=client.get_executor(pure=False))
    assert "on the Dask cluster" in capsys.readouterr().out
    assert len(local) == 2 and remote == local
    assert all(row["luts"] and not row["error"] for row in remote)
    # the results were cached on the client, and nothing was built there
    assert len(list(Cache(tmp_path / "client" / "cache").dir.glob("*.json"))) == 2 + 3
    assert not (tmp_path / "client" / "synth").exists()


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--scheduler", "tcp://127.0.0.1:1", "--parallel", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in err
