"""``scalelaw plan ladder`` (which small runs to train for a target) and ``plan next`` (which run to train next)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import typer

from scalelaw.cli._data_options import MAP_OPTION, WHERE_OPTION
from scalelaw.cli.plan import JSON_OPTION, LEVEL_OPTION, plan_app
from scalelaw.errors import InputError

PARAMS_OPTION = typer.Option(None, "--params", help="Target model size N.")
TOKENS_OPTION = typer.Option(None, "--tokens", help="Target training tokens D.")
TPP_OPTION = typer.Option(20.0, "--tokens-per-param", help="Tokens per parameter of 1xC (and of the target when "
                          "--tokens is not given).")
MULTIPLES_OPTION = typer.Option("0.5,1,2,5,10", "--multiples", help="Allowed token multiples of 1xC, comma-separated.")


def _numbers(text: str, option: str) -> list[float]:
    """A comma-separated list of positive numbers."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = math.nan
        if not (value > 0 and math.isfinite(value)):
            raise InputError(f"{option} must be comma-separated positive numbers, got {part.strip()!r}", column=option)
        values.append(value)
    return values


def _target(params: float | None, tokens: float | None, tokens_per_param: float, flops: float | None,
            law: Any, prior: dict[str, float]) -> Any:
    """The target from N (and D or tokens per parameter), or from a compute budget split compute-optimally."""
    from scalelaw.plan.ladder_design import Target

    if flops is not None:
        if params is not None or tokens is not None:
            raise InputError("give the target as --flops alone, or as --params (and --tokens)", column="--flops")
        best = law.optimal_allocation(prior, [flops]) if flops > 0 and math.isfinite(flops) else None
        if best is None or not math.isfinite(float(best["params"][0])):
            raise InputError(f"no compute-optimal split of --flops {flops!r} under law {law.name}", column="--flops")
        return Target(float(best["params"][0]), float(best["tokens"][0]))
    if params is None or not (params > 0 and math.isfinite(params)):
        raise InputError("give the target's --params N (positive), or --flops C", column="--params")
    tokens = tokens if tokens is not None else params * tokens_per_param
    if not (tokens > 0 and math.isfinite(tokens)):
        raise InputError(f"--tokens must be positive, got {tokens!r}", column="--tokens")
    return Target(float(params), float(tokens))


def _budget(budget: str | None, gpu_hours: float | None, throughput: float | None, target_flops: float) -> float:
    """FLOPs for the small runs: a number, a percentage of the target's compute, or GPU-hours × throughput."""
    if gpu_hours is not None:
        if budget is not None or throughput is None or not (gpu_hours > 0 and throughput > 0):
            raise InputError("--gpu-hours needs a positive --throughput (FLOP/s per GPU) and no --budget",
                             column="--gpu-hours")
        return gpu_hours * 3600.0 * throughput
    text = (budget or "1%").strip()
    try:
        value = float(text[:-1]) / 100 * target_flops if text.endswith("%") else float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"--budget must be positive FLOPs or a percentage of the target's compute, got {text!r}",
                         column="--budget")
    return value


def _family(spec: Path) -> tuple[list[tuple[float, dict[str, int]]], dict[str, Any]]:
    """The distinct model shapes of a ladder sweep spec, with its path and digest for ``ladder run --plan``."""
    from scalelaw.data.guards import MAX_SMALL_FILE_BYTES, read_capped
    from scalelaw.ladder.spec import load_spec

    sweep = load_spec(spec)
    shapes = {}
    for config in sweep.runs:
        shape = config.shape
        shapes[(shape.width, shape.depth, shape.heads)] = float(shape.params)
    sizes = [(n, {"width": w, "depth": d, "heads": h}) for (w, d, h), n in shapes.items()]
    digest = hashlib.sha256(read_capped(spec, MAX_SMALL_FILE_BYTES)).hexdigest()
    return sizes, {"spec": str(spec.resolve()), "sha256": digest}


