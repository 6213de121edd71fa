"""The fixed-point golden trainer (ref/train/fixed.py) against hand-computed cases of
each formula of docs/trainer.md, its saturations, and TrainerConfig's validation."""

from __future__ import annotations

import numpy as np
import pytest

from pezo.errors import ConfigError, PezoError
from pezo.ref.config import preset
from pezo.ref.train import fixed
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.sources import make_source

#: 2-2-2 MLP, one example per step: every number below is worked out by hand from
#: docs/trainer.md (theta Q4.20, c Q.12, h Q.10, SF 10, B 16 / F 12).
TINY = TrainerConfig(model="mlp", n_in=2, hidden=2, n_out=2, macs=1, batch=1, eps_shift=6, lr_shift=8)
#: 1-input logistic regression with eps = 1 (k = 8: c = theta >> 8 + z exactly).
LOGREG = TrainerConfig(model="logreg", n_in=1, n_out=2, macs=1, batch=1, eps_shift=0, lr_shift=8)


def test_default_config_has_the_documented_sizes_and_shifts():
    t = TrainerConfig()
    assert (t.n_params, t.replace(model="logreg").n_params) == (1210, 650)
    assert (t.perturb_shift, t.compute_shift, t.layer1_shift, t.score_shift) == (20 - 12 - t.eps_shift, 8, 6, 12)
    assert t.grad_shift == 2 * 10 + 1 + 6 + t.lr_shift - t.eps_shift - 20
    assert t.design == "engine" and t.pezo == preset("default") and t.rounds == 16
    assert TrainerConfig(source="pezo-stream").pezo == preset("stream")
    assert TrainerConfig(source="gaussian").design is None


def test_perturbation_shifts_left_or_floors_right():
    z = np.array([3, -3, 5, -5])
    assert fixed.perturbation(TINY, z).tolist() == [12, -12, 20, -20]          # k = 20-12-6 = 2
    right = TINY.replace(eps_shift=10, lr_shift=12)                                         # k = -2: floor
    assert fixed.perturbation(right, z).tolist() == [0, -1, 1, -2]


def test_weights_floor_to_compute_frac_and_saturate():
    theta = np.array([5 * 256 + 255, -1, 0, 1000 * 256, -1000 * 256])
    assert fixed.weights(TINY, theta, 0, 1).tolist() == [5, -1, 0, 1000, -1000]
    assert fixed.weights(TINY, theta, np.array([1, 1, 256, 0, 0]), -1).tolist() == [5, -1, -1, 1000, -1000]
    narrow = TINY.replace(compute_bits=8)
    assert fixed.weights(narrow, theta, 0, 1).tolist() == [5, -1, 0, 127, -128]


# c of the tiny MLP: layer 1 rows (w0, w1, bias), then layer 2 rows (w0, w1, bias)
C_TINY = np.array([4096, -4096, 2048,      # h0 = relu(1.0*x0 - 1.0*x1 + 0.5)
                   -4096, 0, 0,            # h1 = relu(-x0)
                   2048, 4096, 4096,       # s0 = 0.5 h0 + h1 + 1.0
                   -4096, 4096, -1])       # s1 = -h0 + h1 - 2**-12
X_TINY = np.array([[16, 8]])               # x = (1.0, 0.5)


def test_mlp_scores_by_hand():
    # layer 1: acc0 = 16*4096 - 8*4096 + 16*2048 = 65536 -> h0 = 65536 >> 6 = 1024 (1.0);
    # acc1 = -65536 -> h1 = 0 (ReLU); layer 2: acc0 = 2048*1024 + 4096*1024 = 6291456
    # -> 6291456 >> 12 = 1536 (1.5); acc1 = -4096*1024 - 1024 -> floor(-1024.25) = -1025
    assert fixed.scores(TINY, C_TINY, X_TINY).tolist() == [[1536, -1025]]


def test_hidden_activation_saturates_at_act_bits():
    # act_bits 12: h0 = 1024 fits; with layer-1 row 0 at (32767, 32767, 32767) acc0 =
    # 40*32767 -> 20479 clamps to 4095, and s0 = (2048*4095 + 4096*1024) >> 12 = 3071
    narrow = TINY.replace(act_bits=12)
    assert fixed.scores(narrow, C_TINY, X_TINY).tolist() == [[1536, -1025]]
    c = C_TINY.copy()
    c[:3] = 32767
    assert fixed.scores(narrow, c, X_TINY)[0, 0] == 3071


