"""The ``scalelaw plan`` commands: questions to answer before committing compute.

Each command loads a FIT.json (from ``scalelaw fit`` or ``scalelaw plan unravel``) or
reads isoFLOP data, calls one function of :mod:`scalelaw.plan`, and prints a table or,
with ``--json``, the numbers with their intervals and warnings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from scalelaw.cli._data_options import MAP_OPTION, WHERE_OPTION, load_inputs
from scalelaw.errors import InputError

plan_app = typer.Typer(help="Planning: compute-optimal size, target loss, batch size, hyperparameters.", no_args_is_help=True)

FIT_ARGUMENT = typer.Argument(..., help="A FIT.json from `scalelaw fit` or `scalelaw plan unravel`.")
JSON_OPTION = typer.Option(False, "--json", help="Print the answer as JSON.")
LEVEL_OPTION = typer.Option(0.95, "--level", help="Coverage of the intervals.")


def accounting_of(
    last_layer: bool, attention: bool, embedding: bool, vocab: int | None, d_model: int | None,
    n_layers: int | None, seq_len: int | None, aspect_ratio: float | None,
) -> Any:
    """The FLOP accounting the --last-layer/--attention/--embedding options describe."""
    from scalelaw.plan.flops import FlopAccounting

    return FlopAccounting(last_layer=last_layer, embedding=embedding, attention=attention, vocab=vocab,
                          d_model=d_model, n_layers=n_layers, seq_len=seq_len, aspect_ratio=aspect_ratio)


LAST_LAYER_OPTION = typer.Option(False, "--last-layer", help="Count the unembedding FLOPs, 6·vocab·d_model per token.")
ATTENTION_OPTION = typer.Option(False, "--attention", help="Count attention FLOPs, 6·n_layers·seq_len·d_model per token.")
EMBEDDING_OPTION = typer.Option(False, "--embedding", help="Count the input embedding as a matmul, 6·vocab·d_model.")
VOCAB_OPTION = typer.Option(None, "--vocab", help="Vocabulary size (for --last-layer/--embedding).")
D_MODEL_OPTION = typer.Option(None, "--d-model", help="Model width, if fixed.")
N_LAYERS_OPTION = typer.Option(None, "--n-layers", help="Number of layers, if fixed.")
SEQ_LEN_OPTION = typer.Option(None, "--seq-len", help="Sequence length (for --attention).")
ASPECT_OPTION = typer.Option(None, "--aspect-ratio", help="d_model/n_layers, to derive each size's shape from N = 12·n_layers·d_model².")


def load_fitted(path: Path) -> Any:
    """A step-by-step fit (``method: stepwise``) or an engine FitResult, from FIT.json."""
    from scalelaw.fit.serialize import fit_from_dict, read_json

    data = read_json(path)
    if isinstance(data, dict) and data.get("method") == "stepwise":
        from scalelaw.plan.unraveling import StepwiseFit

        return StepwiseFit.from_dict(data, source=str(path))
    return fit_from_dict(data, source=str(path))


def _show(title: str, answer: Any, as_json: bool) -> None:
    """Print an :class:`~scalelaw.plan.answers.Answer` as a table (warnings to stderr) or JSON."""
    from scalelaw.cli.output import err_console, print_json, print_table

    if as_json:
        print_json(answer.as_dict())
        return
    rows = [{"quantity": k, "value": v.value, "low": v.low, "high": v.high} for k, v in answer.values.items()]
    print_table(title, rows, ["quantity", "value", "low", "high"])
    for message in answer.warnings:
        err_console.print(f"warning: {message}")


@plan_app.command("compute")
def compute(
    fit: Path = FIT_ARGUMENT,
    flops: float = typer.Option(..., "--flops", help="Training compute budget C in FLOPs."),
    last_layer: bool = LAST_LAYER_OPTION,
    attention: bool = ATTENTION_OPTION,
    embedding: bool = EMBEDDING_OPTION,
    vocab: int | None = VOCAB_OPTION,
    d_model: int | None = D_MODEL_OPTION,
    n_layers: int | None = N_LAYERS_OPTION,
    seq_len: int | None = SEQ_LEN_OPTION,
    aspect_ratio: float | None = ASPECT_OPTION,
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Compute-optimal N and D for a budget, and the predicted loss (approach 3), with intervals."""
    from scalelaw.plan.compute import compute_optimal

    accounting = accounting_of(last_layer, attention, embedding, vocab, d_model, n_layers, seq_len, aspect_ratio)
    answer = compute_optimal(load_fitted(fit), flops=flops, accounting=accounting, level=level)
    _show(f"compute-optimal allocation at C = {flops:.3g} FLOPs", answer, as_json)


