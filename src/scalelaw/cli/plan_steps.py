"""The kaplan-steps questions: ``plan min-loss``, ``batch``, ``trajectory`` and ``unravel`` (Su et al. 2024)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from scalelaw.cli._data_options import MAP_OPTION, WHERE_OPTION, load_inputs
from scalelaw.cli.plan import FIT_ARGUMENT, JSON_OPTION, LEVEL_OPTION, load_fitted, plan_app, show_answer


@plan_app.command("min-loss")
def min_loss(
    fit: Path = FIT_ARGUMENT,
    params: float = typer.Option(..., "--params", help="Model size N."),
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The lowest loss a model of N parameters can reach, L(N) (kaplan-steps)."""
    from scalelaw.plan.answers import minimum_loss

    show_answer(f"minimum loss of a {params:.3g}-parameter model", minimum_loss(load_fitted(fit), params=params, level=level), as_json)


@plan_app.command("batch")
def batch(
    fit: Path = FIT_ARGUMENT,
    loss: float = typer.Option(..., "--loss", help="Loss at which to give the critical batch size."),
    params: float | None = typer.Option(None, "--params", help="Model size N, to show the steps/tokens trade-off."),
    batches: list[float] = typer.Option([], "--batch", help="Batch sizes (tokens) for the trade-off; repeatable."),
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Critical batch size B_crit(L), and steps versus tokens at other batch sizes (kaplan-steps)."""
    import numpy as np

    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.answers import batch_tradeoff, critical_batch_size, relative_tradeoff

    fitted = load_fitted(fit)
    critical = critical_batch_size(fitted, loss=loss, level=level)
    b_crit = critical.values["B_crit"].value
    grid = np.asarray(batches, dtype=float) if batches else b_crit * 2.0 ** np.arange(-3, 4)
    table = [] if params is None else batch_tradeoff(fitted, params=params, loss=loss, batches=grid, level=level)
    relative = relative_tradeoff(grid / b_crit)
    if as_json:
        print_json({**critical.as_dict(), "relative": relative, "tradeoff": [
            {"batch_size": r["batch_size"], "steps": r["steps"].as_dict(), "tokens": r["tokens"].as_dict()} for r in table
        ]})
        return
    show_answer(f"critical batch size (tokens) at loss {loss}", critical, False)
    if not table:
        print_table("steps and tokens relative to their minima (add --params N for absolute numbers)", relative)
    if table:
        rows = [
            {"batch_size": r["batch_size"], "steps": r["steps"].value, "steps_low": r["steps"].low,
             "steps_high": r["steps"].high, "tokens": r["tokens"].value, "tokens_low": r["tokens"].low,
             "tokens_high": r["tokens"].high}
            for r in table
        ]
        print_table(f"steps and tokens to loss {loss} with N = {params:.3g}", rows)


@plan_app.command("trajectory")
def trajectory(
    fit: Path = FIT_ARGUMENT,
    params: float = typer.Option(..., "--params", help="Model size N."),
    batch_size: float = typer.Option(..., "--batch-size", help="Batch size in tokens per step."),
    steps: list[float] = typer.Option(..., "--steps", help="Steps at which to give the loss; repeatable."),
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The loss trajectory of a model of N parameters at batch size B (kaplan-steps)."""
    import numpy as np

    from scalelaw.cli.output import err_console, print_json, print_table
    from scalelaw.plan.answers import trajectory as loss_trajectory

    values, warnings = loss_trajectory(load_fitted(fit), params=params, batch_size=batch_size, steps=np.array(steps), level=level)
    rows = [{"step": s, "loss": v.value, "low": v.low, "high": v.high} for s, v in zip(steps, values)]
    if as_json:
        print_json({"trajectory": rows, "warnings": list(warnings)})
        return
    print_table(f"loss of N = {params:.3g} at batch size {batch_size:.0f}", rows)
    for message in warnings:
        err_console.print(f"warning: {message}")


@plan_app.command("unravel")
def unravel(
    data: list[str] = typer.Argument(..., help="Loss curves with params and batch_size (files, folders, dataset:NAME)."),
    out: Path | None = typer.Option(None, "--out", help="Write the step-by-step fit to this FIT.json."),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Run-resampling refits for the intervals."),
    seed: int = typer.Option(0, "--seed", help="Seed of the resampling."),
    maps: list[str] = MAP_OPTION,
    where: str | None = WHERE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Estimate the kaplan-steps constants step by step (Su et al. 2024): B_crit, L(N), then the steps term."""
    import numpy as np

    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.unraveling import fit_stepwise

    fitted = fit_stepwise(load_inputs(data, maps, where), bootstrap=bootstrap, seed=seed)
    if out is not None:
        out.write_text(json.dumps(fitted.to_dict(), indent=2) + "\n")
    draws = fitted.bootstrap_params
    low, high = (np.nanpercentile(draws, [2.5, 97.5], axis=0) if draws is not None else (None, None))
    rows = [
        {"param": p, "value": v, "low": None if low is None else low[i], "high": None if high is None else high[i]}
        for i, (p, v) in enumerate(fitted.params.items())
    ]
    if as_json:
        print_json({"params": rows, "out": None if out is None else str(out)})
    else:
        print_table("kaplan-steps constants, step by step", rows)
