"""Co-simulated training: ZO-SGD fed by the engine RTL (Icarus) equals the golden run
bit for bit, every RTL pass is used, and a single changed RTL word is detected."""

from __future__ import annotations

import numpy as np
import pytest

from pezo.cli import main
from pezo.errors import PezoError, ToolError
from pezo.ref.engine import engine_model
from pezo.ref.train.loop import Run, TrainSettings
from pezo.ref.train.sources import make_source
from pezo.sim import cosim
from pezo.sim.cosim import (ZO_PASSES, CosimError, RtlSource, compare_traces, engine_config,
                            record_rtl_perturbations, seed_in_for, trace_zo)

#: MLP 64-4-10 on digits: 310 parameters, 8 steps, 3 passes: 7440 words per engine.
SETTINGS = TrainSettings(model="mlp", hidden=4, steps=8, batch=32, eval_every=1)
#: a 128-word pool, so the 310 parameters span three wraps (three per-wrap offsets)
OVERRIDES = {"pezo-pool": {"pool_size": 128}, "pezo-stream": None}
SEED = 3
METHODS = ("pezo-pool", "pezo-stream")


@pytest.fixture(scope="module", params=METHODS)
def recorded(request):
    """(method, cfg, RTL words of shape (steps, passes, n), golden trace)."""
    method = request.param
    cfg = engine_config(method, OVERRIDES[method])
    n = Run(SETTINGS, SEED).model.n_params
    words = record_rtl_perturbations(cfg, seed_in_for(cfg, SEED), SETTINGS.steps, n,
                                     backpressure=0.3, name=f"cosim_test_{method}", sim_seed=SEED)
    golden = trace_zo(SETTINGS, make_source(method, SEED, cfg), SEED)
    return method, cfg, words, golden


def test_rtl_passes_of_every_step_are_identical_and_steps_differ(recorded):
    _, _, words, _ = recorded
    assert words.shape[1] == ZO_PASSES
    for k in range(1, ZO_PASSES):
        assert np.array_equal(words[:, k], words[:, 0]), f"pass {k} differs from pass 0"
    for t in range(len(words) - 1):
        assert not np.array_equal(words[t, 0], words[t + 1, 0]), f"step {t + 1} repeats step {t}"


def test_rtl_words_equal_the_golden_engine(recorded):
    _, cfg, words, _ = recorded
    ref = engine_model(cfg, seed_in_for(cfg, SEED))
    for t in range(len(words)):
        want = ref.perturbation(t, words.shape[2])
        bad = np.flatnonzero(words[t, 0] != want)
        assert not len(bad), f"step {t}: {len(bad)} words differ, first at {bad[0]}"


def test_training_on_rtl_words_is_bit_exact_with_golden(recorded):
    method, cfg, words, golden = recorded
    source = RtlSource(method, cfg, SEED, words)
    rtl = trace_zo(SETTINGS, source, SEED)
    assert rtl.train_loss == golden.train_loss
    assert rtl.loss_plus == golden.loss_plus and rtl.loss_minus == golden.loss_minus
    assert rtl.grads == golden.grads
    assert np.array_equal(rtl.theta, golden.theta)
    assert compare_traces(rtl, golden) == []
    assert source.unused == [], "every recorded RTL pass must feed the optimizer"
    assert len(set(golden.train_loss)) > 1, "the run must move the parameters"


@pytest.mark.parametrize("changed_pass", range(ZO_PASSES), ids=["plus", "minus", "update"])
def test_one_changed_rtl_word_changes_the_losses(recorded, changed_pass):
    """One LSB in one word of one pass (step 3, last parameter) must show in the losses."""
    method, cfg, words, golden = recorded
    bad = words.copy()
    bad[3, changed_pass, -1] += 1
    rtl = trace_zo(SETTINGS, RtlSource(method, cfg, SEED, bad), SEED)
    assert rtl.train_loss[:4] == golden.train_loss[:4]
    assert rtl.train_loss[4:] != golden.train_loss[4:]
    assert "final parameters" in compare_traces(rtl, golden)


