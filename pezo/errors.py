"""User-facing errors: each one is a single line that says what to do.

The CLI catches :class:`PezoError`, prints ``pezo: error: <message>`` and exits 2;
library users get an ordinary exception with the same one-line message.
"""


class PezoError(Exception):
    """Base of every error that is the user's to fix (bad input, missing tool)."""


class ConfigError(PezoError, ValueError):
    """An invalid configuration value; the message names the field and the allowed values."""

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {field}={value!r}: {allowed}")

    def __reduce__(self):
        # rebuilt from its fields, so it crosses process boundaries (process pools)
        return ConfigError, (self.field, self.value, self.allowed)


class ToolError(PezoError, RuntimeError):
    """An external tool (simulator, Yosys, nextpnr) is missing or failed; ``log`` is the
    path of the tool's log where there is one (also named in the message)."""

    def __init__(self, message: str, log: object = None):
        super().__init__(message)
        self.log = None if log is None else str(log)


class Interrupted(KeyboardInterrupt):
    """The user stopped pezo: Ctrl-C (SIGINT) or SIGTERM; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
