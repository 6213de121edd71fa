"""``pezo train``: ZO training on digits with a chosen perturbation source, the
comparison of every source (``--compare``) with the PeZO target checks, the RTL
co-simulation (``--rtl``) or the fixed-point golden trainer (``--fixed``) beside its
float twin and the ordinary float run."""

from __future__ import annotations

import argparse
import csv

from tqdm import tqdm

from pezo.commands.options import check_output_file, parse_sets, positive_int, write_json
from pezo.errors import PezoError
from pezo.ref.config import preset
from pezo.ref.train.compare import compare_sources
from pezo.ref.train.fixed_config import TrainerConfig
from pezo.ref.train.fixed_train import DEFAULT_STEPS as FIXED_STEPS
from pezo.ref.train.fixed_train import FIXED_RUNS, FIXED_TOLERANCE_POINTS, compare_fixed
from pezo.ref.train.loop import TrainResult, TrainSettings
from pezo.ref.train.models import MODELS
from pezo.ref.train.run import METHODS, check_method, train
from pezo.ref.train.sources import ENGINE_SOURCES, PEZO_PRESETS, SOURCES, source_config

DEFAULTS = TrainSettings()
#: What ``pezo train --rtl`` uses unless the options say otherwise: 64-8-10 MLP (610
#: parameters, more than the default 512-word pool, so every step spans two pool
#: wraps and their fresh offsets), 8 steps, the default PeZO engine.
RTL_STEPS = 8
RTL_HIDDEN = 8
RTL_METHOD = "pezo-pool"


def _method_name(name: str) -> str:
    """``pezo`` (docs/design.md's name) is the default PeZO variant, the pool engine."""
    return "pezo-pool" if name == "pezo" else name


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="zeroth-order training on digits with gaussian, uniform or PeZO perturbations",
                       description="ZO-SGD (two-point SPSA, MeZO style) on scikit-learn's digits with a "
                                   "replayable perturbation source, or first-order SGD as the ceiling.")
    p.add_argument("--perturb", action="append", metavar="NAME", type=_method_name,
                   help=f"perturbation source: {', '.join(METHODS)}; pezo = pezo-pool (with --compare: repeatable, "
                        "default all)")
    p.add_argument("--model", default=DEFAULTS.model, help=f"{', '.join(MODELS)} (default: %(default)s)")
    p.add_argument("--hidden", type=positive_int,
                   help=f"MLP hidden units (default: {DEFAULTS.hidden}; with --rtl {RTL_HIDDEN})")
    p.add_argument("--steps", type=positive_int,
                   help=f"optimizer steps (default: {DEFAULTS.steps}; with --rtl {RTL_STEPS})")
    p.add_argument("--batch", type=positive_int, default=DEFAULTS.batch,
                   help="minibatch size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default: %(default)s)")
    p.add_argument("--lr", type=float,
                   help=f"learning rate (ZO default {DEFAULTS.lr}; with --perturb sgd the SGD rate, "
                        f"default {DEFAULTS.sgd_lr})")
    p.add_argument("--sgd-lr", type=float, default=DEFAULTS.sgd_lr,
                   help="SGD learning rate in --compare (default: %(default)s)")
    p.add_argument("--eps", type=float, default=DEFAULTS.eps, help="ZO perturbation size (default: %(default)s)")
    p.add_argument("--eval-every", type=positive_int, default=DEFAULTS.eval_every,
                   help="steps between accuracy evaluations (default: %(default)s)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a field of the pezo presets, e.g. --set pool_size=2048 (repeatable)")
    p.add_argument("--compare", action="store_true", help="train every source and sgd, print the table and checks")
    p.add_argument("--rtl", action="store_true",
                   help="co-simulate: train with perturbations read from the engine RTL (Icarus) and with the "
                        "golden model, print both loss sequences and whether they are bit-exact (exit 1 if not); "
                        f"default --perturb pezo-pool, --hidden {RTL_HIDDEN}, --steps {RTL_STEPS}")
    p.add_argument("--fixed", action="store_true",
                   help="run the fixed-point golden trainer of docs/trainer.md at full length and print its test "
                        "accuracy beside its float twin's and the ordinary float ZO run's with the same source "
                        f"(default --perturb pezo-pool, --steps {FIXED_STEPS}; --seeds N: seeds 0..N-1)")
    p.add_argument("--eps-shift", type=int, metavar="E",
                   help="with --fixed: eps = 2**-E (default: the measured one of docs/trainer.md)")
    p.add_argument("--lr-shift", type=int, metavar="L",
                   help="with --fixed: lr = 2**-L (default: the measured one of docs/trainer.md)")
    p.add_argument("--seeds", type=positive_int,
                   help="seeds 0..N-1 in --compare (default: 5) or --fixed (default: --seed only)")
    p.add_argument("--workers", type=positive_int,
                   help="parallel training processes in --compare (default: CPU count) and --fixed (default: 1)")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument("--curves", metavar="FILE", help="write the accuracy and loss curves as CSV")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    methods = [check_method(m) for m in args.perturb or []]
    overrides = parse_sets(args.set) or None
    for name in PEZO_PRESETS.values():
        preset(name).replace(**(overrides or {}))
    for path, option in ((args.json, "--json"), (args.curves, "--curves")):
        if path:
            check_output_file(path, option)
    if args.fixed:
        return _train_fixed(args, methods, overrides)
    for flag, option in ((args.eps_shift, "--eps-shift"), (args.lr_shift, "--lr-shift")):
        if flag is not None:
            raise PezoError(f"{option} is an option of --fixed (the float runs take --eps and --lr)")
    if args.rtl:
        return _train_rtl(args, methods, overrides)
    zo_lr = args.lr if args.lr is not None else DEFAULTS.lr
    settings = TrainSettings(model=args.model, hidden=args.hidden or DEFAULTS.hidden,
                             steps=args.steps or DEFAULTS.steps, batch=args.batch,
                             lr=zo_lr, eps=args.eps, sgd_lr=args.sgd_lr, eval_every=args.eval_every)
    if args.compare:
        return _compare(args, settings, methods, overrides)
    if len(methods) != 1:
        raise PezoError(f"give exactly one --perturb ({', '.join(METHODS)}), or --compare")
    method = methods[0]
    if method == "sgd" and args.lr is not None:
        settings = settings.replace(sgd_lr=args.lr)
    with tqdm(total=settings.steps, desc=method, unit="step", disable=args.no_progress, leave=False) as bar:
        result = train(method, settings, args.seed, overrides, on_step=lambda _s: bar.update())
    print(f"{method} on {settings.model}, seed {args.seed}")
    print(f"{'step':>8} {'test acc %':>10} {'train loss':>10}")
    for step, acc, loss in zip(result.steps, result.test_acc, result.train_loss):
        print(f"{step:>8} {100 * acc:>10.2f} {loss:>10.4f}")
    if args.json:
        write_json(args.json, {"settings": {**settings.to_dict(), "perturb": method, "seed": args.seed,
                                             "pezo_overrides": overrides},
                                "test_acc": result.final_test_acc, "final_loss": result.final_loss,
                                "seconds": result.seconds, "curves": _curves(result)})
    if args.curves:
        _write_csv(args.curves, [(method, s, a, l) for s, a, l in
                                 zip(result.steps, result.test_acc, result.train_loss)])
    return 0


