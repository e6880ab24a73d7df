"""The fitting commands: ``fit``, ``predict``, ``evaluate``, ``backtest`` and ``laws``.

Each is a thin layer over :mod:`scalelaw.fit`: parse the options, call the API, print a
table for people or stable JSON with ``--json``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scalelaw.cli._data_options import (
    BYTES_PER_TOKEN_OPTION,
    FORMAT_OPTION,
    LOSS_OPTION,
    LOSS_UNIT_OPTION,
    MAP_OPTION,
    META_OPTION,
    PATTERN_OPTION,
    SET_OPTION,
    WHERE_OPTION,
    load_inputs,
)
from scalelaw.errors import InputError

if TYPE_CHECKING:
    from scalelaw.fit import FitResult
    from scalelaw.fit.two_step import TwoStepFit
    from scalelaw.laws import Law

LAW_OPTION = typer.Option("chinchilla", "--law", help="Law to fit; `scalelaw laws` lists them.")
FIT_LAW_OPTION = typer.Option(
    None,
    "--law",
    help="Law to fit (`scalelaw laws` lists them), or auto: the law with the lowest backtest error "
    "[default: chinchilla; auto among the accuracy laws for a --metric that rises].",
)
CALIBRATE_OPTION = typer.Option(
    None,
    "--calibrate/--no-calibrate",
    help="Backtest the law across scale and widen its intervals by its measured extrapolation error (with --via: "
    "step 1's) [default: when the data allow a backtest; --calibrate insists, --no-calibrate skips it].",
)
BACKTEST_BY_OPTION = typer.Option(
    None, "--backtest-by", help="Axis of the backtests of --law auto/--calibrate: params, tokens, flops, steps or time."
)
TARGET_OPTION = typer.Option(
    None, "--target", help="With --law auto: the run to forecast, e.g. params=7e9,tokens=1.4e11; laws are scored on "
    "the backtests whose distance is nearest its own [default: the farthest backtests]."
)
LEVEL_OPTION = typer.Option(None, "--level", help="Coverage of the prediction intervals (default: the fit's --ci-level).")
LAW_OPTIONS_OPTION = typer.Option([], "--option", help="Law option KEY=VALUE, e.g. variable=flops. Repeatable.")
FIX_OPTION = typer.Option([], "--fix", help="Hold a parameter fixed: NAME=VALUE, e.g. alpha=0.34. Repeatable.")
FIX_FROM_OPTION = typer.Option(
    None, "--fix-from", help="Hold fixed the parameters of a saved fit whose names match: OLD.json or OLD.json:a,b."
)
BOOTSTRAP_OPTION = typer.Option(0, "--bootstrap", help="Bootstrap replicates (resampling runs) for intervals.")
FIT_BOOTSTRAP_OPTION = typer.Option(
    None, "--bootstrap", help="Bootstrap replicates (resampling runs) for intervals [default: 0; with --law auto 100, 30 for a curve law]."
)
SEED_OPTION = typer.Option(0, "--seed", help="Seed of the bootstrap.")
STRICT_OPTION = typer.Option(False, "--strict", help="Refuse (exit 3) a fit whose diagnostics raise warnings.")
OBJECTIVE_OPTION = typer.Option(
    None, "--objective", help="huber, squares or asymmetric (on log-loss residuals); default: the law's own (huber for most)."
)
DELTA_OPTION = typer.Option(1e-3, "--delta", help="Huber delta on log-loss residuals.")
REDUCTION_OPTION = typer.Option("sum", "--reduction", help="Report the objective summed (sum) or averaged (mean).")
CI_OPTION = typer.Option(0.95, "--ci-level", help="Coverage of every interval.")
JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
METRIC_OPTION = typer.Option(
    None, "--metric", help="Fit this logged column instead of the loss, e.g. eval/downstream/hellaswag_rc_5shot_len_norm."
)
VIA_OPTION = typer.Option(
    None, "--via", help="Forecast --metric in two steps through this column: (N, D) -> VIA with --law, VIA -> METRIC."
)
CHANCE_OPTION = typer.Option(
    None, "--chance", help="Chance level of a --metric accuracy, the floor of chance-sigmoid (default: from the "
    "benchmark's name, e.g. 0.25 for HellaSwag, ARC, MMLU; 0.5 for PIQA, WinoGrande, BoolQ; else 0)."
)
WINDOW_OPTION = typer.Option(
    None, "--window", help="Average each run's values over its last K logged ones (default 5 with --via or a rising metric, else 1)."
)


def parse_value(text: str) -> Any:
    """A command-line value as JSON when it parses (numbers, true/false), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_pairs(items: list[str], what: str) -> dict[str, Any]:
    """``["a=1", "b=x,c=2"]`` to ``{"a": 1, "b": "x", "c": 2}``; malformed items are InputErrors."""
    out: dict[str, Any] = {}
    for item in items:
        for part in item.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise InputError(f"{what} expects NAME=VALUE, got {part!r}")
            out[key.strip()] = parse_value(value.strip())
    return out


