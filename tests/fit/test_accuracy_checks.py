"""Bad accuracy input is refused with a message, never fitted into a confident number (issue 24)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from metric_data import HELLASWAG, family

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit.metric_fit import check_accuracy, fit_metric, metric_column, resolve_chance


def view_of(values, sizes=(1.6e8, 4.1e8, 1.0e9, 1.4e9, 2.8e9)) -> RunSet:
    return RunSet(pd.DataFrame({"run": [f"m{i}" for i in range(len(values))], "params": sizes[: len(values)],
                                "tokens": 3e11, "loss": values}))


@pytest.mark.parametrize("values,message", [
    ([0.3] * 5, "does not change with scale"),
    ([30, 40, 47, 52, 59], "a percentage"),
    ([0.30, 0.40, 0.50, 0.45, 0.38], "rises then falls"),
])
def test_bad_metrics_are_refused(values, message) -> None:
    with pytest.raises(InputError, match=message):
        check_accuracy(view_of(values), "acc", 0.25)


def test_noise_below_the_tolerance_is_not_called_rises_then_falls() -> None:
    check_accuracy(view_of([0.30, 0.40, 0.50, 0.51, 0.505]), "acc", 0.25)  # 0.5 points below the peak: noise


def test_two_sizes_are_refused_naming_them() -> None:
    with pytest.raises(InputError, match=r"2 params level\(s\) \(1.6e\+08, 4.1e\+08\)"):
        check_accuracy(view_of([0.3, 0.31, 0.4], sizes=(1.6e8, 1.6e8, 4.1e8)), "acc", 0.25)


def test_a_chance_level_above_every_value_is_refused() -> None:
    with pytest.raises(InputError, match="chance level 0.6 is at or above"):
        check_accuracy(view_of([0.30, 0.40, 0.47, 0.52, 0.59]), "acc", 0.6)


def test_chance_comes_from_the_option_then_the_table() -> None:
    assert resolve_chance(HELLASWAG, None)[0] == 0.25 and resolve_chance(HELLASWAG, 0.3) == (0.3, "given")
    assert resolve_chance("my_metric", None)[0] == 0.0
    with pytest.raises(InputError, match="--chance"):
        resolve_chance(HELLASWAG, 1.0)


def test_a_metric_moved_into_the_loss_by_map_is_still_found() -> None:
    table = pd.DataFrame({"run": ["a"], "loss": [0.3], "loss_source": ["hellaswag"]})
    runs = RunSet(table)
    assert metric_column(runs, "hellaswag") == "loss" and metric_column(runs, "loss") == "loss"


def test_fit_metric_with_a_named_accuracy_law_takes_the_chance_of_the_benchmark() -> None:
    fit = fit_metric(family(), HELLASWAG, law="chance-sigmoid")
    assert fit.law.chance == 0.25 and fit.law.options()["chance"] == 0.25
    with pytest.raises(InputError, match="rises then falls"):
        runs = family()
        runs.table.loc[4, HELLASWAG] = 0.3
        fit_metric(runs, HELLASWAG, law="log-linear")
    assert np.isfinite(fit.params["s"])
