"""``TrainerConfig``: the one configuration of the on-device ZO trainer (issue 10),
shared by the fixed-point golden model (ref/train/fixed.py), the ``ZoTrainer`` RTL
(hw/trainer.py) and its testbench. docs/trainer.md section 1 is the table of fields;
this module also derives every shift amount of sections 2-4 once, so that ref/, hw/
and sim/ agree, and rejects configurations whose arithmetic would overflow or shift by
a negative amount (one-line :class:`ConfigError`).

Number formats (all two's complement unless unsigned):

* theta: signed ``theta_bits``, ``theta_frac`` fractional bits (Q4.20 by default);
* effective weight c: signed ``compute_bits``, ``compute_frac`` fractional bits;
* feature x: unsigned 5 bits, 0..16, real x / 16 (:data:`FEATURE_FRAC` = 4);
* hidden activation h: unsigned ``act_bits``, ``act_frac`` fractional bits;
* score s and loss error: ``score_frac`` fractional bits, the error saturated to
  :data:`ERROR_BITS` signed bits;
* z: the source's signed B-bit word with F fractional bits (``pezo.word_bits``,
  ``pezo.frac_bits``);
* gradient word gq: signed ``grad_bits``, in theta LSBs per unit z.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.train.sources import SOURCES, source_config

#: Fractional bits of a feature: pixels 0..16 stand for 0..1.0.
FEATURE_FRAC = 4
#: Largest feature value (the digits pixels) and the bias input of layer 1 (= 1.0).
FEATURE_MAX = 16
#: Width of the saturated score error ``s_k - t_k`` of the loss.
ERROR_BITS = 16
#: Width of the loss difference ``delta`` of a step (signed).
DELTA_BITS = 48
#: Widest operand of a multiplier (an iCE40 UP5K DSP multiplies 16 x 16 signed).
MULT_BITS = 16
#: The registry design (hw/designs.py) of each training source; None: no RTL (the float
#: ``gaussian`` and ``uniform`` sources, quantised to the word format, ref/train/sources.py).
SOURCE_DESIGNS: dict[str, str | None] = {
    "pezo-pool": "engine", "pezo-stream": "engine", "rademacher": "rademacher", "icdf": "icdf",
    "paper-pool": "paper_pool", "paper-rotate": "paper_rotate", "gaussian-pool": "gaussian_pool",
    "gaussian": None, "uniform": None}
MODELS = ("mlp", "logreg")
#: Defaults of the perturbation and learning-rate shifts, chosen by measurement
#: (docs/trainer.md section 5): eps = 2**-8 (k = 0 with F = 12: d = z), lr = 2**-9 for
#: the MLP and 2**-10 for logreg (2**-8 diverges for logreg, whose 64 pixel inputs
#: feed the scores directly).
DEFAULT_EPS_SHIFT = 8
DEFAULT_LR_SHIFT = {"mlp": 9, "logreg": 10}


def _pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


@dataclass(frozen=True)
class TrainerConfig:
    """Every parameter of the fixed-point ZO trainer (docs/trainer.md section 1).

    model : ``mlp`` (one hidden ReLU layer) or ``logreg``.
    n_in, hidden, n_out : features, hidden units (mlp only), classes.
    macs : M, examples evaluated in parallel (one multiplier each).
    batch : b, examples per step (power of two, multiple of M).
    theta_bits, theta_frac : stored parameter, signed.
    compute_bits, compute_frac : weight seen by a multiplier, signed.
    act_bits, act_frac : hidden activation after ReLU, unsigned.
    score_frac : SF, fractional bits of a score and of the loss error.
    eps_shift : e, eps = 2**-e.   lr_shift : l, lr = 2**-l (None: the model's default,
        ``DEFAULT_LR_SHIFT``).
    grad_bits : width of the gradient word gq, signed.
    source : a training source of ref/train/sources.py (``SOURCE_DESIGNS`` names its
        registry design); pezo : the PezoConfig it is built on (None: the source's preset,
        ``source_config``; for ``gaussian``/``uniform`` it sets the quantised word format).
    """

    model: str = "mlp"
    n_in: int = 64
    hidden: int = 16
    n_out: int = 10
    macs: int = 4
    batch: int = 64
    theta_bits: int = 24
    theta_frac: int = 20
    compute_bits: int = 16
    compute_frac: int = 12
    act_bits: int = 15
    act_frac: int = 10
    score_frac: int = 10
    eps_shift: int = DEFAULT_EPS_SHIFT
    lr_shift: int | None = None
    grad_bits: int = 16
    source: str = "pezo-pool"
    pezo: PezoConfig | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError("source", self.source, f"known sources are {', '.join(SOURCES)}")
        if self.pezo is not None and not isinstance(self.pezo, PezoConfig):
            raise ConfigError("pezo", self.pezo, "must be a PezoConfig")
        object.__setattr__(self, "pezo", source_config(self.source, self.pezo))
        if self.lr_shift is None:
            object.__setattr__(self, "lr_shift", DEFAULT_LR_SHIFT.get(self.model, DEFAULT_LR_SHIFT["mlp"]))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            expected = {"model": str, "source": str, "pezo": PezoConfig}.get(f.name, int)
            if not isinstance(value, expected) or isinstance(value, bool):
                raise ConfigError(f.name, value, f"must be of type {expected.__name__}")
        if self.model not in MODELS:
            raise ConfigError("model", self.model, f"known models are {', '.join(MODELS)}")
        for name, low, high in (("n_in", 1, 4096), ("hidden", 1, 4096), ("n_out", 2, 256), ("macs", 1, 256),
                                ("theta_bits", 2, 32), ("compute_bits", 2, MULT_BITS),
                                ("act_bits", 1, MULT_BITS - 1), ("grad_bits", 2, MULT_BITS),
                                ("score_frac", 0, ERROR_BITS - 2), ("eps_shift", 0, 32), ("lr_shift", 0, 32)):
            if not low <= getattr(self, name) <= high:
                raise ConfigError(name, getattr(self, name), f"allowed values are {low}..{high}")
        if not (_pow2(self.batch) and self.batch % self.macs == 0):
            raise ConfigError("batch", self.batch, f"must be a power of two and a multiple of macs ({self.macs})")
        if not 0 <= self.compute_frac <= self.theta_frac < self.theta_bits:
            raise ConfigError("compute_frac", self.compute_frac,
                              f"must satisfy 0 <= compute_frac <= theta_frac ({self.theta_frac}) < theta_bits")
        if self.act_frac < 0 or self.layer1_shift < 0:
            raise ConfigError("act_frac", self.act_frac,
                              f"must be in 0..compute_frac + {FEATURE_FRAC} ({self.compute_frac + FEATURE_FRAC})")
        if self.score_shift < 0:
            raise ConfigError("score_frac", self.score_frac,
                              f"must be at most {self.score_frac + self.score_shift} for {self.model} "
                              f"(the score is the accumulator shifted right)")
        if self.pezo.word_bits > MULT_BITS:
            raise ConfigError("word_bits", self.pezo.word_bits,
                              f"the source's words multiply gq: at most {MULT_BITS} bits")
        if self.pezo.word_bits - 1 + self.perturb_shift > self.theta_bits - 1:
            least = self.theta_frac - self.pezo.frac_bits + self.pezo.word_bits - self.theta_bits
            raise ConfigError("eps_shift", self.eps_shift,
                              f"must be at least {least}: eps*z must fit theta_bits ({self.theta_bits})")
        if self.grad_shift < 0:
            raise ConfigError("lr_shift", self.lr_shift,
                              f"must be at least {self.lr_shift - self.grad_shift}: the gradient shift "
                              f"2*SF+1+log2(batch)+l-e-theta_frac would be negative")
        if self.grad_shift >= DELTA_BITS:
            raise ConfigError("lr_shift", self.lr_shift,
                              f"must be at most {self.lr_shift + DELTA_BITS - 1 - self.grad_shift}: "
                              f"the gradient shift must stay below the loss difference's width ({DELTA_BITS})")
        if self.delta_bound >= 1 << (DELTA_BITS - 1):
            raise ConfigError("batch", self.batch, f"batch * n_out * 2**{2 * ERROR_BITS - 2} must stay below "
                                                   f"2**{DELTA_BITS - 1} (the loss difference is {DELTA_BITS} bits)")

    # Derived quantities (docs/trainer.md sections 3-4), computed once for ref/, hw/, sim/.

    @property
    def design(self) -> str | None:
        """The registry design (hw/designs.py) of the source; None for a float source."""
        return SOURCE_DESIGNS[self.source]

    @property
    def layers(self) -> tuple[tuple[int, int], ...]:
        """(rows, inputs) of each layer; a row holds ``inputs`` weights then its bias."""
        if self.model == "logreg":
            return ((self.n_out, self.n_in),)
        return ((self.hidden, self.n_in), (self.n_out, self.hidden))

    @property
    def n_params(self) -> int:
        """d, parameters (and z words per step): 1210 for the default MLP, 650 for logreg."""
        return sum(rows * (inputs + 1) for rows, inputs in self.layers)

    @property
    def addr_bits(self) -> int:
        """Bits of a parameter address (0 .. n_params-1)."""
        return max(1, (self.n_params - 1).bit_length())

    @property
    def rounds(self) -> int:
        """b / M, rounds of M examples per step."""
        return self.batch // self.macs

    @property
    def perturb_shift(self) -> int:
        """k = theta_frac - F - e: d_i = z_i << k (k >= 0) or z_i >> -k."""
        return self.theta_frac - self.pezo.frac_bits - self.eps_shift

    @property
    def compute_shift(self) -> int:
        """theta_frac - compute_frac: c = sat((theta + s d) >> this, compute_bits)."""
        return self.theta_frac - self.compute_frac

    @property
    def layer1_shift(self) -> int:
        """compute_frac + 4 - act_frac: h = clamp(acc >> this) of the MLP's layer 1."""
        return self.compute_frac + FEATURE_FRAC - self.act_frac

    @property
    def score_shift(self) -> int:
        """The output layer's accumulator shift to SF fractional bits: compute_frac +
        act_frac - SF (mlp), compute_frac + 4 - SF (logreg)."""
        inputs = FEATURE_FRAC if self.model == "logreg" else self.act_frac
        return self.compute_frac + inputs - self.score_frac

    @property
    def grad_shift(self) -> int:
        """a = 2 SF + 1 + log2(b) + l - e - theta_frac: gq = sat(rshr(delta, a), grad_bits)."""
        return (2 * self.score_frac + 1 + self.batch.bit_length() - 1 + self.lr_shift - self.eps_shift
                - self.theta_frac)

    @property
    def delta_bound(self) -> int:
        """Largest |delta| of a step: b * n_out * (2**15)**2 (each loss term is a
        squared 16-bit saturated error; L(+) - L(-) is at most one loss)."""
        return self.batch * self.n_out * (1 << (2 * (ERROR_BITS - 1)))

    @property
    def max_steps(self) -> int:
        """Steps the source addresses (the ``start`` payload): 2**step_bits."""
        return 1 << self.pezo.step_bits

    def replace(self, **changes: object) -> "TrainerConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        """The fields, the PezoConfig as its own dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["pezo"] = self.pezo.to_dict()
        return out
