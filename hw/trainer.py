"""The on-device ZO-SGD trainer (issue 10): ``ZoTrainer``, bit-exact with the
fixed-point golden trainer ``pezo.ref.train.fixed`` (the arithmetic contract is
docs/trainer.md; every width and shift below comes from its :class:`TrainerConfig`).

Architecture (one parameter per clock, M = ``cfg.macs`` examples at a time):

* the parameters theta (``theta_bits`` signed, ``theta_frac`` fractional bits, in the
  layout of docs/trainer.md section 3) live in one simple dual-port ``Memory`` of
  depth d (block RAM);
* the perturbation source (the registry design ``cfg.source`` built from its
  ``PezoConfig``) runs inside; its ``z`` transfers of P words are serialised to one word
  per clock, word i perturbing parameter i;
* M multiply-accumulate units each evaluate one example: a per-unit ``Memory`` holds its
  example's ``n_in`` features (then, for the MLP, its ``hidden`` activations), a
  register its label; parameter i is read once and its effective weight c_i broadcast
  to all M units, so a forward pass over M examples takes d clocks;
* one shared squarer forms the squared errors of the M units at the end of every
  output row (M clocks per row; where an output row is shorter than M parameters the
  issue pauses so that it keeps up) and accumulates the loss difference ``delta``
  (48-bit signed) over the + and - passes;
* the update pass multiplies the gradient word gq by z_i (one more multiplier) and
  writes theta_i back in place.

One step t: ``b / M`` rounds, each loads M examples from ``examples`` (one byte per
clock when offered), then runs the +eps pass and the -eps pass, each restarting the
source at step t (replay: z is never stored); then gq is formed and the update pass
restarts the source a third time.

Pipeline of a pass (clocks after the word is issued): 0 issue (theta read address,
s * d_i), 1 effective weight c_i (theta + s d_i, shifted, saturated) / theta_i for the update,
2 products c_i * x (each unit) / gq * z_i, and the update's write-back, 3 accumulate,
4 row end: ReLU activation written back, or the output error latched for the squarer;
5 square, 6 add to ``delta``.

Latency and throughput, in clocks (d parameters, R = the source's restart latency from
``start(t)`` to its first ``z`` word, see hw/engine.py; G = clocks without an issued
word: ``z`` not valid, the MLP's layer boundary, where the last hidden activations are
written before layer 2 reads them (about 4), and max(0, M - row) after each output row,
row = ``hidden + 1`` for the MLP, ``n_in + 1`` for logreg):

* a forward pass: 1 (start) + R + d + G, then the pipeline and the squarer drain
  (about M + 7);
* the update pass: 1 + R + d + G + 3;
* a step: b / M rounds of M * (n_in + 1) clocks of loading (bytes offered every clock)
  and two forward passes, then 1 (gq), the update pass and 1 (``delta`` offered): about
  (2 b / M + 1) (d + R) + b (n_in + 1) clocks, one parameter per clock. The first step
  after a ``seed`` also waits for the source's start-up (the PeZO pool fill).
  :func:`pezo.sim.tb_trainer.measure_cycles_per_step` measures a step in simulation.

Interface (docs/trainer.md section 6):

``seed`` : In(stream unsigned(W)), accepted while idle; sets the source's runtime seed.
``step`` : In(stream unsigned(S)), accepted while idle; runs step t (``busy`` = 1).
``examples`` : In(stream unsigned(8)); ready only while a round loads: per example
    ``n_in`` feature bytes (0..16; the low 5 bits are kept) then the label byte.
``delta`` : Out(stream signed(48)): the step's sum of L(+) - L(-); offered when the
    update is written and held until taken; the trainer is busy until then.
``write`` : In(stream {addr: unsigned(A), value: signed(theta_bits)}), accepted while idle.
``read`` : In(stream unsigned(A)) -> ``param`` : Out(stream signed(theta_bits)), one
    read outstanding, while idle; ``param`` comes 2 clocks after the address is taken.
``busy`` : Out(1), 1 from an accepted ``step`` until its ``delta`` is taken.
"""

from __future__ import annotations

import enum