@plan_app.command("ladder")
def ladder(
    params: float | None = PARAMS_OPTION,
    tokens: float | None = TOKENS_OPTION,
    tokens_per_param: float = TPP_OPTION,
    flops: float | None = typer.Option(None, "--flops", help="Target compute C, split compute-optimally under the prior."),
    budget: str | None = typer.Option(None, "--budget", help="FLOPs for the small runs, or a percentage of the "
                                      "target's compute such as 1% (the default)."),
    gpu_hours: float | None = typer.Option(None, "--gpu-hours", help="Budget in GPU-hours (with --throughput)."),
    throughput: float | None = typer.Option(None, "--throughput", help="Sustained training FLOP/s per GPU."),
    min_size: float | None = typer.Option(None, "--min-size", help="Smallest model size allowed."),
    max_size: float | None = typer.Option(None, "--max-size", help="Largest model size allowed."),
    multiples: str = MULTIPLES_OPTION,
    family: Path | None = typer.Option(None, "--family", help="A ladder sweep spec whose models are the allowed sizes "
                                       "(then `scalelaw ladder run --plan` can train the plan)."),
    prior: Path | None = typer.Option(None, "--prior", help="A chinchilla-type FIT.json to plan under (default: "
                                      "Besiroglu et al. 2024's Chinchilla refit)."),
    run_noise: float | None = typer.Option(None, "--run-noise", help="Relative sd of a run around the law (default: "
                                           "the prior fit's residuals, else 0.5% as on the OLMo ladder)."),
    law_slope: float | None = typer.Option(None, "--law-slope", help="The law's own error per decade beyond the runs "
                                           "(default: the prior fit's calibration, else 1.46% as on the OLMo ladder)."),
    level: float = LEVEL_OPTION,
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated ladders."),
    out: Path | None = typer.Option(None, "--out", help="Write the plan (plan.json) here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Propose the small runs (sizes x tokens) for a target and the forecast interval they are expected to give,
    beside OLMo's ladder shape and a Chinchilla isoFLOP grid of the same cost."""
    from dataclasses import replace

    from scalelaw import laws
    from scalelaw.cli.output import console, err_console, print_json, print_table
    from scalelaw.data.atomic import check_output_path, write_json
    from scalelaw.plan.ladder_design import (BESIROGLU_2024, DEFAULT_LAW_ERROR, DEFAULT_RUN_NOISE, plan_ladder)
    from scalelaw.plan.simulate import NoiseModel

    if out is not None:
        check_output_path(out)
    law, values, noise = laws.get("chinchilla"), dict(BESIROGLU_2024), NoiseModel(DEFAULT_RUN_NOISE, DEFAULT_LAW_ERROR)
    if prior is not None:
        law, values, noise = _prior(prior)
    if run_noise is not None:
        if not (run_noise > 0 and math.isfinite(run_noise)):
            raise InputError(f"--run-noise must be positive, got {run_noise!r}", column="--run-noise")
        noise = replace(noise, run_noise=run_noise)
    if law_slope is not None:
        if not (law_slope >= 0 and math.isfinite(law_slope)):
            raise InputError(f"--law-slope must be >= 0, got {law_slope!r}", column="--law-slope")
        noise = replace(noise, law_error=replace(noise.law_error or DEFAULT_LAW_ERROR, slope=law_slope))
    target = _target(params, tokens, tokens_per_param, flops, law, values)
    sizes, info = _family(family) if family is not None else (None, None)
    plan = plan_ladder(law, values, target, _budget(budget, gpu_hours, throughput, target.flops), noise,
                       multiples=_numbers(multiples, "--multiples"), tokens_per_param=tokens_per_param,
                       smallest=min_size, largest=max_size, family=sizes, family_info=info, level=level, seed=seed)
    data = plan.to_dict()
    if out is not None:
        write_json(out, data)
    if as_json:
        print_json(data)
        return
    shape = ["width", "depth", "heads"] if family else []
    print_table(f"proposed ladder for N = {target.params:.3g}, D = {target.tokens:.3g} "
                f"({plan.proposal.flops:.3g} FLOPs, {plan.proposal.flops / target.flops:.2%} of the target)",
                [{"N": f"{r['params']:.3g}", "D": f"{r['tokens']:.3g}", "x 1xC": f"{r['multiple']:g}",
                  "FLOPs": f"{r['flops']:.3g}", **{k: r.get(k, "") for k in shape}} for r in data["runs"]],
                ["N", "D", "x 1xC", "FLOPs", *shape])
    print_table(f"expected {level:.0%} interval of the target's loss (relative to the forecast), simulated",
                [{"design": d["design"], "runs": d["runs"], "FLOPs": f"{d['flops']:.3g}",
                  "decades out": f"{d['decades_to_target']:.2f}",
                  "expected interval": f"{d['expected_low']:+.1%} to {d['expected_high']:+.1%}",
                  "linearised": f"±{d['linearised_half_width']:.1%}"} for d in [data["proposal"], *data["comparisons"]]],
                ["design", "runs", "FLOPs", "decades out", "expected interval", "linearised"])
    console.print(f"noise model: {noise.describe()}")
    if out is not None:
        console.print(f"plan written to {out}")
    for message in plan.warnings:
        err_console.print(f"warning: {message}")


def _fitted_size(fit: Any) -> float | None:
    """The one model size a fit's runs share, if it records one."""
    sizes = getattr(fit, "fitted_range", {}).get("params")
    return float(sizes[0]) if sizes is not None and sizes[0] == sizes[1] else None


def _prior(path: Path) -> tuple[Any, dict[str, float], Any]:
    """Law, parameters and noise model of a prior fit (its residual scatter and backtested error)."""
    from scalelaw.cli.plan import load_fitted
    from scalelaw.fit.result import FitResult
    from scalelaw.plan.ladder_design import DEFAULT_LAW_ERROR
    from scalelaw.plan.next_run import run_noise_of
    from scalelaw.plan.simulate import NoiseModel

    fit = load_fitted(path)
    if not isinstance(fit, FitResult) or set(fit.law.inputs) != {"params", "tokens"}:
        raise InputError("--prior needs a fit of a law of params and tokens (e.g. chinchilla)", file=str(path))
    return fit.law, dict(fit.params), NoiseModel(run_noise_of(fit), fit.calibration or DEFAULT_LAW_ERROR)


@plan_app.command("next")
def next_run(
    fit: Path = typer.Argument(..., help="A FIT.json of the runs so far (with a bootstrap; --calibrate adds the law's "
                               "own error)."),
    params: float | None = PARAMS_OPTION,
    tokens: float | None = TOKENS_OPTION,
    tokens_per_param: float = TPP_OPTION,
    candidates: str = typer.Option(..., "--candidates", help="A CSV of candidate runs (params, tokens[, flops, run]; "
                                   "with a loss-curve law, schedule specs), 'grid' (with --sizes and --multiples) or, "
                                   "with a loss-curve law, 'lengths' (with --lengths)."),
    lengths: str = typer.Option("0.125,0.25,0.5", "--lengths", help="--candidates lengths: fractions of the target's "
                                "steps; at each, its schedule shortened and a constant-lr run (at --sizes, default "
                                "the target's)."),
    schedule: str | None = typer.Option(None, "--schedule", help="Loss-curve laws: the target's learning-rate "
                                        "schedule SPEC (its loss at the last step is forecast)."),
    batch_tokens: float | None = typer.Option(None, "--batch-tokens", help="Loss-curve laws: tokens per step, to "
                                              "cost runs given by schedule (default: costs in steps x N, the same "
                                              "shares of the target when every run has one batch size)."),
    sizes: str | None = typer.Option(None, "--sizes", help="Grid sizes N, comma-separated."),
    multiples: str = MULTIPLES_OPTION,
    run_noise: float | None = typer.Option(None, "--run-noise", help="Relative sd of a new run around the law "
                                           "(default: the fit's residual sd)."),
    law_slope: float | None = typer.Option(None, "--law-slope", help="The law's own error per decade beyond the runs, "
                                           "when the fit has no backtest calibration (default 1.46%, as on the OLMo "
                                           "ladder; 0 leaves it out)."),
    tolerance: float | None = typer.Option(None, "--tolerance", help="Stop when the relative half-width is at most this."),
    min_gain: float = typer.Option(0.01, "--min-gain", help="Stop when no candidate shrinks the interval by this "
                                   "fraction per 1% of the target's compute."),
    method: str = typer.Option("ensemble", "--method", help="ensemble: the ensemble-Kalman update of the fit's "
                               "bootstrap draws (no refits); refit: refit the runs (--runs) with each candidate added "
                               "at its forecast, by the fit's own pipeline, and read the target's interval."),
    runs_data: list[str] = typer.Option([], "--runs", help="--method refit: the data FIT.json was fitted to (files, "
                                        "a run store or dataset:NAME; with the same --map and --where). Repeatable."),
    maps: list[str] = MAP_OPTION,
    where: str | None = WHERE_OPTION,
    refit_bootstrap: int | None = typer.Option(None, "--refit-bootstrap", help="--method refit: bootstrap replicates "
                                               "of each refit (default: the fit's own)."),
    refit_draws: int = typer.Option(1, "--refit-draws", help="--method refit: observations tried per candidate, at "
                                    "stratified quantiles of its forecast interval (1: the forecast itself)."),
    refit_cap: int = typer.Option(12, "--refit-cap", help="--method refit: most candidates refitted; beyond it the "
                                  "ensemble ranking picks which. Cost: 1 + draws x min(candidates, cap) refits."),
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Rank candidate runs by the expected shrink of the target's interval per FLOP, and say when to stop."""
    from scalelaw.cli.output import console, err_console, print_json, print_table
    from scalelaw.cli.plan import load_fitted
    from dataclasses import replace

    from scalelaw.data.schedules import parse_schedule
    from scalelaw.plan.ladder_design import DEFAULT_LAW_ERROR, Target
    from scalelaw.plan.next_run import below, grid_candidates, length_candidates, rank_candidates, read_candidates

    fitted = load_fitted(fit)
    curve = None if schedule is None else parse_schedule(schedule)
    if batch_tokens is not None and not (batch_tokens > 0 and math.isfinite(batch_tokens)):
        raise InputError(f"--batch-tokens must be positive, got {batch_tokens!r}", column="--batch-tokens")
    per_step = 1.0 if batch_tokens is None else float(batch_tokens)
    if params is None and curve is not None:
        params = _fitted_size(fitted)
    if params is None or not (params > 0 and math.isfinite(params)):
        raise InputError("give the target's --params N (positive)", column="--params")
    if tokens is None:
        tokens = params * tokens_per_param if curve is None else curve.total_steps * per_step
    target = Target(float(params), float(tokens), curve)
    if not (target.tokens > 0 and math.isfinite(target.tokens)):
        raise InputError(f"the target's tokens must be positive, got {target.tokens!r}", column="--tokens")
    if candidates == "grid":
        if sizes is None:
            raise InputError("--candidates grid needs --sizes", column="--sizes")
        grid = grid_candidates(_numbers(sizes, "--sizes"), _numbers(multiples, "--multiples"), tokens_per_param)
        pool = [c for c in grid if below(c, target)]
        if not pool:
            raise InputError(f"no point of the grid is below the target (N={target.params:.3g}, "
                             f"D={target.tokens:.3g}): choose smaller --sizes or --multiples", column="--sizes")
        if len(pool) < len(grid):
            left_out = ", ".join(c.label for c in grid if not below(c, target))
            err_console.print(f"note: grid points not below the target left out: {left_out}")
    elif candidates == "lengths":
        if curve is None:
            raise InputError("--candidates lengths shortens the target's schedule: give it with --schedule",
                             column="--schedule")
        pool = length_candidates(curve, _numbers(lengths, "--lengths"),
                                 [target.params] if sizes is None else _numbers(sizes, "--sizes"), per_step)
    else:
        pool = read_candidates(Path(candidates), default_params=target.params,
                               batch_tokens=per_step)
    for option, value in (("--run-noise", run_noise), ("--tolerance", tolerance)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise InputError(f"{option} must be positive, got {value!r}", column=option)
    if not (min_gain >= 0 and math.isfinite(min_gain)):
        raise InputError(f"--min-gain must be >= 0, got {min_gain!r}", column="--min-gain")
    if law_slope is not None and not (law_slope >= 0 and math.isfinite(law_slope)):
        raise InputError(f"--law-slope must be >= 0, got {law_slope!r}", column="--law-slope")
    assumed = DEFAULT_LAW_ERROR if law_slope is None else replace(DEFAULT_LAW_ERROR, slope=law_slope)
    if method not in ("ensemble", "refit"):
        raise InputError(f"--method must be ensemble or refit, got {method!r}", column="--method")
    if method == "refit":
        from scalelaw.cli._data_options import load_inputs
        from scalelaw.plan.what_if import rank_by_refit

        if not runs_data:
            raise InputError("--method refit refits the runs: give the data FIT.json was fitted to with --runs",
                             column="--runs")
        if run_noise is not None:
            raise InputError("--run-noise belongs to --method ensemble; the refit measures the runs' scatter itself",
                             column="--run-noise")
        runs = load_inputs(runs_data, maps, where)
        answer = rank_by_refit(fitted, runs, target, pool, level=level, tolerance=tolerance, min_gain=min_gain,
                               bootstrap=refit_bootstrap, draws=refit_draws, cap=refit_cap,
                               law_error=assumed if assumed.slope > 0 else None)
    else:
        if runs_data or refit_bootstrap is not None:
            raise InputError("--runs and --refit-bootstrap belong to --method refit", column="--method")
        answer = rank_candidates(fitted, target, pool, level=level, noise=run_noise, tolerance=tolerance,
                                 min_gain=min_gain, law_error=assumed if assumed.slope > 0 else None)
    data = answer.to_dict()
    if as_json:
        print_json(data)
        return
    what = (f"N = {target.params:.3g}, D = {target.tokens:.3g}" if curve is None else
            f"N = {target.params:.3g} under {curve.to_spec()}")
    print_table(f"candidates for {what}: now ±{answer.half_width:.2%} "
                f"({level:.0%}); the expected interval after training each",
                [{"candidate": r["candidate"], "FLOPs": f"{r['flops']:.3g}", "share": f"{r['share_of_target']:.1%}",
                  "±after": f"{r['expected_half_width']:.2%}",
                  "params": f"{r['parameter_sd_after']:.2%}", "law": f"{r['law_sd_after']:.2%}",
                  "shrink": f"{r['shrink']:.1%}", "per 1%": f"{r['shrink_per_1pct_compute']:.2%}"}
                 for r in data["ranking"]],
                ["candidate", *(["FLOPs"] if curve is None or batch_tokens is not None else []),
                 *(["share"] if curve is not None else []), "±after", "params", "law", "shrink", "per 1%"])
    if curve is not None and batch_tokens is None:
        console.print("share: of the target's steps x N (no --batch-tokens: every run is taken to have the same "
                      "batch size, so only the shares of the target's compute enter the ranking)")
    console.print("params, law: the two parts of the expected interval a run can shrink (sd of the log loss); "
                  "per 1%: the shrink per 1% of the target's compute, the ranking's key")
    console.print(("stop: " if answer.stop else "next: ") + answer.reason)
    for message in answer.warnings:
        err_console.print(f"warning: {message}")
