"""``pezo verilog``: write the Verilog of one design and the config it was built from."""

from __future__ import annotations

import argparse
from pathlib import Path

from pezo.commands.options import add_config_options, config_from_options
from pezo.errors import PezoError
from pezo.hw.designs import DESIGNS, verilog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verilog", help="write the Verilog of one design (default: the engine) and its config")
    add_config_options(p)
    p.add_argument("--out", metavar="DIR", default="build/verilog",
                   help="output directory (default: %(default)s)")
    p.add_argument("--block", metavar="NAME", default="engine",
                   help=f"design to write: {', '.join(DESIGNS)} (default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_options(args)
    text = verilog(args.block, cfg)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        v_path = out / f"{args.block}.v"
        v_path.write_text(text)
        toml_path = out / f"{args.block}.toml"
        cfg.save_toml(toml_path)
    except OSError as exc:
        raise PezoError(f"cannot write to {out}: {exc.strerror}") from None
    print(f"wrote {v_path} (module top, {len(text.splitlines())} lines)")
    print(f"wrote {toml_path}")
    return 0
