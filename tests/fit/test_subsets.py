"""fit_law_subsets: a backtest's folds searched as one batch end where fitting each alone ends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit import engine, multistart
from scalelaw.fit.engine import fit_law, fit_law_subsets


def _runs(n: int, seed: int = 0) -> RunSet:
    rng = np.random.default_rng(seed)
    size, tokens = 10 ** rng.uniform(7.5, 10.0, n), 10 ** rng.uniform(9.0, 11.5, n)
    loss = (1.82 + 482.0 * size**-0.348 + 2085.0 * tokens**-0.366) * np.exp(rng.normal(0.0, 0.01, n))
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "params": size, "tokens": tokens, "loss": loss}))


def _folds(runs: RunSet) -> list[RunSet]:
    final = runs.final()
    cuts = np.quantile(final["params"], [0.5, 0.7, 0.9])
    return [runs.select(final.loc[final["params"] < cut, "run"].tolist()) for cut in cuts]


@pytest.mark.parametrize("law", ["chinchilla", "kaplan", "overtraining"])
def test_the_batch_ends_where_each_fit_alone_ends(law: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _runs(120)
    subsets = _folds(runs)
    batches = []
    real = engine.search_projected_masks
    monkeypatch.setattr(engine, "search_projected_masks", lambda *a, **k: batches.append(1) or real(*a, **k))
    together = fit_law_subsets(subsets, laws.get(law))
    assert batches == [1]
    for subset, batched in zip(subsets, together, strict=True):
        alone = fit_law(subset, law)
        assert not isinstance(batched, Exception)
        for name, value in alone.params.items():
            assert batched.params[name] == pytest.approx(value, rel=1e-5, abs=1e-9), name
        assert batched.diagnostics.objective == pytest.approx(alone.diagnostics.objective, rel=1e-9)
        assert batched.diagnostics.converged == alone.diagnostics.converged
        assert batched.data_hash == alone.data_hash and batched.fitted_range == alone.fitted_range


def test_a_subset_that_cannot_be_fitted_gets_its_error_in_its_place() -> None:
    runs = _runs(60)
    names = runs.final()["run"].tolist()
    subsets = [runs.select(names[:40]), runs.select(names[:3]), runs.select(names[10:50])]
    out = fit_law_subsets(subsets, laws.get("chinchilla"))
    assert isinstance(out[1], InputError) and "free parameters" in str(out[1])
    assert not isinstance(out[0], Exception) and not isinstance(out[2], Exception)
    assert out[2].params["alpha"] == pytest.approx(fit_law(subsets[2], "chinchilla").params["alpha"], rel=1e-5)


def test_more_points_than_a_batch_takes_are_fitted_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    batches = []
    monkeypatch.setattr(engine, "search_projected_masks", lambda *a, **k: batches.append(1))
    big = _runs(2 * multistart.PROJECT_POINTS)
    assert all(not isinstance(f, Exception) for f in fit_law_subsets(_folds(big), laws.get("chinchilla")))
    assert not batches


def test_runs_that_disagree_between_subsets_are_not_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two subsets naming one run with different data are not subsets of one data set."""
    first, second = _runs(40, seed=1), _runs(40, seed=2)
    batches = []
    monkeypatch.setattr(engine, "search_projected_masks", lambda *a, **k: batches.append(1))
    out = fit_law_subsets([first, second], laws.get("chinchilla"))
    assert not batches
    assert out[0].params["alpha"] != out[1].params["alpha"]  # type: ignore[union-attr]


def test_warm_started_subsets_in_two_processes_end_where_each_descent_alone_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from scalelaw.fit import parallel

    runs = _runs(120)
    start = fit_law(runs, "chinchilla").params
    names = runs.final()["run"].tolist()
    subsets = [*_folds(runs), runs.select(names[:3])]  # the last has too few runs for five parameters
    forks = []
    real = parallel.os.fork
    monkeypatch.setattr(parallel.os, "fork", lambda: forks.append(1) or real())
    monkeypatch.setattr(parallel, "FORK_SECONDS", 0.0)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    together = fit_law_subsets(subsets, laws.get("chinchilla"), start=start)
    assert forks
    assert isinstance(together[-1], InputError)
    for subset, batched in zip(subsets[:-1], together, strict=False):
        alone = fit_law(subset, "chinchilla", start=start)
        assert batched.params == alone.params  # type: ignore[union-attr]
        assert batched.diagnostics.iterations == alone.diagnostics.iterations  # type: ignore[union-attr]