from amaranth import Array, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from pezo.errors import ConfigError
from pezo.hw import designs
from pezo.ref.config import PezoConfig
from pezo.ref.train.fixed_config import DELTA_BITS, ERROR_BITS, FEATURE_MAX, TrainerConfig

#: Width of a feature in a unit's memory (0..16, unsigned).
FEATURE_BITS = FEATURE_MAX.bit_length()


def _sat(v, bits: int) -> Value:
    """Signed ``v`` clamped to the signed ``bits``-bit range: a test of the bits above
    the result's sign bit (all equal: it fits), no comparator."""
    v = Value.cast(v)
    if len(v) <= bits:
        return v
    top = v[bits - 1:]
    fits = (top == 0) | (top == (1 << len(top)) - 1)
    return Mux(fits, v[:bits].as_signed(), Mux(v[-1], -(1 << (bits - 1)), (1 << (bits - 1)) - 1))


def _clamp(v, bits: int) -> Value:
    """Signed ``v`` clamped to 0 .. 2**bits - 1 (ReLU and saturation), unsigned ``bits``."""
    v = Value.cast(v)
    over = v[bits:-1].any() if len(v) - 1 > bits else Const(0, 1)
    return Mux(v[-1], 0, Mux(over, (1 << bits) - 1, v[:bits]))


def _shr(v, k: int):
    """Floor shift right by ``k`` (a left shift where ``k`` < 0)."""
    return v >> k if k >= 0 else v << -k


def _rshr(v, k: int):
    """Round-half-up shift right by ``k`` >= 0 (``v`` for 0)."""
    return v if k == 0 else (v + (1 << (k - 1))) >> k


class _Layer:
    """A layer's geometry: ``rows`` neurons of ``cols`` inputs plus the bias; input j
    read from unit-memory address ``base + j``; the bias input's value ``bias``."""

    def __init__(self, rows: int, cols: int, base: int, bias: int):
        self.rows, self.cols, self.base, self.bias = rows, cols, base, bias


class _State(enum.Enum):
    IDLE = 0
    LOAD = 1
    START = 2
    RUN = 3
    DRAIN = 4
    GRAD = 5
    DONE = 6


class _Phase(enum.Enum):
    PLUS = 0
    MINUS = 1
    UPDATE = 2


