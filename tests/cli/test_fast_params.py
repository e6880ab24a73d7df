"""Plain CLI values skip typer's pydantic coercion: same values, same errors, no pydantic at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw.cli import main
from scalelaw.cli._fast_params import PassPlain, install, plain_type


def _fresh(code: str) -> str:
    src = str(Path(scalelaw.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout


def test_help_and_laws_do_not_import_pydantic() -> None:
    code = ("import sys, json, io, contextlib\nfrom scalelaw.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    for args in (['--help'], ['laws'], ['fit', '--help'], ['plan', 'compute', '--help']):\n"
            "        main.run(args)\n"
            "print(json.dumps('pydantic' in sys.modules))")
    assert json.loads(_fresh(code).strip().splitlines()[-1]) is False


def _params() -> list[object]:
    import typer.main

    main._register_commands()
    found = []

    def walk(command: object) -> None:
        found.extend(getattr(command, "params", []))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(main.app))
    return found


def test_plain_values_coerce_as_typer_does() -> None:
    """Every parameter of every command: its default (and a string for str options) gives typer's value."""
    install()
    from typer.core import _TyperParameter

    checked = 0
    for param in _params():
        if not isinstance(param, _TyperParameter) or plain_type(param.type_descriptor) is None:
            continue
        fast = param.get_runtime_param()
        assert isinstance(fast, PassPlain)
        samples = [param.default, None]
        kind = plain_type(param.type_descriptor)
        multi = param.multiple or param.nargs == -1
        samples.append(("a", "b") if multi and kind in (str, Path) else "text" if kind in (str, Path) else None)
        for value in samples:
            if callable(value):
                continue
            ours = fast.coerce(value, param=param, ctx=None)
            theirs = fast.typer_coercion().coerce(value, param=param, ctx=None)
            assert ours == theirs and type(ours) is type(theirs), (param.name, value, ours, theirs)
            checked += 1
    assert checked > 100


def test_a_bad_number_still_gets_typers_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "runs.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"run": [f"r{i}" for i in range(12)], "params": 10 ** rng.uniform(7, 9, 12),
                  "tokens": 10 ** rng.uniform(9, 11, 12), "loss": rng.uniform(2, 3, 12)}).to_csv(data, index=False)
    assert main.run(["fit", str(data), "--law", "chinchilla", "--delta", "abc"]) == 2
    assert "Invalid value for '--delta'" in capsys.readouterr().err
