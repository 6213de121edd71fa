"""The ``pezo`` command: a thin layer of subcommands over the library.

Every module in :mod:`pezo.commands` (except ``options``) registers one subcommand.
Errors meant for the user (:class:`pezo.errors.PezoError`) are printed as one line
``pezo: error: ...`` with exit status 2; they never show a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import pezo
import pezo.commands
from pezo.errors import PezoError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pezo",
        description="PeZO hardware toolkit: Verilog generation, co-simulation, synthesis "
                    "reports and zeroth-order training with perturbation-efficient random numbers.")
    parser.add_argument("--version", action="version", version=f"pezo {pezo.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(pezo.commands.__path__), key=lambda m: m.name):
        if info.name != "options":
            importlib.import_module(f"pezo.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PezoError as exc:
        print(f"pezo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pezo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: stop quietly, like other Unix tools
        sys.stdout = None
        return 141


if __name__ == "__main__":
    sys.exit(main())