def test_rtl_source_serves_passes_in_order_and_rejects_what_was_not_recorded():
    cfg = engine_config("pezo-pool")
    words = np.arange(2 * ZO_PASSES * 5, dtype=np.int64).reshape(2, ZO_PASSES, 5)
    source = RtlSource("pezo-pool", cfg, 0, words)
    scale = 1.0 / (1 << cfg.frac_bits)
    for k in range(ZO_PASSES):
        assert np.array_equal(source.z(1, 4), words[1, k, :4] * scale)
    assert source.unused == [(0, k) for k in range(ZO_PASSES)]
    with pytest.raises(CosimError, match="step 1 asks pass 4, but 3 passes were recorded"):
        source.z(1, 4)
    with pytest.raises(CosimError, match=r"step 2 was not recorded \(recorded steps 0..1\)"):
        source.z(2, 5)
    with pytest.raises(CosimError, match="step 0 asks 6 words, but 5 were recorded per pass"):
        source.z(0, 6)


def test_pezo_train_rtl_prints_both_loss_sequences_and_bit_exact_yes(capsys):
    assert main(["train", "--rtl", "--steps", "3", "--seed", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the default co-simulation model has more parameters than the default pool: two wraps per step
    assert "64-8-10 (610 parameters), 3 steps" in lines[1]
    assert 610 > engine_config("pezo-pool").pool_size
    rows = [line.split() for line in lines[3:7]]
    assert [r[0] for r in rows] == ["0", "1", "2", "3"]
    assert all(r[1] == r[2] and r[-1] == "yes" for r in rows)
    assert lines[-1] == "bit-exact: yes"


@pytest.mark.parametrize("argv, hidden, steps", [
    ([], 8, 8),
    (["--hidden", "16", "--steps", "20"], 16, 20),  # 16 is the training default: still honoured
    (["--hidden", "3", "--steps", "10000"], 3, 10000),
])
def test_pezo_train_rtl_keeps_explicit_values_equal_to_the_defaults(argv, hidden, steps, monkeypatch):
    seen = []

    def stop(method, settings, *args, **kwargs):
        seen.append(settings)
        raise PezoError("stopped before the simulation")

    monkeypatch.setattr(cosim, "run_rtl_training", stop)
    assert main(["train", "--rtl", *argv]) == 2
    assert (seen[0].hidden, seen[0].steps) == (hidden, steps)


def test_pezo_train_rtl_exits_1_when_a_word_differs(monkeypatch, capsys):
    def one_word_off(cfg, seed_in, steps, n, *args, **kwargs):
        words = engine_model(cfg, seed_in).perturbation
        good = np.stack([np.stack([words(t, n)] * ZO_PASSES) for t in range(steps)])
        good[1, 2, -1] += 1
        return good

    monkeypatch.setattr(cosim, "record_rtl_perturbations", one_word_off)
    assert main(["train", "--rtl", "--steps", "3", "--model", "logreg"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "bit-exact: no" and "differ: " in out and " NO" in out


def test_pezo_train_rtl_without_icarus_is_a_one_line_tool_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("pezo.toolchain.sys.executable", str(tmp_path / "python"))
    with pytest.raises(ToolError, match="iverilog not found"):
        record_rtl_perturbations(engine_config("pezo-pool"), 0, 2, 10)
    assert main(["train", "--rtl", "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "iverilog not found" in err


@pytest.mark.parametrize("argv, message", [
    (["--perturb", "gaussian"], "invalid perturb='gaussian': --rtl needs an engine source"),
    (["--compare"], "--rtl and --compare are exclusive"),
    (["--perturb", "pezo-pool", "--perturb", "pezo-stream"], "--rtl takes one --perturb"),
])
def test_pezo_train_rtl_bad_input_is_one_line_with_exit_2(argv, message, capsys):
    assert main(["train", "--rtl", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
