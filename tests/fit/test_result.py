"""FitResult: predictions with intervals, extrapolation warnings, evaluation, FIT.json round trip."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, UntrustedFitError
from scalelaw.fit import FitResult, load_fit


@pytest.fixture(scope="module")
def fitted(chinchilla_fit: FitResult) -> FitResult:
    return chinchilla_fit


def test_prediction_interval_brackets_the_point(fitted: FitResult) -> None:
    p = fitted.predict(params=[1e8, 1e9], tokens=[2e9, 2e10])
    assert p.loss.shape == (2,)
    assert np.all(p.lo < p.loss) and np.all(p.loss < p.hi)
    assert np.all(p.extrapolation == 0.0)


def test_missing_prediction_input_is_an_input_error(fitted: FitResult) -> None:
    with pytest.raises(InputError, match="tokens"):
        fitted.predict(params=1e9)


def test_far_extrapolation_warns_and_strict_refuses(fitted: FitResult) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = fitted.predict(params=1e13, tokens=1e14)
    assert p.extrapolation_by["params"][0] == pytest.approx(3.0, abs=0.01)
    assert p.extrapolation[0] == pytest.approx(np.log10(6e27 / fitted.fitted_range["flops"][1]), abs=1e-9)
    assert any(issubclass(w.category, FitWarning) and "extrapolates" in str(w.message) for w in caught)
    strict = FitResult(**{**fitted.__dict__, "options": {**fitted.options, "strict": True}})
    with pytest.raises(UntrustedFitError):
        strict.predict(params=1e13, tokens=1e14)


def test_interval_widens_with_extrapolation(fitted: FitResult) -> None:
    near = fitted.predict(params=1e9, tokens=1e11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        far = fitted.predict(params=1e12, tokens=1e14)
    assert (far.hi - far.lo)[0] / far.loss[0] > (near.hi - near.lo)[0] / near.loss[0]


def test_evaluate_and_predict_runs(fitted: FitResult, chinchilla_data: RunSet) -> None:
    scores = fitted.evaluate(chinchilla_data)
    assert scores["overall"]["n"] == 120 and scores["overall"]["r2"] > 0.95
    assert scores["overall"]["mean_rel_error"] < 0.02
    assert len(scores["runs"]) == 120 and scores["runs"][0]["r2"] is None
    frame = fitted.predict_runs(chinchilla_data)
    assert list(frame.columns) == ["run", "step", "observed", "loss", "lo", "hi"]
    assert len(frame) == 120


def test_optimal_allocation_uses_c_equals_6nd(fitted: FitResult) -> None:
    out = fitted.optimal_allocation([1e20, 1e22])
    assert np.allclose(6 * out["params"] * out["tokens"], [1e20, 1e22])
    assert np.all(out["params_lo"] <= out["params"]) and np.all(out["params"] <= out["params_hi"])
    ratio = np.log(out["params"][1] / out["params"][0]) / np.log(100)
    assert ratio == pytest.approx(fitted.derived["a"])


def test_save_and_load_round_trip(fitted: FitResult, tmp_path: Path) -> None:
    path = tmp_path / "fit.json"
    fitted.save(path)
    data = json.loads(path.read_text())
    for key in ("law", "params", "ci", "diagnostics", "options", "data_hash"):
        assert key in data
    back = load_fit(path)
    assert back.params == fitted.params and back.data_hash == fitted.data_hash
    assert np.array_equal(back.bootstrap_params, fitted.bootstrap_params)
    a, b = fitted.predict(params=1e9, tokens=1e11), back.predict(params=1e9, tokens=1e11)
    assert a.loss == b.loss and a.lo == b.lo and a.hi == b.hi


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"law": "no-such-law"}, "unknown law"),
        ({"params": {"E": 1.0}}, "missing"),
        ({"params": {"E": "x", "A": 1, "B": 1, "alpha": 1, "beta": 1}}, "number"),
        ({"bootstrap": [[1, 2]]}, "bootstrap"),
    ],
)
def test_hand_edited_fit_files_are_input_errors(fitted: FitResult, tmp_path: Path, edit: dict, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**json.loads(json.dumps(fitted.to_dict())), **edit}))
    with pytest.raises(InputError, match=message) as info:
        load_fit(path)
    assert info.value.location.file == str(path)


_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
_keys = st.sampled_from(["law", "law_options", "params", "ci", "derived", "derived_ci", "diagnostics", "options",
                         "data_hash", "fitted_range", "residuals", "bootstrap"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.dictionaries(_keys, _json, max_size=4), drop=st.lists(_keys, max_size=3))
def test_fuzzed_fit_files_load_or_raise_input_error(fitted: FitResult, tmp_path: Path, edits: dict, drop: list) -> None:
    data = {**json.loads(json.dumps(fitted.to_dict())), **edits}
    for key in drop:
        data.pop(key, None)
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(data))
    try:
        result = load_fit(path)
    except InputError:
        return
    assert isinstance(result, FitResult)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result.predict(params=1e9, tokens=1e11)
        except (InputError, UntrustedFitError):
            pass


@settings(max_examples=60, deadline=None)
@given(blob=st.binary(max_size=200))
def test_random_bytes_are_input_errors(tmp_path_factory: pytest.TempPathFactory, blob: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fit.json"
    path.write_bytes(blob)
    with pytest.raises(InputError):
        load_fit(path)
