"""Bit-exact model of the LFSR bank: K maximal-length Fibonacci LFSRs with leap-forward.

One LFSR of width W (state bits s[W-1..0]) steps as a left shift with the feedback bit
entering at bit 0::

    fb = XOR of s[tap - 1] for tap in TAPS[W];   s' = ((s << 1) | fb) mod 2**W

so bit 0 is always the newest bit. A *leap* is B single steps done in one clock; after
it, the low B bits of the state are the B bits just generated (newest at bit 0), and
that B-bit unsigned value is the lane's word for the clock. A leap is a linear map over
GF(2) and is represented as W row masks: bit i of the next state is the parity of
``state & rows[i]``. The same rows are the XOR network of the RTL (hw/lfsr.py).

Seeding (identical in hw/lfsr.py):

* lane bases ``base[k]`` and the master base come from :func:`splitmix64` of the
  config's ``seed``: distinct, non-zero, W bits;
* the master state of step 0 is ``master_base XOR seed_in`` (``seed_in`` is the runtime
  ``seed`` input, W bits, default 0), or ``master_base`` when that XOR is zero;
* the master state of step t+1 is ``JUMP * master(t)`` with ``JUMP = A**STEP_JUMP``, a
  jump of 2**24 single steps, so successive steps draw from distant, non-overlapping
  parts of the m-sequence;
* at the start of a step, lane k loads ``base[k] XOR rotl(master(t), k mod W)``; the
  pool fill of the ``pool`` strategy uses rotation ``(k + W//2) mod W`` instead, a
  separate domain. A state that would be zero loads ``base[k]`` instead.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pezo.errors import ConfigError

#: Maximal-length feedback taps (1-based bit positions) for widths 4..64, from Xilinx
#: XAPP052. Every entry is checked to be primitive by tests/test_lfsr.py.
TAPS: dict[int, tuple[int, ...]] = {
    4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4), 9: (9, 5), 10: (10, 7),
    11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1), 14: (14, 5, 3, 1), 15: (15, 14),
    16: (16, 15, 13, 4), 17: (17, 14), 18: (18, 11), 19: (19, 6, 2, 1), 20: (20, 17),
    21: (21, 19), 22: (22, 21), 23: (23, 18), 24: (24, 23, 22, 17), 25: (25, 22),
    26: (26, 6, 2, 1), 27: (27, 5, 2, 1), 28: (28, 25), 29: (29, 27), 30: (30, 6, 4, 1),
    31: (31, 28), 32: (32, 22, 2, 1), 33: (33, 20), 34: (34, 27, 2, 1), 35: (35, 33),
    36: (36, 25), 37: (37, 5, 4, 3, 2, 1), 38: (38, 6, 5, 1), 39: (39, 35),
    40: (40, 38, 21, 19), 41: (41, 38), 42: (42, 41, 20, 19), 43: (43, 42, 38, 37),
    44: (44, 43, 18, 17), 45: (45, 44, 42, 41), 46: (46, 45, 26, 25), 47: (47, 42),
    48: (48, 47, 21, 20), 49: (49, 40), 50: (50, 49, 24, 23), 51: (51, 50, 36, 35),
    52: (52, 49), 53: (53, 52, 38, 37), 54: (54, 53, 18, 17), 55: (55, 31),
    56: (56, 55, 35, 34), 57: (57, 50), 58: (58, 39), 59: (59, 58, 38, 37), 60: (60, 59),
    61: (61, 60, 46, 45), 62: (62, 61, 6, 5), 63: (63, 62), 64: (64, 63, 61, 60),
}

#: Single LFSR steps between the master states of two successive steps.
STEP_JUMP = 1 << 24

Rows = tuple[int, ...]


def _mask(width: int) -> int:
    return (1 << width) - 1


def taps(width: int) -> tuple[int, ...]:
    if width not in TAPS:
        raise ConfigError("lfsr_width", width, "allowed widths are 4..64 (maximal-length tap table)")
    return TAPS[width]


def step(state: int, width: int) -> int:
    """One single step of a width-W LFSR (plain Python int, the executable definition)."""
    fb = 0
    for t in taps(width):
        fb ^= (state >> (t - 1)) & 1
    return ((state << 1) | fb) & _mask(width)


def step_rows(width: int) -> Rows:
    """The single-step map as row masks (bit i of s' = parity(s & rows[i]))."""
    feedback = 0
    for t in taps(width):
        feedback |= 1 << (t - 1)
    return (feedback,) + tuple(1 << (i - 1) for i in range(1, width))


def compose(outer: Rows, inner: Rows) -> Rows:
    """Row masks of ``outer(inner(s))``."""
    result = []
    for row in outer:
        acc = 0
        j = 0
        while row:
            if row & 1:
                acc ^= inner[j]
            row >>= 1
            j += 1
        result.append(acc)
    return tuple(result)


@lru_cache(maxsize=None)
def power_rows(width: int, n: int) -> Rows:
    """Row masks of n single steps (square-and-multiply; n may be huge)."""
    result: Rows = tuple(1 << i for i in range(width))
    base = step_rows(width)
    while n:
        if n & 1:
            result = compose(base, result)
        base = compose(base, base)
        n >>= 1
    return result


def leap_rows(width: int, word_bits: int) -> Rows:
    """Row masks of one leap (B single steps): the XOR network of one lane."""
    return power_rows(width, word_bits)


def jump_rows(width: int) -> Rows:
    """Row masks of the master's per-step jump (STEP_JUMP single steps)."""
    return power_rows(width, STEP_JUMP)


_LEAP_TABLES: dict[tuple[int, int], np.ndarray] = {}


def leap_table(width: int, word_bits: int, clocks: int) -> np.ndarray:
    """Row masks of 1, 2, ..., ``clocks`` leaps: array (>= clocks, W) uint64, cached.

    Row c holds the map of c+1 leaps; it grows by vectorised doubling (the map of C + c
    leaps is the map of C leaps after that of c)."""
    key = (width, word_bits)
    table = _LEAP_TABLES.get(key)
    if table is None:
        table = np.array([leap_rows(width, word_bits)], dtype=np.uint64)
    while len(table) < clocks:
        outer = [int(r) for r in table[-1]]
        later = np.zeros_like(table)
        for i, row in enumerate(outer):
            columns = [j for j in range(width) if row >> j & 1]
            if columns:
                later[:, i] = np.bitwise_xor.reduce(table[:, columns], axis=1)
        table = np.concatenate([table, later])
    _LEAP_TABLES[key] = table
    return table


def apply_rows(rows: Rows, states: np.ndarray) -> np.ndarray:
    """Apply a GF(2) map to an array of states (uint64, any shape), vectorised."""
    states = np.asarray(states, dtype=np.uint64)
    out = np.zeros_like(states)
    for i, row in enumerate(rows):
        if row:
            parity = np.bitwise_count(states & np.uint64(row)) & np.uint8(1)
            out |= parity.astype(np.uint64) << np.uint64(i)
    return out


def splitmix64(x: int) -> tuple[int, int]:
    """One splitmix64 round: returns (next_state, output), both 64-bit ints."""
    x = (x + 0x9E3779B97F4A7C15) & _mask(64)
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _mask(64)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _mask(64)
    return x, z ^ (z >> 31)


def derive_seeds(seed: int, count: int, width: int) -> list[int]:
    """``count`` distinct, non-zero W-bit seeds from one master seed (splitmix64)."""
    if count > _mask(width):
        raise ConfigError("lanes", count, f"at most {_mask(width)} distinct non-zero {width}-bit seeds exist")
    seeds: list[int] = []
    state = seed
    while len(seeds) < count:
        state, out = splitmix64(state)
        candidate = out & _mask(width)
        if candidate and candidate not in seeds:
            seeds.append(candidate)
    return seeds


class LfsrBank:
    """K lanes of a width-W LFSR, each producing one B-bit word per clock.

    ``master_base`` and ``bases`` are derived from ``seed``: the first splitmix64 output
    is the master base, the next K distinct ones are the lane bases. ``seed_in`` is the
    runtime seed input of the RTL.
    """

    FILL_DOMAIN = "fill"
    STEP_DOMAIN = "step"
    WORD_CHUNK = 4096

    def __init__(self, width: int, word_bits: int, lanes: int, seed: int, seed_in: int = 0):
        if not 1 <= word_bits <= width:
            raise ConfigError("word_bits", word_bits, f"must satisfy 1 <= word_bits <= lfsr_width ({width})")
        if lanes < 1:
            raise ConfigError("lanes", lanes, "must be at least 1")
        self.width = width
        self.word_bits = word_bits
        self.lanes = lanes
        seeds = derive_seeds(seed, lanes + 1, width)
        self.master_base = seeds[0]
        self.bases = np.array(seeds[1:], dtype=np.uint64)
        master0 = self.master_base ^ (seed_in & _mask(width))
        self.master0 = master0 if master0 else self.master_base
        self._leap = leap_rows(width, word_bits)
        self._jump = jump_rows(width)
        self._masters = np.array([self.master0], dtype=np.uint64)
        self.state = self.bases.copy()

    def master(self, step: int) -> int:
        """Master state of step ``step`` (jumped ``step`` times from step 0)."""
        return int(self.masters(step, 1)[0])

    def masters(self, first: int, count: int) -> np.ndarray:
        """Master states of steps first .. first+count-1 (uint64).

        Known states are cached; the cache grows by doubling its length (jumps of
        STEP_JUMP * 2**k, whose maps are cached too), since training asks for successive
        steps."""
        if first < 0:
            raise ConfigError("step", first, "must be >= 0")
        while len(self._masters) < first + count:
            jump = power_rows(self.width, STEP_JUMP * len(self._masters))  # length is a power of two
            self._masters = np.concatenate([self._masters, apply_rows(jump, self._masters)])
        return self._masters[first:first + count]

    def states_from_masters(self, masters: np.ndarray, domain: str = STEP_DOMAIN) -> np.ndarray:
        """Lane states loaded for each master state: shape (len(masters), K), uint64."""
        extra = self.width // 2 if domain == self.FILL_DOMAIN else 0
        masters = np.asarray(masters, dtype=np.uint64)[:, None]
        rot = ((np.arange(self.lanes) + extra) % self.width).astype(np.uint64)[None, :]
        back = (np.uint64(self.width) - rot) % np.uint64(self.width)
        mask = np.uint64(_mask(self.width))
        rotated = ((masters << rot) | np.where(rot == 0, np.uint64(0), masters >> back)) & mask
        states = self.bases[None, :] ^ rotated
        return np.where(states == 0, self.bases[None, :], states)

    def lane_states(self, step: int, domain: str = STEP_DOMAIN) -> np.ndarray:
        """The K states loaded at the start of ``step`` (``domain`` fill: pool fill)."""
        return self.states_from_masters(np.array([self.master(step)], dtype=np.uint64), domain)[0]

    def first_words(self, states: np.ndarray, clocks: int) -> np.ndarray:
        """Words of the first ``clocks`` leaps from each given state, without touching
        the bank: shape (clocks,) + states.shape, uint64."""
        out = []
        states = np.asarray(states, dtype=np.uint64)
        for _ in range(clocks):
            states = apply_rows(self._leap, states)
            out.append(states & np.uint64(_mask(self.word_bits)))
        return np.stack(out)

    def load(self, step: int, domain: str = STEP_DOMAIN) -> None:
        """Load every lane for ``step`` (what the RTL does on start / replay / fill)."""
        self.state = self.lane_states(step, domain)

    def words(self, clocks: int) -> np.ndarray:
        """Advance ``clocks`` leaps; returns the words, shape (clocks, K), uint64.

        Word [c, k] is lane k's B-bit word of clock c (the low B bits of its state after
        the (c+1)-th leap), computed from the cached :func:`leap_table` in chunks."""
        out = np.empty((max(clocks, 0), self.lanes), dtype=np.uint64)
        weights = np.uint64(1) << np.arange(self.word_bits, dtype=np.uint64)
        done = 0
        while done < clocks:
            chunk = min(clocks - done, self.WORD_CHUNK)
            table = leap_table(self.width, self.word_bits, chunk)
            bits = np.bitwise_count(table[None, :chunk, :self.word_bits] & self.state[:, None, None]) & np.uint8(1)
            out[done:done + chunk] = (bits.astype(np.uint64) @ weights).T
            self.state = apply_rows(tuple(int(r) for r in table[chunk - 1]), self.state)
            done += chunk
        return out
