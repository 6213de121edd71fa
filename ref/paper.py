"""Bit-exact models of the reuse schemes of the PeZO paper ("Perturbation-efficient
Zeroth-order Optimization for Hardware-friendly On-device Training", 2025), beside this
toolkit's own (ref/reuse.py, ref/engine.py).

Only the paper's abstract-level description is available; where it leaves a choice
open, the reading below is what a hardware designer of 2025 would build, and both
schemes take their uniform words and their scaling from this toolkit's engine, so that
only the reuse scheme (and, for ``paper-pool``, the pool's layout: N independent words
where ``pezo-pool`` has N/2 and their negations) differs from ``pezo-pool`` /
``pezo-stream``.

``paper-pool`` (:class:`PaperPoolModel`, config strategy ``pool``):
    "A pre-generated pool of N random numbers concatenated repeatedly to build each
    perturbation; the numbers left over at the end of one perturbation start the next."
    The pool holds N independent random numbers: lane 0 loaded for the epoch's first
    step in the fill domain (as the PeZO pool, ref/engine.py :class:`PoolModel`) gives
    N LFSR words u_k, centred to v_k, and ``fill_pool(v, cfg, antithetic=False)``
    scales them with the paper's adaptive uniform scaling: ``acc`` = the moment terms
    summed over all N words, ``mant = select_mantissa(acc, N)``, ``pool[k] =
    apply_scale(v_k, mant)``; no negations and no mean subtraction (the PeZO pool's
    antithetic pairs z[k + N/2] = -z[k] would, under this fixed read, pin z[i + N/2] =
    -z[i] in every step, a weakness of ours, not of the paper's scheme). Once per epoch
    of ``pool_refresh`` steps. Parameter i of step t (d parameters per perturbation)
    reads::

        pool[(t*d + i) mod N]

    Reading choices: replay needs z(t) from t alone, so the start of step t is computed
    as ``t*d mod N`` (d, the model size, is a constant of the accelerator: the RTL
    takes it as ``params``) instead of being a pointer left by the previous step; the
    P lanes read P consecutive pool words per clock. No fresh words are drawn per step.
    When N divides d every step reads the same z (the scheme's known weakness).

``paper-rotate`` (:class:`PaperRotateModel`, config strategy ``stream`` / ``none``):
    "An array of n generators whose outputs are concatenated; after every clock the
    generator at the first position moves to the end."
    Generator k is LFSR lane k of the bank loaded for step t (step domain, the
    ``stream`` engine's bank: n = K = max(1, P/R) lanes, R = ``effective_repeat``);
    each generator emits one uniform B-bit word per generation and a generation
    supplies G = n*R parameters (one clock when P >= R, R/P clocks when P < R, then
    n = 1). The array order rotates by one position per generation, and the n words
    are concatenated R times: parameter i = g*G + q (q < G) of generation g reads::

        u = lane ((q + g) mod n) of bank clock g

    Reading choices: n = P/R so that the scheme draws exactly as many fresh words per
    parameter (1/R) as ``pezo-stream`` with the same R; the R copies of a word are not
    varied (the paper concatenates the outputs as they are). Scaling is the stream
    engine's: v = centre(u), ``z = apply_scale(v, mant)``, with the mantissa of block b
    of L = ``moment_block`` bank clocks the nominal one for b = 0 and
    ``select_mantissa(acc_{b-1}, L)`` after (acc of lane 0's centred words of block
    b - 1), exactly as :class:`pezo.ref.engine.StreamModel`.

Consequence of both readings, measured by the tests: a fixed reuse pattern confines z.
``paper-pool`` with N a multiple of d cycles through N/d perturbation vectors;
``paper-rotate`` has z[i] = z[i + n] within every generation, in every step, so z never
leaves a subspace of n/G of the directions. ``pezo-pool`` re-draws its offsets and
multiplier per step and ``pezo-stream`` varies each reuse (a signed bit permutation), which is
what this toolkit changes.
"""

