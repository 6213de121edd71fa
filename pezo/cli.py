"""The ``pezo`` command: a thin layer of subcommands over the library.

Every module in :mod:`pezo.commands` (except ``options``) registers one subcommand.
Errors meant for the user (:class:`pezo.errors.PezoError`, and bad command-line
syntax) are printed as one line ``pezo: error: ...`` with exit status 2; they never
show a traceback. Ctrl-C (SIGINT) and SIGTERM stop the command at once: every process
it started is killed (:func:`pezo.flow.workers.stop_children`) and the exit status is
128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import threading
from typing import NoReturn

import pezo
import pezo.commands
from pezo.errors import Interrupted, PezoError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (the usage is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"pezo: error: {message} (see {self.prog} --help)\n")


class _Versions(argparse.Action):
    """``--version``: pezo and the versions of the tools it drives."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="show the versions of pezo and its tools and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from pezo.toolchain import versions
        print("\n".join(f"{name} {version}" for name, version in versions().items()))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="pezo",
        description="PeZO hardware toolkit: Verilog generation, co-simulation, synthesis "
                    "reports and zeroth-order training with perturbation-efficient random numbers.")
    parser.add_argument("--version", action=_Versions)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(pezo.commands.__path__), key=lambda m: m.name):
        if info.name != "options":
            importlib.import_module(f"pezo.commands.{info.name}").register(sub)
    return parser


def _interrupt(signum: int, frame: object) -> NoReturn:
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    previous = ({sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
                if threading.current_thread() is threading.main_thread() else {})
    try:
        return int(args.func(args) or 0)
    except PezoError as exc:
        print(f"pezo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the clean-up
        from pezo.flow.workers import stop_children
        stop_children()
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"pezo: {'interrupted' if signum == signal.SIGINT else 'terminated'}; "
              "stopped every process it started", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: stop quietly, like other Unix tools
        sys.stdout = None
        return 141
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