def test_logreg_scores_shift_by_compute_frac_plus_4_minus_sf():
    # one row (4096, 2048): acc = 16*4096 + 16*2048 = 98304 -> >> 6 = 1536 (1.5)
    c = np.array([4096, 2048, -4096, 0])
    assert fixed.scores(LOGREG, c, np.array([[16]])).tolist() == [[1536, -1024]]


def test_loss_is_squared_error_on_one_hot_with_saturation():
    s = np.array([[1536, -1025], [40000, 0]])
    # example 0, label 0: (1536-1024)**2 + 1025**2; example 1, label 1: sat(40000) and -1024
    assert fixed.example_loss(TINY, s, np.array([0, 1])).tolist() == [512**2 + 1025**2, 32767**2 + 1024**2]


def test_loss_difference_and_step_by_hand():
    # theta = 0, z sets w0 = 1.0 and b1 = 0.5 (k = 8, so d = z << 8 and c = +-z):
    # +eps: s = (1024, 512), L+ = 512**2; -eps: s = (-1024, -512), L- = 2048**2 + 512**2
    theta = np.zeros(4, dtype=np.int64)
    z = np.array([4096, 0, 0, 2048])
    x, y = np.array([[16]]), np.array([0])
    assert fixed.loss_difference(LOGREG, theta, z, x, y) == -2048**2
    # a = 2*10 + 1 + 0 + 8 - 0 - 20 = 9: gq = -2**22 >> 9 = -8192 = lr*g in theta LSBs
    # (g = -4 / (2 eps b) = -2, lr = 2**-8, theta LSB 2**-20); theta -= gq*z >> 12
    step = fixed.train_step(LOGREG, theta, z, x, y)
    assert (step.delta, step.gq) == (-2048**2, -8192)
    assert step.theta.tolist() == [8192, 0, 0, 4096]


def test_gradient_word_rounds_half_up_and_saturates():
    assert TINY.grad_shift == 3                         # 21 + 0 + 8 - 6 - 20
    assert [fixed.gradient_word(TINY, d) for d in (12, 11, -12, -13, 3)] == [2, 1, -1, -2, 0]
    assert fixed.gradient_word(TINY, 1 << 40) == 2**15 - 1
    assert fixed.gradient_word(TINY, -(1 << 40)) == -(2**15)


@pytest.mark.parametrize("e, l, batch", [(6, 8, 64), (4, 12, 16), (9, 9, 128)])
def test_gradient_word_is_lr_times_g_in_theta_lsbs(e, l, batch):
    t = TrainerConfig(eps_shift=e, lr_shift=l, batch=batch)
    for delta in (123_456_789, -98_765_432, 5_000_000):
        g = delta / 2.0 ** (2 * t.score_frac) / (2 * 2.0**-e * batch)
        want = np.clip(np.floor(2.0**-l * g * 2.0**t.theta_frac + 0.5), -(2**15), 2**15 - 1)
        assert fixed.gradient_word(t, delta) == want


def test_update_rounds_and_saturates_to_theta_bits():
    theta = np.array([100, -100, 2**23 - 1, 0])
    z = np.array([4096, -4096, -4096, 2048])
    assert fixed.update(TINY, theta, 3, z).tolist() == [97, -97, 2**23 - 1, -2]   # rshr(6144, 12) = 2
    assert fixed.update(TINY, theta, 1, np.array([2047, 2048, 0, -2048])).tolist() == [100, -101, 2**23 - 1, 0]


def test_extreme_parameters_saturate_without_wrapping():
    # every weight at the top of its range and every pixel 16: h saturates, each score
    # (about 2**30) saturates its 16-bit error, with either sign of a full-scale z
    t = TrainerConfig()
    theta = np.full(t.n_params, 2**23 - 1, dtype=np.int64)
    x = np.full((t.batch, t.n_in), 16)
    y = np.arange(t.batch) % t.n_out
    s = fixed.scores(t, fixed.weights(t, theta, 0, 1), x)
    assert s.min() == s.max() == (16 * 32767 * 32767 + 1024 * 32767) >> 12
    assert fixed.example_loss(t, s, y).tolist() == [10 * 32767**2] * t.batch
    assert fixed.loss_difference(t, theta, np.full(t.n_params, -(2**15)), x, y) == 0
    low = np.full(t.n_params, -(2**23))
    assert fixed.scores(t, fixed.weights(t, low, 0, 1), x).max() == (-32768 * 1024) >> 12   # h = 0


