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

from amaranth import Module, Mux, Signal, signed, unsigned
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


class SkidBuffer(wiring.Component):
    """A two-entry output stage of a source's ``z`` stream (an output register and a
    skid register), so that the consumer's ``ready`` reaches no register but these: the
    source's pipeline advances on :attr:`i` ``.ready``, which is a register.

    Parameters
    ----------
    shape : the payload's shape.

    Attributes
    ----------
    i : In(stream of ``shape``), from the source. ``i.ready`` = the skid register is
        empty (registered, not a function of ``o.ready``); a transfer is
        ``i.valid & i.ready``.
    o : Out(stream of ``shape``), to the consumer: ``o.valid`` and ``o.payload`` are
        registers, held while ``o.ready`` is 0 (the stream rule).
    flush : In(1), drop both entries (``o.valid`` 0 from the next clock; a start or a
        seed abandons the words in flight). Priority over everything else.

    Latency 1 clock from an ``i`` transfer to ``o`` (when ``o`` is free), throughput one
    transfer per clock while ``o.ready`` is 1: the skid register fills only in a clock
    with ``o.valid & ~o.ready`` and drains into ``o`` in the next clock ``o`` is free.
    """

    def __init__(self, shape):
        super().__init__({
            "i": In(stream.Signature(shape)),
            "o": Out(stream.Signature(shape)),
            "flush": In(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        skid = Signal.like(self.i.payload, reset_less=True)
        skid_valid = Signal()
        m.d.comb += self.i.ready.eq(~skid_valid)
        with m.If(self.flush):
            m.d.sync += [self.o.valid.eq(0), skid_valid.eq(0)]
        with m.Elif(~self.o.valid | self.o.ready):
            m.d.sync += [self.o.payload.eq(Mux(skid_valid, skid, self.i.payload)),
                         self.o.valid.eq(skid_valid | self.i.valid), skid_valid.eq(0)]
        with m.Elif(~skid_valid):
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(self.i.valid)]
        return m
