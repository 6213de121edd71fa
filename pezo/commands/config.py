"""``pezo config``: print or write a configuration as TOML."""

from __future__ import annotations

import argparse
import sys

import tomli_w

from pezo.commands.options import add_config_options, check_output_file, config_from_options, config_given
from pezo.errors import PezoError
from pezo.ref.config import PRESETS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print or write a configuration (preset, file, overrides) as TOML")
    add_config_options(p)
    p.add_argument("--out", metavar="FILE", help="write the TOML here instead of printing it")
    p.add_argument("--list", action="store_true", help="list the preset names")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list:
        if config_given(args) or args.out:
            raise PezoError("--list prints the preset names and takes no other option")
        print("\n".join(PRESETS))
        return 0
    cfg = config_from_options(args)
    if args.out:
        check_output_file(args.out, "--out")
        try:
            cfg.save_toml(args.out)
        except OSError as exc:
            raise PezoError(f"cannot write --out {args.out}: {exc.strerror}") from None
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(tomli_w.dumps({"pezo": cfg.to_dict()}))
    return 0
