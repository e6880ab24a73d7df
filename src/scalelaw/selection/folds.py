"""Rolling-origin folds across scale: fit on the smaller part of the data, hold out the next level.

The axis is chosen from the data: model size when the runs have at least three sizes
(fit on all but the largest size, predict it; then one level down), else compute, else run length
(the longest runs held out), else time within the runs (fit every run's checkpoints up
to a cut, predict the rest of what was logged). Folds across size or compute are followed
by folds across length when the runs differ in length: a target usually lies beyond the
data in tokens as well as in size, and more folds measure the law's error better. Then up
to three single runs inside the others' range are held out: the error on a new run that
is no extrapolation (another schedule at a fitted size and length). Every candidate law
is scored on the same folds.

Each fold records its ``distance``: how many decades along its axis the held-out runs lie
beyond the largest fitted value. With four levels or more, "far" folds also hold out the
largest level while fitting only the levels two (three) rungs below it: they reach the
longer distances a target usually lies at, so that ``--law auto`` can score laws at the
distance it will be asked to extrapolate (:func:`scalelaw.selection.auto.deciding_folds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError

#: Folds per backtest: the largest level held out, then the one below it.
FOLDS = 2
#: Extra folds that hold out the largest level from fewer, smaller levels (longer distances).
FAR_FOLDS = 2
#: Within-run folds fit each run's checkpoints up to these fractions of its last logged step.
CUTS = (0.5, 0.25)
#: Columns that must not mix values within one fit (different data or tokenizers give different losses).
SAME_DATA_COLUMNS = ("dataset", "tokenizer", "loss_type")
#: A run needs this many logged checkpoints after its warmup to be cut into a fitted part and a predicted part.
MIN_CHECKPOINTS = 6
#: Single runs held out inside the others' range (they measure the law's error on a new run, not beyond).
RUN_FOLDS = 3
#: Values of a fold axis within this ratio of the next smaller one belong to the same level.
LEVEL_RATIO = 1.05
AXES = ("params", "tokens", "flops", "steps", "time")


@dataclass(frozen=True)
class Fold:
    """One backtest: fit on ``train``, score the logged points of ``test`` (per run, only steps above ``after[run]``).

    ``inside`` folds hold out a run inside the others' range: they size the interval's floor
    but do not choose the law, which is chosen for forecasting beyond the data.
    """

    name: str
    train: RunSet
    test: RunSet
    after: Mapping[str, float] = field(default_factory=dict)
    #: True for a single run held out inside the others' range (it calibrates; it does not choose the law).
    inside: bool = False
    #: True for a fold a law may skip when too few runs remain for its parameters (length and inside folds).
    optional: bool = False
    #: Decades along the fold's axis from the largest fitted value to the held-out runs (0 inside the range).
    distance: float = 0.0
    #: The axis the fold extrapolates along (params, flops, tokens, steps or time; "inside" for inside folds).
    axis: str = ""


def check_same_data(runs: RunSet) -> None:
    """Refuse runs that mix training data, tokenizers or loss types: their losses are not comparable."""
    for column in SAME_DATA_COLUMNS:
        if column in runs.table.columns:
            values = runs.table[column].dropna().astype(str).unique().tolist()
            if len(values) > 1:
                shown = ", ".join(sorted(values)[:5])
                raise InputError(
                    f"the runs mix {len(values)} values of {column!r} ({shown}): losses on different data or "
                    f"tokenizers are not one scaling law; fit one at a time, e.g. --where \"{column} == '{values[0]}'\"",
                    column=column,
                )


def per_run(runs: RunSet, axis: str) -> pd.Series:
    """Each run's largest value of ``axis`` over its logged points (NaN when it has none)."""
    table = runs.table[runs.table["loss"].notna()]
    if axis == "flops" and "flops" not in table.columns and {"params", "tokens"} <= set(table.columns):
        table = table.assign(flops=6.0 * table["params"] * table["tokens"])
    column = "step" if axis == "steps" else axis
    if column not in table.columns:
        return pd.Series(np.nan, index=runs.runs)
    return table.groupby("run", sort=False)[column].max().reindex(runs.runs)


