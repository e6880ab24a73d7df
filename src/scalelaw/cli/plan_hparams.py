"""``scalelaw plan hparams-fit`` and ``plan hparams``: the Step Law for the optimal learning rate and batch size."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from scalelaw.cli._data_options import MAP_OPTION, WHERE_OPTION, load_inputs
from scalelaw.cli.plan import JSON_OPTION, LEVEL_OPTION, plan_app, show_answer
from scalelaw.errors import InputError


@plan_app.command("hparams-fit")
def hparams_fit(
    data: list[str] = typer.Argument(..., help="A grid of runs over lr and batch_size with params and tokens."),
    out: Path = typer.Option(..., "--out", help="Write the hyperparameter fit to this JSON file."),
    bootstrap: int = typer.Option(
        200, "--bootstrap", help="Refits on resampled (N, D) cells, each cell's optimum redrawn from its surface."),
    seed: int = typer.Option(0, "--seed", help="Seed of the resampling."),
    rule: str = typer.Option(
        "surface", "--rule",
        help="Per-cell optimum: surface (a quadratic in log lr and log batch size near the cell's best), "
             "vertex (three-point parabola per batch size) or argmin (best grid point)."),
    maps: list[str] = MAP_OPTION,
    where: str | None = WHERE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit the Step Law lr_opt = a·N^α·D^β, bs_opt = b·D^γ through each (N, D) cell's smooth optimum."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.hparams import RULES, Rule, fit_hparams

    if rule not in RULES:
        raise InputError(f"--rule must be one of {', '.join(RULES)}, got {rule!r}", column="--rule")
    from scalelaw.data.atomic import check_output_path, write_json

    check_output_path(out)
    fitted = fit_hparams(load_inputs(data, maps, where), rule=cast(Rule, rule), bootstrap=bootstrap,
                         seed=seed)
    write_json(out, fitted.to_dict())
    law = fitted.to_dict()["law"]
    if as_json:
        print_json({"law": law, "optima": fitted.optima.to_dict(orient="records"), "out": str(out)})
        return
    print_table("per-(N, D) optima of the grid", fitted.optima.to_dict(orient="records"))
    print_table(f"Step Law fit (written to {out})", [law])


@plan_app.command("hparams")
def hparams(
    fit: Path = typer.Argument(..., help="A hyperparameter fit from `scalelaw plan hparams-fit`."),
    params: float = typer.Option(..., "--params", help="Model size N."),
    tokens: float = typer.Option(..., "--tokens", help="Training tokens D."),
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Optimal peak learning rate and batch size for (N, D), beside DeepSeek LLM's published law at C = 6ND."""
    from scalelaw.fit.serialize import read_json
    from scalelaw.plan.hparams import HparamFit, predict_hparams

    data = read_json(fit)
    answer = predict_hparams(HparamFit.from_dict(data, source=str(fit)), params=params, tokens=tokens, level=level)
    show_answer(f"optimal hyperparameters at N = {params:.3g}, D = {tokens:.3g}", answer, as_json)
