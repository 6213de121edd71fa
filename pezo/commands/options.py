"""Command-line options shared by several subcommands."""

from __future__ import annotations

import argparse

from pezo.errors import ConfigError, PezoError
from pezo.ref.config import PezoConfig, preset


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """--preset NAME | --config FILE, plus --set FIELD=VALUE overrides."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--preset", default="default", help="named configuration preset (default: %(default)s)")
    group.add_argument("--config", metavar="FILE", help="configuration TOML file (see `pezo config`)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override one config field, e.g. --set parallel=4 (repeatable)")


def config_from_options(args: argparse.Namespace) -> PezoConfig:
    """The validated config chosen by --preset / --config / --set."""
    cfg = PezoConfig.load_toml(args.config) if args.config else preset(args.preset)
    changes: dict[str, object] = {}
    for item in args.set:
        field, sep, text = item.partition("=")
        if not sep:
            raise PezoError(f"--set expects FIELD=VALUE, got {item!r}")
        changes[field.strip()] = text.strip() if field.strip() == "strategy" else _int(field, text)
    return cfg.replace(**changes) if changes else cfg


def _int(field: str, text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ConfigError(field, text, "must be an integer") from None
