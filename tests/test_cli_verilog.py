"""`pezo verilog`: Verilog plus config for a design; bad input is one line and exit 2."""

from __future__ import annotations

import pytest

from pezo.cli import main
from pezo.hw.designs import verilog
from pezo.ref.config import PezoConfig, preset


def test_verilog_writes_engine_and_config_for_default_preset(tmp_path, capsys):
    """The files are the registry design's Verilog for the config written beside it
    (its ports: tests/test_hw_elaborate.py)."""
    assert main(["verilog", "--preset", "default", "--out", str(tmp_path)]) == 0
    cfg = preset("default")
    assert PezoConfig.load_toml(tmp_path / "engine.toml") == cfg
    assert (tmp_path / "engine.v").read_text() == verilog("engine", cfg)
    out = capsys.readouterr().out
    assert str(tmp_path / "engine.v") in out and str(tmp_path / "engine.toml") in out


def test_verilog_block_lfsr_follows_overrides(tmp_path):
    args = ["verilog", "--preset", "stream", "--set", "lfsr_width=21", "--set", "word_bits=6",
            "--set", "frac_bits=2", "--set", "moment_bits=4", "--set", "repeat=2", "--block", "lfsr", "--out", str(tmp_path)]
    assert main(args) == 0
    cfg = PezoConfig.load_toml(tmp_path / "lfsr.toml")
    assert cfg == preset("stream").replace(lfsr_width=21, word_bits=6, frac_bits=2, moment_bits=4, repeat=2)
    assert (tmp_path / "lfsr.v").read_text() == verilog("lfsr", cfg)


@pytest.mark.parametrize("args, field", [
    (["--block", "nope"], "block"),
    (["--preset", "nope"], "preset"),
    (["--set", "word_bits=99"], "word_bits"),
])
def test_verilog_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, field):
    assert main(["verilog", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("pezo: error:") and field in err
    assert not list(tmp_path.iterdir())


def test_top_names_let_two_designs_share_one_project(tmp_path):
    """--top renames the module (and its submodules), so Icarus can compile two designs
    together; each gets a FuseSoC core naming its file and top."""
    import subprocess
    assert main(["verilog", "--preset", "small", "--out", str(tmp_path), "--top", "pezo_engine"]) == 0
    assert main(["verilog", "--preset", "small", "--block", "lfsr", "--out", str(tmp_path), "--top", "pezo_lfsr"]) == 0
    core = (tmp_path / "lfsr.core").read_text()
    assert core.startswith("CAPI=2:\n") and "name: pezo:generated:pezo_lfsr:" in core
    assert "      - lfsr.v\n" in core and core.count("toplevel: pezo_lfsr") == 2
    both = subprocess.run(["iverilog", "-o", str(tmp_path / "both.vvp"), "engine.v", "lfsr.v"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert both.returncode == 0, both.stderr
    assert main(["verilog", "--preset", "small", "--block", "lfsr", "--out", str(tmp_path)]) == 0
    assert main(["verilog", "--preset", "small", "--block", "scaler", "--out", str(tmp_path)]) == 0
    clash = subprocess.run(["iverilog", "-o", str(tmp_path / "clash.vvp"), "lfsr.v", "scaler.v"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert clash.returncode != 0  # the default name `top` twice: the reason for --top
