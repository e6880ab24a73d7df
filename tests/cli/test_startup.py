"""Start-up: the command line answers ``--help`` and ``laws`` without numerical libraries.

Checked on ``sys.modules`` in a fresh interpreter (not timed): importing the CLI, root
help, ``laws`` and every command's ``--help`` must not import pandas, scipy, matplotlib,
torch or ray; those load inside the commands that use them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import scalelaw

HEAVY = ("pandas", "scipy", "matplotlib", "torch", "ray")

_PROBE = """
import json, sys
from scalelaw.cli import main
loaded = {"import": sorted(m for m in HEAVY if m in sys.modules)}
for args in ARGS:
    main.run(args)
loaded["run"] = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps(loaded))
"""


def _every_help_command() -> list[list[str]]:
    """``[..., "--help"]`` for the root and every command and group of the app."""
    import typer.main

    from scalelaw.cli import main

    main._register_commands()
    out: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        out.append([*path, "--help"])
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(main.app), [])
    return out


def _probe(args: list[list[str]]) -> dict[str, list[str]]:
    code = f"HEAVY = {HEAVY!r}\nARGS = {args!r}\n{_PROBE}"
    src = str(Path(scalelaw.__file__).parents[1])  # the checkout under test, not the installed copy
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_pulls_no_numerical_library() -> None:
    assert _probe([]) == {"import": [], "run": []}


def test_help_and_laws_pull_no_numerical_library() -> None:
    commands = _every_help_command()
    assert len(commands) > 20 and ["plan", "compute", "--help"] in commands
    assert _probe([*commands, ["laws"], ["laws", "--json"]])["run"] == []
