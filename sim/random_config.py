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

SEED_ENV = "PEZO_RANDOM_SEED"


def run_seed() -> int:
    """``PEZO_RANDOM_SEED`` if set, else a fresh seed for this run."""
    return int(os.environ.get(SEED_ENV, time.time_ns() % 2**32))


def random_config(rng: random.Random) -> PezoConfig:
    """A small, legal engine config (narrow LFSR and words, small pool)."""
    width = rng.randint(8, 20)
    bits = rng.randint(4, min(width, 10))
    parallel = rng.choice([1, 2, 4])
    return PezoConfig(
        lfsr_width=width, word_bits=bits, frac_bits=rng.randint(0, bits - 4), parallel=parallel,
        strategy=rng.choice(STRATEGIES), pool_size=rng.choice([n for n in (8, 16, 32, 64) if n >= 2 * parallel]),
        pool_refresh=rng.choice([0, 1, 2, 4]), repeat=rng.choice([r for r in (1, 2, 4, 8) if r <= bits]),
        mantissa_bits=rng.randint(1, 4), moment_bits=rng.randint(2, bits), moment_block=16,
        step_bits=rng.randint(4, 8), seed=rng.getrandbits(63) | 1)


def random_gaussian_config(rng: random.Random) -> PezoConfig:
    """A small, legal config for the Gaussian baselines (CLT k, Box-Muller tables)."""
    width = rng.randint(12, 24)
    bits = rng.randint(8, min(width, 16))
    return PezoConfig(
        lfsr_width=width, word_bits=bits, frac_bits=rng.randint(bits - 8, bits - 4), parallel=rng.choice([1, 2, 4]),
        clt_k=rng.randint(2, 8), bm_log_table_bits=rng.randint(4, 8), bm_sqrt_table_bits=rng.randint(4, 8),
        bm_trig_table_bits=rng.randint(4, 8), step_bits=rng.randint(4, 8), seed=rng.getrandbits(63) | 1)
