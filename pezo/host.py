"""Host-side driver of the on-device trainer over a byte link (UART or SPI): load the
initial parameters, stream a data set step by step, read the parameters back.

The framing is docs/trainer.md section 7 (``pezo.ref.train.link``). The link is any
object with ``write(bytes)`` and ``read(n) -> bytes`` (a ``serial.Serial`` port, a
socket wrapper, or a simulated trainer such as :class:`Loopback` around the golden
:class:`~pezo.ref.train.link.LinkDevice`)::

    from pezo.host import TrainerHost
    host = TrainerHost(serial.Serial("/dev/ttyUSB1", 115200, timeout=5), TrainerConfig())
    host.load(theta0)                     # initial parameters (signed theta_bits ints)
    deltas = host.train_digits(seed=0, steps=30000)
    theta = host.read_parameters()

Every reply is awaited before the next request; a short read (the link's timeout) is a
one-line :class:`PezoError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np

from pezo.errors import PezoError
from pezo.ref.train.fixed import check_examples, check_theta
from pezo.ref.train.fixed_config import DELTA_BITS, TrainerConfig
from pezo.ref.train.fixed_train import minibatches
from pezo.ref.train.link import READ, SEED, WRITE, LinkDevice, LinkFields, decode, encode


class ByteLink(Protocol):
    """What the driver needs of a link: pyserial's ``write`` / ``read``."""

    def write(self, data: bytes) -> object: ...

    def read(self, size: int) -> bytes: ...


class Loopback:
    """A link to a trainer simulated in Python (default: the golden
    :class:`LinkDevice`): writes go to its ``receive``, reads take its replies."""

    def __init__(self, device: LinkDevice):
        self.device = device
        self._replies = b""

    def write(self, data: bytes) -> int:
        self._replies += self.device.receive(bytes(data))
        return len(data)

    def read(self, size: int) -> bytes:
        out, self._replies = self._replies[:size], self._replies[size:]
        return out


class TrainerHost:
    """Drives one trainer of configuration ``tcfg`` over ``link``."""

    def __init__(self, link: ByteLink, tcfg: TrainerConfig):
        self.link = link
        self.tcfg = tcfg
        self.fields = LinkFields(tcfg)

    def _read(self, size: int, what: str) -> bytes:
        data = self.link.read(size)
        if len(data) != size:
            raise PezoError(f"trainer link: expected {size} bytes of {what}, got {len(data)} (timeout?)")
        return data

    def seed(self, seed_in: int) -> None:
        """Set the source's runtime seed (``seed mod 2**W`` of a training seed)."""
        self.link.write(SEED + encode(seed_in & ((1 << self.tcfg.pezo.lfsr_width) - 1), 8 * self.fields.seed))

    def load(self, theta: Iterable[int] | np.ndarray) -> None:
        """Write every parameter (signed theta_bits integers, docs/trainer.md section 3)."""
        theta = check_theta(self.tcfg, np.fromiter(theta, dtype=np.int64) if not isinstance(theta, np.ndarray)
                            else theta)
        f = self.fields
        self.link.write(b"".join(WRITE + encode(addr, 8 * f.addr) + encode(int(v), self.tcfg.theta_bits)
                                 for addr, v in enumerate(theta)))

    def step(self, t: int, x: np.ndarray, y: np.ndarray) -> int:
        """Run step t on the b examples (features 0..16, labels); returns its delta."""
        x, y = check_examples(self.tcfg, x, y)
        self.link.write(self.fields.step_request(t, x, y))
        return decode(self._read(self.fields.delta, f"step {t}'s delta"), DELTA_BITS, signed=True)

    def read_parameters(self) -> np.ndarray:
        """Every parameter read back (int64, shape (n_params,))."""
        f = self.fields
        self.link.write(b"".join(READ + encode(addr, 8 * f.addr) for addr in range(self.tcfg.n_params)))
        data = self._read(f.param * self.tcfg.n_params, "parameters")
        return np.array([decode(data[i:i + f.param], self.tcfg.theta_bits, signed=True)
                         for i in range(0, len(data), f.param)], dtype=np.int64)

    def train(self, batches: Iterable[tuple[np.ndarray, np.ndarray]], seed_in: int,
              on_step: Callable[[int, int], None] | None = None) -> list[int]:
        """Seed the source, then run steps 0, 1, ... on ``batches`` (each b examples);
        returns the deltas. ``on_step(t, delta)`` after each step."""
        self.seed(seed_in)
        deltas = []
        for t, (x, y) in enumerate(batches):
            deltas.append(self.step(t, x, y))
            if on_step:
                on_step(t, deltas[-1])
        return deltas

    def train_digits(self, seed: int, steps: int) -> list[int]:
        """The run of ``pezo train --fixed`` for ``seed`` on the device: digits pixels in
        the seed's minibatch order (the parameters must be loaded first, e.g. with
        :func:`pezo.ref.train.fixed_train.initial_parameters`)."""
        return self.train(minibatches(self.tcfg, seed, steps), seed)