def plan(runs: RunSet, by: str | None = None) -> tuple[str, list[Fold], str]:
    """The backtest axis, its folds and a sentence saying what they are (or why there are none)."""
    if by is not None and by not in AXES:
        raise InputError(f"the backtest axis must be one of {', '.join(AXES)}, got {by!r}")
    axes = [by] if by else ["params", "flops", "length", "time"]
    notes = []
    for axis in axes:
        if axis == "time":
            folds, note = _time_folds(runs)
        else:
            folds, note = _level_folds(runs, axis)
        if folds:
            if by is None and axis in ("params", "flops"):
                longer, _ = _level_folds(runs, "length", far_folds=0)
                folds += [replace(f, optional=True) for f in longer]
                note += "; then the longest runs, and the next" if longer else ""
            if by is None:
                inside = _run_folds(runs)
                folds += inside
                note += f"; then {len(inside)} single runs inside the range of the others" if inside else ""
            return axis, distinct(folds), note
        notes.append(note)
    return axes[-1], [], "; ".join(notes)


def distinct(folds: list[Fold]) -> list[Fold]:
    """The folds without repeats: at one model size compute is proportional to tokens, so the folds across compute
    and across length fit and hold out the same runs, and one backtest counted twice would look like two that
    agree."""
    seen, out = set(), []
    for fold in folds:
        key = (tuple(sorted(fold.train.runs)), tuple(sorted(fold.test.runs)), tuple(sorted(fold.after.items())))
        if key not in seen:
            seen.add(key)
            out.append(fold)
    return out


def _level_folds(runs: RunSet, axis: str, far_folds: int = FAR_FOLDS) -> tuple[list[Fold], str]:
    """Hold out the largest level of ``axis`` (then the next), fitting on the levels below; then up to
    ``far_folds`` far folds (the largest level from fewer levels)."""
    if axis == "length":
        values = per_run(runs, "tokens")
        axis = "tokens" if values.notna().all() else "steps"
        values = values if axis == "tokens" else per_run(runs, "steps")
        need = 1
    else:
        values = per_run(runs, axis)
        need = 2 if axis == "params" else 1
    if values.isna().any():
        return [], f"not every run has {axis}"
    levels = level_floors(values.to_numpy(dtype=float))
    if levels.size < need + 1:
        return [], f"{levels.size} distinct value(s) of {axis} (a backtest across {axis} needs {need + 1})"
    folds = []
    for k in range(1, FOLDS + 1):
        if levels.size - k < need:
            break
        folds.append(_level_fold(runs, values, axis, levels, fitted=levels.size - k - 1, held=levels.size - k,
                                 next_held=k > 1))
    far = [skip for skip in range(2, 2 + far_folds) if levels.size - skip >= need]
    folds += [_level_fold(runs, values, axis, levels, fitted=levels.size - skip - 1, held=levels.size - 1)
              for skip in far]
    return folds, f"held out the largest {axis}, then the next" + (
        f"; and the largest from only the levels {far[-1]} rungs or more below it" if far else "")


def _level_fold(runs: RunSet, values: pd.Series, axis: str, levels: np.ndarray, *, fitted: int, held: int,
                next_held: bool = False) -> Fold:
    """Fit the runs up to level ``fitted``, hold out those of level ``held`` (and above unless ``next_held``).

    A fold that skips levels between the two is a far fold: optional (fewer runs are left to fit).
    """
    numbers = values.to_numpy(dtype=float)
    train = [r for r, v in zip(values.index, numbers) if v < levels[fitted + 1]]
    top = levels[held + 1] if next_held and held + 1 < levels.size else np.inf
    test = [r for r, v in zip(values.index, numbers) if levels[held] <= v < top]
    far = held > fitted + 1
    distance = float(np.log10(values[test].max() / values[train].max()))
    name = f"{axis} {levels[fitted]:.3g} -> {levels[held]:.3g}" + (" (far)" if far else "")
    return Fold(name, runs.select(train), runs.select(test), optional=far, distance=distance, axis=axis)


