"""`pezo verilog`: Verilog plus config for a design; bad input is one line and exit 2."""

from __future__ import annotations

import re

import pytest

from pezo.cli import main
from pezo.ref.config import PezoConfig, preset


def _port_width(text: str, port: str) -> int:
    m = re.search(rf"^\s*(?:input|output)\s+(?:\[(\d+):0\]\s+)?{port};", text, re.M)
    assert m, f"port {port} missing"
    return int(m.group(1)) + 1 if m.group(1) else 1


def test_verilog_writes_engine_and_config_for_default_preset(tmp_path, capsys):
    assert main(["verilog", "--preset", "default", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "engine.v").read_text()
    cfg = preset("default")
    assert "module top(" in text
    assert _port_width(text, "z__payload") == cfg.parallel * cfg.word_bits
    assert _port_width(text, "start__payload") == cfg.step_bits
    assert _port_width(text, "seed__payload") == cfg.lfsr_width
    assert PezoConfig.load_toml(tmp_path / "engine.toml") == cfg
    out = capsys.readouterr().out
    assert str(tmp_path / "engine.v") in out and str(tmp_path / "engine.toml") in out


def test_verilog_block_lfsr_follows_overrides(tmp_path):
    args = ["verilog", "--preset", "stream", "--set", "lfsr_width=21", "--set", "word_bits=6",
            "--set", "frac_bits=2", "--set", "moment_bits=4", "--set", "repeat=2", "--block", "lfsr", "--out", str(tmp_path)]
    assert main(args) == 0
    cfg = PezoConfig.load_toml(tmp_path / "lfsr.toml")
    text = (tmp_path / "lfsr.v").read_text()
    assert (cfg.lfsr_width, cfg.word_bits, cfg.repeat) == (21, 6, 2)
    assert _port_width(text, "words") == cfg.lanes * cfg.word_bits
    assert _port_width(text, "seek__payload") == cfg.step_bits


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
