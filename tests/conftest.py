"""Test-wide settings: the tests build under build/pytest/, apart from what a user's
`pezo sim` / `pezo report` writes under build/, so the two never share a folder."""

import os
from pathlib import Path

os.environ.setdefault("PEZO_BUILD_DIR", str(Path(__file__).resolve().parent.parent / "build" / "pytest"))