from __future__ import annotations

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.config import PezoConfig
from pezo.ref.engine import EngineModel, PoolModel
from pezo.ref.scaler import apply_scale, centre, fill_words, moment_terms, nominal_mantissa, select_mantissa


class PaperPoolModel(PoolModel):
    """``paper-pool``: a pool of N independent scaled words read as one concatenated
    sequence (module docstring). ``params`` = d, the parameters per perturbation; None
    takes d = n of each :meth:`perturbation` call (training, where n is the model
    size)."""

    antithetic = False

    def __init__(self, cfg: PezoConfig, seed_in: int = 0, params: int | None = None):
        if cfg.strategy != "pool":
            raise ConfigError("strategy", cfg.strategy, "paper-pool needs the pool strategy")
        if params is not None and params < 1:
            raise ConfigError("params", params, "must be at least 1")
        super().__init__(cfg, seed_in)
        self.params = params

    def offset(self, step: int, n: int) -> int:
        """First pool index of ``step``: t*d mod N (d = ``params`` or n)."""
        d = n if self.params is None else self.params
        return (step * d) % self.cfg.pool_size

    def indices(self, step: int, n: int) -> np.ndarray:
        """Pool index of parameters 0..n-1 of ``step``: (t*d + i) mod N (int64)."""
        self.pool_fill(step)
        return (self.offset(step, n) + np.arange(n, dtype=np.int64)) & (self.cfg.pool_size - 1)

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Only the N fill words, once per epoch."""
        cfg = self.cfg
        epochs = -(-steps // cfg.pool_refresh) if cfg.pool_refresh else 1
        return fill_words(cfg, self.antithetic) * epochs / steps


class PaperRotateModel(EngineModel):
    """``paper-rotate``: n = K rotating LFSR generators concatenated R times (module
    docstring)."""

    def __init__(self, cfg: PezoConfig, seed_in: int = 0):
        if cfg.strategy == "pool":
            raise ConfigError("strategy", cfg.strategy, "paper-rotate needs a stream or none strategy")
        super().__init__(cfg, seed_in)

    @property
    def generation(self) -> int:
        """G = n*R parameters per generation (per bank clock)."""
        return self.cfg.lanes * self.cfg.effective_repeat

    def perturbation(self, step: int, n: int) -> np.ndarray:
        cfg = self.cfg
        K, L, G = cfg.lanes, cfg.moment_block, self.generation
        clocks = -(-n // G)
        self.bank.load(step)
        words = self.bank.words(clocks).astype(np.int64)
        i = np.arange(n, dtype=np.int64)
        g = i // G
        u = words[g, (i % G + g) % K]
        lane0 = moment_terms(centre(words[:, 0], cfg.word_bits), cfg)
        acc = np.add.reduceat(lane0, np.arange(0, clocks, L)) if clocks else np.zeros(0, np.int64)
        mant = np.empty(len(acc), dtype=np.int64)
        mant[:1] = nominal_mantissa(cfg, L)
        mant[1:] = [select_mantissa(int(a), cfg, L) for a in acc[:-1]]
        return apply_scale(centre(u, cfg.word_bits), mant[g // L], cfg)

    def fresh_words_per_step(self, n: int, steps: int) -> float:
        """Every lane of every bank clock needed for n words (n/R rounded up to clocks)."""
        return float(-(-n // self.generation) * self.cfg.lanes)


#: The digits data set of the training flow: 8x8 pixel features, 10 classes.
DIGITS_SHAPE = (64, 10)


def default_params() -> int:
    """d of the RTL's ``paper-pool`` when none is given: the parameter count of the
    training flow's default model (``TrainSettings()``: the digits MLP)."""
    from pezo.ref.train.loop import TrainSettings
    from pezo.ref.train.models import make_model
    settings = TrainSettings()
    return make_model(settings.model, *DIGITS_SHAPE, settings.hidden).n_params
