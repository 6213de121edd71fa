"""Every preset's engine, scaler and reuse buffer elaborate and convert to Verilog with the
common interface's port names; bad block parameters are one-line ConfigErrors."""

from __future__ import annotations

import pytest
from amaranth.back import verilog

from pezo.errors import ConfigError
from pezo.hw.engine import perturbation_engine
from pezo.hw.reuse import reuse
from pezo.hw.scaler import PoolScaler, UniformScaler
from pezo.ref.config import PRESETS, preset
from pezo.toolchain import configure_amaranth

ENGINE_PORTS = ("start__payload", "start__valid", "start__ready", "seed__payload", "seed__valid",
                "seed__ready", "z__payload", "z__valid", "z__ready", "clk", "rst")


def to_verilog(component) -> str:
    configure_amaranth()
    return verilog.convert(component, name="top", emit_src=False)


@pytest.mark.parametrize("name", list(PRESETS))
def test_engine_of_every_preset_converts_to_verilog(name):
    cfg = preset(name)
    text = to_verilog(perturbation_engine(cfg))
    header = text[text.index("module top("):].split(";", 1)[0]
    for port in ENGINE_PORTS:
        assert port in header, f"{name}: port {port} missing from the Verilog top"
    assert f"[{cfg.parallel * cfg.word_bits - 1}:0] z__payload" in text


@pytest.mark.parametrize("name", ["default", "stream", "none", "small"])
def test_scaler_and_reuse_convert_to_verilog(name):
    cfg = preset(name)
    assert "module top(" in to_verilog(UniformScaler(cfg))
    assert "module top(" in to_verilog(reuse(cfg))
    if cfg.strategy == "pool":
        assert "module top(" in to_verilog(PoolScaler(cfg))


def test_pool_banks_are_memories():
    """The pool is P copies of N words (memories Yosys can map to LUT-RAM or block RAM)."""
    cfg = preset("refresh")
    text = to_verilog(perturbation_engine(cfg))
    for p in range(cfg.parallel):
        declaration = f"reg [{cfg.word_bits - 1}:0] pool{p} [{cfg.pool_size - 1}:0];"
        assert declaration in text, f"copy {p} is not a {cfg.pool_size}-word memory"


@pytest.mark.parametrize("window,width,field", [(3, 1, "window"), (0, 1, "window"), (16, 0, "width")])
def test_bad_scaler_parameters_are_config_errors(window, width, field):
    with pytest.raises(ConfigError, match=f"invalid {field}="):
        UniformScaler(preset("default"), window=window, width=width)


@pytest.mark.parametrize("changes", [dict(parallel=3), dict(pool_size=8), dict(strategy="pool2"),
                                     dict(repeat=32, word_bits=16)])
def test_bad_engine_parameters_are_config_errors(changes):
    with pytest.raises(ConfigError):
        perturbation_engine(preset("default").replace(**changes))
