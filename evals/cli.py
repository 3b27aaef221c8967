"""The `evals` command. Exit codes: 0 every gate passes, 1 a gate fails, 2 usage or input error.

Heavy modules (litellm, datasets, the engine) are imported inside the commands, so `evals --help`
stays fast. Each command is a module of `evals.commands`; importing it registers it on the app,
in the order the help lists them.
"""

from __future__ import annotations

import importlib
import sys

from evals.cli_app import app

#: The commands, in the order `evals --help` lists them; each is the module
#: `evals.commands.<name>`, which registers itself on the app when imported.
COMMANDS = (
    "init",
    "run",
    "validate",
    "scan",
    "runs",
    "report",
    "approve",
    "plan",
    "compare",
    "verify",
    "schema",
    "calibrate",
)
for _name in COMMANDS:
    importlib.import_module(f"evals.commands.{_name}")

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
