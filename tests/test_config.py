"""The shared config: validation, presets and TOML round trips; CLI error lines."""

import dataclasses

import pytest

from pezo.cli import main
from pezo.errors import ConfigError, PezoError
from pezo.ref.config import PRESETS, PezoConfig, field_names, preset


@pytest.mark.parametrize("changes,field", [
    ({"lfsr_width": 3}, "lfsr_width"),
    ({"lfsr_width": 65}, "lfsr_width"),
    ({"word_bits": 50}, "word_bits"),
    ({"lfsr_width": 63}, "lfsr_width"),
    ({"lfsr_width": 16, "word_bits": 17}, "word_bits"),
    ({"frac_bits": 13}, "frac_bits"),
    ({"parallel": 3}, "parallel"),
    ({"parallel": 128, "pool_size": 1024}, "parallel"),
    ({"strategy": "gaussian"}, "strategy"),
    ({"pool_size": 100}, "pool_size"),
    ({"pool_size": 8}, "pool_size"),
    ({"pool_refresh": 3}, "pool_refresh"),
    ({"repeat": 3}, "repeat"),
    ({"repeat": 32}, "repeat"),
    ({"mantissa_bits": 0}, "mantissa_bits"),
    ({"moment_bits": 17}, "moment_bits"),
    ({"moment_block": 8}, "moment_block"),
    ({"step_bits": 40}, "step_bits"),
    ({"seed": 0}, "seed"),
    ({"seed": 2**64}, "seed"),
    ({"clt_k": 1}, "clt_k"),
    ({"bm_trig_table_bits": 13}, "bm_trig_table_bits"),
    ({"parallel": "8"}, "parallel"),
    ({"colour": 1}, "colour"),
])
def test_invalid_config_names_the_field_and_allowed_values(changes, field):
    with pytest.raises(ConfigError) as info:
        PezoConfig().replace(**changes)
    assert info.value.field == field
    message = str(info.value)
    assert field in message and "\n" not in message
    assert info.value.allowed


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="default"):
        preset("fastest")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_toml(name, tmp_path):
    path = tmp_path / f"{name}.toml"
    PRESETS[name].save_toml(path)
    assert PezoConfig.load_toml(path) == PRESETS[name]


def test_toml_with_a_bad_value_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[pezo]\npool_size = 100\n")
    with pytest.raises(ConfigError, match="pool_size"):
        PezoConfig.load_toml(path)
    path.write_text("[pezo\n")
    with pytest.raises(PezoError, match="not valid TOML"):
        PezoConfig.load_toml(path)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PezoConfig().parallel = 4


def test_derived_quantities():
    cfg = PezoConfig()
    assert cfg.lanes == 1 and cfg.bank_depth == cfg.pool_size // cfg.parallel
    assert cfg.scale_shift == cfg.word_bits + cfg.mantissa_bits - cfg.frac_bits
    assert cfg.replace(strategy="stream", repeat=2).lanes == cfg.parallel // 2
    assert cfg.replace(strategy="stream", repeat=16).lanes == 1
    assert cfg.replace(strategy="none").lanes == cfg.parallel
    assert set(cfg.to_dict()) == set(field_names())


@pytest.mark.parametrize("argv", [
    ["config", "--preset", "fastest"],
    ["config", "--set", "lfsr_width=99"],
    ["config", "--set", "parallel=eight"],
    ["config", "--set", "parallel"],
    ["config", "--config", "/nonexistent/pezo.toml"],
])
def test_cli_reports_bad_config_in_one_line_with_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("pezo: error: ") and err.count("\n") == 1


def test_cli_writes_a_config_that_loads_back(tmp_path, capsys):
    out = tmp_path / "c.toml"
    assert main(["config", "--preset", "stream", "--set", "parallel=4", "--out", str(out)]) == 0
    assert PezoConfig.load_toml(out) == preset("stream").replace(parallel=4)