@plan_app.command("target")
def target(
    fit: Path = FIT_ARGUMENT,
    loss: float = typer.Option(..., "--loss", help="Target loss (nats)."),
    params: float | None = typer.Option(None, "--params", help="Model size N (kaplan-steps: steps and tokens for this N)."),
    last_layer: bool = LAST_LAYER_OPTION,
    attention: bool = ATTENTION_OPTION,
    embedding: bool = EMBEDDING_OPTION,
    vocab: int | None = VOCAB_OPTION,
    d_model: int | None = D_MODEL_OPTION,
    n_layers: int | None = N_LAYERS_OPTION,
    seq_len: int | None = SEQ_LEN_OPTION,
    aspect_ratio: float | None = ASPECT_OPTION,
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The cheapest way to reach a loss: compute, N and D (chinchilla-like), or steps and tokens (kaplan-steps)."""
    from scalelaw.plan import answers
    from scalelaw.plan.compute import cheapest_compute

    fitted = load_fitted(fit)
    if fitted.law.name != "kaplan-steps":
        accounting = accounting_of(last_layer, attention, embedding, vocab, d_model, n_layers, seq_len, aspect_ratio)
        answer = cheapest_compute(fitted, loss=loss, accounting=accounting, level=level)
        _show(f"cheapest compute reaching loss {loss}", answer, as_json)
    elif params is None:
        _show(f"smallest model that can reach loss {loss}", answers.smallest_model(fitted, loss=loss, level=level), as_json)
    else:
        result = answers.minimum_steps_and_tokens(fitted, params=params, loss=loss, level=level)
        _show(f"minimum steps and tokens to loss {loss} with N = {params:.3g}", result, as_json)


@plan_app.command("min-loss")
def min_loss(
    fit: Path = FIT_ARGUMENT,
    params: float = typer.Option(..., "--params", help="Model size N."),
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The lowest loss a model of N parameters can reach, L(N) (kaplan-steps)."""
    from scalelaw.plan.answers import minimum_loss

    _show(f"minimum loss of a {params:.3g}-parameter model", minimum_loss(load_fitted(fit), params=params, level=level), as_json)


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
    _show(f"critical batch size (tokens) at loss {loss}", critical, False)
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
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.unraveling import fit_stepwise

    from scalelaw.data.atomic import check_output_path, write_json

    if out is not None:
        check_output_path(out)
    fitted = fit_stepwise(load_inputs(data, maps, where), bootstrap=bootstrap, seed=seed)
    if out is not None:
        write_json(out, fitted.to_dict())
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


@plan_app.command("isoflop")
def isoflop(
    data: list[str] = typer.Argument(..., help="IsoFLOP points with flops, params, loss; tokens optional (else C/(6N))."),
    by: list[str] = typer.Option([], "--by", help="Analyse each group of these columns separately; repeatable."),
    method: str = typer.Option("akima", "--method", help="akima (Porian et al.) or parabola (Chinchilla)."),
    noise: float = typer.Option(0.002, "--noise", help="Seed-noise sd added to the losses for the bootstrap."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Noisy copies per budget (0: plain argmin)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise."),
    flops: list[float] = typer.Option([], "--flops", help="Also predict N*(C), D*(C) at these budgets; repeatable."),
    maps: list[str] = MAP_OPTION,
    where: str | None = WHERE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Approach 2: per FLOP budget the best model size, then N*(C) ∝ C^a and D*(C) ∝ C^b."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.isoflop import isoflop_fit

    if method not in ("akima", "parabola"):
        raise InputError(f"--method must be akima or parabola, got {method!r}")
    runs = load_inputs(data, maps, where)
    runs.require(["flops", "params"], purpose="the isoFLOP analysis")
    table = runs.final()
    if "tokens" not in table.columns or table["tokens"].isna().any():
        table = table.assign(tokens=table["flops"] / (6.0 * table["params"]))
    groups = table.groupby(by, sort=False) if by else [((), table)]
    results = []
    for key, rows in groups:
        result = isoflop_fit(rows["flops"], rows["params"], rows["tokens"], rows["loss"],
                             method=method, bootstrap=bootstrap, noise=noise, seed=seed)
        entry = {
            "group": "/".join(map(str, key if isinstance(key, tuple) else (key,))) or "all",
            "a": result.params.exponent, "a_low": result.params.exponent_low, "a_high": result.params.exponent_high,
            "b": result.tokens.exponent, "b_low": result.tokens.exponent_low, "b_high": result.tokens.exponent_high,
            "budgets": len(result.used_budgets),
        }
        for c in flops:
            entry[f"N*({c:.3g})"] = float(result.params(c))
            entry[f"D*({c:.3g})"] = float(result.tokens(c))
        if flops and max(flops) > result.max_flops:
            entry["warning"] = f"extrapolating {np.log10(max(flops) / result.max_flops):.1f} decades beyond the largest budget"
        if as_json:
            entry["optima"] = [
                {"flops": b.flops, "params": b.params, "tokens": b.tokens, "loss": b.loss, "used": b.used, "reason": b.reason}
                for b in result.budgets
            ]
        results.append(entry)
    if as_json:
        print_json(results)
    else:
        print_table(f"approach 2 ({method}): N*(C) = coef·C^a, D*(C) = coef·C^b", results)


@plan_app.command("hparams-fit")
def hparams_fit(
    data: list[str] = typer.Argument(..., help="A grid of runs over lr and batch_size with params and tokens."),
    out: Path = typer.Option(..., "--out", help="Write the hyperparameter fit to this JSON file."),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Refits on resampled (N, D) groups for the intervals."),
    seed: int = typer.Option(0, "--seed", help="Seed of the resampling."),
    maps: list[str] = MAP_OPTION,
    where: str | None = WHERE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit the Step Law lr_opt = a·N^α·D^β, bs_opt = b·D^γ from a grid of runs."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.plan.hparams import fit_hparams

    from scalelaw.data.atomic import check_output_path, write_json

    check_output_path(out)
    fitted = fit_hparams(load_inputs(data, maps, where), bootstrap=bootstrap, seed=seed)
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
    _show(f"optimal hyperparameters at N = {params:.3g}, D = {tokens:.3g}", answer, as_json)


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command group to ``app``."""
    app.add_typer(plan_app, name="plan")
