"""Bit-exact model of the LFSR bank: K lanes of a W-bit Fibonacci LFSR with leap-forward,
whose streams are provably disjoint across lanes and steps (docs/design.md section 2.1).

One LFSR of width W (state bits s[W-1..0]) steps as a left shift with the feedback bit
entering at bit 0::

    fb = XOR of s[tap - 1] for tap in TAPS[W];   s' = A s = ((s << 1) | fb) mod 2**W

so bit 0 is always the newest bit. A *leap* is B single steps done in one clock; after
it, the low B bits of the state are the B bits just generated (newest at bit 0), and
that B-bit unsigned value is the lane's word for the clock. A linear map over GF(2) is
represented as W row masks: bit i of the image is the parity of ``state & rows[i]``.
The same rows are the XOR networks of the RTL (hw/lfsr.py).

Streams (identical in hw/lfsr.py):

* G = I + A**B: "XOR the state with its leap" (:func:`chain_rows`), nearly free in the
  RTL, where every lane computes its leap anyway. The feedback polynomial is
  primitive, so G = A**lam with lam = :func:`stream_lambda` (W, B), a discrete
  logarithm computed in ref/gf2.py.
* A step has K' *slots* (:func:`slot_count`: the next power of two >= K, or 2 for a
  bank of one lane with a pool-fill slot). The master state of step t is
  ``J**t master0`` with ``J = G**K' = I + A**(B*K')`` (:func:`jump_rows`; the binomial
  theorem in characteristic 2 makes it a sparse network), so slot k of step t starts at
  ``G**k J**t master0 = A**((t*K' + k) * lam) master0``.
* Independence: lane k+1's word of clock c is lane k's word of clock c XOR lane k's
  word of clock c + 1 (that is G = I + A**B), so the words of one clock are linearly
  independent functions of one stream's successive words: jointly uniform and
  pairwise independent as far as that stream's words are. Likewise step t+1's words
  are step t's words XOR words K' clocks later. (A shift by fewer than B bits would
  make same-clock words share bits and correlate.)
* Lane k loads slot k (the *step domain*); a one-lane bank with a fill slot loads slot
  1 into lane 0 in the *fill domain* (the pool fill of ref/engine.py). The RTL loads by
  a chain: lane 0 <- master, lane k <- G lane k-1, for K clocks (fill: lane 0 <- master,
  then lane 0 <- G lane 0).
* master0 = ((seed_in << 1) | 1) XOR master_base (W bits; master_base from
  :func:`splitmix64` of the config seed, bit 0 cleared): the runtime seed counts modulo
  2**(W-1), and bit 0 of master0 is always 1, so master0 is never zero without a
  comparator. G and J are invertible,
  so no lane state is ever zero and no lane needs a zero test.
* Every stream start is a multiple of lam steps from master0, so two streams overlap
  only where two of the multiples ``n * lam mod (2**W - 1)``, n < 2**S * K', lie closer
  than a stream's length: :func:`stream_separation` is that smallest distance. For the
  default (W = 48, B = 16, S = 16) it is 75,757,695 single steps for every K' <= 32,
  i.e. 4.7 million words of 16 bits per lane and step: 10**6 parameters per step,
  2**16 steps, for every strategy (tests/test_ref_lfsr.py checks it). A few polynomials
  are poor for some B (:func:`close_lanes`; the config rejects them).

After reset (and in a fresh model) the lanes hold the step-0 states for seed_in = 0.

Model implementation (speed only; :func:`step`, :func:`apply_rows` and the row masks
are the definition, and tests/test_ref_fast_paths.py checks the two agree on random
geometries): every GF(2) map a step needs is a :class:`ByteMap`, applied to one state
by ceil(W/8) table look-ups. The master of step t is J**t master0 by one map per
non-zero base-16 digit of t (:class:`StepSeek`: nothing is kept from one step to the
next, as in the RTL's seek); the words of C clocks from a state are one look-up in
:func:`word_map`, whose images pack the C words into a little-endian integer, read as
a numpy array without a per-word loop, and the words of all K lanes of a step one
look-up of the master in :func:`bank_word_map` (:meth:`LfsrBank.step_word_bytes`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from pezo.errors import ConfigError
from pezo.ref.gf2 import dlog, dlog_feasible, lfsr_polynomial, prime_factors

#: Maximal-length feedback taps (1-based bit positions) for widths 4..64, from Xilinx
#: XAPP052. Every entry is checked to be primitive by tests/test_ref_lfsr.py.
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


class ByteMap:
    """A GF(2)-linear map applied by table look-up, for one state at a time.

    ``columns[i]`` is the image of state bit i (a Python int of any width: a W-bit
    state, or a packed sequence of words). The image of a state is the XOR of one entry
    per byte of the state, each entry the image of that byte's bits: ceil(W/8)
    look-ups instead of one parity per output bit (what :func:`apply_rows` computes).
    Images of at most 64 bits are kept as ``array('Q')`` tables (2 KB per byte: the
    seek's maps stay in cache, where lists of int objects take five times the room)."""

    def __init__(self, columns: list[int]):
        self.columns = list(columns)
        narrow = all(column >> 64 == 0 for column in self.columns)
        self.tables: list[Sequence[int]] = []
        for low in range(0, len(self.columns), 8):
            table = [0]
            for column in self.columns[low:low + 8]:
                table += [entry ^ column for entry in table]
            self.tables.append(array("Q", table) if narrow else table)

    @classmethod
    def from_rows(cls, rows: Rows, width: int) -> "ByteMap":
        """The map of W-bit row masks (bit o of the image is the parity of ``state & rows[o]``)."""
        return cls([sum((row >> i & 1) << o for o, row in enumerate(rows)) for i in range(width)])

    def after(self, inner: "ByteMap") -> "ByteMap":
        """The map ``self(inner(s))``."""
        return ByteMap([self(column) for column in inner.columns])

    def __call__(self, state: int) -> int:
        image = 0
        for table in self.tables:
            image ^= table[state & 0xFF]
            state >>= 8
        return image


#: Bits of the step number taken per seek table (16 maps J**(d * 16**i) per digit i).
SEEK_DIGIT_BITS = 4
SEEK_DIGIT_MASK = (1 << SEEK_DIGIT_BITS) - 1


class StepSeek:
    """master(t) = J**t master0 by the base-16 digits d_i of t: one :class:`ByteMap`
    of J**(d_i * 16**i) per non-zero digit (at most ceil(S/4) maps for S-bit steps).
    The tables are constants of (W, B, K') and grow with the largest step asked for."""

    def __init__(self, jump: ByteMap):
        self._powers = [jump]                         # J**(16**i)
        self._digits: list[list[ByteMap]] = []        # [i][d]: J**(d * 16**i), [i][0] unused

    def _grow(self, digits: int) -> None:
        while len(self._digits) < digits:
            base = self._powers[-1]
            maps = [base]
            for _ in range((1 << SEEK_DIGIT_BITS) - 2):
                maps.append(maps[-1].after(base))
            self._powers.append(maps[-1].after(base))
            self._digits.append([base] + maps)

    def __call__(self, master0: int, step: int) -> int:
        if step >> (SEEK_DIGIT_BITS * len(self._digits)):
            self._grow(-(-step.bit_length() // SEEK_DIGIT_BITS))
        state = master0
        for maps in self._digits:
            if not step:
                break
            if step & SEEK_DIGIT_MASK:
                state = maps[step & SEEK_DIGIT_MASK](state)
            step >>= SEEK_DIGIT_BITS
        return state


@lru_cache(maxsize=None)
def step_seek(width: int, word_bits: int, slots: int) -> StepSeek:
    """The shared :class:`StepSeek` of a bank geometry."""
    return StepSeek(ByteMap.from_rows(jump_rows(width, word_bits, slots), width))


@lru_cache(maxsize=None)
def chain_maps(width: int, word_bits: int, lanes: int) -> tuple[ByteMap, ...]:
    """G**k as :class:`ByteMap` for k = 0 .. lanes-1 (lane k of the step domain)."""
    maps = [ByteMap([1 << i for i in range(width)])]
    chain = ByteMap.from_rows(chain_rows(width, word_bits), width)
    while len(maps) < lanes:
        maps.append(chain.after(maps[-1]))
    return tuple(maps)


@lru_cache(maxsize=None)
def word_slot(word_bits: int) -> np.dtype:
    """The unsigned little-endian dtype (8, 16, 32 or 64 bits) that holds one B-bit word."""
    return np.dtype(f"<u{max(1, 1 << (word_bits - 1).bit_length() >> 3)}")


@lru_cache(maxsize=None)
def word_map(width: int, word_bits: int, clocks: int) -> ByteMap:
    """The words of the first ``clocks`` leaps from a state, packed: word c of the image
    occupies bits c*slot .. c*slot + B - 1 (slot = :func:`word_slot`'s width), so the
    image's little-endian bytes are the words as an array of that dtype."""
    slot = 8 * word_slot(word_bits).itemsize
    rows = leap_table(width, word_bits, clocks)[:clocks, :word_bits]
    shifts = np.arange(width, dtype=np.uint64)
    bits = np.zeros((width, clocks, slot), dtype=np.uint8)
    bits[:, :, :word_bits] = ((rows[None, :, :] >> shifts[:, None, None]) & np.uint64(1)).astype(np.uint8)
    packed = np.packbits(bits.reshape(width, -1), axis=1, bitorder="little")
    return ByteMap([int.from_bytes(row.tobytes(), "little") for row in packed])


def lane_words(width: int, word_bits: int, state: int, clocks: int) -> np.ndarray:
    """The B-bit words of ``clocks`` leaps from one W-bit state, as an array of
    :func:`word_slot`'s dtype (unsigned; read-only where it is one chunk).

    Chunks of at most :attr:`LfsrBank.WORD_CHUNK` clocks, each one :func:`word_map`
    look-up (the chunk rounded up to a power of two, so few tables are built); the
    state moves from chunk to chunk by :func:`state_after`."""
    if clocks <= LfsrBank.WORD_CHUNK:
        return _chunk_words(width, word_bits, state, clocks)
    chunks = []
    for done in range(0, clocks, LfsrBank.WORD_CHUNK):
        chunks.append(_chunk_words(width, word_bits, state, min(clocks - done, LfsrBank.WORD_CHUNK)))
        state = state_after(width, word_bits, state, chunks[-1])
    return np.concatenate(chunks)


@lru_cache(maxsize=None)
def bank_word_map(width: int, word_bits: int, lanes: int, clocks: int) -> ByteMap:
    """The words of the first ``clocks`` leaps of K step-domain lanes (lane k = G**k
    master) as one map of the master state, packed clock-major: word (c, k) in slot
    c*K + k (:func:`word_map`'s layout), so one look-up loads and runs the whole bank."""
    dtype = word_slot(word_bits)
    words = word_map(width, word_bits, clocks)
    columns = []
    for bit in range(width):
        per_lane = [np.frombuffer(words(lane(1 << bit)).to_bytes(clocks * dtype.itemsize, "little"), dtype=dtype)
                    for lane in chain_maps(width, word_bits, lanes)]
        columns.append(int.from_bytes(np.stack(per_lane, axis=1).tobytes(), "little"))
    return ByteMap(columns)


def bank_chunk(lanes: int) -> int:
    """Clocks per :func:`bank_word_map` of a K-lane bank: the largest power of two with
    at most :attr:`LfsrBank.WORD_CHUNK` words (at least 1)."""
    return 1 << max(0, (LfsrBank.WORD_CHUNK // lanes).bit_length() - 1)


def map_clocks(clocks: int) -> int:
    """Clocks of the :func:`bank_word_map` that serves ``clocks`` (>= 1): rounded up to
    a multiple of 2**(bit_length - 4), so less than 12.5 % more words than asked for
    and 8 sizes per octave; never above the power of two >= clocks."""
    grain = 1 << max(0, clocks.bit_length() - 4)
    return -(-clocks // grain) * grain


@lru_cache(maxsize=None)
def leap_map(width: int, word_bits: int, clocks: int) -> ByteMap:
    """A**(B * clocks) as a :class:`ByteMap`: a state ``clocks`` leaps later."""
    return ByteMap.from_rows(power_rows(width, word_bits * clocks), width)


def lane_word_ints(width: int, word_bits: int, state: int, clocks: int) -> list[int]:
    """The words of :func:`lane_words` as Python ints, without numpy: for the few words
    of a step's pool draws, shifted out of one :func:`word_map` image."""
    if clocks > LfsrBank.WORD_CHUNK:
        return lane_words(width, word_bits, state, clocks).tolist()
    words, shifts, mask = _word_reader(width, word_bits, clocks)
    packed = words(state)
    return [packed >> shift & mask for shift in shifts]


@lru_cache(maxsize=None)
def _word_reader(width: int, word_bits: int, clocks: int) -> tuple[ByteMap, tuple[int, ...], int]:
    """(the :func:`word_map` that covers ``clocks`` clocks, each word's bit offset in its
    image, the B-bit mask): one cached look-up per call of :func:`lane_word_ints`."""
    slot = word_slot(word_bits).itemsize << 3
    return (word_map(width, word_bits, 1 << max(0, clocks - 1).bit_length()), tuple(slot * c for c in range(clocks)),
            (1 << word_bits) - 1)


def _chunk_words(width: int, word_bits: int, state: int, clocks: int) -> np.ndarray:
    dtype = word_slot(word_bits)
    size = 1 << max(0, clocks - 1).bit_length()
    packed = word_map(width, word_bits, size)(state)
    return np.frombuffer(packed.to_bytes(size * dtype.itemsize, "little"), dtype=dtype)[:clocks]


def state_after(width: int, word_bits: int, state: int, words: np.ndarray) -> int:
    """The state after the leaps that produced ``words`` from ``state``: each leap makes
    it ``((s << B) | word) mod 2**W``, so only the last ceil(W/B) words matter."""
    for word in words[max(0, len(words) - -(-width // word_bits)):].tolist():
        state = ((state << word_bits) | word) & _mask(width)
    return state


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


def _plus_identity(rows: Rows) -> Rows:
    return tuple(row ^ (1 << i) for i, row in enumerate(rows))


def chain_rows(width: int, word_bits: int) -> Rows:
    """Row masks of G = I + A**B: a state XOR its leap (the chain step and slot spacing)."""
    return _plus_identity(leap_rows(width, word_bits))


def jump_rows(width: int, word_bits: int, slots: int) -> Rows:
    """Row masks of the master's per-step jump J = G**K' = I + A**(B*K') (K' a power of two)."""
    if slots < 1 or slots & (slots - 1):
        raise ConfigError("slots", slots, "must be a power of two")
    return _plus_identity(power_rows(width, word_bits * slots))


def slot_count(lanes: int, fill: bool = False) -> int:
    """K': slots per step, the next power of two >= K; 2 for one lane with a fill slot."""
    if fill and lanes != 1:
        raise ConfigError("lanes", lanes, "a bank with a pool-fill slot has exactly one lane")
    need = 2 if fill else lanes
    return 1 << (need - 1).bit_length()


@lru_cache(maxsize=None)
def stream_lambda(width: int, word_bits: int) -> int:
    """lam with A**lam = G = I + A**B: the discrete log of 1 + x**B in GF(2^W).

    Raises a ConfigError for widths whose group order has a prime factor too large to
    take logarithms in (W = 61): the separation cannot be computed there."""
    taps(width)
    if not dlog_feasible(width):
        big = max(prime_factors((1 << width) - 1))
        raise ConfigError("lfsr_width", width,
                          f"stream separation cannot be computed (2**{width} - 1 has the prime factor {big}); "
                          "choose another width")
    return dlog((1 << word_bits) | 1, lfsr_polynomial(width, taps(width)), width)


@lru_cache(maxsize=None)
def close_lanes(width: int, word_bits: int) -> int | None:
    """j if 1 + x**B = x**j for some j <= W*B (lanes then lie only j single steps apart,
    as close as a few words), else None. Cheap (no logarithm): it catches the trinomials
    x**W + x**a + 1 whose ``a`` divides B, such as W = 60 or 63 with B = 16
    (1 + x**16 = (1 + x)**16 = x**(16 W))."""
    poly = lfsr_polynomial(width, taps(width))
    target, power = (1 << word_bits) | 1, 1
    for j in range(width * word_bits + 1):
        if power == target:
            return j
        power <<= 1
        if power >> width & 1:
            power ^= poly
    return None


def master_state(master_base: int, seed_in: int, width: int) -> int:
    """master0 for a runtime seed: ((seed_in << 1) | 1) XOR master_base, W bits, never 0."""
    return (((seed_in << 1) | 1) ^ master_base) & _mask(width)


def _separation(positions: np.ndarray, width: int) -> int:
    pos = np.sort(positions)
    if len(pos) < 2:
        return (1 << width) - 1
    wrap = int(pos[0]) + (1 << width) - 1 - int(pos[-1])
    return min(int(np.diff(pos).min()), wrap)


def _multiples(lam: int, width: int, count: int) -> np.ndarray:
    """n * lam mod (2**W - 1) for n < count, uint64 (exact: split n into high and low bits)."""
    order, low_bits = (1 << width) - 1, 11
    low = np.array([(b * lam) % order for b in range(1 << low_bits)], dtype=np.uint64)
    high = np.array([((a << low_bits) * lam) % order for a in range(-(-count >> low_bits))], dtype=np.uint64)
    n = np.arange(count, dtype=np.int64)
    a, b = high[n >> low_bits], low[n & ((1 << low_bits) - 1)]
    room = np.uint64(order) - b                       # a + b >= order  <=>  a >= room
    return np.where(a >= room, a - room, a + b)


def slot_positions(width: int, word_bits: int, slots: int, steps: int) -> np.ndarray:
    """Start of slot k of step t, at index t*K' + k, for steps 0 .. steps-1: uint64, in
    single LFSR steps from master0 modulo 2**W - 1 (``(t*K' + k) * lam``)."""
    return _multiples(stream_lambda(width, word_bits), width, steps * slots)


def stream_separation(width: int, word_bits: int, slots: int, steps: int) -> int:
    """Smallest circular distance, in single steps, between the starts of two slot
    streams of steps 0 .. steps-1: streams shorter than this never overlap."""
    return _separation(slot_positions(width, word_bits, slots, steps), width)


class LfsrBank:
    """K lanes of a width-W LFSR, each producing one B-bit word per clock (module
    docstring: streams, slots, seeding).

    ``fill`` gives a one-lane bank a pool-fill slot (K' = 2). ``seed_in`` is the RTL's
    runtime seed input.
    """

    FILL_DOMAIN = "fill"
    STEP_DOMAIN = "step"
    WORD_CHUNK = 1024

    def __init__(self, width: int, word_bits: int, lanes: int, seed: int, seed_in: int = 0,
                 *, fill: bool = False):
        taps(width)
        if not 1 <= word_bits <= width:
            raise ConfigError("word_bits", word_bits, f"must satisfy 1 <= word_bits <= lfsr_width ({width})")
        if lanes < 1:
            raise ConfigError("lanes", lanes, "must be at least 1")
        self.width = width
        self.word_bits = word_bits
        self.lanes = lanes
        self.fill = fill
        self.slots = slot_count(lanes, fill)
        self.master_base = derive_seeds(seed, 1, width)[0] & ~1
        self.master0 = master_state(self.master_base, seed_in, width)
        self._seek = step_seek(width, word_bits, self.slots)
        self._lanes = chain_maps(width, word_bits, max(lanes, 2 if fill else 1))
        self._chunk = bank_chunk(lanes)
        self._row = lanes * word_slot(word_bits).itemsize           # bytes per bank clock
        self._word_maps: dict[int, tuple[ByteMap, int]] = {}
        self.state = self.lane_states(0)

    @classmethod
    def from_config(cls, cfg, lanes: int | None = None, seed_in: int = 0) -> "LfsrBank":
        """The bank of a config: W, B and seed from ``cfg``; K = ``lanes`` or
        ``cfg.lanes``; a fill slot for the ``pool`` strategy's one-lane bank."""
        lanes = cfg.lanes if lanes is None else lanes
        return cls(cfg.lfsr_width, cfg.word_bits, lanes, cfg.seed, seed_in,
                   fill=cfg.strategy == "pool" and lanes == 1)

    def master(self, step: int) -> int:
        """Master state of step ``step`` (J**step master0, by :class:`StepSeek`'s tables;
        nothing is kept from one step to the next)."""
        if step < 0:
            raise ConfigError("step", step, "must be >= 0")
        return self._seek(self.master0, step)

    def masters(self, first: int, count: int) -> np.ndarray:
        """Master states of steps first .. first+count-1 (uint64)."""
        return np.array([self.master(t) for t in range(first, first + count)], dtype=np.uint64)

    def states_from_masters(self, masters: np.ndarray, domain: str = STEP_DOMAIN) -> np.ndarray:
        """Lane states loaded for each master state: shape (len(masters), K), uint64.

        Step domain: lane k = G**k master; fill domain (one lane): lane 0 = G master."""
        states = [self._loaded(m, domain) for m in np.asarray(masters, dtype=np.uint64).tolist()]
        return np.array(states, dtype=np.uint64).reshape(len(states), -1)

    def _loaded(self, master: int, domain: str) -> list[int]:
        """The lane states loaded from one master state, as ints."""
        if domain == self.FILL_DOMAIN:
            if not self.fill:
                raise ConfigError("domain", domain, "this bank has no fill slot")
            return [self._lanes[1](master)]
        return [master] + [lane(master) for lane in self._lanes[1:self.lanes]]   # lane 0 = G**0 master

    def lane_state(self, step: int, lane: int = 0, domain: str = STEP_DOMAIN) -> int:
        """The state lane ``lane`` loads at the start of ``step``, as an int (one lane of
        :meth:`lane_states`, without building the others)."""
        lanes = 1 if domain == self.FILL_DOMAIN else self.lanes
        if not 0 <= lane < lanes:
            raise ConfigError("lane", lane, f"must be in 0..{lanes - 1}")
        master = self.master(step)
        if domain == self.FILL_DOMAIN:
            return self._loaded(master, domain)[0]
        return self._lanes[lane](master) if lane else master

    def lane_states(self, step: int, domain: str = STEP_DOMAIN) -> np.ndarray:
        """The K states loaded at the start of ``step`` (``domain`` fill: pool fill)."""
        return np.array(self._loaded(self.master(step), domain), dtype=np.uint64)

    def step_word_bytes(self, step: int, clocks: int) -> np.ndarray:
        """The words of the first ``clocks`` leaps of every lane loaded for ``step`` (step
        domain), without touching the bank: the little-endian bytes of
        :func:`bank_word_map`'s image of the master (at least clocks * K words of
        :func:`word_slot`'s size, clock-major) as a read-only uint8 array, one look-up of
        :func:`map_clocks` clocks, or one per :func:`bank_chunk` clocks beyond.

        Lane k after c leaps is A**(Bc) G**k master = G**k A**(Bc) master (G = I + A**B
        commutes with A), so the bank c clocks later is the bank loaded from lane 0's
        state A**(Bc) master: chunk i is the map of :func:`leap_map`'s image of chunk
        i - 1's master."""
        master = self.master(step)
        if clocks <= self._chunk:
            words, length = self._word_maps.get(clocks) or self._word_map(clocks)
            return np.frombuffer(words(master).to_bytes(length, "little"), dtype=np.uint8)
        words = bank_word_map(self.width, self.word_bits, self.lanes, self._chunk)
        later = leap_map(self.width, self.word_bits, self._chunk)
        parts = []
        for _ in range(-(-clocks // self._chunk)):
            parts.append(words(master).to_bytes(self._chunk * self._row, "little"))
            master = later(master)
        return np.frombuffer(b"".join(parts), dtype=np.uint8)

    def _word_map(self, clocks: int) -> tuple[ByteMap, int]:
        """(the :func:`bank_word_map` of :func:`map_clocks` clocks, its image's bytes) for
        ``clocks`` <= the chunk, kept per bank (it depends on the geometry alone)."""
        size = map_clocks(max(1, clocks))
        entry = self._word_maps[clocks] = (bank_word_map(self.width, self.word_bits, self.lanes, size),
                                           size * self._row)
        return entry

    def step_words(self, step: int, clocks: int) -> np.ndarray:
        """The same words as shape (clocks, K), :func:`word_slot`'s unsigned dtype."""
        words = self.step_word_bytes(step, clocks).view(word_slot(self.word_bits))
        return words.reshape(-1, self.lanes)[:clocks]

    def first_words(self, states: np.ndarray, clocks: int) -> np.ndarray:
        """Words of the first ``clocks`` leaps from each given state, without touching
        the bank: shape (clocks,) + states.shape, uint64."""
        states = np.asarray(states, dtype=np.uint64)
        out = np.empty((clocks, states.size), dtype=np.uint64)
        for k, state in enumerate(states.reshape(-1).tolist()):
            out[:, k] = lane_words(self.width, self.word_bits, state, clocks)
        return out.reshape((clocks,) + states.shape)

    def load(self, step: int, domain: str = STEP_DOMAIN) -> None:
        """Load every lane for ``step`` (what the RTL does on start / replay / fill)."""
        self.state = self.lane_states(step, domain)

    def words(self, clocks: int) -> np.ndarray:
        """Advance ``clocks`` leaps; returns the words, shape (clocks, K), uint64.

        Word [c, k] is lane k's B-bit word of clock c (the low B bits of its state after
        the (c+1)-th leap), from :func:`lane_words` (table look-ups, no per-word loop)."""
        out = np.empty((max(clocks, 0), self.lanes), dtype=np.uint64)
        for k, state in enumerate(self.state.tolist()):
            out[:, k] = lane_words(self.width, self.word_bits, state, max(clocks, 0))
            self.state[k] = state_after(self.width, self.word_bits, state, out[:, k])
        return out
