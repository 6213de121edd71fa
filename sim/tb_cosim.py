"""cocotb recorder for co-simulated training: the words the engine RTL emits for every
pass of every ZO-SGD step, saved for the Python trainer (``pezo.sim.cosim``).

The Python side (:func:`pezo.sim.cosim.record_rtl_perturbations`) sets the environment:

* ``PEZO_COSIM_OUT``: path of the ``.npy`` file to write: int64, shape
  (steps, passes, words), element [t, k, i] = word i after the k-th start(t);
* ``PEZO_COSIM_SEED_IN``: runtime seed sent on the ``seed`` stream once after reset;
* ``PEZO_COSIM_STEPS``, ``PEZO_COSIM_PASSES``, ``PEZO_COSIM_WORDS``: steps 0..steps-1,
  passes per step (3: +eps, -eps, update), words per pass (one per model parameter);
* ``PEZO_BACKPRESSURE``: probability that ``z.ready`` is low on a clock (default 0.3,
  drawn from Python's ``random`` seeded by cocotb).

Each pass is a real RTL replay: start(t) is sent again, the engine re-seeks, re-loads
its lanes (and, for the pool strategy, its pool) and emits words 0, 1, ... of step t.
The recorder checks nothing itself; the trainer compares against the golden model.
"""

from __future__ import annotations

import cocotb
import numpy as np

from pezo.sim.runner import config_from_env, env_value
from pezo.sim.streams import StreamDriver, now, reset, start_clock, z_sink

OUT_ENV = "PEZO_COSIM_OUT"
SEED_IN_ENV = "PEZO_COSIM_SEED_IN"
STEPS_ENV = "PEZO_COSIM_STEPS"
PASSES_ENV = "PEZO_COSIM_PASSES"
WORDS_ENV = "PEZO_COSIM_WORDS"


@cocotb.test()
async def record_training_passes(dut):
    """seed(seed_in), then for t = 0..steps-1, ``passes`` times: start(t), take n words."""
    cfg = config_from_env()
    out = env_value(OUT_ENV)
    seed_in = int(env_value(SEED_IN_ENV))
    steps, passes, n = (int(env_value(k)) for k in (STEPS_ENV, PASSES_ENV, WORDS_ENV))
    start_clock(dut)
    start, seed = StreamDriver(dut, "start"), StreamDriver(dut, "seed")
    z = z_sink(dut, cfg.parallel, cfg.word_bits)
    z.start()
    await reset(dut)
    z.restart(since=await seed.send(seed_in))
    words = np.zeros((steps, passes, n), dtype=np.int64)
    for t in range(steps):
        for k in range(passes):
            z.restart(since=await start.send(t))
            words[t, k] = await z.take(n)
    z.stop()
    np.save(out, words)
    dut._log.info("recorded %d steps x %d passes x %d words (%d stalled clocks) at %d, to %s",
                  steps, passes, n, z.stalled, now(), out)
