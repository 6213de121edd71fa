"""Every preset's engine, scaler and reuse stage elaborate and convert to Verilog, the
engine with the common source interface (hw/source.py); the pool is P memories of N
words; bad block parameters are one-line ConfigErrors."""

from __future__ import annotations

import pytest
from amaranth import Shape, signed
from amaranth.back import verilog

from pezo.errors import ConfigError
from pezo.hw.engine import perturbation_engine
from pezo.hw.reuse import reuse
from pezo.hw.scaler import PoolScaler, UniformScaler
from pezo.hw.source import SourceSignature
from pezo.ref.config import PRESETS, preset
from pezo.sim.pysim import memories
from pezo.toolchain import TOPLEVEL, configure_amaranth


def convert(component) -> None:
    """Convert ``component`` to Verilog (Amaranth and Yosys accept it)."""
    configure_amaranth()
    verilog.convert(component, name=TOPLEVEL, emit_src=False)


@pytest.mark.parametrize("name", list(PRESETS))
def test_engine_of_every_preset_has_the_source_interface_and_converts(name):
    cfg = preset(name)
    engine = perturbation_engine(cfg)
    assert engine.signature == SourceSignature.from_config(cfg)
    z = engine.signature.members["z"].signature.members["payload"]
    assert Shape.cast(z.shape).width == cfg.parallel * cfg.word_bits
    convert(engine)


@pytest.mark.parametrize("name", ["default", "stream", "none", "small"])
def test_scaler_and_reuse_convert_to_verilog(name):
    cfg = preset(name)
    convert(UniformScaler(cfg))
    convert(reuse(cfg))
    if cfg.strategy == "pool":
        convert(PoolScaler(cfg))


def test_pool_banks_are_memories():
    """The pool is P copies of N signed B-bit words (memories Yosys can map to LUT-RAM or
    block RAM)."""
    cfg = preset("refresh")
    pools = [(mem.shape, mem.depth) for mem in memories(perturbation_engine(cfg))]
    assert pools == [(signed(cfg.word_bits), cfg.pool_size)] * cfg.parallel, pools


@pytest.mark.parametrize("window,width,field", [(3, 1, "window"), (0, 1, "window"), (16, 0, "width")])
def test_bad_scaler_parameters_are_config_errors(window, width, field):
    with pytest.raises(ConfigError, match=f"invalid {field}="):
        UniformScaler(preset("default"), window=window, width=width)


@pytest.mark.parametrize("changes", [dict(parallel=3), dict(pool_size=8), dict(strategy="pool2"),
                                     dict(repeat=32, word_bits=16)])
def test_bad_engine_parameters_are_config_errors(changes):
    with pytest.raises(ConfigError):
        perturbation_engine(preset("default").replace(**changes))