def numeric_pairs(items: list[str], what: str) -> dict[str, float]:
    """Like :func:`parse_pairs`, but every value must be a number."""
    out = {}
    for key, value in parse_pairs(items, what).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{what} {key}={value!r}: not a number")
        out[key] = float(value)
    return out


def fixed_from(spec: str | None, law: Law) -> dict[str, float]:
    """Parameters to hold fixed from ``OLD.json`` (all matching names) or ``OLD.json:a,b``."""
    from scalelaw.fit import load_fit

    if not spec:
        return {}
    path, names = spec, None
    if not Path(spec).exists() and ":" in spec:
        path, _, subset = spec.rpartition(":")
        names = [n.strip() for n in subset.split(",") if n.strip()]
    old = load_fit(path)
    if names is None:
        return {k: v for k, v in old.params.items() if k in law.param_names}
    for name in names:
        if name not in old.params:
            raise InputError(f"--fix-from: the fit has no parameter {name!r}", file=path)
        if name not in law.param_names:
            raise InputError(f"--fix-from: law {law.name} has no parameter {name!r}", file=path)
    return {name: old.params[name] for name in names}


def fit_summary(fit: FitResult | TwoStepFit) -> dict[str, Any]:
    """The FIT.json fields worth printing (no residuals or bootstrap matrix; both steps of a two-step fit)."""
    data = fit.to_dict()
    steps = {k: {f: v for f, v in data[k].items() if f not in {"residuals", "bootstrap"}} for k in ("step1", "step2") if k in data}
    return {k: v for k, v in {**data, **steps}.items() if k not in {"residuals", "bootstrap"}}


def show_fit(fit: FitResult, title: str) -> None:
    from scalelaw.cli.output import console, print_table
    from scalelaw.fit.tables import loss_source_text, parameter_rows

    print_table(title, parameter_rows(fit), ["name", "value", "lo", "hi", "kind"])
    d = fit.diagnostics
    console.print(
        f"{d.n_points} points from {d.n_runs} runs; {d.starts_in_best_basin} of {d.starts} starts reached the best "
        f"basin; {'' if fit.law.residual == 'linear' else 'log-'}residual RMSE {d.residual_rmse:.4g}; converged: {'yes' if d.converged else 'NO'}"
    )
    if source := loss_source_text(fit):
        console.print(f"loss read from {source}")
    for message in d.warnings:
        console.print(f"warning: {message}", style="yellow")


