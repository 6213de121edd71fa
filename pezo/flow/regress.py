"""The cocotb regression in a child process, so the report runs it beside synthesis.

``python -m pezo.flow.regress [--full]`` runs ``pezo.sim.regression.regression`` (the
quick cases unless ``--full``) and prints one JSON object per finished case, then a
line ``{"done": true}``. :class:`BackgroundRegression` starts it, echoes each case as a
progress line and collects the summary.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path


class BackgroundRegression:
    """The regression running in a child process; its output is kept in ``log``."""

    def __init__(self, full: bool, log: Path, echo=print):
        self.full = full
        self.log = Path(log)
        self.cases: list[dict] = []
        self.error: str | None = None
        self._echo = echo
        argv = [sys.executable, "-m", "pezo.flow.regress"] + (["--full"] if full else [])
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      stdin=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with open(self.log, "w") as log:
            for line in self._proc.stdout:
                log.write(line)
                log.flush()
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(item, dict) and "case" in item:
                    self.cases.append(item)
                    self._echo(f"  sim {'PASS' if item['passed'] else 'FAIL'} {item['case']} "
                               f"({item['seconds']:.1f} s) {item['detail']}")

    def result(self) -> dict:
        """Wait for the child and summarise (``error`` if it did not finish cleanly)."""
        code = self._proc.wait()
        self._reader.join()
        if code != 0:
            return {"error": f"regression process exited with status {code}; log: {self.log}",
                    "passed": sum(c["passed"] for c in self.cases), "total": len(self.cases)}
        return {"quick_only": not self.full, "passed": sum(c["passed"] for c in self.cases),
                "total": len(self.cases), "log": str(self.log),
                "failed": [{"case": c["case"], "detail": c["detail"]} for c in self.cases if not c["passed"]]}


def main(argv: list[str]) -> int:
    from pezo.sim.regression import regression

    def report(outcome) -> None:
        print(json.dumps({"case": outcome.case, "passed": outcome.passed, "detail": outcome.detail,
                          "seconds": outcome.seconds}), flush=True)

    regression(quick="--full" not in argv, report=report)
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
