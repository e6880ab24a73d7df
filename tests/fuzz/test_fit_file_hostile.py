"""Hostile FIT.json values (issue 23, items 8, 9 and 12): each is refused with exit 2, naming the file and the field.

A fit file is untrusted: a value the schema would pass by type alone (E = -50, a fitted
range of [1e-300, 1e300], a duplicated key) would predict nonsense or silence the
extrapolation guard. Every case writes one edited copy of a valid fit and runs the command
line on it.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile import FIT, Outcome, refused  # noqa: E402

from scalelaw.cli.main import run  # noqa: E402

PREDICT = ["--at", "params=1e8,tokens=1e10"]
#: A multi-power fit (curve law with a held prior), for the cases on law options.
MULTI_POWER: dict[str, Any] = {
    "law": "multi-power",
    "law_options": {"held": {"C": 2.0656, "beta": 0.5828, "gamma": 0.6414}},
    "params": {"L0": 2.5, "A": 0.5, "alpha": 0.5, "B": 400.0},
    "fitted_range": {"steps": [100, 5000], "lr": [1e-4, 3e-4]},
}


def _edit(change: Callable[[dict[str, Any]], None], base: dict[str, Any] = FIT) -> Callable[[], str]:
    def text() -> str:
        data = copy.deepcopy(base)
        change(data)
        return json.dumps(data)

    return text


def _set(path: str, value: Any, base: dict[str, Any] = FIT) -> Callable[[], str]:
    """The base fit with the field at dotted ``path`` set to ``value``."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data.setdefault(key, {})
        data[last] = value

    return _edit(change, base)


def _text(change: Callable[[str], str]) -> Callable[[], str]:
    return lambda: change(json.dumps(FIT))


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"x": value}
    return value


#: A valid --law auto error model, edited by the calibration cases.
CALIBRATION: dict[str, Any] = {"slope": 0.01, "dof": 5, "tested_decades": 0.5, "bias": 0.0, "runs": 6, "points": 6,
                               "folds": 2, "floor": 0.002, "correction": 0.0, "correction_sd": 0.0}