def show_selection(fit: FitResult) -> None:
    """Print the backtest table of --law auto / --calibrate and the reason for the choice."""
    import numpy as np

    from scalelaw.cli.output import console, print_table
    from scalelaw.selection.table import candidate_rows

    if not fit.selection:
        return
    names = [str(name) for name in fit.selection.get("folds", [])]
    inside = sum("inside the others' range" in name for name in names)
    beyond = "; ".join(name for name in names if "inside the others' range" not in name) or "none"
    folds = beyond + (f"; {inside} single run(s) inside the others' range" if inside else "")
    short = {"error on the deciding folds": "at target", "held-out final error": "final", "held-out curve error": "curve",
             "signed bias": "bias"}  # a terminal is narrow: the title says what each column is
    rows = [{short.get(k, k): v for k, v in row.items()} for row in candidate_rows(fit.selection)]
    deciding = "; ".join(str(name) for name in fit.selection.get("deciding_folds") or [])
    where = (f"at target: on the folds nearest the target's distance ({deciding}); final, curve and bias: mean over the "
             "folds beyond the data") if deciding else "mean over the folds beyond the data"
    accuracy = fit.selection.get("unit") == "accuracy"
    unit = "accuracy points" if accuracy else "% of the loss"
    print_table(f"backtests (folds: {folds}); errors in {unit}; {where}", rows, list(rows[0]) if rows else None)
    console.print(str(fit.selection.get("reason", "")))
    if accuracy and fit.calibration is not None:
        c = fit.calibration
        console.print(f"The law's own error (sd, accuracy points): {100 * c.floor:.2f} inside the fitted range, "
                      f"{100 * float(c.sd(np.array([max(c.tested_decades, 1.0)]))[0]):.2f} at "
                      f"{max(c.tested_decades, 1.0):.2f} decades beyond it; t tails with {c.dof} degrees of freedom "
                      f"({c.runs} held-out run(s) in {c.folds} fold(s), blended with a prior worth one run)")
    elif fit.calibration is not None:
        text = fit.calibration.describe(fit.diagnostics.residual_rmse)
        console.print(text[0].upper() + text[1:])


