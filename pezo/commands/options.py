"""Command-line options and checks shared by several subcommands.

Every check here runs before a command starts its work and raises a one-line
:class:`PezoError` (or an argparse error) naming the option, so bad input never costs
a synthesis or a training run and never leaves a half-written file.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from pezo.errors import ConfigError, PezoError
from pezo.ref.config import PezoConfig, preset

DEFAULT_PRESET = "default"


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """--preset NAME | --config FILE, plus --set FIELD=VALUE overrides."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--preset", help=f"named configuration preset (default: {DEFAULT_PRESET})")
    group.add_argument("--config", metavar="FILE", help="configuration TOML file (see `pezo config`)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override one config field, e.g. --set parallel=4 (repeatable)")


def config_given(args: argparse.Namespace) -> bool:
    """Whether the user chose a configuration (--preset, --config or --set)."""
    return bool(args.preset or args.config or args.set)


def config_label(args: argparse.Namespace) -> str:
    """How the configuration was chosen, as the options that choose it."""
    label = f"--config {args.config}" if args.config else f"--preset {args.preset or DEFAULT_PRESET}"
    return label + "".join(f" --set {item}" for item in args.set)


def config_from_options(args: argparse.Namespace) -> PezoConfig:
    """The validated config chosen by --preset / --config / --set."""
    cfg = load_config(args.config) if args.config else preset(args.preset or DEFAULT_PRESET)
    changes = parse_sets(args.set)
    return cfg.replace(**changes) if changes else cfg


def load_config(path: str) -> PezoConfig:
    """The config in the TOML file ``path``; any unreadable file is a one-line error."""
    if Path(path).is_dir():
        raise PezoError(f"--config {path} is a directory, not a TOML file")
    try:
        return PezoConfig.load_toml(path)
    except UnicodeDecodeError:
        raise PezoError(f"--config {path} is not UTF-8 text (a TOML file is)") from None
    except OSError as exc:
        raise PezoError(f"cannot read --config {path}: {exc.strerror}") from None


def parse_sets(items: list[str]) -> dict[str, object]:
    """--set FIELD=VALUE items as config changes (integers, except ``strategy``)."""
    changes: dict[str, object] = {}
    for item in items:
        field, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not field:
            raise PezoError(f"--set expects FIELD=VALUE, got {item!r}")
        if field == "strategy":
            changes[field] = text
            continue
        try:
            changes[field] = int(text, 0)
        except ValueError:
            raise ConfigError(field, text, "must be an integer") from None
    return changes


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def write_json(path: str, data: dict) -> None:
    """Write ``data`` as indented JSON to ``path`` and say so; an OS error is one line."""
    try:
        Path(path).write_text(json.dumps(data, indent=2) + "\n")
    except OSError as exc:
        raise PezoError(f"cannot write {path}: {exc.strerror}") from None
    print(f"wrote {path}")


def check_output_file(path: str, option: str) -> Path:
    """``path`` can be written as a file (its folder exists and is writable, and it is
    not a folder); nothing is created or changed."""
    target = Path(path)
    if target.is_dir():
        raise PezoError(f"{option} {path} is a directory; give a file name")
    parent = target.parent
    if not parent.is_dir():
        raise PezoError(f"{option} {path}: the folder {parent} does not exist")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise PezoError(f"{option} {path} is not writable")
        return target
    if not os.access(parent, os.W_OK | os.X_OK) or not _can_create(parent):
        raise PezoError(f"{option} {path}: cannot create files in {parent}")
    return target


def _can_create(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (a probe file, removed at once; root
    passes os.access everywhere, even on /proc)."""
    probe = folder / f".pezo-probe-{os.getpid()}"
    try:
        probe.touch(exist_ok=False)
    except OSError:
        return False
    probe.unlink()
    return True


def check_output_dir(path: str, option: str) -> Path:
    """``path`` is or can become a writable folder (nothing is created here)."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise PezoError(f"{option} {path} exists and is not a directory")
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        raise PezoError(f"{option} {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK) or not _can_create(existing):
        raise PezoError(f"{option} {path}: cannot write in {existing}")
    return target
