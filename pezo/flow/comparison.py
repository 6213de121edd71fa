"""The comparison set: PeZO engines, Gaussian baselines and Rademacher at equal B and P.

Every entry is a design of the registry (``pezo.hw.designs``, which says what each
block is and names its component, golden model and testbench) plus config overrides applied to
the user's base config, so all entries share word width B, fractional bits F, the LFSR
width and P (P words per clock each):

=============  ===========  ===================================================
name           block        overrides
=============  ===========  ===================================================
pezo-pool      engine       strategy=pool (the default PeZO engine)
pezo-stream    engine       strategy=stream
uniform-none   engine       strategy=none (uniform, no reuse: the upper bound)
clt            clt          k = cfg.clt_k (12 by default)
clt6           clt          clt_k=6 (smallest k that can reach 4 sigma)
box-muller     box_muller   (table sizes from the config)
icdf           icdf         (inverse CDF, segmented degree-2 polynomial, 6.34 sigma)
rademacher     rademacher   (+-1, one LFSR bit per parameter; not Gaussian)
lfsr-floor     lfsr_floor   (P bare leap-forward LFSRs with seed load: the floor)
paper-pool     paper_pool   strategy=pool (the paper's concatenated pool, d of the digits MLP)
paper-rotate   paper_rotate strategy=stream (the paper's n = P/R rotating generators)
gaussian-pool  gaussian_pool strategy=pool (PeZO pool reuse filled by icdf)
=============  ===========  ===================================================

Gaussian quality is measured on the golden model's samples, which are bit-exact with
the RTL (``pezo.ref.gaussian``), against the bar of ``pezo.ref.gaussian.quality``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pezo.errors import ConfigError
from pezo.hw.designs import DESIGNS
from pezo.ref.config import PezoConfig

#: Golden-model samples per quality check (the quality module recommends 1e6).
QUALITY_SAMPLES = 1_000_000


@dataclass(frozen=True)
class DesignSpec:
    """One member of the comparison set (see the module docstring): a registry block with
    config overrides."""

    name: str
    block: str
    overrides: tuple[tuple[str, object], ...] = ()

    @property
    def gaussian(self) -> bool:
        """A Gaussian baseline (the registry says so), measured against the quality bar."""
        return DESIGNS[self.block].gaussian

    def config(self, base: PezoConfig) -> PezoConfig:
        return base.replace(**dict(self.overrides)) if self.overrides else base


COMPARISON: tuple[DesignSpec, ...] = (
    DesignSpec("pezo-pool", "engine", (("strategy", "pool"),)),
    DesignSpec("pezo-stream", "engine", (("strategy", "stream"),)),
    DesignSpec("uniform-none", "engine", (("strategy", "none"),)),
    DesignSpec("clt", "clt"),
    DesignSpec("clt6", "clt", (("clt_k", 6),)),
    DesignSpec("box-muller", "box_muller"),
    DesignSpec("icdf", "icdf"),
    DesignSpec("rademacher", "rademacher"),
    DesignSpec("lfsr-floor", "lfsr_floor"),
    DesignSpec("paper-pool", "paper_pool", (("strategy", "pool"),)),
    DesignSpec("paper-rotate", "paper_rotate", (("strategy", "stream"),)),
    DesignSpec("gaussian-pool", "gaussian_pool", (("strategy", "pool"),)),
)


#: The PeZO design of the headline numbers.
HEADLINE_DESIGN = "pezo-pool"
#: Blocks of the Gaussian generators the headline's best baseline is chosen from (the
#: fewest LUTs among those that meet the quality bar).
GAUSSIAN_GENERATORS = ("icdf", "box_muller", "clt")
#: K bare leap-forward LFSRs of the same output bits per clock: the floor every design
#: is also shown against (a ratio), once the registry has it.
FLOOR_DESIGN = "lfsr-floor"
#: Where the saving comes from: (design, what PeZO saves against it). ``None`` stands for
#: the best Gaussian generator of the target and P. Rows appear for registered designs.
SAVINGS: tuple[tuple[str | None, str], ...] = (
    ("gaussian-pool", "uniform numbers plus scaling (the same pool reuse, filled with Gaussians)"),
    (None, "reuse plus uniform numbers (the best Gaussian generator, no reuse)"),
    ("rademacher", "against the cheapest perturbation (+-1 from one LFSR bit per parameter)"),
)


def spec(name: str) -> DesignSpec:
    """The comparison-set entry ``name``, or the registry block of that name as is."""
    for s in COMPARISON:
        if s.name == name:
            return s
    if name in DESIGNS:
        return DesignSpec(name, name)
    known = dict.fromkeys([s.name for s in COMPARISON] + list(DESIGNS))  # each name once
    raise ConfigError("design", name, f"known designs are {', '.join(known)}")


def gaussian_samples(s: DesignSpec, cfg: PezoConfig, n: int) -> np.ndarray:
    """n real-valued samples (z / 2**F) of the golden model of a Gaussian baseline."""
    if not s.gaussian:
        raise ConfigError("design", s.name, "is not a Gaussian baseline")
    return DESIGNS[s.block].model(cfg, 0).samples_real(0, n)


def quality(s: DesignSpec, cfg: PezoConfig, n: int = QUALITY_SAMPLES) -> dict[str, object]:
    """``{"meets_bar": bool, **details}`` of the quality bar for a Gaussian baseline; for
    icdf also ``reach_all_inputs``, its largest |z| over every input (the exact law of
    ``pezo.ref.gaussian.icdf.max_output``, 6.34 at F = 12; for F <= 15), not a sampled
    maximum."""
    from pezo.ref.gaussian.quality import meets_quality_bar
    ok, details = meets_quality_bar(gaussian_samples(s, cfg, n))
    out = {"meets_bar": bool(ok), **{k: (bool(v) if isinstance(v, bool) else v) for k, v in details.items()}}
    if s.block == "icdf":
        from pezo.ref.gaussian.icdf import GUARD_BITS, MAX_EXACT_COEF_FRAC, max_output
        if cfg.frac_bits + GUARD_BITS <= MAX_EXACT_COEF_FRAC:
            out["reach_all_inputs"] = max_output(cfg.frac_bits)
    return out