def test_golden_steps_chain_train_step_with_the_source_words():
    t = TrainerConfig(model="logreg", batch=8, macs=2, source="pezo-stream")
    rng = np.random.default_rng(1)
    theta0 = rng.integers(-(2**18), 2**18, t.n_params)
    steps = [(s, rng.integers(0, 17, (8, 64)), rng.integers(0, 10, 8)) for s in (0, 1, 5)]
    results = fixed.golden_steps(t, theta0, 7, steps)
    source = make_source("pezo-stream", 7)
    theta = theta0
    for (s, x, y), r in zip(steps, results):
        z = source.engine.perturbation(s, t.n_params)
        want = fixed.train_step(t, theta, z, x, y)
        assert np.array_equal(r.theta, want.theta) and (r.delta, r.gq) == (want.delta, want.gq)
        theta = r.theta
    assert not np.array_equal(results[-1].theta, theta0)


def test_float_sources_are_quantised_to_the_word_format():
    source = make_source("gaussian", 3)
    z = source.z(4, 1000)
    words = source.z_words(4, 1000)
    assert words.dtype == np.int64
    assert np.all(np.abs(words / 4096.0 - z) <= 0.5 / 4096 + 1e-12)


@pytest.mark.parametrize("name", ["pezo-pool", "rademacher", "icdf"])
def test_rtl_sources_give_their_words_exactly(name):
    source = make_source(name, 11)
    assert np.array_equal(source.z_words(3, 700) / 4096.0, source.z(3, 700))


@pytest.mark.parametrize("changes, match", [
    ({"model": "cnn"}, "invalid model='cnn': known models"),
    ({"source": "lfsr"}, "invalid source='lfsr': known sources"),
    ({"batch": 48}, "invalid batch=48: must be a power of two"),
    ({"batch": 4, "macs": 8}, "invalid batch=4: must be a power of two and a multiple of macs"),
    ({"compute_bits": 18}, r"invalid compute_bits=18: allowed values are 2..16"),
    ({"act_bits": 16}, r"invalid act_bits=16: allowed values are 1..15"),
    ({"act_frac": 17}, r"invalid act_frac=17: must be in 0..compute_frac \+ 4"),
    ({"score_frac": 14, "act_frac": 1}, r"invalid score_frac=14: must be at most 13 for mlp"),
    ({"score_frac": 15}, r"invalid score_frac=15: allowed values are 0..14"),
    ({"compute_frac": 21}, r"invalid compute_frac=21: must satisfy"),
    ({"eps_shift": 10, "lr_shift": 2}, r"invalid lr_shift=2: must be at least 3: the gradient shift"),
    ({"theta_bits": 32, "theta_frac": 12, "score_frac": 14, "lr_shift": 32, "eps_shift": 0},
     r"invalid lr_shift=32: must be at most 24: the gradient shift"),
    ({"theta_bits": 21, "eps_shift": 0}, r"invalid eps_shift=0: must be at least 3: eps\*z must fit theta_bits"),
    ({"batch": 2**14, "macs": 1}, r"invalid batch=16384: batch \* n_out"),
    ({"pezo": preset("stream")}, "invalid strategy='stream': pezo-pool needs the pool strategy"),
    ({"pezo": preset("default").replace(word_bits=20, lfsr_width=48)}, "invalid word_bits=20"),
    ({"hidden": True}, "invalid hidden=True: must be of type int"),
])
def test_invalid_configs_are_one_line_config_errors(changes, match):
    with pytest.raises(ConfigError, match=match) as info:
        TrainerConfig(**changes)
    assert "\n" not in str(info.value)


def test_bad_steps_are_one_line_errors():
    t = TrainerConfig(model="logreg", batch=4, macs=1)
    theta = np.zeros(t.n_params, dtype=np.int64)
    x, y = np.zeros((4, 64)), np.zeros(4)
    for theta_, step, match in ((theta[:5], (0, x, y), "theta must have 650"),
                                (theta + 2**23, (0, x, y), "signed 24-bit"),
                                (theta, (0, x + 17, y), "features must be 0..16"),
                                (theta, (0, x, y + 10), "labels must be 0..9"),
                                (theta, (0, x[:3], y[:3]), "a step takes 4 examples"),
                                (theta, (2**16, x, y), "step 65536 is outside")):
        with pytest.raises(PezoError, match=match):
            fixed.golden_steps(t, theta_, 1, [step])
