"""``scalelaw plan hparams-fit`` and ``plan hparams``: the Step Law for the optimal learning rate and batch size."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from scalelaw.cli._data_options import MAP_OPTION, WHERE_OPTION, load_inputs
from scalelaw.cli.plan import JSON_OPTION, LEVEL_OPTION, plan_app, show_answer
from scalelaw.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from scalelaw.data.runs import RunSet
    from scalelaw.plan.hparams import HparamFit


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
    report: Path | None = typer.Option(None, "--report", help="Also write an HTML page: each cell's loss against lr "
                                       "with its optimum, and the law through the optima."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit the Step Law lr_opt = a·N^α·D^β, bs_opt = b·D^γ through each (N, D) cell's smooth optimum."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.hparams import RULES, Rule, fit_hparams

    if rule not in RULES:
        raise InputError(f"--rule must be one of {', '.join(RULES)}, got {rule!r}", column="--rule")
    from scalelaw.data.atomic import check_output_path, write_json

    check_output_path(out)
    if report is not None:
        check_output_path(report, option="--report")
    runs = load_inputs(data, maps, where)
    fitted = fit_hparams(runs, rule=cast(Rule, rule), bootstrap=bootstrap, seed=seed)
    write_json(out, fitted.to_dict())
    if report is not None:
        _write_page(fitted, runs, report, source=", ".join(data), rule=rule)
    law = fitted.to_dict()["law"]
    if as_json:
        print_json({"law": law, "optima": fitted.optima.to_dict(orient="records"), "out": str(out)})
        return
    print_table("each (N, D) cell's optimum (lr ×/÷: its sd as a factor; edge: the optimum sits on the grid's edge)",
                optima_rows(fitted.optima))
    batch = (f"B_opt = {law['bs_coef']:.3g}·D^{law['bs_tokens_exp']:.3f}" if fitted.bs_identified
             else "not identified")
    print_table(f"Step Law fit (written to {out})", [
        {"law": "learning rate", "fitted": f"lr_opt = {law['lr_coef']:.3g}·N^{law['lr_params_exp']:.3f}"
                                            f"·D^{law['lr_tokens_exp']:.3f}"},
        {"law": "batch size", "fitted": batch}])
    from scalelaw.cli.output import console, err_console

    if not fitted.bs_identified:
        err_console.print(f"note: batch-size law not identified: {fitted.bs_note}")
    if report is not None:
        console.print(f"wrote {report}")


def _write_page(fitted: HparamFit, runs: RunSet, path: Path, *, source: str, rule: str) -> None:
    """The hyperparameter page of the HTML report."""
    from scalelaw.plan.hparams import grid_table, seed_means
    from scalelaw.report.document import write_report
    from scalelaw.report.hparams import hparams_section

    section = hparams_section(fitted, seed_means(grid_table(runs)), source=source, rule=rule)
    write_report([section], path=path, title="scalelaw hyperparameter laws")


def optima_rows(optima: pd.DataFrame) -> list[dict[str, str]]:
    """The cells' optima as short, formatted table rows."""
    rows = []
    for cell in optima.to_dict(orient="records"):
        sd = cell.get("lr_log_sd", float("nan"))
        edge = [name for name, flag in (("lr", cell["lr_on_edge"]), ("batch", cell["batch_on_edge"])) if flag]
        rows.append({"N": f"{cell['params']:.3g}", "D": f"{cell['tokens']:.3g}", "best lr": f"{cell['lr']:.3g}",
                     "lr ×/÷": f"{math.exp(sd):.2f}" if math.isfinite(sd) else "-",
                     "best batch": f"{cell['batch_size']:.3g}", "loss": f"{cell['loss']:.4f}",
                     "edge": ", ".join(edge) or "-"})
    return rows


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
    if not isinstance(data, dict) or data.get("kind") != "hparams":
        raise InputError("not a hyperparameter fit: write one with `scalelaw plan hparams-fit GRID --out FILE` (a "
                         "law's FIT.json answers `scalelaw predict`)", file=str(fit))
    answer = predict_hparams(HparamFit.from_dict(data, source=str(fit)), params=params, tokens=tokens, level=level)
    title = f"optimal hyperparameters at N = {params:.3g}, D = {tokens:.3g} ({level:.0%} intervals)"
    if as_json:
        show_answer(title, answer, as_json)
        return
    from scalelaw.cli.output import err_console, print_table

    values = answer.values
    lr, bs, lr_penalty, both = values["lr"], values["batch_size"], values["lr_penalty"], values["penalty"]
    rows = [{"quantity": "peak learning rate", "value": f"{lr.value:.3g}", "interval": _interval(lr.low, lr.high)},
            {"quantity": "batch size (tokens)", "value": f"{bs.value:.3g}" if math.isfinite(bs.value)
             else "not identified", "interval": _interval(bs.low, bs.high)},
            {"quantity": "loss penalty of that lr", "value": _percent(lr_penalty.value),
             "interval": f"at most {_percent(lr_penalty.high)}" if math.isfinite(lr_penalty.high) else "-"},
            *([{"quantity": "loss penalty of that lr and batch size", "value": _percent(both.value),
                "interval": f"at most {_percent(both.high)}"}] if math.isfinite(both.value) else []),
            {"quantity": "DeepSeek LLM's published law (C = 6ND)",
             "value": f"lr {values['deepseek_lr'].value:.3g}, batch {values['deepseek_batch_size'].value:.3g}",
             "interval": "-"}]
    print_table(title, rows, ["quantity", "value", "interval"])
    for message in answer.warnings:
        err_console.print(f"warning: {message}")


def _interval(low: float, high: float) -> str:
    return f"{low:.3g} – {high:.3g}" if math.isfinite(low) and math.isfinite(high) else "-"


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%" if math.isfinite(value) else "-"