def register(app: typer.Typer) -> None:
    """Add the fitting commands to ``app``."""

    @app.command("fit")
    def fit_command(
        data: list[str] = typer.Argument(..., help="Runs: files, folders, a run store or dataset:NAME."),
        law: str | None = FIT_LAW_OPTION,
        option: list[str] = LAW_OPTIONS_OPTION,
        maps: list[str] = MAP_OPTION,
        where: str | None = WHERE_OPTION,
        loss_unit: str = LOSS_UNIT_OPTION,
        bytes_per_token: float | None = BYTES_PER_TOKEN_OPTION,
        input_format: str | None = FORMAT_OPTION,
        loss: str | None = LOSS_OPTION,
        sets: list[str] = SET_OPTION,
        meta: str | None = META_OPTION,
        pattern: str | None = PATTERN_OPTION,
        bootstrap: int | None = FIT_BOOTSTRAP_OPTION,
        calibrate: bool | None = CALIBRATE_OPTION,
        backtest_by: str | None = BACKTEST_BY_OPTION,
        target: str | None = TARGET_OPTION,
        seed: int = SEED_OPTION,
        fix: list[str] = FIX_OPTION,
        fix_from: str | None = FIX_FROM_OPTION,
        objective: str | None = OBJECTIVE_OPTION,
        delta: float = DELTA_OPTION,
        reduction: str = REDUCTION_OPTION,
        ci_level: float = CI_OPTION,
        strict: bool = STRICT_OPTION,
        metric: str | None = METRIC_OPTION,
        via: str | None = VIA_OPTION,
        window: int | None = WINDOW_OPTION,
        chance: float | None = CHANCE_OPTION,
        out: Path | None = typer.Option(None, "--out", "-o", "--save", help="Write the fit to this FIT.json."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Fit a law to runs (their loss, or any logged --metric) and print its parameters, intervals and diagnostics.

        With --law auto, every law the data allows is backtested across scale and the one with the
        lowest held-out error is fitted; the table of candidates is printed and saved in FIT.json.
        With --metric COLUMN any logged column is fitted (a loss law, or a law for metrics that rise);
        with --via COLUMN too, the metric is forecast in two steps: (N, D) -> VIA -> METRIC.
        """
        from scalelaw import laws
        from scalelaw.cli._provenance import record_source
        from scalelaw.cli.output import console, print_json
        from scalelaw.data.atomic import check_output_path
        from scalelaw.fit import FitResult, fit_law
        from scalelaw.selection.auto import fit_auto, fit_calibrated
        from scalelaw.selection.metric_auto import accuracy_law, calibrate_two_step, fit_metric_auto
        from scalelaw.fit.metric_fit import fit_metric
        from scalelaw.fit.two_step import TwoStepFit

        if out is not None:
            check_output_path(out)
        runs = load_inputs(data, maps, where, loss_unit, bytes_per_token, format=input_format, loss=loss, sets=sets,
                           meta=meta, pattern=pattern, targets=metric is not None)  # a --metric fit needs no loss
        common = dict(objective=objective, delta=delta, reduction=reduction, seed=seed, strict=strict,
                      progress=False if as_json else None, ci_level=ci_level)  # fmt: skip
        any_metric = metric is not None or via is not None or window is not None
        if target and law != "auto":
            raise InputError("--target chooses the backtests --law auto scores laws on; it needs --law auto")
        if chance is not None and (metric is None or via is not None):
            raise InputError("--chance is the floor of a --metric accuracy fitted in one step (without --via)")
        accuracy = metric is not None and via is None and accuracy_law(runs, metric, law)
        if accuracy and not (fix or fix_from) and calibrate is not False:
            named = parse_pairs(option, "--option")
            wanted = None if law in (None, "auto") else [_label(law, named)]
            result = fit_metric_auto(runs, metric, laws_to_try=wanted, law_options=named if wanted else None,
                                     chance=chance, window=window, bootstrap=bootstrap, **common)
        elif law == "auto":
            if fix or fix_from or option or any_metric:
                raise InputError("--law auto chooses a law for the loss; --fix, --fix-from, --option, --metric, --via "
                                 "and --window need a named law")
            aim = numeric_pairs([target], "--target") if target else None
            result = fit_auto(runs, by=backtest_by, bootstrap=bootstrap, target=aim, **common)
        elif any_metric:
            if calibrate and via is None:
                raise InputError("--calibrate backtests a law of the loss, of an accuracy (--metric) or of step 1 "
                                 "of --via; it is not available with --fix or a falling --metric")
            chosen = laws.get(law, **parse_pairs(option, "--option")) if law else None
            held = {**(fixed_from(fix_from, chosen) if chosen else {}), **numeric_pairs(fix, "--fix")}
            result = fit_metric(runs, metric or "loss", law=chosen, via=via, window=window, fix=held, chance=chance,
                                bootstrap=bootstrap or 0, **common)
            if via is not None and calibrate is not False and not held:  # step 1's own error, as a loss law's
                result = calibrate_two_step(result, runs, bootstrap=bootstrap or 0, seed=seed, strict=strict,
                                            progress=common["progress"], ci_level=ci_level)
        else:
            chosen = laws.get(law or "chinchilla", **parse_pairs(option, "--option"))
            held = {**fixed_from(fix_from, chosen), **numeric_pairs(fix, "--fix")}
            if calibrate is False:
                result = fit_law(runs, chosen, fix=held, bootstrap=bootstrap or 0, **common)
            else:
                result = fit_calibrated(runs, chosen, required=bool(calibrate), by=backtest_by, fix=held,
                                        bootstrap=bootstrap or 0, **common)
        if out is not None:
            if isinstance(result, FitResult):  # where the runs came from, so that `report` can plot them again
                source = record_source(data, out, maps=maps, where=where, loss_unit=loss_unit,
                                       bytes_per_token=bytes_per_token, format=input_format, loss=loss, sets=sets,
                                       meta=meta, pattern=pattern, targets=metric is not None)
                result = dataclasses.replace(result, source=source)
            result.save(out)
        if as_json:
            print_json({**fit_summary(result), "out": str(out) if out else None})
            return
        if isinstance(result, TwoStepFit):
            show_fit(result.step1, f"step 1: {result.step1.law.name} fit of {result.via}")
            show_fit(result.step2, f"step 2: {result.step2.law.name} fit of {result.metric} from {result.via}")
        else:
            show_selection(result)
            show_fit(result, f"{result.law.name} fit" + (f" of {metric}" if metric else ""))
        if out is not None:
            console.print(f"saved {out}")

    @app.command("predict")
    def predict_command(
        fit_path: Path = typer.Argument(..., help="A fit saved by `scalelaw fit --out`."),
        at: list[str] = typer.Option([], "--at", help="Inputs to predict at, e.g. params=7e9,tokens=1.4e11. Repeatable."),
        schedule: str | None = typer.Option(None, "--schedule", help="A learning-rate schedule SPEC (curve laws)."),
        runs_data: list[str] = typer.Option(
            [], "--runs", help="Target runs: one row per run (final-loss laws) or per step (curve laws). Repeatable."
        ),
        maps: list[str] = MAP_OPTION,
        where: str | None = WHERE_OPTION,
        level: float | None = LEVEL_OPTION,
        points: int | None = typer.Option(
            None, "--points", min=1, max=100_000,
            help=f"Steps of a --schedule curve to predict, evenly spaced from the end of warmup to the last step "
                 f"(default {TABLE_POINTS} in the table, {JSON_POINTS} with --json)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Predict the fitted metric (value, with a prediction interval lo-hi) at given inputs, a schedule, or target runs.

        Target rows need what the law needs (e.g. params and tokens, or step with lr or lr_schedule);
        a loss is optional. A final-loss law gives one row per run with step null. A two-step fit
        (fit --via) predicts at --at points.
        """
        from scalelaw.cli.output import print_json, print_table
        from scalelaw.fit import load_fit
        from scalelaw.fit.two_step import TwoStepFit

        fit = load_fit(fit_path)
        rows: list[dict[str, Any]] = []
        if isinstance(fit, TwoStepFit):
            if runs_data or schedule:
                raise InputError("a two-step fit predicts at --at points only (not --runs or --schedule)")
            if not at:
                raise InputError("predict needs --at NAME=VALUE,...")
            for item in at:
                rows.extend(fit.prediction_rows(numeric_pairs([item], "--at"), level=level))
        elif runs_data:
            from scalelaw.selection.targets import predict_targets

            targets = load_inputs(runs_data, maps, where, targets=True)
            metric = fit.options.get("metric")
            if isinstance(metric, str) and metric != "loss" and metric in targets.columns:
                targets = targets.target(metric)  # the observed values of the metric the fit is of
            frame = predict_targets(fit, targets, level=level)
            rows = frame.to_dict(orient="records")
        else:
            points_at = [numeric_pairs([item], "--at") for item in at] or ([{}] if schedule else [])
            if not points_at:
                raise InputError("predict needs --at NAME=VALUE,..., --schedule SPEC or --runs DATA")
            count = points or (JSON_POINTS if as_json else TABLE_POINTS)
            for point in points_at:
                rows.extend(_predict_point(fit, point, schedule, level, count))
        if as_json:
            print_json(rows)
        else:  # the table says once what every row repeats: the schedule, and a loss law's value as loss
            shown = [{k: v for k, v in row.items() if k != "schedule" and not (k == "value" and "loss" in row)} for row in rows]
            under = f" under {schedule}" if schedule is not None and not runs_data else ""
            print_table(f"{fit.law.name} predictions{under}", shown)

    @app.command("evaluate")
    def evaluate_command(
        fit_path: Path = typer.Argument(..., help="A fit saved by `scalelaw fit --out`."),
        data: list[str] = typer.Argument(..., help="Runs the fit did not see."),
        maps: list[str] = MAP_OPTION,
        where: str | None = WHERE_OPTION,
        loss_unit: str = LOSS_UNIT_OPTION,
        bytes_per_token: float | None = BYTES_PER_TOKEN_OPTION,
        input_format: str | None = FORMAT_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Score a saved fit on held-out runs: R², MAE, RMSE, mean and worst relative error."""
        from scalelaw.fit import load_fit

        fit = load_fit(fit_path)
        scores = fit.evaluate(load_inputs(data, maps, where, loss_unit, bytes_per_token, format=input_format))
        _show_scores(scores, as_json)

    @app.command("backtest")
    def backtest_command(
        data: list[str] = typer.Argument(..., help="Runs: files, folders, a run store or dataset:NAME."),
        law: str = LAW_OPTION,
        option: list[str] = LAW_OPTIONS_OPTION,
        holdout: str = typer.Option("largest", "--holdout", help="Which runs to hold out: largest or largest:K."),
        by: str | None = typer.Option(None, "--by", help="Scale variable that orders runs (default: the law's first)."),
        maps: list[str] = MAP_OPTION,
        where: str | None = WHERE_OPTION,
        fix: list[str] = FIX_OPTION,
        objective: str | None = OBJECTIVE_OPTION,
        delta: float = DELTA_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Fit on all but the largest scale and score the fit on the held-out largest runs."""
        from scalelaw import laws
        from scalelaw.selection.backtest import backtest

        chosen = laws.get(law, **parse_pairs(option, "--option"))
        runs = load_inputs(data, maps, where)
        result = backtest(
            runs, chosen, holdout=holdout, by=by, objective=objective, delta=delta, fix=numeric_pairs(fix, "--fix")
        )
        if as_json:
            from scalelaw.cli.output import print_json

            print_json(result)
            return
        from scalelaw.cli.output import console

        console.print(f"held out {len(result['held_out_runs'])} runs at the largest {result['by']}")
        _show_scores(result["evaluation"], False)

    @app.command("laws")
    def laws_command(as_json: bool = JSON_OPTION) -> None:
        """List the laws with their formulas, parameters and citations."""
        from scalelaw.cli.output import print_json, print_table
        from scalelaw.laws.catalog import CARDS

        rows = [
            {
                "name": card.name,
                "kind": card.kind,
                "formula": card.formula,
                "params": ", ".join(card.params),
                "inputs": ", ".join(card.inputs),
                "citation": card.citation,
            }
            for card in sorted(CARDS.values(), key=lambda card: card.name)
        ]
        if as_json:
            print_json(rows)
        else:
            print_table("laws", rows, ["name", "kind", "formula", "params", "citation"])


#: Steps of a ``--schedule`` curve shown in the table, and given with ``--json``, unless ``--points`` says.
TABLE_POINTS = 20
JSON_POINTS = 1000


def schedule_steps(total: int, warmup: int, count: int) -> Any:
    """``count`` steps evenly spaced from the end of warmup (curve laws are fitted after it) to ``total``."""
    import numpy as np

    first = min(max(warmup, 1), total)
    return np.unique(np.round(np.linspace(first, total, min(count, total - first + 1))).astype(np.int64))


def _label(law: str, options: dict[str, Any]) -> str:
    """The candidate label of a named accuracy law: ``chance-sigmoid(flops)``, or the bare name (every variable)."""
    return f"{law}({options['variable']})" if "variable" in options else law


def _predict_point(
    fit: FitResult, point: dict[str, float], schedule: str | None, level: float | None = None, count: int = JSON_POINTS
) -> list[dict[str, Any]]:
    """Prediction rows at one ``--at`` point (``count`` rows of steps when a schedule is given)."""
    import numpy as np

    inputs: dict[str, Any] = dict(point)
    if schedule is not None:
        from scalelaw.data.schedules import parse_schedule

        parsed = parse_schedule(schedule)
        inputs["schedule"] = parsed
        inputs["steps"] = schedule_steps(parsed.total, parsed.warmup, count)
    prediction = fit.predict(level=level, **inputs)
    design = fit.law.design_at(**inputs)
    steps = design.inputs.get("step", design.extra.get("step"))
    rows = []
    for i in range(design.n):
        row: dict[str, Any] = dict(point)
        if schedule is not None:
            row["schedule"] = schedule
        if steps is not None and np.ndim(steps) == 1 and len(steps) == design.n:
            row["step"] = float(steps[i])
        if not fit.law.rises:  # the loss field of loss laws, as before --metric existed
            row["loss"] = float(prediction.loss[i])
        row.update(
            value=float(prediction.loss[i]),
            lo=float(prediction.lo[i]),
            hi=float(prediction.hi[i]),
            extrapolation_decades=float(prediction.extrapolation[i]),
        )
        rows.append(row)
    return rows


def _show_scores(scores: dict[str, Any], as_json: bool) -> None:
    from scalelaw.cli.output import print_json, print_table

    if as_json:
        print_json(scores)
        return
    columns = ["run", "n", "r2", "mae", "rmse", "mean_rel_error", "worst_rel_error"]
    print_table("per run", scores["runs"], columns)
    print_table("overall", [{"run": "all", **scores["overall"]}], columns)
