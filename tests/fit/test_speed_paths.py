"""The fast paths of the engine reach what the slow ones reached: warm starts, ranks without pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit import fit_law
from scalelaw.fit.diagnostics import average_ranks


def _chinchilla_runs(n: int = 240, seed: int = 0) -> RunSet:
    rng = np.random.default_rng(seed)
    size, tokens = 10 ** rng.uniform(7.5, 10.0, n), 10 ** rng.uniform(9.0, 11.5, n)
    loss = (1.82 + 482.0 * size**-0.348 + 2085.0 * tokens**-0.366) * np.exp(rng.normal(0.0, 0.01, n))
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "params": size, "tokens": tokens, "loss": loss}))


def test_warm_start_on_a_fold_reaches_the_grid_optimum() -> None:
    runs = _chinchilla_runs()
    full = fit_law(runs, "chinchilla")
    small = runs.final()
    fold = runs.select(small.loc[small["params"] < 3e9, "run"].tolist())
    cold = fit_law(fold, "chinchilla")
    warm = fit_law(fold, "chinchilla", start=full.params)
    assert warm.diagnostics.starts == 1
    assert warm.diagnostics.objective <= cold.diagnostics.objective * (1 + 1e-9)
    for name, value in cold.params.items():
        assert warm.params[name] == pytest.approx(value, rel=1e-4)


def test_warm_start_needs_every_free_parameter() -> None:
    runs = _chinchilla_runs(60)
    with pytest.raises(InputError, match="lacks alpha"):
        fit_law(runs, "chinchilla", start={"E": 1.8, "A": 400.0, "B": 2000.0, "beta": 0.3})
    with pytest.raises(InputError, match="not a finite number"):
        fit_law(runs, "chinchilla", start={"E": 1.8, "A": 400.0, "B": float("nan"), "alpha": 0.3, "beta": 0.3})


def test_average_ranks_match_pandas() -> None:
    rng = np.random.default_rng(1)
    for values in (rng.normal(size=60), rng.integers(0, 6, 50).astype(float), np.array([3.0, np.nan, 1.0, 3.0, 2.0])):
        np.testing.assert_allclose(average_ranks(values), pd.Series(values).rank().to_numpy(), equal_nan=True)


def test_a_fold_of_one_run_or_none_is_refused_not_crashed() -> None:
    runs = _chinchilla_runs(30)
    full = fit_law(runs, "chinchilla")
    one = runs.select([runs.runs[0]])
    with pytest.raises(InputError, match="5 free parameters but the data gives only 1 points"):
        fit_law(one, "chinchilla")
    with pytest.raises(InputError, match="5 free parameters but the data gives only 1 points"):
        fit_law(one, "chinchilla", start=full.params)
    with pytest.raises(InputError, match="no runs to fit"):
        fit_law(runs.select([]), "chinchilla")


def test_bootstrap_replicates_are_reproducible_and_finite() -> None:
    runs = _chinchilla_runs(60)
    first = fit_law(runs, "chinchilla", bootstrap=40, seed=3)
    again = fit_law(runs, "chinchilla", bootstrap=40, seed=3)
    np.testing.assert_array_equal(first.bootstrap_params, again.bootstrap_params)
    assert np.isfinite(first.bootstrap_params).all() and first.diagnostics.bootstrap_converged >= 0.9


def test_bootstrap_halves_in_forked_processes_give_the_numbers_of_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two halves of the replicates, fitted at once in two processes or one after the other in one,
    end every replicate at the same numbers."""
    import sys
    from pathlib import Path

    from scalelaw.fit import parallel

    sys.path.insert(0, str(Path(__file__).parent))
    from law_data import curve_runs

    forks = []
    real_fork = parallel.os.fork
    monkeypatch.setattr(parallel.os, "fork", lambda: forks.append(1) or real_fork())
    monkeypatch.setattr(parallel, "FORK_SECONDS", 0.0)
    runs = curve_runs(0, False)
    forked = fit_law(runs, "multi-power-sized", bootstrap=8, seed=1)
    assert forks, "the bootstrap never forked"
    monkeypatch.setenv("SCALELAW_WORKERS", "1")
    forks.clear()
    serial = fit_law(runs, "multi-power-sized", bootstrap=8, seed=1)
    assert not forks
    np.testing.assert_array_equal(forked.bootstrap_params, serial.bootstrap_params)
    assert np.isfinite(forked.bootstrap_params).all()