def _compare(args: argparse.Namespace, settings: TrainSettings, methods: list[str],
             overrides: dict[str, object] | None) -> int:
    result = compare_sources(model=settings.model, seeds=args.seeds or 5, sources=methods or None,
                             progress=not args.no_progress, settings=settings,
                             pezo_overrides=overrides, workers=args.workers)
    st = result["settings"]
    print(f"{st['model']} ({st['n_params']} parameters), {st['steps']} steps, batch {st['batch']}, "
          f"ZO lr {st['lr']} eps {st['eps']}, SGD lr {st['sgd_lr']}, seeds {len(st['seeds'])}")
    print(f"{'source':<12} {'test acc %':>10} {'std':>6} {'final loss':>10} {'fresh/step':>11} {'words/s':>10} "
          f"{'x numpy':>8}")
    for name, s in result["sources"].items():
        rate = f"{s['words_per_s'] / 1e6:.1f} M" if s["words_per_s"] else "-"
        ratio = f"{s['words_per_s_vs_numpy']:.2f}" if s["words_per_s_vs_numpy"] else "-"
        print(f"{name:<12} {100 * s['test_acc_mean']:>10.2f} {100 * s['test_acc_std']:>6.2f} "
              f"{s['final_loss_mean']:>10.4f} {s['fresh_per_step']:>11.2f} {rate:>10} {ratio:>8}")
    print(f"{'numpy N(0,1)':<12} {'':>10} {'':>6} {'':>10} {'':>11} "
          f"{st['numpy_standard_normal_words_per_s'] / 1e6:>8.1f} M {1.0:>8.2f}")
    print(f"words/s: z of {st['timing_steps']} new steps from a new source (pool fill, LFSR words, addressing "
          f"and scaling included, nothing cached before); numpy: one Generator reused over the run")
    print("target checks:")
    for check in result["checks"]:
        print(f"  {'PASS' if check['passed'] else 'MISS'}  {check['name']}: {check['measured']} "
              f"(target {check['target']})")
        if "note" in check:
            print(f"        why: {check['note']}")
    if args.json:
        write_json(args.json, result)
    if args.curves:
        _write_csv(args.curves, [(name, step, acc, loss) for name, s in result["sources"].items()
                                 for step, acc, loss in zip(s["curves"]["step"], s["curves"]["test_acc_mean"],
                                                            s["curves"]["train_loss_mean"])])
    return 0


