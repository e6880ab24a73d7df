"""The commands a user types after training, driven through the CLI, with the checks that matter.

``runs import <what the tool wrote>``, ``fit --law chinchilla``, ``fit --law auto``,
``predict`` from each written FIT.json and ``report``: params and tokens present and right,
the law ``auto`` chose reads the model size, predictions finite with intervals around them.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from e2e_tiny import TOKENS_PER_STEP
from scalelaw.cli.main import run
from scalelaw.data.store import RunStore
from scalelaw.fit import load_fit


def scalelaw(command: str) -> tuple[int, str, str]:
    """Run a command line as a user types it (``scalelaw ...``): exit code, stdout, stderr."""
    args = shlex.split(command)
    assert args[0] == "scalelaw"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(args[1:])
    return code, out.getvalue(), err.getvalue()


def check_store(store: Path, expected_params: dict[str, int], *, tokens: bool = True) -> None:
    """Every expected run is stored (under its name, or a tool's NAME/version_N) with its exact parameter count
    and tokens = step x tokens per step."""
    runs = RunStore(store).load()
    named = {name: [r for r in runs.runs if r == name or r.startswith(name + "/")] for name in expected_params}
    assert all(len(found) == 1 for found in named.values()) and len(runs.runs) == len(named), runs.runs
    for name, params in expected_params.items():
        curve = runs.curve(named[name][0])
        assert curve["params"].dropna().unique().tolist() == [float(params)], (name, curve["params"].unique())
        if tokens:
            assert "tokens" in curve.columns, f"run {name}: no tokens (columns {', '.join(curve.columns)})"
            logged = curve.dropna(subset=["loss", "tokens"])
            assert len(logged) >= 3, (name, curve.columns.tolist())
            assert np.allclose(logged["tokens"], logged["step"] * TOKENS_PER_STEP), (name, logged[["step", "tokens"]])


def import_runs(source: str, store: Path, extra: str = "") -> str:
    """``scalelaw runs import SOURCE --store STORE``; returns stderr (warnings)."""
    code, _, err = scalelaw(f"scalelaw runs import {shlex.quote(source)} --store {shlex.quote(str(store))} {extra}")
    assert code == 0, err
    return err


def fit_predict_report(store: Path, work: Path) -> dict[str, Any]:
    """Fit chinchilla and auto on the store, predict from both FIT.json files, write a report; the fits' summaries."""
    data, chin, auto = shlex.quote(str(store)), work / "chinchilla.json", work / "auto.json"
    code, out, err = scalelaw(f"scalelaw fit {data} --law chinchilla --out {chin} --json")
    assert code == 0, err
    code, out, err = scalelaw(f"scalelaw fit {data} --law auto --out {auto} --json")
    assert code == 0, err
    chosen = load_fit(auto)
    # the model size is read directly or through compute (6ND), as the selection itself counts it
    assert {"params", "flops"} & set(chosen.law.inputs), f"--law auto chose {chosen.law.name}, blind to the model size"
    assert chosen.diagnostics.converged, f"--law auto answered with {chosen.law.name}, which did not converge"
    assert chosen.selection is not None and chosen.selection["chosen"]
    code, out, err = scalelaw(f"scalelaw predict {chin} --at params=1e5,tokens={30 * TOKENS_PER_STEP} --json")
    assert code == 0, err
    _check_rows(json.loads(out))
    code, out, err = scalelaw(f"scalelaw predict {auto} --runs {data} --json")
    assert code == 0, err
    _check_rows(json.loads(out))
    report = work / "report.html"
    code, out, err = scalelaw(f"scalelaw report {auto} --out {report} --json")  # the fitted runs: FIT.json's record
    assert code == 0, err
    assert json.loads(out)["fitted_runs"] == chosen.diagnostics.n_runs, out  # the law drawn on the runs it was fitted to
    assert report.stat().st_size > 10_000 and chosen.law.name in report.read_text(encoding="utf-8")
    return {"chinchilla": load_fit(chin), "auto": chosen}


def _check_rows(rows: list[dict[str, Any]]) -> None:
    assert rows
    for row in rows:
        loss, lo, hi = row.get("loss", row.get("value")), row["lo"], row["hi"]
        assert all(isinstance(v, float) and math.isfinite(v) for v in (loss, lo, hi)), row
        assert lo <= loss <= hi and hi > lo, row
