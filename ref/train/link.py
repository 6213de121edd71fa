"""The trainer's byte link (docs/trainer.md section 7): the framing a host uses over a
UART or SPI link to drive the ``ZoTrainer`` streams, and :class:`LinkDevice`, the golden
model of a trainer behind such a link (the bridge and ref/train/fixed.py).

Every field is little-endian in whole bytes, of which the trainer keeps the low bits
of its stream payload (a signed field: two's complement in those bits). Field widths
come from :class:`TrainerConfig`: seed ``ceil(W/8)`` bytes (W =
``pezo.lfsr_width``), step ``ceil(S/8)`` (S = ``pezo.step_bits``), address
``ceil(addr_bits/8)``, parameter ``ceil(theta_bits/8)``, delta ``DELTA_BITS / 8`` = 6.

====  =====================================================  ==================
byte  request (after the command byte)                       reply
====  =====================================================  ==================
'S'   seed                                                   none
'W'   address, parameter                                     none
'R'   address                                                parameter
'T'   step t, then b examples: n_in feature bytes, label     delta of the step
====  =====================================================  ==================

The bridge maps them onto the RTL streams one to one: 'S' -> ``seed``, 'W' -> ``write``,
'R' -> ``read`` / ``param``, 'T' -> ``step`` then the example bytes to ``examples``
unchanged, and ``delta`` back. An unknown command byte or an address beyond the
parameters is a protocol error (:class:`PezoError` in the model).
"""

from __future__ import annotations

import numpy as np

from pezo.errors import PezoError
from pezo.ref.train import fixed
from pezo.ref.train.fixed_config import DELTA_BITS, TrainerConfig

SEED, WRITE, READ, STEP = b"S", b"W", b"R", b"T"


def nbytes(bits: int) -> int:
    """Whole bytes of a ``bits``-bit field."""
    return -(-bits // 8)


def encode(value: int, bits: int) -> bytes:
    """``value`` (signed or unsigned, fitting ``bits``) as ceil(bits/8) little-endian bytes."""
    return (value & ((1 << (8 * nbytes(bits))) - 1)).to_bytes(nbytes(bits), "little")


def decode(data: bytes, bits: int, signed: bool) -> int:
    """The low ``bits`` bits of a little-endian field (what the stream's payload keeps);
    ``signed``: two's complement in those bits."""
    value = int.from_bytes(data, "little") & ((1 << bits) - 1)
    return value - (1 << bits) if signed and value >> (bits - 1) else value


class LinkFields:
    """The byte widths of every field for one TrainerConfig."""

    def __init__(self, tcfg: TrainerConfig):
        self.tcfg = tcfg
        self.seed = nbytes(tcfg.pezo.lfsr_width)
        self.step = nbytes(tcfg.pezo.step_bits)
        self.addr = nbytes(tcfg.addr_bits)
        self.param = nbytes(tcfg.theta_bits)
        self.delta = nbytes(DELTA_BITS)
        self.example = tcfg.n_in + 1

    def step_request(self, t: int, x: np.ndarray, y: np.ndarray) -> bytes:
        """'T', step t and the b examples (features then label, one byte each)."""
        body = np.concatenate([np.asarray(x, dtype=np.uint8), np.asarray(y, dtype=np.uint8)[:, None]], axis=1)
        return STEP + encode(t, 8 * self.step) + body.tobytes()


class LinkDevice:
    """A trainer behind the byte link, as the golden model: ``receive(data)`` takes
    request bytes in any chunking and returns the reply bytes they complete.

    State as in the RTL after reset: parameters 0, seed 0."""

    def __init__(self, tcfg: TrainerConfig):
        self.tcfg = tcfg
        self.fields = LinkFields(tcfg)
        self.theta = np.zeros(tcfg.n_params, dtype=np.int64)
        self.seed_in = 0
        self._buffer = b""
        self.steps = 0

    def _request_length(self) -> int | None:
        """Bytes of the request at the head of the buffer (None: command not yet in)."""
        if not self._buffer:
            return None
        f = self.fields
        command = self._buffer[:1]
        lengths = {SEED: f.seed, WRITE: f.addr + f.param, READ: f.addr,
                   STEP: f.step + self.tcfg.batch * f.example}
        if command not in lengths:
            raise PezoError(f"trainer link: unknown command byte {command!r}")
        return 1 + lengths[command]

    def receive(self, data: bytes) -> bytes:
        self._buffer += data
        reply = b""
        while (length := self._request_length()) is not None and len(self._buffer) >= length:
            command, body = self._buffer[:1], self._buffer[1:length]
            self._buffer = self._buffer[length:]
            reply += self._serve(command, body)
        return reply

    def _serve(self, command: bytes, body: bytes) -> bytes:
        f, tcfg = self.fields, self.tcfg
        if command == SEED:
            self.seed_in = decode(body, tcfg.pezo.lfsr_width, signed=False)
            return b""
        if command == STEP:
            t = decode(body[:f.step], tcfg.pezo.step_bits, signed=False)
            examples = np.frombuffer(body[f.step:], dtype=np.uint8).reshape(tcfg.batch, f.example).astype(np.int64)
            result = fixed.golden_steps(tcfg, self.theta, self.seed_in, [(t, examples[:, :-1], examples[:, -1])])[0]
            self.theta = result.theta
            self.steps += 1
            return encode(result.delta, DELTA_BITS)
        addr = decode(body[:f.addr], tcfg.addr_bits, signed=False)
        if addr >= tcfg.n_params:
            raise PezoError(f"trainer link: address {addr} is beyond the {tcfg.n_params} parameters")
        if command == READ:
            return encode(int(self.theta[addr]), tcfg.theta_bits)
        self.theta[addr] = decode(body[f.addr:], tcfg.theta_bits, signed=True)
        return b""