def _run_folds(runs: RunSet) -> list[Fold]:
    """Hold out single runs that lie inside the others' range of size and length (up to ``RUN_FOLDS``).

    Their errors measure the law on a new run that is no extrapolation (another schedule
    or length at a fitted size): the floor of the interval. Runs are taken evenly spread
    over the sorted run ids, so the choice is deterministic.
    """
    if len(runs.runs) < 3:
        return []
    length = per_run(runs, "tokens")
    length = length if length.notna().all() else per_run(runs, "steps")
    size = per_run(runs, "params")
    within = _within_others(length.to_numpy(dtype=float)) if length.notna().all() else np.zeros(len(length), bool)
    if size.notna().all():
        within &= _within_others(size.to_numpy(dtype=float))
    inside = sorted(r for r, ok in zip(runs.runs, within) if ok)
    if not inside:
        return []
    picks = [inside[int(i)] for i in np.unique(np.linspace(0, len(inside) - 1, min(RUN_FOLDS, len(inside))).round())]
    return [Fold(f"run {run} (inside the others' range)", runs.select([r for r in runs.runs if r != run]),
                 runs.select([run]), inside=True, optional=True, axis="inside") for run in picks]


def _within_others(values: np.ndarray) -> np.ndarray:
    """For each run, whether its value lies within the others' [min, max · LEVEL_RATIO] (O(runs))."""
    inf = np.array([np.inf])
    low = np.minimum(np.concatenate([inf, np.minimum.accumulate(values)[:-1]]),
                     np.concatenate([np.minimum.accumulate(values[::-1])[::-1][1:], inf]))
    high = np.maximum(np.concatenate([-inf, np.maximum.accumulate(values)[:-1]]),
                      np.concatenate([np.maximum.accumulate(values[::-1])[::-1][1:], -inf]))
    return (low <= values) & (values <= high * LEVEL_RATIO)


def level_floors(values: np.ndarray) -> np.ndarray:
    """The smallest value of each level: sorted values within ``LEVEL_RATIO`` of the previous are one level.

    Runs of one planned length log slightly different last steps (71,900 and 71,950), and one
    model size is often reported to a few digits; such values are the same rung of the ladder.
    """
    ordered = np.unique(values)
    if ordered.size == 0:
        return ordered
    starts = np.concatenate([[True], ordered[1:] > LEVEL_RATIO * ordered[:-1]])
    return ordered[starts]


def _time_folds(runs: RunSet) -> tuple[list[Fold], str]:
    """Fit each run's first checkpoints after its warmup (a fraction of them) and predict the rest it logged.

    Checkpoints inside a warmup (before the first step at the peak lr, where the lr is
    known) are not counted: the curve laws leave them out, so a cut among them would leave
    a fold nothing to fit. A cut that leaves fewer than 4 counted checkpoints before it
    (a curve law with its lr-decay terms held has 3 free parameters) moves up to 4, as
    long as 2 remain after it; a cut that then repeats a larger one is dropped.
    """
    import warnings

    from scalelaw.laws._curves import curves_from_runs  # the lr as the curve laws rebuild it

    fitted_min, held_min = 4, 2
    if "step" not in runs.table.columns:
        return [], "no steps to cut the runs at"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warmup_end = {c.run: float(np.argmax(c.lr)) for c in curves_from_runs(runs, purpose="the warmup")}
    except InputError:
        warmup_end = {}
    logged = runs.table[runs.table["loss"].notna() & (runs.table["step"] >= 1)]
    counted = {}
    for run, rows in logged.groupby("run", sort=False):
        steps = np.sort(rows["step"].to_numpy(dtype=float))
        counted[str(run)] = steps[steps >= warmup_end.get(str(run), 0.0)]
    if len(counted) < len(runs.runs) or min(s.size for s in counted.values()) < MIN_CHECKPOINTS:
        return [], f"too few logged checkpoints after the warmup to cut a run in two (need {MIN_CHECKPOINTS})"
    folds, used = [], []
    for cut in CUTS:
        after = {run: float(steps[min(max(fitted_min, int(np.ceil(cut * steps.size))), steps.size - held_min) - 1])
                 for run, steps in counted.items()}
        if after in used:
            continue
        used.append(after)
        limit = runs.table["run"].astype(str).map(after)
        train = RunSet(runs.table[runs.table["step"] <= limit].reset_index(drop=True), runs.sources)
        distance = float(np.median([np.log10(counted[r][-1] / after[r]) for r in counted]))
        folds.append(Fold(f"first {cut:.0%} of each run's checkpoints -> the rest", train, runs, after=after,
                          distance=distance, axis="time"))
    return folds, "fitted each run's first checkpoints after the warmup, predicted the rest of what it logged"
