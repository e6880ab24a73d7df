"""FIT.json is written atomically and validated on load, so the extrapolation guard cannot be edited away."""

from __future__ import annotations

import json
import math
import resource
import signal
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scalelaw.cli.main import run
from scalelaw.data.atomic import WriteError
from scalelaw.errors import InputError, UntrustedFitError
from scalelaw.fit import FitResult, load_fit
from scalelaw.fit.schema import MAX_FIT_BYTES


def _edited(fit: FitResult, tmp_path: Path, edit: Any) -> Path:
    data = json.loads(json.dumps(fit.to_dict()))
    edit(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return path


def test_a_failed_rewrite_keeps_the_previous_fit(chinchilla_fit: FitResult, tmp_path: Path) -> None:
    """A write that fails half-way (here: a file-size limit, as on a full disk) leaves the old FIT.json whole."""
    path = tmp_path / "fit.json"
    chinchilla_fit.save(path)
    before = path.read_bytes()
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) // 2, limit[1]))
    try:
        with pytest.raises(WriteError, match="nothing was written"):
            chinchilla_fit.save(path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limit)
        signal.signal(signal.SIGXFSZ, handler)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit.json"], "no temporary file is left behind"


def test_out_is_checked_before_fitting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    import scalelaw.fit

    def must_not_fit(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the fit ran before --out was checked")

    monkeypatch.setattr(scalelaw.fit, "fit_law", must_not_fit)
    for out in (tmp_path / "missing" / "fit.json", tmp_path):
        code = run(["fit", "dataset:porian2024", "--law", "chinchilla", "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error:") and "--out" in err

#: A well-formed error model that the cases below break one field at a time.
_CALIBRATION = {"slope": 0.01, "dof": 3, "tested_decades": 0.3, "bias": 0.0, "runs": 6, "points": 60, "folds": 2,
                "floor": 0.002}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["options"].update(extrapolation_warning_decades=None), "extrapolation_warning_decades"),
        (lambda d: d["options"].update(extrapolation_warning_decades=-1), "extrapolation_warning_decades"),
        (lambda d: d["fitted_range"].update(params=[None, 1e9]), "fitted_range"),
        (lambda d: d["fitted_range"].update(params=[1e9, 1e6]), "lo <= hi"),
        (lambda d: d.update(fitted_range=[1, 2]), "fitted_range"),
        (lambda d: d["options"].update(strict="yes"), "strict"),
        (lambda d: d["options"].update(ci_level=1.5), "ci_level"),
        (lambda d: d["params"].update(E=None), "params"),
        (lambda d: d.update(residuals=[0.1, None]), "residuals"),
        (lambda d: d.update(surprise={"x": 1}), "not a field"),
        (lambda d: d.update(law_options={"variable": [1, 2]}), "does not accept"),
        (lambda d: d.update(law="multi-power", law_options={"blocks_per_level": 1e9}), "blocks_per_level"),
        (lambda d: d["diagnostics"].update(warnings=["ok", 3]), "warnings"),
        (lambda d: d.update(calibration={**_CALIBRATION, "floor": -0.1}), "floor"),
        (lambda d: d.update(calibration={**_CALIBRATION, "folds": 0}), "folds"),
        (lambda d: d.update(calibration={**_CALIBRATION, "floor": "1e999"}), "floor"),
    ],
)
def test_hand_edits_that_matter_are_refused(chinchilla_fit: FitResult, tmp_path: Path, edit: Any,
                                            message: str) -> None:
    path = _edited(chinchilla_fit, tmp_path, edit)
    with pytest.raises(InputError, match=message) as info:
        load_fit(path)
    assert info.value.location.file == str(path)


def test_nan_written_as_json_nan_does_not_silence_the_guard(chinchilla_fit: FitResult, tmp_path: Path) -> None:
    text = json.dumps(chinchilla_fit.to_dict()).replace('"extrapolation_warning_decades": 2.0',
                                                        '"extrapolation_warning_decades": NaN')
    assert "NaN" in text
    path = tmp_path / "nan.json"
    path.write_text(text)
    with pytest.raises(InputError, match="finite"):
        load_fit(path)


def test_a_deleted_fitted_range_still_trips_strict(chinchilla_fit: FitResult, tmp_path: Path) -> None:
    def drop(data: dict[str, Any]) -> None:
        data["fitted_range"].pop("params")
        data["options"]["strict"] = True

    fit = load_fit(_edited(chinchilla_fit, tmp_path, drop))
    with pytest.raises(UntrustedFitError, match="no fitted range of params"):
        fit.predict(params=1e9, tokens=1e11)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FitResult(**{**fit.__dict__, "options": {**fit.options, "strict": False}}).predict(params=1e9, tokens=1e11)
    assert any("no fitted range of params" in str(w.message) for w in caught)


