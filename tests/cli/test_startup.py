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


def test_fitting_a_csv_loads_only_what_the_fit_needs(tmp_path: Path) -> None:
    """The fit command reads a CSV and fits Chinchilla without SciPy (its own optimiser), PyYAML (Lightning's
    and MLflow's readers import it when they read) or Parquet (a run store's writer)."""
    import numpy as np

    rng = np.random.default_rng(0)
    size, tokens = 10 ** rng.uniform(7.5, 10.0, 40), 10 ** rng.uniform(9.0, 11.5, 40)
    loss = 1.82 + 482.0 * size**-0.348 + 2085.0 * tokens**-0.366
    lines = ["run,params,tokens,loss"] + [f"r{i},{n},{d},{v}" for i, (n, d, v) in enumerate(zip(size, tokens, loss))]
    (tmp_path / "runs.csv").write_text("\n".join(lines) + "\n")
    unneeded = ("scipy", "yaml", "pyarrow.parquet", "matplotlib", "torch")
    code = (f"import json, sys\nfrom scalelaw.cli import main\n"
            f"try:\n    main.run(['fit', {str(tmp_path / 'runs.csv')!r}, '--law', 'chinchilla', '--out', "
            f"{str(tmp_path / 'fit.json')!r}])\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps(sorted(m for m in {unneeded!r} if m in sys.modules)))")
    src = str(Path(scalelaw.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert json.loads((tmp_path / "fit.json").read_text())["law"] == "chinchilla"


def test_one_blas_thread_unless_the_user_chose_or_a_model_is_trained() -> None:
    """A fresh CLI process sets OPENBLAS_NUM_THREADS=1 before NumPy loads (its threads only spin on
    scalelaw's small products), keeps a value the user set, and leaves ``ladder`` (torch) alone."""
    src = str(Path(scalelaw.__file__).parents[1])
    code = ("import os, sys\nfrom scalelaw.cli import main\nmain._quiet_blas(sys.argv[1:])\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))")

    def blas(args: list[str], **env: str) -> str:
        base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        full = {**base, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]), **env}
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=full)
        return done.stdout.strip()

    assert blas(["fit", "runs.csv"]) == "1"
    assert blas(["fit", "runs.csv"], OPENBLAS_NUM_THREADS="4") == "4"
    assert blas(["ladder", "run", "spec.yaml"]) == "unset"


def test_numbers_on_the_command_line_need_no_pydantic(tmp_path: Path) -> None:
    """predict and plan with numeric options (one with bounds) read plain numbers without typer's pydantic
    coercion, and without pandas; a value out of bounds or not a number still gets typer's message."""
    from scalelaw.cli.main import run

    fit = tmp_path / "fit.json"
    assert run(["fit", "dataset:olmo-ladder", "--law", "chinchilla", "--out", str(fit)]) == 0
    argv = [["predict", str(fit), "--at", "params=1e9,tokens=2e10", "--points", "5", "--level", "0.9"],
            ["plan", "compute", str(fit), "--flops", "1e21"]]
    code = (f"import json, sys\nfrom scalelaw.cli import main\nfor args in {argv!r}:\n    try:\n"
            f"        main.run(args)\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
            f"print(json.dumps(['pydantic' in sys.modules, 'pandas' in sys.modules]))")
    src = str(Path(scalelaw.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    # neither typer's pydantic nor pandas: a prediction from a FIT.json reads no table (0.93 -> 0.37 s)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, False]
    for bad, words in ((["--points", "0"], "greater than or equal to 1"), (["--points", "abc"], "'--points'"),
                       (["--points", "2.5"], "'--points'"), (["--level", "x"], "'--level'")):
        done = subprocess.run([sys.executable, "-m", "scalelaw", "predict", str(fit), "--at",
                               "params=1e9,tokens=2e10", *bad], capture_output=True, text=True, env=env)
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