def _train_rtl(args: argparse.Namespace, methods: list[str], overrides: dict[str, object] | None) -> int:
    """``pezo train --rtl``: co-simulated run vs golden run; 0 if bit-exact, else 1.

    Uses ``--perturb`` (default pezo-pool) and, unless given, a small model (``RTL_HIDDEN``
    hidden units: more parameters than the default pool, so the run spans several pool
    wraps) and few steps (``RTL_STEPS``)."""
    from pezo.sim.cosim import report_lines, run_rtl_training
    if args.compare:
        raise PezoError("--rtl and --compare are exclusive")
    if args.curves:
        raise PezoError("--curves is not written by --rtl (its table shows the losses of every step)")
    methods = methods or [RTL_METHOD]
    if len(methods) != 1:
        raise PezoError(f"--rtl takes one --perturb ({', '.join(ENGINE_SOURCES)})")
    settings = TrainSettings(model=args.model, hidden=args.hidden or RTL_HIDDEN, steps=args.steps or RTL_STEPS,
                             batch=args.batch, lr=args.lr if args.lr is not None else DEFAULTS.lr,
                             eps=args.eps, sgd_lr=args.sgd_lr, eval_every=1)
    result = run_rtl_training(methods[0], settings, args.seed, overrides, sim_seed=args.seed)
    print("\n".join(report_lines(result)))
    if args.json:
        write_json(args.json, {"settings": {**settings.to_dict(), "perturb": methods[0], "seed": args.seed,
                                             "pezo_overrides": overrides, "config": result.cfg.to_dict()},
                                "n_params": result.n_params, "bit_exact": result.bit_exact,
                                "differences": result.differences,
                                "train_loss_rtl": result.rtl.train_loss, "train_loss_golden": result.golden.train_loss})
    return 0 if result.bit_exact else 1


def _train_fixed(args: argparse.Namespace, methods: list[str], overrides: dict[str, object] | None) -> int:
    """``pezo train --fixed``: the golden fixed-point trainer, its float twin and the
    ordinary float ZO run, same source, steps and seeds; one line per run."""
    for on, option in ((args.compare, "--compare"), (args.rtl, "--rtl"), (args.curves, "--curves"),
                       (args.lr is not None, "--lr"), (args.eps != DEFAULTS.eps, "--eps")):
        if on:
            raise PezoError(f"--fixed does not take {option} (eps and lr are powers of two: --eps-shift, --lr-shift)")
    methods = methods or [RTL_METHOD]
    if len(methods) != 1 or methods[0] == "sgd":
        raise PezoError(f"--fixed takes one --perturb source ({', '.join(SOURCES)})")
    source = methods[0]
    shifts = {k: v for k, v in (("eps_shift", args.eps_shift), ("lr_shift", args.lr_shift)) if v is not None}
    pezo = source_config(source).replace(**(overrides or {}))
    tcfg = TrainerConfig(model=args.model, hidden=args.hidden or DEFAULTS.hidden, batch=args.batch, source=source,
                         pezo=pezo, **shifts)
    seeds = list(range(args.seeds)) if args.seeds else [args.seed]
    steps = args.steps or FIXED_STEPS
    say = None if args.no_progress else (lambda line: print(f"  {line}", flush=True))
    result = compare_fixed(tcfg, seeds, steps, args.eval_every, workers=args.workers or 1, progress=say)
    shape = "-".join(str(n) for n in (tcfg.n_in, *([tcfg.hidden] if tcfg.model == "mlp" else []), tcfg.n_out))
    print(f"fixed-point trainer: {tcfg.model} {shape} ({tcfg.n_params} parameters), {source}, {steps} steps, "
          f"batch {tcfg.batch}, eps 2^-{tcfg.eps_shift}, lr 2^-{tcfg.lr_shift}, seeds {', '.join(map(str, seeds))}")
    print(f"{'run':<30} {'test acc %':>10}  per seed")
    for name, label in FIXED_RUNS:
        run = result["runs"][name]
        print(f"{label:<30} {100 * run['test_acc_mean']:>10.2f}  "
              + " ".join(f"{100 * a:.2f}" for a in run["test_acc"]))
    print(f"fixed - twin: {result['gap_points']:+.2f} points (target: within {FIXED_TOLERANCE_POINTS} points)")
    rate = result["runs"]["fixed"]["steps_per_s"]
    print(f"golden model: {rate:.0f} training steps/s on this CPU"
          + (" (while sharing it with the other runs)" if (args.workers or 1) > 1 else ""))
    if args.json:
        write_json(args.json, result)
    return 0


def _curves(result: TrainResult) -> dict[str, list]:
    return {"step": result.steps, "test_acc": result.test_acc, "train_loss": result.train_loss}


def _write_csv(path: str, rows: list[tuple]) -> None:
    try:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["source", "step", "test_acc", "train_loss"])
            writer.writerows(rows)
    except OSError as exc:
        raise PezoError(f"cannot write {path}: {exc.strerror}") from None
    print(f"wrote {path}")
