"""Random but legal configurations for the per-run random regression cases.

Each run draws its own configuration from a seed that it prints; setting
``PEZO_RANDOM_SEED=<seed>`` reproduces a failing run. Widths and sizes stay small so
Icarus runs a case in seconds.
"""

from __future__ import annotations

import os
import random
import time

from pezo.ref.config import STRATEGIES, PezoConfig
from pezo.ref.lfsr import close_lanes

SEED_ENV = "PEZO_RANDOM_SEED"


def run_seed() -> int:
    """``PEZO_RANDOM_SEED`` if set, else a fresh seed for this run."""
    return int(os.environ.get(SEED_ENV, time.time_ns() % 2**32))


def width_and_bits(rng: random.Random, widths: tuple[int, int], bits: tuple[int, int]) -> tuple[int, int]:
    """(W, B) drawn from the inclusive ranges with B <= W, redrawn while the config would
    reject the pair (lanes of that polynomial lying close, ``close_lanes``)."""
    while True:
        width = rng.randint(*widths)
        word_bits = rng.randint(bits[0], min(width, bits[1]))
        if close_lanes(width, word_bits) is None:
            return width, word_bits


def random_config(rng: random.Random) -> PezoConfig:
    """A small, legal engine config (narrow LFSR and words, small pool)."""
    width, bits = width_and_bits(rng, (8, 20), (4, 10))
    parallel = rng.choice([1, 2, 4])
    return PezoConfig(
        lfsr_width=width, word_bits=bits, frac_bits=rng.randint(0, bits - 4), parallel=parallel,
        strategy=rng.choice(STRATEGIES), pool_size=rng.choice([n for n in (8, 16, 32, 64) if n >= 2 * parallel]),
        pool_refresh=rng.choice([0, 1, 2, 4]), repeat=rng.choice([r for r in (1, 2, 4, 8) if r <= bits]),
        mantissa_bits=rng.randint(1, 4), moment_bits=rng.randint(2, bits), moment_block=16,
        step_bits=rng.randint(4, 8), seed=rng.getrandbits(63) | 1)


def random_gaussian_config(rng: random.Random) -> PezoConfig:
    """A small, legal config for the Gaussian baselines (CLT k, Box-Muller tables)."""
    width, bits = width_and_bits(rng, (12, 24), (8, 16))
    return PezoConfig(
        lfsr_width=width, word_bits=bits, frac_bits=rng.randint(bits - 8, bits - 4), parallel=rng.choice([1, 2, 4]),
        clt_k=rng.randint(2, 8), bm_log_table_bits=rng.randint(4, 8), bm_sqrt_table_bits=rng.randint(4, 8),
        bm_trig_table_bits=rng.randint(4, 8), step_bits=rng.randint(4, 8), seed=rng.getrandbits(63) | 1)
