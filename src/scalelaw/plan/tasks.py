"""Task forecasts: the two-step (N, D) → bpb → accuracy forecast for every task the runs log.

A task is found by its pair of columns as OLMo writes them: the accuracy
``…downstream/<task>_len_norm`` (or ``_acc`` when there is no length-normalised one) and
the bits per byte of the correct answer ``…downstream_bpb/<task>_bpb``. Each task gets
its own two-step fit (:func:`~scalelaw.fit.two_step.fit_two_step`, step 1 calibrated by its
own backtests) and a forecast at every target point, with an interval and a flag when the
sigmoid extrapolates.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit.two_step import TwoStepFit, fit_two_step
from scalelaw.selection.metric_auto import calibrate_two_step

#: A task name holds no "/": with ``.+?`` there, a column name of many "downstream/" matched in quadratic time.
_ACCURACY = re.compile(r"^(?P<prefix>.*)downstream/(?P<task>[^/]+)_(?P<kind>len_norm|acc)$")
_BPB = "{prefix}downstream_bpb/{task}_bpb"


@dataclass(frozen=True)
class Task:
    """A task's name and the columns of its accuracy and bits per byte."""

    name: str
    accuracy: str
    bpb: str


@dataclass(frozen=True)
class TaskForecast:
    """One task's two-step fit, the runs it was fitted on, its forecast rows
    (see ``TwoStepFit.prediction_rows``) and the fit's and forecast's warnings."""

    task: Task
    fit: TwoStepFit
    runs: RunSet | None
    rows: list[dict[str, Any]]
    notes: list[str]


def find_tasks(runs: RunSet, only: Sequence[str] = ()) -> list[Task]:
    """Every task with both an accuracy and a bpb column, by name; ``only`` keeps names containing any of its words."""
    columns = set(runs.columns)
    found: dict[str, Task] = {}
    for column in sorted(columns):
        match = _ACCURACY.match(column)
        if match is None:
            continue
        bpb = _BPB.format(prefix=match["prefix"], task=match["task"])
        if bpb not in columns or not runs.has(column) or not runs.has(bpb):
            continue
        name = match["task"]
        if name in found and match["kind"] == "acc":  # prefer the length-normalised accuracy
            continue
        found[name] = Task(name, column, bpb)
    tasks = [t for t in found.values() if not only or any(word in t.name for word in only)]
    if not tasks:
        wanted = f" matching {', '.join(only)}" if only else ""
        raise InputError(f"no task{wanted} with both an accuracy column (…downstream/TASK_len_norm or _acc) and a "
                         "bits-per-byte column (…downstream_bpb/TASK_bpb) in the data")
    return tasks


def forecast_tasks(
    runs: RunSet,
    at: Sequence[Mapping[str, float]],
    *,
    only: Sequence[str] = (),
    law: str = "chinchilla",
    bootstrap: int = 100,
    seed: int = 0,
    level: float = 0.9,
) -> list[TaskForecast]:
    """Fit every task's two steps on ``runs`` and forecast its accuracy at each point of ``at``."""
    if not at:
        raise InputError("a task forecast needs at least one target point, e.g. --at params=7e9,tokens=4e12")
    out = []
    for task in find_tasks(runs, only):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_two_step(runs, task.accuracy, task.bpb, law=law, bootstrap=bootstrap, seed=seed, ci_level=level,
                               progress=False)
            fit = calibrate_two_step(fit, runs, bootstrap=bootstrap, seed=seed, ci_level=level, progress=False)
            rows = [row for point in at for row in fit.prediction_rows(point, level=level)]
        notes = list(dict.fromkeys(str(w.message) for w in caught))
        out.append(TaskForecast(task, fit, runs, rows, notes))
    return out


def forecast_table(forecasts: Sequence[TaskForecast]) -> list[dict[str, Any]]:
    """One row per task and target: the task, the inputs, the forecast and whether step 2 extrapolates."""
    table = []
    for forecast in forecasts:
        seen_low, seen_high = forecast.fit.metric_range
        for row in forecast.rows:
            table.append({"task": forecast.task.name, **row, "accuracy_seen_max": seen_high})
    return table
