"""One module per ``pezo`` subcommand; each exposes ``register(subparsers)``."""