class ZoTrainer(wiring.Component):
    """The ZO-SGD trainer of ``cfg`` (see the module docstring for the interface,
    pipeline and latency).

    Parameters
    ----------
    cfg : the trainer configuration (model, widths, shifts, M, b and the source).
    """

    def __new__(cls, cfg: TrainerConfig, **kwargs):
        # checked before Amaranth tracks the object, so a rejected one is not reported unused
        if cfg.design is None:
            raise ConfigError("source", cfg.source, "has no RTL design; the trainer needs a source "
                              "of the registry (hw/designs.py)")
        return super().__new__(cls, **kwargs)

    def __init__(self, cfg: TrainerConfig):
        self.cfg = cfg
        scfg = cfg.pezo
        self.addr_bits = cfg.addr_bits
        if cfg.model == "mlp":
            self.layers = [_Layer(cfg.hidden, cfg.n_in, 0, FEATURE_MAX),
                           _Layer(cfg.n_out, cfg.hidden, cfg.n_in, 1 << cfg.act_frac)]
            self.operand_bits = max(FEATURE_BITS, cfg.act_bits, cfg.act_frac + 1)  # h and its bias input
            self.unit_depth = cfg.n_in + cfg.hidden
        else:
            self.layers = [_Layer(cfg.n_out, cfg.n_in, 0, FEATURE_MAX)]
            self.operand_bits = FEATURE_BITS
            self.unit_depth = cfg.n_in
        super().__init__({
            "seed": In(stream.Signature(unsigned(scfg.lfsr_width))),
            "step": In(stream.Signature(unsigned(scfg.step_bits))),
            "examples": In(stream.Signature(unsigned(8))),
            "delta": Out(stream.Signature(signed(DELTA_BITS))),
            "write": In(stream.Signature(data.StructLayout({
                "addr": unsigned(self.addr_bits), "value": signed(cfg.theta_bits)}))),
            "read": In(stream.Signature(unsigned(self.addr_bits))),
            "param": Out(stream.Signature(signed(cfg.theta_bits))),
            "busy": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        scfg = cfg.pezo
        M, d, P = cfg.macs, cfg.n_params, scfg.parallel
        layers = self.layers
        out_layer = layers[-1]
        m.submodules.source = src = designs.make_design(cfg.design, scfg)

        # --- parameter memory -------------------------------------------------------
        m.submodules.theta = theta_mem = Memory(shape=signed(cfg.theta_bits), depth=d, init=[])
        theta_rd = theta_mem.read_port()
        theta_wr = theta_mem.write_port()

        state = Signal(_State)
        phase = Signal(_Phase)
        idle = state == _State.IDLE
        perturb = phase != _Phase.UPDATE
        t = Signal(scfg.step_bits)
        round_ = Signal(range(max(2, cfg.rounds)))
        delta = Signal(signed(DELTA_BITS))
        gq = Signal(signed(cfg.grad_bits))

        # --- issue stage (0): counters of the next parameter and the z serialiser ----
        i0 = Signal(range(d))
        layer0 = Signal(range(max(2, len(layers))))
        row0 = Signal(range(max(max(layer.rows for layer in layers), 2)))
        col0 = Signal(range(max(layer.cols for layer in layers) + 1))
        word = Signal(range(P)) if P > 1 else Const(0, 1)
        gap = Signal(range(max(2, M + 1)))
        gap_after_row = max(0, M - (out_layer.cols + 1))
        layer_cols = Array(layer.cols for layer in layers)
        layer_rows = Array(layer.rows for layer in layers)
        layer_base = Array(layer.base for layer in layers)
        bias0 = col0 == layer_cols[layer0]

        v1, v2, v3, v4 = Signal(), Signal(), Signal(), Signal()
        in_flight = v1 | v2 | v3 | v4
        boundary = (layer0 != 0) & (row0 == 0) & (col0 == 0) & perturb
        issue = Signal()
        m.d.comb += issue.eq((state == _State.RUN) & src.z.valid & (gap == 0)
                             & ~(boundary & in_flight))
        m.d.comb += [
            src.z.ready.eq(issue & (word == P - 1)),
            theta_rd.addr.eq(Mux(idle, self.read.payload, i0)),
        ]
        with m.If(issue):
            if P > 1:
                m.d.sync += word.eq(word + 1)
            m.d.sync += [i0.eq(i0 + 1), col0.eq(col0 + 1)]
            with m.If(bias0):
                m.d.sync += [col0.eq(0), row0.eq(row0 + 1)]
                with m.If(row0 == layer_rows[layer0] - 1):
                    m.d.sync += [row0.eq(0), layer0.eq(layer0 + 1)]
                if gap_after_row:
                    with m.If(perturb & (layer0 == len(layers) - 1)):
                        m.d.sync += gap.eq(gap_after_row)
        with m.Elif(gap != 0):
            m.d.sync += gap.eq(gap - 1)

        # --- stage 1: effective weight c_i, or theta_i for the update ---------------
        zword = src.z.payload[word] if P > 1 else src.z.payload[0]
        z1 = Signal(signed(scfg.word_bits))
        # s * d_i: the floor shift first, then the sign (-(z >> k) is not (-z) >> k)
        perturbation = _shr(zword, -cfg.perturb_shift)
        d1 = Signal(signed(len(perturbation) + 1))
        addr1 = Signal(range(self.unit_depth))
        first1, last1, layer1, row1 = Signal(), Signal(), Signal.like(layer0), Signal.like(row0)
        i1 = Signal.like(i0)
        m.d.sync += [v1.eq(issue), z1.eq(zword), i1.eq(i0),
                     d1.eq(Mux(phase == _Phase.MINUS, -perturbation, perturbation)),
                     addr1.eq(layer_base[layer0] + col0), first1.eq(col0 == 0), last1.eq(bias0),
                     layer1.eq(layer0), row1.eq(row0)]
        theta1 = theta_rd.data
        c = _sat(_shr(theta1 + d1, cfg.compute_shift), cfg.compute_bits)

        # --- stage 2: products; the update's gq * z_i and write-back ----------------
        c2 = Signal(signed(cfg.compute_bits))
        first2, last2, layer2, row2 = Signal(), Signal(), Signal.like(layer0), Signal.like(row0)
        i2 = Signal.like(i0)
        theta2 = Signal(signed(cfg.theta_bits))
        step2 = Signal(signed(cfg.grad_bits + scfg.word_bits))
        m.d.sync += [v2.eq(v1), c2.eq(c), first2.eq(first1), last2.eq(last1), layer2.eq(layer1),
                     row2.eq(row1), i2.eq(i1), theta2.eq(theta1), step2.eq(gq * z1)]
        update_value = _sat(theta2 - _rshr(step2, scfg.frac_bits), cfg.theta_bits)
        with m.If(idle):
            m.d.comb += [theta_wr.en.eq(self.write.valid), theta_wr.addr.eq(self.write.payload.addr),
                         theta_wr.data.eq(self.write.payload.value), self.write.ready.eq(1)]
        with m.Else():
            m.d.comb += [theta_wr.en.eq(v2 & ~perturb), theta_wr.addr.eq(i2),
                         theta_wr.data.eq(update_value)]

        # --- stages 3 and 4: accumulate, row ends -----------------------------------
        first3, last3, layer3, row3 = Signal(), Signal(), Signal.like(layer0), Signal.like(row0)
        layer4, row4 = Signal.like(layer0), Signal.like(row0)
        m.d.sync += [v3.eq(v2 & perturb), first3.eq(first2), last3.eq(last2), layer3.eq(layer2),
                     row3.eq(row2), v4.eq(v3 & last3), layer4.eq(layer3), row4.eq(row3)]
        out4 = v4 & (layer4 == len(layers) - 1)

        prod_bits = cfg.compute_bits + self.operand_bits  # signed x unsigned
        acc_bits = prod_bits + (max(layer.cols for layer in layers) + 1).bit_length()
        layer_bias = Array(layer.bias for layer in layers)
        errors = []
        load_example = Signal(range(M))
        load_feature = Signal(range(cfg.n_in + 1))
        load_take = self.examples.valid & self.examples.ready
        for u in range(M):
            unit = Memory(shape=unsigned(self.operand_bits), depth=self.unit_depth, init=[])
            m.submodules[f"unit{u}"] = unit
            rd, wr = unit.read_port(), unit.write_port()
            label = Signal(8, name=f"label{u}")
            prod = Signal(signed(prod_bits), name=f"prod{u}")
            acc = Signal(signed(acc_bits), name=f"acc{u}")
            operand = Mux(last2, layer_bias[layer2], rd.data)
            m.d.comb += rd.addr.eq(addr1)
            m.d.sync += prod.eq(c2 * operand)
            with m.If(v3):
                m.d.sync += acc.eq(Mux(first3, 0, acc) + prod)
            with m.If(state == _State.LOAD):
                m.d.comb += [wr.addr.eq(load_feature), wr.data.eq(self.examples.payload[:FEATURE_BITS]),
                             wr.en.eq(load_take & (load_example == u) & (load_feature != cfg.n_in))]
                with m.If(load_take & (load_example == u) & (load_feature == cfg.n_in)):
                    m.d.sync += label.eq(self.examples.payload)
            if cfg.model == "mlp":
                with m.Else():
                    h = _shr(acc, cfg.layer1_shift)
                    m.d.comb += [wr.addr.eq(cfg.n_in + row4),
                                 wr.data.eq(_clamp(h, cfg.act_bits)),
                                 wr.en.eq(v4 & (layer4 == 0))]
            target = Mux(row4 == label, 1 << cfg.score_frac, 0)
            errors.append(_sat(_shr(acc, cfg.score_shift) - target, ERROR_BITS))

        # --- squarer: M errors per output row, one per clock -------------------------
        pending = [Signal(signed(ERROR_BITS), name=f"error{u}") for u in range(M)]
        left = Signal(range(M + 1))
        square = Signal(signed(2 * ERROR_BITS + 1))  # -e*e in the -eps pass
        square_valid = Signal()
        m.d.sync += [square.eq(pending[0] * Mux(phase == _Phase.MINUS, -pending[0], pending[0])),
                     square_valid.eq(left != 0)]
        with m.If(out4):
            m.d.sync += [left.eq(M)] + [p.eq(e) for p, e in zip(pending, errors)]
        with m.Elif(left != 0):
            m.d.sync += [left.eq(left - 1)] + [p.eq(q) for p, q in zip(pending, pending[1:])]
        with m.If(square_valid):
            m.d.sync += delta.eq(delta + square)
        drained = ~in_flight & (left == 0) & ~square_valid

        # --- control -----------------------------------------------------------------
        param_pending = Signal()
        m.d.comb += [
            self.busy.eq(~idle),
            self.seed.ready.eq(idle),
            self.step.ready.eq(idle),
            self.read.ready.eq(idle & ~self.param.valid & ~param_pending),
            src.seed.valid.eq(self.seed.valid & idle),
            src.seed.payload.eq(self.seed.payload),
            src.start.payload.eq(t),
            self.examples.ready.eq(state == _State.LOAD),
            self.delta.payload.eq(delta),
            self.delta.valid.eq(state == _State.DONE),
        ]
        m.d.sync += param_pending.eq(self.read.valid & self.read.ready)
        with m.If(param_pending):
            m.d.sync += [self.param.payload.eq(theta_rd.data), self.param.valid.eq(1)]
        with m.Elif(self.param.ready):
            m.d.sync += self.param.valid.eq(0)

        with m.Switch(state):
            with m.Case(_State.IDLE):
                with m.If(self.step.valid):
                    m.d.sync += [t.eq(self.step.payload), delta.eq(0), round_.eq(0),
                                 load_example.eq(0), load_feature.eq(0), state.eq(_State.LOAD)]
            with m.Case(_State.LOAD):
                with m.If(load_take):
                    m.d.sync += load_feature.eq(load_feature + 1)
                    with m.If(load_feature == cfg.n_in):
                        m.d.sync += [load_feature.eq(0), load_example.eq(load_example + 1)]
                        with m.If(load_example == M - 1):
                            m.d.sync += [load_example.eq(0), phase.eq(_Phase.PLUS), state.eq(_State.START)]
            with m.Case(_State.START):
                m.d.comb += src.start.valid.eq(1)
                with m.If(src.start.ready):
                    m.d.sync += [i0.eq(0), layer0.eq(0), row0.eq(0), col0.eq(0), gap.eq(0),
                                 state.eq(_State.RUN)]
                    if P > 1:
                        m.d.sync += word.eq(0)
            with m.Case(_State.RUN):
                with m.If(issue & (i0 == d - 1)):
                    m.d.sync += state.eq(_State.DRAIN)
            with m.Case(_State.DRAIN):
                with m.If(drained):
                    with m.Switch(phase):
                        with m.Case(_Phase.PLUS):
                            m.d.sync += [phase.eq(_Phase.MINUS), state.eq(_State.START)]
                        with m.Case(_Phase.MINUS):
                            m.d.sync += round_.eq(round_ + 1)
                            with m.If(round_ == cfg.rounds - 1):
                                m.d.sync += state.eq(_State.GRAD)
                            with m.Else():
                                m.d.sync += state.eq(_State.LOAD)
                        with m.Case(_Phase.UPDATE):
                            m.d.sync += state.eq(_State.DONE)
            with m.Case(_State.GRAD):
                m.d.sync += [gq.eq(_sat(_rshr(delta, cfg.grad_shift), cfg.grad_bits)),
                             phase.eq(_Phase.UPDATE), state.eq(_State.START)]
            with m.Case(_State.DONE):
                with m.If(self.delta.ready):
                    m.d.sync += state.eq(_State.IDLE)
        return m


def engine_trainer_config(cfg: PezoConfig) -> TrainerConfig:
    """The default trainer (MLP 64-16-10, M = 4, b = 64) on the PeZO engine built from
    ``cfg``: source ``pezo-pool`` for the pool strategy, ``pezo-stream`` otherwise."""
    return TrainerConfig(source="pezo-pool" if cfg.strategy == "pool" else "pezo-stream", pezo=cfg)


def trainer_for_engine(cfg: PezoConfig) -> ZoTrainer:
    """The registry's ``trainer`` design (:func:`engine_trainer_config`), so ``pezo
    verilog/synth --design trainer`` take the engine's configuration options."""
    return ZoTrainer(engine_trainer_config(cfg))
