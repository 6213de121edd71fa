"""cocotb testbench of the Rademacher source (hw/rademacher.py): every word equals the
golden model ``pezo.ref.rademacher.Rademacher(cfg, seed_in).samples(t, n)`` bit for bit
under back-pressure (``ready`` low with probability ``PEZO_BACKPRESSURE``, default
0.3), through the claims of the common source interface (sim/source_checks.py): words
after a start, replay, a start that abandons a run, reset in the middle of a run and
the runtime seed. Randomness comes from Python's ``random``, seeded by cocotb
(``COCOTB_RANDOM_SEED``), so a failing run is reproduced from its seed.
"""

from __future__ import annotations


from pezo.hw.rademacher import RademacherSource
from pezo.ref.config import PRESETS, PezoConfig
from pezo.ref.rademacher import Rademacher
from pezo.sim.runner import SimCase, config_from_env
from pezo.sim.source_checks import SourceBench, source_tests


def rademacher_case(name: str, cfg: PezoConfig) -> SimCase:
    return SimCase(name, RademacherSource, "pezo.sim.tb_rademacher", cfg)


#: P below B (K = 1), P = 1, P = B (K = 1) and P = 64 over B = 6 (K = 11, the top two
#: bits of the last lane unused).
CASES = [
    rademacher_case("rademacher_default", PRESETS["default"]),
    rademacher_case("rademacher_p1", PRESETS["p1"]),
    rademacher_case("rademacher_small_p8_b8", PRESETS["small"].replace(parallel=8)),
    rademacher_case("rademacher_p64_b6", PRESETS["small"].replace(parallel=64, word_bits=6, frac_bits=2,
                                                                  pool_size=128)),
]


class Source(SourceBench):
    def __init__(self, dut):
        super().__init__(dut, lambda cfg, seed_in: Rademacher(cfg, seed_in).samples,
                         words=24 * config_from_env().parallel + 5)


(words_after_start_match_model, replay_gives_identical_words, start_abandons_run,
 reset_mid_run_returns_to_idle, runtime_seed_selects_model_seed) = source_tests(
    __name__, Source, waits=(1, 2, 4), max_wait=5)
