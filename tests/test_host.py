"""The host driver (pezo/host.py) and the byte-link framing (ref/train/link.py), driven
against the golden trainer behind the link (LinkDevice)."""

from __future__ import annotations

import numpy as np
import pytest

from pezo.errors import PezoError
from pezo.host import Loopback, TrainerHost
from pezo.ref.train import fixed
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import initial_parameters, minibatches, train_fixed
from pezo.ref.train.link import LinkDevice, LinkFields, decode, encode

TCFG = TrainerConfig(model="logreg", batch=16, macs=4)


def _host(tcfg: TrainerConfig = TCFG) -> TrainerHost:
    return TrainerHost(Loopback(LinkDevice(tcfg)), tcfg)


def test_field_widths_of_the_default_trainer():
    f = LinkFields(TrainerConfig())
    assert (f.seed, f.step, f.addr, f.param, f.delta, f.example) == (6, 2, 2, 3, 6, 65)


@pytest.mark.parametrize("value, bits", [(0, 24), (-1, 24), (2**23 - 1, 24), (-(2**23), 24), (-5, 20), (-(2**47), 48)])
def test_signed_fields_round_trip(value, bits):
    data = encode(value, bits)
    assert len(data) == -(-bits // 8) and decode(data, bits, signed=True) == value


def test_streaming_digits_through_the_link_is_the_fixed_run():
    host = _host()
    host.load(initial_parameters(TCFG, 3))
    deltas = host.train_digits(seed=3, steps=6)
    _, theta = train_fixed(TCFG, 3, steps=6, eval_every=6)
    assert np.array_equal(host.read_parameters(), theta)
    golden = fixed.golden_steps(TCFG, initial_parameters(TCFG, 3), 3,
                                [(t, x, y) for t, (x, y) in enumerate(minibatches(TCFG, 3, 6))])
    assert deltas == [r.delta for r in golden]


def test_requests_split_at_any_byte_give_the_same_replies():
    whole, single = LinkDevice(TCFG), LinkDevice(TCFG)
    f = LinkFields(TCFG)
    x, y = next(minibatches(TCFG, 0, 1))
    request = b"S" + encode(7, 48) + b"W" + encode(5, 16) + encode(-1234, 24) + f.step_request(0, x, y) \
        + b"R" + encode(5, 16)
    expected = whole.receive(request)
    assert b"".join(single.receive(request[i:i + 1]) for i in range(len(request))) == expected
    assert len(expected) == f.delta + f.param


def test_write_keeps_the_low_theta_bits_and_read_sign_extends():
    host = _host()
    host.link.write(b"W" + encode(3, 16) + (0xFF_FFFE).to_bytes(3, "little"))
    assert host.read_parameters()[3] == -2


def test_protocol_errors_are_one_line():
    device = LinkDevice(TCFG)
    with pytest.raises(PezoError, match="unknown command byte b'X'"):
        device.receive(b"X")
    with pytest.raises(PezoError, match="address 650 is beyond the 650 parameters"):
        LinkDevice(TCFG).receive(b"R" + encode(650, 16))
    with pytest.raises(PezoError, match=r"expected 6 bytes of step 0's delta, got 0 \(timeout\?\)"):
        TrainerHost(Loopback(LinkDevice(TCFG.replace(batch=32))), TCFG).step(0, *next(minibatches(TCFG, 0, 1)))
    with pytest.raises(PezoError, match="theta must have 650 parameters"):
        _host().load([1, 2, 3])
