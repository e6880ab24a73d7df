"""``scalelaw plan isoflop``: approach 2, the best model size per FLOP budget and its power law in C."""

from __future__ import annotations

import typer

from scalelaw.cli._data_options import MAP_OPTION, WHERE_OPTION, load_inputs
from scalelaw.cli.plan import JSON_OPTION, plan_app
from scalelaw.errors import InputError


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
    import numpy as np

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
