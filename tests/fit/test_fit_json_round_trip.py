"""A FIT.json that a fit writes is always read back, and predicts what the fit did (issue 21, item 1).

Every law of the catalog is fitted, with options drawn from what the law accepts, on runs it
applies to (tests/fit/law_data.py), saved, loaded, and asked for the same predictions; the
``selection`` record of ``--law auto`` (every candidate, with nested options such as
chinchilla-curve's schedule family and a held prior) reads back too, from the Python API and
the command line.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from law_data import curve_runs, final_runs, runs_for

from scalelaw import laws
from scalelaw.cli.main import run
from scalelaw.data.atomic import json_safe
from scalelaw.fit import FitResult, fit_law, load_fit
from scalelaw.laws._held import PAPER_SATURATION
from scalelaw.selection.auto import fit_auto

#: The options each law may be fitted with (a law not listed, such as one added later, with its defaults).
OPTIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "power": st.fixed_dictionaries({"variable": st.sampled_from(["params", "tokens", "flops", "step"])}),
    "multi-power": st.fixed_dictionaries({"blocks_per_level": st.sampled_from([2, 4]),
                                          "held": st.sampled_from([None, {}, PAPER_SATURATION])}),
    "multi-power-sized": st.fixed_dictionaries({"held": st.sampled_from([None, {"C": 2.0, "B_exp": 0.0}]),
                                                "decay_drop": st.sampled_from([0.12, 0.2])}),
    "lr-annealing": st.fixed_dictionaries({"decay_factor": st.sampled_from([0.999, None]),
                                           "warmup_in_s2": st.booleans(), "held": st.sampled_from([None, {"C": 0.3}])}),
    "chinchilla-curve": st.fixed_dictionaries({"min_warmups": st.sampled_from([1.0, 2.0]),
                                               "sized_data": st.booleans()}),
    "loss-to-loss": st.fixed_dictionaries({"points": st.sampled_from(["final", "all"]), "window": st.sampled_from([1, 3])}),
    "sigmoid": st.fixed_dictionaries({"anchor": st.booleans(), "window": st.sampled_from([3, 5])}),
}


def _same_predictions(fit: FitResult, back: FitResult, runs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = fit.predict_runs(runs), back.predict_runs(runs)
        for column in ("loss", "lo", "hi"):
            np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())
        if set(fit.law.inputs) <= {"params", "tokens", "unique_tokens"}:
            at = {"params": 3e9, "tokens": 6e10, "unique_tokens": 3e9}
            at = {k: v for k, v in at.items() if k in fit.law.inputs}
            a, b = fit.predict(**at), back.predict(**at)
            assert (a.loss, a.lo, a.hi) == (b.loss, b.lo, b.hi)
    assert np.all(np.isfinite(ours["loss"]))


def _assert_round_trip(fit: FitResult, path: Path, runs: Any) -> FitResult:
    fit.save(path)
    back = load_fit(path)
    assert isinstance(back, FitResult)
    assert json_safe(back.to_dict()) == json.loads(path.read_text()), "reading and writing again changes nothing"
    assert back.law.options() == json.loads(json.dumps(fit.law.options()))
    assert back.params == fit.params and back.selection == json.loads(path.read_text())["selection"]
    assert back.calibration == fit.calibration
    _same_predictions(fit, back, runs)
    return back


@pytest.mark.slow
@pytest.mark.parametrize("name", laws.names())
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(data=st.data())
def test_every_law_reads_back_and_predicts_the_same(name: str, data: st.DataObject,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    options = data.draw(OPTIONS.get(name, st.just({})), label="law options")
    law = laws.get(name, **options)
    fit_options = data.draw(st.fixed_dictionaries({
        "seed": st.integers(0, 3), "bootstrap": st.sampled_from([0, 3]), "ci_level": st.sampled_from([0.8, 0.95]),
    }), label="fit options")
    runs = runs_for(law, seed=fit_options["seed"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small exact-ish data: fits may sit on a bound; the file must still read
        fit = fit_law(runs, law, progress=False, **fit_options)
    _assert_round_trip(fit, tmp_path_factory.mktemp("fit") / "FIT.json", runs)


@pytest.mark.slow
def test_auto_records_every_final_candidate_and_reads_back(tmp_path: Path) -> None:
    runs = final_runs(0, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_auto(runs, bootstrap=3)
    labels = {c["label"] for c in fit.selection["candidates"]}
    assert {"chinchilla", "data-constrained", "overtraining", "kaplan", "power(variable=params)"} <= labels
    back = _assert_round_trip(fit, tmp_path / "FIT.json", runs)
    assert [c["options"] for c in back.selection["candidates"]] == [c["options"] for c in fit.selection["candidates"]]


@pytest.mark.slow
def test_auto_with_nested_candidate_options_reads_back(tmp_path: Path) -> None:
    """chinchilla-curve records its schedule family (an object) and multi-power-sized its held prior."""
    runs = curve_runs(0, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_auto(runs, candidates=["chinchilla-curve", "multi-power-sized"], bootstrap=0)
    options = {c["label"]: c["options"] for c in fit.selection["candidates"]}
    assert isinstance(options["chinchilla-curve"]["family"], dict)
    assert set(options["chinchilla-curve"]["family"]) == {"batch0", "batch_exp", "warmup0", "warmup_exp", "final"}
    back = _assert_round_trip(fit, tmp_path / "FIT.json", runs)
    assert {c["label"]: c["options"] for c in back.selection["candidates"]} == json.loads(json.dumps(options))


@pytest.mark.slow
def test_cli_fit_then_predict_a_curve_law_across_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's reproduction: `fit --law chinchilla-curve --out f.json` then `predict f.json` (exit 2 before)."""
    data = tmp_path / "runs.csv"
    curve_runs(0, False).table.to_csv(data, index=False)
    out = tmp_path / "f.json"
    assert run(["fit", str(data), "--law", "chinchilla-curve", "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert isinstance(saved["selection"]["candidates"][0]["options"]["family"], dict)
    capsys.readouterr()
    code = run(["predict", str(out), "--at", "params=3e8,tokens=8e9", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    loss = json.loads(captured.out)
    text = json.dumps(loss)
    assert "loss" in text and "NaN" not in text
