"""The one registry of the named hardware designs: for each, its component, its golden
model, its testbench and what it is (a Gaussian baseline, a perturbation source, or
the on-device trainer, which contains a source).

Every component is built as ``component(cfg)`` from one :class:`PezoConfig` and every
model as ``model(cfg, seed_in)`` (the LFSR bank's K is ``cfg.lanes``; the scaler and the
reuse stage are blocks whose golden model is a module of functions). The comparison set
of the report (``pezo.flow.comparison``) names registry designs plus config overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from amaranth.back import verilog as amaranth_verilog
from amaranth.lib import wiring

from pezo.errors import ConfigError
from pezo.hw.engine import perturbation_engine
from pezo.hw.floor import LfsrFloor
from pezo.hw.gaussian.box_muller import BoxMullerGaussian
from pezo.hw.gaussian.clt import CltGaussian
from pezo.hw.gaussian.icdf import IcdfGaussian
from pezo.hw.gaussian_pool import GaussianPool
from pezo.hw.lfsr import LfsrBank
from pezo.hw.paper import PaperPool, PaperRotate
from pezo.hw.rademacher import RademacherSource
from pezo.hw.reuse import reuse
from pezo.hw import trainer
from pezo.hw.scaler import UniformScaler
from pezo.ref import lfsr as ref_lfsr
from pezo.ref import reuse as ref_reuse
from pezo.ref import scaler as ref_scaler
from pezo.ref.config import PezoConfig
from pezo.ref.engine import engine_model
from pezo.ref.floor import FloorModel
from pezo.ref.gaussian.box_muller import BoxMullerGaussian as BoxMullerModel
from pezo.ref.gaussian.clt import CltGaussian as CltModel
from pezo.ref.gaussian.icdf import IcdfGaussian as IcdfModel
from pezo.ref.gaussian_pool import GaussianPoolModel
from pezo.ref.paper import PaperPoolModel, PaperRotateModel
from pezo.ref.rademacher import Rademacher
from pezo.ref.train import fixed as ref_trainer
from pezo.toolchain import TOPLEVEL, configure_amaranth


@dataclass(frozen=True)
class Design:
    """One registry entry.

    ``component(cfg)`` builds the Amaranth component; ``model`` is its golden model in
    ref/ (a class or factory called as ``model(cfg, seed_in)``, or the ref/ module of a
    block's functions); ``testbench`` is the cocotb module of sim/ that compares the two;
    ``gaussian``: a Gaussian baseline (quality measured against the bar); ``source``: a
    replayable perturbation source with the interface of hw/source.py (so it can drive a
    board top; lfsr-floor has the interface but not the replay).
    """

    name: str
    component: Callable[[PezoConfig], wiring.Component]
    model: Callable[..., object] | ModuleType
    testbench: str
    gaussian: bool = False
    source: bool = True


def _bank(cfg: PezoConfig) -> LfsrBank:
    return LfsrBank.from_config(cfg)


def _trainer(cfg: PezoConfig) -> wiring.Component:
    # hw/trainer.py builds its source through this registry: the attribute is looked up
    # when called, so either module may be imported first
    return trainer.trainer_for_engine(cfg)


_ENTRIES = (
    Design("engine", perturbation_engine, engine_model, "pezo.sim.tb_engine"),
    Design("lfsr", _bank, ref_lfsr.LfsrBank.from_config, "pezo.sim.tb_lfsr", source=False),
    Design("scaler", UniformScaler, ref_scaler, "pezo.sim.tb_scaler", source=False),
    Design("reuse", reuse, ref_reuse, "pezo.sim.tb_reuse", source=False),
    Design("clt", CltGaussian, CltModel, "pezo.sim.tb_gaussian", gaussian=True),
    Design("box_muller", BoxMullerGaussian, BoxMullerModel, "pezo.sim.tb_gaussian", gaussian=True),
    Design("icdf", IcdfGaussian, IcdfModel, "pezo.sim.tb_gaussian", gaussian=True),
    Design("rademacher", RademacherSource, Rademacher, "pezo.sim.tb_rademacher"),
    Design("lfsr_floor", LfsrFloor, FloorModel, "pezo.sim.tb_floor", source=False),  # no replay
    Design("paper_pool", PaperPool, PaperPoolModel, "pezo.sim.tb_paper"),
    Design("paper_rotate", PaperRotate, PaperRotateModel, "pezo.sim.tb_paper"),
    Design("gaussian_pool", GaussianPool, GaussianPoolModel, "pezo.sim.tb_gaussian_pool"),
    Design("trainer", _trainer, ref_trainer, "pezo.sim.tb_trainer", source=False),
)

#: Design name -> its registry entry.
DESIGNS: dict[str, Design] = {d.name: d for d in _ENTRIES}


def design_names() -> list[str]:
    return list(DESIGNS)


def design(name: str) -> Design:
    """The registry entry ``name``; an unknown name raises a ConfigError listing them."""
    if name not in DESIGNS:
        raise ConfigError("block", name, f"known designs are {', '.join(DESIGNS)}")
    return DESIGNS[name]


def make_design(name: str, cfg: PezoConfig) -> wiring.Component:
    """The component ``name`` built from ``cfg``; unknown name -> ConfigError."""
    return design(name).component(cfg)


def verilog(name: str, cfg: PezoConfig, top: str = TOPLEVEL) -> str:
    """Verilog text of design ``name`` for ``cfg`` with top module ``top``."""
    configure_amaranth()
    return amaranth_verilog.convert(make_design(name, cfg), name=top, emit_src=False)