def test_huge_numbers_and_files_are_input_errors(chinchilla_fit: FitResult, tmp_path: Path) -> None:
    text = json.dumps(chinchilla_fit.to_dict()).replace('"seed": 1', '"seed": 1' + "0" * 400)
    path = tmp_path / "huge_int.json"
    path.write_text(text)
    with pytest.raises(InputError, match="seed|JSON"):
        load_fit(path)
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(MAX_FIT_BYTES + 1)
    with pytest.raises(InputError, match="larger than"):
        load_fit(big)


def test_round_trip_keeps_every_field(chinchilla_fit: FitResult, tmp_path: Path) -> None:
    path = tmp_path / "fit.json"
    chinchilla_fit.save(path)
    back = load_fit(path)
    assert back.to_dict() == json.loads(path.read_text())


def test_a_fit_that_would_not_read_back_is_not_written(chinchilla_fit: FitResult, tmp_path: Path) -> None:
    """save() checks the content with the loader's own schema: no file that `predict` would refuse is written."""
    deaf = FitResult(**{**chinchilla_fit.__dict__,
                        "options": {**chinchilla_fit.options, "extrapolation_warning_decades": 50.0}})
    path = tmp_path / "fit.json"
    with pytest.raises(InputError, match="would not read back.*extrapolation_warning_decades") as info:
        deaf.save(path)
    assert info.value.location.file == str(path) and not path.exists()


def _rising_with_data(tmp_path: Path) -> Path:
    """Final losses that fall with N but rise with D: the fitted beta sits on its bound 0."""
    rows = ["run,params,tokens,loss"]
    for i, (n, ratio) in enumerate((n, r) for n in (1e7, 3e7, 1e8, 3e8) for r in (10, 20, 40)):
        rows.append(f"r{i},{n},{n * ratio},{2 + 30 * n ** -0.3 + 0.05 * math.log10(n * ratio)}")
    path = tmp_path / "rising.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_loss_rising_with_data_fits_and_plans_refuse_with_the_reason(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 23.9: a ZeroDivisionError (exit 1, also with --strict) before; now NaN derived quantities and exit 2."""
    data, out = _rising_with_data(tmp_path), tmp_path / "fit.json"
    assert run(["fit", str(data), "--law", "chinchilla", "--strict"]) == 3  # untrusted (beta on its bound), no crash
    assert run(["fit", str(data), "--law", "chinchilla", "--out", str(out)]) == 0
    fit = load_fit(out)
    # the data term is unsupported: either its exponent or its coefficient sits on its lower bound
    assert fit.params["beta"] == 0.0 or fit.params["B"] <= 1e-8 * (1 + 1e-6)
    assert math.isnan(fit.derived["a"])
    assert math.isnan(fit.derived["tokens_per_param_at_1e21_flops"])
    with pytest.raises(InputError, match=r"does not fall with data \(beta = "):
        fit.optimal_allocation(1e21)
    assert np.all(np.isnan(fit.law.optimal_allocation(fit.params, np.array([1e21]))["params"]))
    capsys.readouterr()
    for argv in (["plan", "compute", str(out), "--flops", "1e21"], ["plan", "target", str(out), "--loss", "2.5"]):
        assert run(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and str(out) in err and "does not fall with data" in err


def test_overtraining_without_a_compute_exponent_has_no_optimum() -> None:
    from scalelaw.laws import get

    law = get("overtraining")
    flat = {"E": 2.0, "a": 1.0, "b": 1.0, "eta": 0.0}
    assert math.isnan(law.derived(flat)["tokens_per_param_optimal"])
    assert "does not fall with compute" in (law.allocation_problem(flat) or "")
    assert np.all(np.isnan(law.optimal_allocation(flat, np.array([1e20]))["params"]))
    assert law.allocation_problem({**flat, "eta": 0.3}) is None


def test_degenerate_parameters_report_a_correlation_within_one() -> None:
    """Issue 23.12: a near-singular fit printed correlation 1.0000000000007 (and hand-made ones 1.422)."""
    import pandas as pd

    from scalelaw.data.runs import RunSet
    from scalelaw.fit import fit_law

    rows = [{"run": f"r{i}", "params": n, "tokens": n * r, "loss": 2 + 0.1 * math.log10(n) + 0.05 * math.log10(n * r)}
            for i, (n, r) in enumerate((n, r) for n in (1e7, 3e7, 1e8, 3e8) for r in (10, 20, 40))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_law(RunSet(pd.DataFrame(rows)), "chinchilla", progress=False)
    assert fit.diagnostics.most_correlated and abs(fit.diagnostics.correlation) == 1.0
    assert any("correlation 1.00000" in w or "correlation -1.00000" in w for w in fit.diagnostics.warnings)
