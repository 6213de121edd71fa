"""The interface every perturbation source shares (PeZO engines, Gaussian baselines,
Rademacher, ...), defined once as a :class:`wiring.Signature` with its parameters, in
the way amaranth-stdio defines its serial ports.

A source component passes ``SourceSignature.from_config(cfg)`` to
``wiring.Component.__init__`` (or ``dict(sig.members)`` plus members of its own).
Members, from the source's point of view:

* ``start`` : In(stream of unsigned(S)), always ready. ``start(t)`` abandons every word
  in flight and emits words 0, 1, 2, ... of step t until the next start; the same t
  always gives the same words (replay for the +eps, -eps and update passes).
* ``seed`` : In(stream of unsigned(W)), always ready. Sets the runtime seed and goes
  idle at step 0.
* ``z`` : Out(stream of ArrayLayout(signed(B), P)). Transfer c carries words c*P ..
  c*P + P - 1 of the step (element p = word c*P + p): signed two's complement with F
  fractional bits. A transfer is held while ``z.ready`` is 0.
"""

from __future__ import annotations

from amaranth import signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from pezo.ref.config import PezoConfig


class SourceSignature(wiring.Signature):
    """``start`` / ``seed`` / ``z`` of a perturbation source (see the module docstring).

    Parameters
    ----------
    step_bits : S, width of the step index.
    seed_bits : W, width of the runtime seed (the LFSR width).
    word_bits : B, width of every perturbation word.
    parallel : P, words per ``z`` transfer.
    """

    def __init__(self, *, step_bits: int, seed_bits: int, word_bits: int, parallel: int):
        self.step_bits = step_bits
        self.seed_bits = seed_bits
        self.word_bits = word_bits
        self.parallel = parallel
        super().__init__({
            "start": In(stream.Signature(unsigned(step_bits))),
            "seed": In(stream.Signature(unsigned(seed_bits))),
            "z": Out(stream.Signature(data.ArrayLayout(signed(word_bits), parallel))),
        })

    @classmethod
    def from_config(cls, cfg: PezoConfig) -> "SourceSignature":
        """The interface of every source built from ``cfg``."""
        return cls(step_bits=cfg.step_bits, seed_bits=cfg.lfsr_width,
                   word_bits=cfg.word_bits, parallel=cfg.parallel)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SourceSignature)
                and (self.step_bits, self.seed_bits, self.word_bits, self.parallel)
                == (other.step_bits, other.seed_bits, other.word_bits, other.parallel))

    def __hash__(self) -> int:
        return hash((self.step_bits, self.seed_bits, self.word_bits, self.parallel))

    def __repr__(self) -> str:
        return (f"SourceSignature(step_bits={self.step_bits}, seed_bits={self.seed_bits}, "
                f"word_bits={self.word_bits}, parallel={self.parallel})")
