"""The one configuration object shared by the golden model (ref/), the RTL (hw/) and
the testbenches (sim/).

A :class:`PezoConfig` is frozen and validated on construction, so every consumer sees
the same, legal parameters. Named presets live in :data:`PRESETS`; any config can be
written to and read from a flat TOML file.

Number formats used throughout (B = ``word_bits``, F = ``frac_bits``):

* uniform word ``u``: unsigned, B bits, one per LFSR lane per clock;
* centred word ``v = 2*u + 1 - 2**B``: signed, B+1 bits, odd, |v| <= 2**B - 1;
* perturbation word ``z``: signed two's complement, B bits, fixed point with F
  fractional bits (Q(B-F).F including the sign bit), so ``z / 2**F`` is the real
  value. Every design (PeZO and the Gaussian baselines) emits this format.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

import tomli_w

from pezo.errors import ConfigError, PezoError
from pezo.ref.lfsr import close_lanes

STRATEGIES = ("pool", "stream", "none")
LFSR_WIDTHS = range(4, 65)
#: Widest perturbation word: the scaler's golden model tabulates all 2**B words
#: (2**24 int64 words take about 0.7 GB while the model runs).
MAX_WORD_BITS = 24


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


@dataclass(frozen=True)
class PezoConfig:
    """Every hardware parameter of a PeZO engine and of its Gaussian baselines.

    Parameters
    ----------
    lfsr_width : W, state bits of each LFSR lane (4..64, a maximal-length tap exists).
    word_bits : B, bits each lane produces per clock by leap-forward (4 <= B <= min(W, 24)); also
        the width of every perturbation word.
    frac_bits : F, fractional bits of the perturbation word (B - F >= 4, so that +-4
        sigma and a little more is representable).
    parallel : P, perturbation words per clock (power of two, 1..64).
    strategy : random-number reuse: ``pool``, ``stream`` or ``none`` (see ref/reuse.py).
    pool_size : N, words in the pool (power of two, 2*P <= N <= 65536); ``pool`` only.
    pool_refresh : steps per pool epoch; 0 keeps one pool for the whole run, otherwise a
        power of two (the pool is regenerated at every multiple of it).
    repeat : R, uses of each fresh word in the ``stream`` strategy (power of two,
        1 <= R <= B); ``none`` is the stream strategy with R = 1.
    mantissa_bits : M, fractional bits of the adaptive scale mantissa (1..6); the
        scale is ``mant / 2**M`` with ``mant`` in [2**M, 2**(M+1)).
    moment_bits : T, top bits of |v| squared by the second-moment estimate (2..B); the
        default 4 makes q*q + q a 16-entry table (measured in ref/scaler.py).
    moment_block : L, fresh words per running-moment block of ``stream`` / ``none``
        (power of two, 16..65536).
    step_bits : S, width of the step index of ``start(step)`` (4..32).
    seed : master seed (1 .. 2**64-1) from which every lane seed is derived.
    clt_k : uniforms summed per sample by the CLT baseline (2..32).
    bm_log_table_bits, bm_sqrt_table_bits, bm_trig_table_bits : address bits of the
        Box-Muller baseline's ln, sqrt and sin/cos tables (3..12).
    """

    lfsr_width: int = 48
    word_bits: int = 16
    frac_bits: int = 12
    parallel: int = 8
    strategy: str = "pool"
    pool_size: int = 512
    pool_refresh: int = 0
    repeat: int = 4
    mantissa_bits: int = 4
    moment_bits: int = 4
    moment_block: int = 256
    step_bits: int = 16
    seed: int = 0x5EED
    clt_k: int = 12
    bm_log_table_bits: int = 8
    bm_sqrt_table_bits: int = 8
    bm_trig_table_bits: int = 8

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            expected = str if f.name == "strategy" else int
            if not isinstance(value, expected) or isinstance(value, bool):
                raise ConfigError(f.name, value, f"must be of type {expected.__name__}")
        W, B = self.lfsr_width, self.word_bits
        if W not in LFSR_WIDTHS:
            raise ConfigError("lfsr_width", W, "allowed widths are 4..64 (maximal-length tap table)")
        if not 4 <= B <= min(W, MAX_WORD_BITS):
            raise ConfigError("word_bits", B, f"must satisfy 4 <= word_bits <= min(lfsr_width ({W}), "
                                              f"{MAX_WORD_BITS}) (the scaler's model tables have 2**word_bits entries)")
        close = close_lanes(W, B)
        if close is not None:
            raise ConfigError("lfsr_width", W, f"with word_bits={B} its lanes would lie only {close} LFSR steps "
                              f"apart (1 + x**{B} = x**{close} for this polynomial); choose another width")
        if not 0 <= self.frac_bits <= B - 4:
            raise ConfigError("frac_bits", self.frac_bits,
                              f"must satisfy 0 <= frac_bits <= word_bits - 4 ({B - 4})")
        if not (_is_pow2(self.parallel) and self.parallel <= 64):
            raise ConfigError("parallel", self.parallel, "must be a power of two in 1..64")
        if self.strategy not in STRATEGIES:
            raise ConfigError("strategy", self.strategy, f"allowed values are {', '.join(STRATEGIES)}")
        if not (_is_pow2(self.pool_size) and 2 * self.parallel <= self.pool_size <= 65536):
            raise ConfigError("pool_size", self.pool_size,
                              f"must be a power of two in {2 * self.parallel}..65536 (at least 2*parallel)")
        if self.pool_refresh != 0 and not _is_pow2(self.pool_refresh):
            raise ConfigError("pool_refresh", self.pool_refresh, "must be 0 (never) or a power of two")
        if not (_is_pow2(self.repeat) and self.repeat <= B):
            raise ConfigError("repeat", self.repeat, f"must be a power of two in 1..word_bits ({B})")
        if not 1 <= self.mantissa_bits <= 6:
            raise ConfigError("mantissa_bits", self.mantissa_bits, "allowed values are 1..6")
        if not 2 <= self.moment_bits <= B:
            raise ConfigError("moment_bits", self.moment_bits, f"must satisfy 2 <= moment_bits <= word_bits ({B})")
        if not (_is_pow2(self.moment_block) and 16 <= self.moment_block <= 65536):
            raise ConfigError("moment_block", self.moment_block, "must be a power of two in 16..65536")
        if not 4 <= self.step_bits <= 32:
            raise ConfigError("step_bits", self.step_bits, "allowed values are 4..32")
        if not 0 < self.seed < 2**64:
            raise ConfigError("seed", self.seed, "must be non-zero and below 2**64")
        if not 2 <= self.clt_k <= 32:
            raise ConfigError("clt_k", self.clt_k, "allowed values are 2..32")
        for name in ("bm_log_table_bits", "bm_sqrt_table_bits", "bm_trig_table_bits"):
            if not 3 <= getattr(self, name) <= 12:
                raise ConfigError(name, getattr(self, name), "allowed values are 3..12")

    # Derived quantities: computed here once so that ref/, hw/ and sim/ agree.

    @property
    def effective_repeat(self) -> int:
        """Uses of each fresh word: R for ``stream``, 1 for ``none`` (pool: not used)."""
        return 1 if self.strategy == "none" else self.repeat

    @property
    def lanes(self) -> int:
        """K, LFSR lanes of the PeZO engine: 1 for ``pool`` (the pool is filled one word
        per clock), ``max(1, P // R)`` for ``stream`` / ``none``."""
        if self.strategy == "pool":
            return 1
        return max(1, self.parallel // self.effective_repeat)

    @property
    def bank_depth(self) -> int:
        """Words per pool bank: the pool is split into P single-read-port banks."""
        return self.pool_size // self.parallel

    @property
    def scale_shift(self) -> int:
        """sh = B + M - F, the right shift applied after ``v * mant`` (always >= 1)."""
        return self.word_bits + self.mantissa_bits - self.frac_bits

    def replace(self, **changes: object) -> "PezoConfig":
        """A copy with some fields changed, validated again."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            name = sorted(unknown)[0]
            raise ConfigError(name, changes[name], f"unknown field; known fields are {', '.join(field_names())}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, int | str]:
        return dataclasses.asdict(self)

    def save_toml(self, path: str | Path) -> None:
        """Write every field as a flat TOML table ``[pezo]``."""
        Path(path).write_text(tomli_w.dumps({"pezo": self.to_dict()}))

    @classmethod
    def load_toml(cls, path: str | Path) -> "PezoConfig":
        """Read a file written by :meth:`save_toml` (missing fields take their defaults)."""
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise PezoError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise PezoError(f"config file {path} is not valid TOML: {exc}") from None
        table = data.get("pezo", data)
        return cls().replace(**table)


def field_names() -> list[str]:
    return [f.name for f in fields(PezoConfig)]


PRESETS: dict[str, PezoConfig] = {
    "default": PezoConfig(),
    "p1": PezoConfig(parallel=1),
    "stream": PezoConfig(strategy="stream", repeat=4),
    "none": PezoConfig(strategy="none"),
    "refresh": PezoConfig(pool_size=64, parallel=4, pool_refresh=4),
    "small": PezoConfig(lfsr_width=16, word_bits=8, frac_bits=4, parallel=2, pool_size=16,
                        mantissa_bits=3, moment_bits=6, moment_block=16, step_bits=8),
}


def preset(name: str) -> PezoConfig:
    """The named preset; an unknown name raises a ConfigError listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError("preset", name, f"known presets are {', '.join(PRESETS)}") from None
