"""Registry of the named hardware designs: build any of them from a config, or its Verilog.

Each entry is a ``"module:attribute"`` reference imported on first use, so the registry
works before every block exists and importing it costs nothing. Every class is built as
``Cls(cfg)`` from one :class:`PezoConfig`, except the LFSR bank
(``LfsrBank.from_config(cfg)``, K = ``cfg.lanes``).
"""

from __future__ import annotations

import importlib

from amaranth.back import verilog as amaranth_verilog
from amaranth.lib import wiring

from pezo.errors import ConfigError, PezoError
from pezo.ref.config import PezoConfig
from pezo.toolchain import configure_amaranth

#: Design name -> "module:attribute" of the component class (or of a factory).
DESIGNS: dict[str, str] = {
    "engine": "pezo.hw.engine:perturbation_engine",
    "lfsr": "pezo.hw.lfsr:LfsrBank.from_config",
    "scaler": "pezo.hw.scaler:UniformScaler",
    "reuse": "pezo.hw.reuse:reuse",
    "clt": "pezo.hw.gaussian.clt:CltGaussian",
    "box_muller": "pezo.hw.gaussian.box_muller:BoxMullerGaussian",
    "icdf": "pezo.hw.gaussian.icdf:IcdfGaussian",
    "rademacher": "pezo.hw.rademacher:RademacherSource",
    "lfsr_floor": "pezo.hw.floor:LfsrFloor",
    "paper_pool": "pezo.hw.paper:PaperPool",
    "paper_rotate": "pezo.hw.paper:PaperRotate",
    "gaussian_pool": "pezo.hw.gaussian_pool:GaussianPool",
}

#: Module name of every generated Verilog design.
TOPLEVEL = "top"


def design_names() -> list[str]:
    return list(DESIGNS)


def _factory(name: str):
    if name not in DESIGNS:
        raise ConfigError("block", name, f"known designs are {', '.join(DESIGNS)}")
    module, _, attribute = DESIGNS[name].partition(":")
    try:
        obj = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise
        raise PezoError(f"design {name!r} is not available in this installation ({module} is missing)") from None
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def make_design(name: str, cfg: PezoConfig) -> wiring.Component:
    """The component ``name`` built from ``cfg``; unknown name -> ConfigError."""
    return _factory(name)(cfg)


def verilog(name: str, cfg: PezoConfig, top: str = TOPLEVEL) -> str:
    """Verilog text of design ``name`` for ``cfg`` with top module ``top``."""
    configure_amaranth()
    return amaranth_verilog.convert(make_design(name, cfg), name=top, emit_src=False)