#: (name, the file's text, the command after the file, what stderr must name besides the file).
CASES: list[tuple[str, Callable[[], str], list[str], tuple[str, ...]]] = [
    ("E = -50 (a negative loss)", _set("params.E", -50), PREDICT, ("params['E']", "outside the bounds")),
    ("alpha = -3 (loss growing as a power of N)", _set("params.alpha", -3), PREDICT, ("params['alpha']",)),
    ("E = 1e308", _set("params.E", 1e308), PREDICT, ("params['E']",)),
    ("A = 0 (below a log-space bound)", _set("params.A", 0.0), PREDICT, ("params['A']",)),
    ("an unknown parameter", _set("params.gamma", 1.0), PREDICT, ("params['gamma']", "not a parameter")),
    ("an interval for an unknown parameter", _set("ci", {"zeta": [1, 2]}), PREDICT, ("ci['zeta']",)),
    ("a reversed interval", _set("ci", {"E": [1.8, 1.6]}), PREDICT, ("ci['E']", "lo <= hi")),
    ("a reversed derived interval", _set("derived_ci", {"a": [0.6, 0.4]}), PREDICT, ("derived_ci['a']", "lo <= hi")),
    ("a bootstrap replicate with E = -50",
     _set("bootstrap", [[1.69, 406.4, 410.7, 0.34, 0.28], [-50, 406.4, 410.7, 0.34, 0.28]]), PREDICT,
     ("bootstrap[1]", "outside the bounds")),
    ("extrapolation_warning_decades = 1e300", _set("options.extrapolation_warning_decades", 1e300), PREDICT,
     ("extrapolation_warning_decades", "<= 10")),
    ("fitted_range [1e-300, 1e300]", _set("fitted_range.params", [1e-300, 1e300]), PREDICT,
     ("fitted_range['params']", "plausible range")),
    ("fitted_range of flops up to 1e300", _set("fitted_range.flops", [6e16, 1e300]), PREDICT,
     ("fitted_range['flops']",)),
    ("a duplicated 'options' key", _text(lambda t: t[:-1] + ', "options": {"strict": false, '
                                         '"extrapolation_warning_decades": 1e300}}'), PREDICT,
     ("'options' appears twice",)),
    ("a duplicated nested key", _text(lambda t: t.replace('"E": 1.69', '"E": 1.69, "E": 1.7')), PREDICT,
     ("'E' appears twice",)),
    ("correlation 1.422", _set("diagnostics.correlation", 1.422), PREDICT, ("diagnostics.correlation",)),
    ("correlation -1.205", _set("diagnostics.correlation", -1.205), PREDICT, ("diagnostics.correlation",)),
    ("a scale correlation of 2", _set("diagnostics.scale_correlation", {"params": 2.0}), PREDICT,
     ("diagnostics.scale_correlation['params']",)),
    ("bootstrap_converged 5", _set("diagnostics.bootstrap_converged", 5), PREDICT,
     ("diagnostics.bootstrap_converged",)),
    ("law options nested 40 deep", _set("law_options", {"variable": _deep(40)}), PREDICT, ("nested deeper",)),
    ("a selection list of 200,000 items", _set("selection", {"chosen": "chinchilla", "notes": [0] * 200_000}),
     PREDICT, ("selection.notes", "more than")),
    ("a selection fold that is no string", _set("selection", {"folds": [1]}), PREDICT, ("selection.folds[0]",)),
    ("a candidate option that is no JSON value", _text(lambda t: t.replace(
        '"options":', '"selection": {"candidates": [{"law": "power", "options": {"x": NaN, "y": Infinity}}]}, '
        '"options":')), PREDICT, ("selection.candidates[0].options", "finite")),
    ("a held prior outside its bounds", _set("law_options.held", {"C": -1.0}, MULTI_POWER),
     ["--schedule", "cosine:peak=3e-4,warmup=100,total=5000,final=3e-5"], ("held", "C = -1 lies outside")),
    ("a schedule family of strings", _set("law_options", {"family": {"batch0": "inf"}}, {
        **FIT, "law": "chinchilla-curve", "params": {}}), PREDICT, ("family",)),
    ("a calibration correcting by e^1000 per decade", _set("calibration", {**CALIBRATION, "correction": 1000.0}),
     PREDICT, ("calibration.correction",)),
    ("a calibration with a negative spread", _set("calibration", {**CALIBRATION, "correction_sd": -1.0}), PREDICT,
     ("calibration.correction_sd",)),
    ("a calibration with zero degrees of freedom", _set("calibration", {**CALIBRATION, "dof": 0}), PREDICT,
     ("calibration.dof",)),
    ("plan on a loss that does not fall with data (beta = 0)", _set("params.beta", 0.0), ["--flops", "1e21"],
     ("does not fall with data", "beta = 0")),
]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], Outcome]:
    """The command line, run in-process: exit code and what it printed."""

    def call(argv: list[str]) -> Outcome:
        code = run(argv)
        return Outcome(code, *capsys.readouterr())

    return call


@pytest.mark.parametrize(("name", "text", "argv", "needles"), CASES, ids=[case[0] for case in CASES])
def test_hostile_fit_file_is_refused(name: str, text: Callable[[], str], argv: list[str], needles: tuple[str, ...],
                                     tmp_path: Path, cli: Callable[[list[str]], Outcome]) -> None:
    path = tmp_path / "fit.json"
    path.write_text(text())
    command = ["plan", "compute", str(path)] if "--flops" in argv else ["predict", str(path)]
    outcome = cli(command + argv)
    problem = refused(outcome, str(path), *needles)
    assert problem is None, f"{name}: {problem}"


def test_the_unedited_fit_and_free_form_selection_records_load(tmp_path: Path,
                                                              cli: Callable[[list[str]], Outcome]) -> None:
    """The base of every case is valid; a selection record with fields nobody declared (nested) reads back."""
    path = tmp_path / "fit.json"
    selection = {"chosen": "chinchilla", "folds": ["params > 1e8"], "distances": {"fold 1": [0.1, 0.2, None]},
                 "candidates": [{"law": "chinchilla-curve", "options": {"family": {"batch0": 1e6, "batch_exp": 0.5}},
                                 "folds": [{"fold": "params > 1e8", "errors": [0.01, -0.02]}]}]}
    path.write_text(json.dumps({**FIT, "selection": selection}))
    outcome = cli(["predict", str(path), *PREDICT, "--json"])
    assert outcome.code == 0, outcome.err
    assert 1.69 < json.loads(outcome.out)[0]["loss"] < 5
