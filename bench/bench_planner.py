"""The ladder planner, measured: does `plan next` reach a narrow forecast with less compute, and what does
`plan ladder` propose for 1B, 7B and 70B targets?

Part 1, retrospective (``dataset:olmo-ladder``, final C4 losses, reruns left out): the target is the
held-back 1B at 10xC; the candidates are the 15 runs of 190M-760M x 0.5-10xC. Chinchilla has five
parameters, so a start of the three cheapest runs cannot be fitted; every strategy starts from the six
cheapest. Runs are then added one at a time, chosen by `plan next` (rank_candidates, "planner"), by `plan next
--method refit` (rank_by_refit, "what-if x1": each candidate refitted at its forecast; "x3": at three stratified
quantiles of its forecast interval, the widths averaged), by "next size up at
1xC" (then 2xC, 0.5xC, 5xC, 10xC, each by size) and in three seeded random orders. After each, chinchilla is
refitted with its backtest calibration (``fit_calibrated``, bootstrap 40: the interval holds the law's own
error beyond the data, as `plan next` assumes) and the 1B forecast's error and 95% half-width are printed with whether the interval
held the observed loss. Then the FLOPs from which each strategy's half-width stayed
below a given width. While a fit has no calibration of its own, the planner assumes the law's error
against distance fitted to the pool's backtest folds (:mod:`scalelaw.plan.drift`), never the target's.
``--diagnose`` first prints, for the planner's first three steps, every candidate's expected interval
split into the parameters' sd and the law's error at the target, and the what-if refit's (at the forecast),
beside the calibrated refit with the candidate's real loss.

Part 2, the same on ``dataset:markov-ladder`` (scalelaw's own ladder on a corpus whose entropy rate is
known): target the largest width (48) at 400k tokens; candidates widths 8-32 x 100k-400k tokens.

Part 3: `plan ladder` for 1B, 7B and 70B at 20 tokens/param with 1% of the target's compute, the expected
interval (simulated) beside OLMo's ladder shape and a Chinchilla isoFLOP grid of the same cost, and the
bundled OLMo ladder's own cost as a share of each target.

Part 4, the closed loop on the known-entropy Markov corpus (needs the ladder extra): `plan ladder --family`
proposes runs of widths 8-32 for a width-48 target at 20 tokens/param within 15% of its compute, `ladder run
--plan` trains them, then four times chinchilla is refitted, `plan next` picks one run of the family x 1, 2, 5xC
and it is trained; finally the target is trained and every round's forecast is compared with it.

Part 5, which schedules and lengths to run (``dataset:multipowerlaw-25m`` and ``-100m``, the Multi-Power Law's
curves, one size each): the target is the held-back ``cosine_72000`` (its loss at its last logged step), the
start the three cheapest runs (``wsdcon_*``, 16k steps), the candidates the four 24k-step schedules and
constant-lr runs of 36k, 48k and 60k steps (the first steps of ``constant_72000``, which is itself as long as
the target and so no ladder run). After each added run, multi-power is refitted with its backtest calibration
(``fit_calibrated``, bootstrap 30) and the target is forecast; runs are added by `plan next` (the curve
ranking: each candidate observed at four checkpoints of its curve), by "length up" (the 24k schedules in the
paper's order, then the longer constant runs) and in three seeded random orders. Cost is steps (one size).

Run: ``COLUMNS=200 python bench/bench_planner.py [--part 1|2|3|4|5]``. Deterministic (seeded); takes a few minutes.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalelaw.datasets as datasets
from scalelaw import laws
from scalelaw.cli.output import print_table
from scalelaw.data.pipeline import read_runs
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.plan.ladder_design import (BESIROGLU_2024, DEFAULT_LAW_ERROR, DEFAULT_RUN_NOISE, PlannedRun, Scorer,
                                         Target, plan_ladder)
from scalelaw.plan.drift import Drift
from scalelaw.plan.next_run import Candidate, drift_of, rank_candidates, run_noise_of
from scalelaw.plan.what_if import rank_by_refit
from scalelaw.plan.simulate import NoiseModel
from scalelaw.selection.auto import fit_calibrated

BOOTSTRAP = 40
#: Observations per candidate of the what-if walks (one walk each): 1 is the forecast itself.
WHAT_IF_DRAWS = (1, 3)
START = 6
RANDOM_ORDERS = 3
#: Planner steps whose every candidate is refitted for ``--diagnose``.
DIAGNOSED = 3
#: Half-widths asked for, as multiples of the half-width with every candidate trained; and errors asked for.
WIDTHS = (3.0, 2.0, 1.5, 1.25, 1.0)
ERRORS = (0.05, 0.02, 0.01)


def final_table(name: str) -> pd.DataFrame:
    """Final loss, params and tokens per run, with 6ND FLOPs."""
    table = datasets.load(name).final()[["run", "params", "tokens", "loss"]].copy()
    table["flops"] = 6.0 * table["params"] * table["tokens"]
    return table.reset_index(drop=True)


def forecast(runs: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Fit chinchilla to ``runs`` and forecast the target: relative error, half-width, covered."""
    data = read_runs(runs[["run", "params", "tokens", "loss"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_calibrated(data, "chinchilla", required=False, bootstrap=BOOTSTRAP, seed=0, progress=False)
        p = fit.predict(params=float(target["params"]), tokens=float(target["tokens"]), level=0.95)
    loss, lo, hi = float(p.loss[0]), float(p.lo[0]), float(p.hi[0])
    return {"fit": fit, "runs": data, "error": loss / target["loss"] - 1, "half_width": (hi - lo) / 2 / loss,
            "covered": bool(lo <= target["loss"] <= hi)}


def size_up_order(pool: pd.DataFrame) -> list[str]:
    """Next size up at 1xC, then 2xC, 0.5xC, 5xC and 10xC, each by size."""
    multiple = pool["tokens"] / pool["params"] / 20.0
    rank = {1: 0, 2: 1, 0.5: 2, 5: 3, 10: 4}
    key = [min(rank, key=lambda m: abs(np.log(m / x))) for x in multiple]
    order = pool.assign(_m=[rank[k] for k in key]).sort_values(["_m", "params"])
    return order["run"].tolist()


def walk(table: pd.DataFrame, target: pd.Series, start: list[str], choose: str, seed: int = 0,
         law_error: ExtrapolationError | Drift | None = None, draws: int = 1) -> list[dict]:
    """Add the pool's runs one at a time by ``choose`` (planner | what-if | size-up | random); one row per state.
    The what-if walk refits each candidate at ``draws`` quantiles of its forecast."""
    have = list(start)
    pool = table[~table["run"].isin(have)]
    fixed = size_up_order(pool) if choose == "size-up" else list(np.random.default_rng(seed).permutation(pool["run"]))
    rows = []
    while True:
        state = forecast(table[table["run"].isin(have)], target)
        spent = float(table.loc[table["run"].isin(have), "flops"].sum())
        rows.append({"strategy": {"random": f"random{seed}", "what-if": f"what-if x{draws}"}.get(choose, choose), "runs": len(have),
                     "added": have[-1] if len(have) > len(start) else "(start)", "flops": spent,
                     "error": state["error"], "half_width": state["half_width"], "covered": state["covered"]})
        left = table[~table["run"].isin(have)]
        if left.empty:
            return rows
        if choose in ("planner", "what-if"):
            pool_c = [Candidate(r.run, r.params, r.tokens, r.flops, i + 1) for i, r in enumerate(left.itertuples())]
            goal = Target(float(target["params"]), float(target["tokens"]))
            ranked = rank_candidates(state["fit"], goal, pool_c, law_error=law_error) if choose == "planner" else \
                rank_by_refit(state["fit"], state["runs"], goal, pool_c, law_error=law_error, draws=draws)
            have.append(ranked.ranked[0].candidate.label)
        else:
            have.append(next(r for r in fixed if r not in have))


def reach(rows: list[dict], width: float) -> float:
    """FLOPs from which a strategy's half-width stayed at or below ``width`` (inf if never): a narrow interval
    that the next run widens again was luck, not knowledge."""
    spent = float("inf")
    for r in reversed(rows):
        if r["half_width"] > width:
            break
        spent = r["flops"]
    return spent


def settled(rows: list[dict], limit: float) -> float:
    """FLOPs from which a strategy's |error| stayed at or below ``limit`` (inf if never)."""
    spent = float("inf")
    for r in reversed(rows):
        if abs(r["error"]) > limit:
            break
        spent = r["flops"]
    return spent


def pool_drift(pool: pd.DataFrame) -> Drift | None:
    """The law's error against distance from the whole pool's backtests, by the rule `plan next` applies to a fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_calibrated(read_runs(pool[["run", "params", "tokens", "loss"]]), "chinchilla")
    return drift_of(fit, run_noise_of(fit), None)


def diagnosis(name: str, pool: pd.DataFrame, target: pd.Series, start: list[str], drift: Drift | None) -> None:
    """Along the planner's path, for DIAGNOSED steps: every candidate's expected interval split into the parameters'
    sd and the law's error at the target, next to what the calibrated refit with that candidate gave."""
    have, rows = list(start), []
    goal = Target(float(target["params"]), float(target["tokens"]))
    for step in range(DIAGNOSED):
        state = forecast(pool[pool["run"].isin(have)], target)
        left = pool[~pool["run"].isin(have)]
        pool_c = [Candidate(r.run, r.params, r.tokens, r.flops, i + 1) for i, r in enumerate(left.itertuples())]
        answer = rank_candidates(state["fit"], goal, pool_c, law_error=drift)
        what_if = {r.candidate.label: r.half_width for r in rank_by_refit(state["fit"], state["runs"], goal,
                                                                          pool_c).ranked}
        rows.append({"step": step, "candidate": "(now)", "exp_param_sd": answer.parameter_sd,
                     "exp_law_sd": answer.law_sd, "exp_half_width": answer.half_width, **_parts(state, goal)})
        for r in answer.ranked:
            after = forecast(pool[pool["run"].isin([*have, r.candidate.label])], target)
            rows.append({"step": step, "candidate": r.candidate.label, "exp_param_sd": r.parameter_sd,
                         "exp_law_sd": r.law_sd, "exp_half_width": r.half_width,
                         "exp_gain_per_1pct": r.shrink_per_percent, "what_if_half_width": what_if[r.candidate.label],
                         **_parts(after, goal)})
        have.append(answer.ranked[0].candidate.label)
    print_table(f"{name}: the planner's expectation per candidate (sd of the log loss; half-widths at z) beside the "
                "calibrated refit with it (boot_sd: bootstrap sd at the target, law_sd: calibration at the target's "
                "distance, dof its t tails)", rows,
                ["step", "candidate", "exp_param_sd", "exp_law_sd", "exp_half_width", "exp_gain_per_1pct",
                 "what_if_half_width", "half_width",
                 "boot_sd", "law_sd", "dof", "decades", "error"])


def _parts(state: dict, goal: Target) -> dict[str, float]:
    """The measured interval's parts: half-width, bootstrap sd, calibrated law error and its dof, distance."""
    fit = state["fit"]
    design = fit.law.design_at(params=goal.params, tokens=goal.tokens)
    boot = np.log(fit.law.predict(fit.bootstrap_params, design)[:, 0])
    decades = float(fit.decades_beyond(design)[0])
    cal = fit.calibration
    return {"half_width": state["half_width"], "boot_sd": float(np.std(boot[np.isfinite(boot)], ddof=1)),
            "law_sd": float(cal.sd(np.array([decades]))[0]) if cal else 0.0, "dof": cal.dof if cal else None,
            "decades": decades, "error": state["error"]}


def retrospective(name: str, table: pd.DataFrame, target_run: str, held: pd.Series, diagnose: bool = False,
                  draws: tuple[int, ...] = WHAT_IF_DRAWS) -> None:
    """Part 1 or 2 on one dataset: the walk table and the compute-to-width summary."""
    target = table.set_index("run").loc[target_run]
    pool = table[~held].reset_index(drop=True)
    start = pool.sort_values("flops")["run"].head(START).tolist()
    drift = pool_drift(pool)
    print(f"{name}: the law's drift the planner assumes while the fit has no calibration of its own (the pool's "
          f"backtests, target never seen): {drift.describe() if drift else 'none measured'}")
    if diagnose:
        diagnosis(name, pool, target, start, drift)
    walks = {"planner": walk(pool, target, start, "planner", law_error=drift),
             **{f"what-if x{k}": walk(pool, target, start, "what-if", law_error=drift, draws=k) for k in draws},
             "size-up": walk(pool, target, start, "size-up")}
    randoms = [walk(pool, target, start, "random", seed) for seed in range(RANDOM_ORDERS)]
    rows = [r for w in (*walks.values(), *randoms) for r in w]
    print_table(f"{name}: forecast of {target_run} (loss {target['loss']:.4f}) as runs are added", rows,
                ["strategy", "runs", "added", "flops", "error", "half_width", "covered"])
    summary = []
    final = walks["planner"][-1]["half_width"]
    for width in (final * w for w in WIDTHS):
        ours = {k: reach(w, width) for k, w in walks.items() if k != "size-up"}
        size_up = reach(walks["size-up"], width)
        random = float(np.median([reach(w, width) for w in randoms]))
        best_other = min(size_up, random)
        summary.append({"half_width": width, **{f"{k}_flops": v for k, v in ours.items()}, "size_up_flops": size_up,
                        "random_median_flops": random,
                        **{f"{k}_vs_best_other": v / best_other if np.isfinite(best_other) else float("nan")
                           for k, v in ours.items()}})
    print_table(f"{name}: FLOPs from which the 95% half-width stayed below (multiples of the all-runs half-width "
                f"{final:.2%}; ratio < 1: the planner needed less)", summary)
    errors = []
    for limit in ERRORS:
        spent = {k: settled(w, limit) for k, w in walks.items()}
        errors.append({"abs_error": limit, **{f"{k}_flops": v for k, v in spent.items()},
                       "random_median_flops": float(np.median([settled(w, limit) for w in randoms]))})
    print_table(f"{name}: FLOPs from which the forecast's |error| stayed below", errors)
    cover = {k: np.mean([r["covered"] for r in w]) for k, w in {**walks, "random": [r for w in randoms for r in w]}.items()}
    print(f"coverage of the 95% intervals over every state: " + ", ".join(f"{k} {v:.0%}" for k, v in cover.items()))


def part_three() -> None:
    """`plan ladder` proposals for 1B, 7B, 70B at 20 tokens/param and 1% of the target's compute."""
    law = laws.get("chinchilla")
    noise = NoiseModel(DEFAULT_RUN_NOISE, DEFAULT_LAW_ERROR)
    olmo = final_table("olmo-ladder")
    olmo = olmo[~olmo["run"].str.contains("rerun")]
    olmo_runs = tuple(PlannedRun(float(r.params), float(r.tokens), float(r.tokens / r.params / 20)) for r in
                      olmo.itertuples())
    rows = []
    for n in (1e9, 7e9, 70e9):
        target = Target(n, 20 * n)
        plan = plan_ladder(law, BESIROGLU_2024, target, 0.01 * target.flops, noise)
        for outcome in (plan.proposal, *plan.comparisons):
            rows.append({"target": f"{n:.0e}", **{k: v for k, v in outcome.summary(target).items()
                                                    if k in ("design", "flops", "share_of_target", "decades_to_target",
                                                             "expected_low", "expected_high")}})
        olmo_cost = float(sum(r.flops for r in olmo_runs))
        bundled = {"target": f"{n:.0e}", "design": "the bundled OLMo ladder (190M-1B x 0.5-10xC)", "flops": olmo_cost,
                   "share_of_target": olmo_cost / target.flops}
        if max(r.params for r in olmo_runs) < n:
            scored = Scorer(law, BESIROGLU_2024, target, noise, 0.95, 0).simulate("olmo", olmo_runs)
            bundled |= {"decades_to_target": scored.decades, "expected_low": scored.low, "expected_high": scored.high}
        rows.append(bundled)
    print_table("plan ladder at 1% of the target's compute: expected 95% interval of the target's loss (simulated, "
                "Besiroglu prior, 0.5% run noise, 1.46%/decade law drift)", rows)


LOOP_SPEC = {
    "name": "loop", "corpus": {"kind": "markov", "vocab_size": 64, "order": 1, "branching": 3, "smoothing": 0.02,
                               "seed": 0},
    "seq_len": 32, "models": {"width": [8, 12, 16, 24, 32], "depth": 1, "heads": 2}, "tokens": [100000],
    "batch_size": 512, "schedules": ["cosine:peak=1e-2,final=1e-3,warmup=5%"], "seeds": [0], "evals": 4,
    "eval_sequences": 256,
}
LOOP_TARGET_WIDTH, LOOP_ROUNDS, LOOP_MULTIPLES = 48, 4, (1.0, 2.0, 5.0)


def part_four(folder: Path) -> None:
    """The closed loop on the known-entropy corpus: plan ladder -> ladder run --plan -> fit -> plan next -> train."""
    import json

    import yaml

    from scalelaw.cli.main import run as cli
    from scalelaw.data.store import RunStore
    from scalelaw.ladder.corpora import CorpusSpec
    from scalelaw.ladder.executors import run_sweep
    from scalelaw.ladder.model import ModelShape
    from scalelaw.ladder.spec import parse_spec

    folder.mkdir(parents=True, exist_ok=True)
    spec_file, plan_file, store = folder / "family.yaml", folder / "plan.json", folder / "store"
    spec_file.write_text(yaml.safe_dump(LOOP_SPEC), encoding="utf-8")
    vocab = CorpusSpec.from_mapping(LOOP_SPEC["corpus"], file=None).vocabulary
    shape = ModelShape(LOOP_TARGET_WIDTH, 1, 2, LOOP_SPEC["seq_len"], vocab)
    target = Target(float(shape.params), 20.0 * shape.params)
    argv = ["plan", "ladder", "--family", str(spec_file), "--params", str(target.params), "--tokens",
            str(target.tokens), "--budget", "15%", "--multiples", ",".join(f"{m:g}" for m in LOOP_MULTIPLES),
            "--out", str(plan_file)]
    assert cli(argv) == 0 and cli(["ladder", "run", "--plan", str(plan_file), "--store", str(store), "--workers", "1",
                                   "--threads", "1"]) == 0

    def config(width: int, tokens: float) -> object:
        sub = {**LOOP_SPEC, "models": [{"width": width, "depth": 1, "heads": 2}], "tokens": [round(tokens)]}
        return parse_spec(sub, file=str(spec_file), base_dir=folder).runs[0]

    trained = [config(r["width"], r["tokens"]) for r in json.loads(plan_file.read_text())["runs"]]
    widths = LOOP_SPEC["models"]["width"]
    pool = [config(w, m * 20.0 * ModelShape(w, 1, 2, LOOP_SPEC["seq_len"], vocab).params)
            for w in widths for m in LOOP_MULTIPLES]
    pool = [c for c in pool if c.tokens <= target.tokens and c.shape.params * c.tokens < target.params * target.tokens]
    rounds = []
    for round_ in range(LOOP_ROUNDS + 1):
        runs = RunStore(store).load([c.run_id for c in trained]).final()
        runs["flops"] = 6.0 * runs["params"] * runs["tokens"]
        state = forecast(runs, pd.Series({"params": target.params, "tokens": target.tokens, "loss": np.nan}))
        prediction = state["fit"].predict(params=target.params, tokens=target.tokens, level=0.95)
        rounds.append({"round": round_, "runs": len(trained), "flops": float(runs["flops"].sum()),
                       "forecast": float(prediction.loss[0]), "lo": float(prediction.lo[0]),
                       "hi": float(prediction.hi[0]), "added": trained[-1].run_id.split("-s0-")[0]})
        left = [c for c in pool if c.run_id not in {t.run_id for t in trained}]
        if round_ == LOOP_ROUNDS or not left:
            break
        candidates = [Candidate(c.run_id, float(c.shape.params), float(c.tokens), 6.0 * c.shape.params * c.tokens,
                                i + 1) for i, c in enumerate(left)]
        choice = rank_candidates(state["fit"], target, candidates, law_error=DEFAULT_LAW_ERROR).ranked[0].candidate
        pick = next(c for c in left if c.run_id == choice.label)
        run_sweep([pick], store, workers=1, threads=1)
        trained.append(pick)
    goal = config(LOOP_TARGET_WIDTH, target.tokens)
    run_sweep([goal], store, workers=1, threads=1)
    actual = float(RunStore(store).load([goal.run_id]).final()["loss"].iloc[0])
    for row in rounds:
        row |= {"actual": actual, "error": row["forecast"] / actual - 1, "half_width": (row["hi"] - row["lo"]) / 2 /
                row["forecast"], "covered": row["lo"] <= actual <= row["hi"]}
    print_table(f"closed loop on the Markov corpus (entropy rate 0.9527 nats): width {LOOP_TARGET_WIDTH} "
                f"({target.params:.0f} params, {target.tokens:.3g} tokens) forecast as `plan next` adds runs", rounds,
                ["round", "runs", "added", "flops", "forecast", "lo", "hi", "actual", "error", "half_width", "covered"])


#: Part 5: the target schedule, the starting runs, and the constant-lr lengths cut from ``constant_72000``.
MPL_TARGET = "cosine_72000"
MPL_START = ("wsdcon_3", "wsdcon_9", "wsdcon_18")
MPL_LENGTH_UP = ("constant_24000", "cosine_24000", "wsd_20000_24000", "wsdld_20000_24000", "constant_36000",
                 "constant_48000", "constant_60000")
MPL_CUTS = (36_000, 48_000, 60_000)
MPL_BOOTSTRAP = 30


def mpl_pool(name: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """Every run's per-step rows (the constant cuts added) and each run's schedule, checked against its lr."""
    table = datasets.load(name).table
    cuts = [table[(table["run"] == "constant_72000") & (table["step"] <= t)].assign(run=f"constant_{t}")
            for t in MPL_CUTS]
    table = pd.concat([table[table["run"] != "constant_72000"], *cuts], ignore_index=True)
    schedules = {run: _mpl_schedule(run) for run in table["run"].unique()}
    for run, rows in table.groupby("run"):
        assert np.allclose(schedules[run].lr(rows["step"].to_numpy()), rows["lr"].to_numpy(), rtol=1e-6), run
    return table, schedules


def _mpl_schedule(run: str) -> object:
    """The schedule of one of the paper's runs (scalelaw's own specs of them), or of a constant cut."""
    from scalelaw.data.schedules import MULTIPOWER_SCHEDULES, at_length, parse_schedule

    if run in MULTIPOWER_SCHEDULES:
        return parse_schedule(MULTIPOWER_SCHEDULES[run])
    return at_length(parse_schedule(MULTIPOWER_SCHEDULES["constant_72000"]), int(run.split("_")[1]))


def mpl_forecast(table: pd.DataFrame, have: list[str], target: dict) -> dict:
    """Fit multi-power (calibrated, bootstrap) to ``have`` and forecast the target's last logged loss."""
    data = read_runs(table[table["run"].isin(have)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_calibrated(data, "multi-power", required=False, bootstrap=MPL_BOOTSTRAP, seed=0, progress=False)
        p = fit.predict(schedule=target["schedule"], steps=np.array([target["step"]]), level=0.95)
    loss, lo, hi = float(p.loss[0]), float(p.lo[0]), float(p.hi[0])
    return {"fit": fit, "error": loss / target["loss"] - 1, "half_width": (hi - lo) / 2 / loss,
            "covered": bool(lo <= target["loss"] <= hi)}


def mpl_walk(table: pd.DataFrame, schedules: dict, target: dict, choose: str, seed: int = 0) -> list[dict]:
    """Part 5's walk: add the pool's runs one at a time by ``choose`` (planner | length-up | random)."""
    steps = table.groupby("run")["step"].max()
    pool = list(MPL_LENGTH_UP)
    have = list(MPL_START)
    fixed = pool if choose == "length-up" else list(np.random.default_rng(seed).permutation(pool))
    goal = Target(float(target["params"]), float(schedules[MPL_TARGET].total_steps), schedules[MPL_TARGET])
    rows = []
    while True:
        state = mpl_forecast(table, have, target)
        rows.append({"strategy": f"random{seed}" if choose == "random" else choose, "runs": len(have),
                     "added": have[-1] if len(have) > len(MPL_START) else "(start)",
                     "steps": float(sum(steps[r] for r in have)), "error": state["error"],
                     "half_width": state["half_width"], "covered": state["covered"]})
        left = [r for r in pool if r not in have]
        if not left:
            return rows
        if choose == "planner":
            candidates = [Candidate(r, goal.params, float(steps[r]), 6.0 * goal.params * float(steps[r]), i + 1,
                                    schedules[r]) for i, r in enumerate(left)]
            have.append(rank_candidates(state["fit"], goal, candidates).ranked[0].candidate.label)
        else:
            have.append(next(r for r in fixed if r not in have))


def part_five() -> None:
    """Which schedules and lengths to run: the retrospective on the Multi-Power Law curves."""
    for name in ("multipowerlaw-25m", "multipowerlaw-100m"):
        table, schedules = mpl_pool(name)
        rows = table[(table["run"] == MPL_TARGET) & table["loss"].notna()]
        last = rows.loc[rows["step"].idxmax()]
        target = {"params": float(last["params"]), "step": int(last["step"]), "loss": float(last["loss"]),
                  "schedule": schedules[MPL_TARGET]}
        table = table[table["run"] != MPL_TARGET]
        walks = {"planner": mpl_walk(table, schedules, target, "planner"),
                 "length-up": mpl_walk(table, schedules, target, "length-up")}
        randoms = [mpl_walk(table, schedules, target, "random", seed) for seed in range(RANDOM_ORDERS)]
        every = [r for w in (*walks.values(), *randoms) for r in w]
        for r in every:
            r["flops"] = r["steps"]  # one size: steps are the cost
        print_table(f"{name}: forecast of {MPL_TARGET} at step {target['step']} (loss {target['loss']:.4f}) as runs "
                    "are added (steps: the runs' total, the cost at one size)", every,
                    ["strategy", "runs", "added", "steps", "error", "half_width", "covered"])
        final = walks["planner"][-1]["half_width"]
        summary = []
        for width in (final * w for w in WIDTHS):
            ours, up = reach(walks["planner"], width), reach(walks["length-up"], width)
            random = float(np.median([reach(w, width) for w in randoms]))
            best_other = min(up, random)
            summary.append({"half_width": width, "planner_steps": ours, "length_up_steps": up,
                            "random_median_steps": random,
                            "planner_vs_best_other": ours / best_other if np.isfinite(best_other) else float("nan")})
        print_table(f"{name}: steps from which the 95% half-width stayed below (multiples of the all-runs half-width "
                    f"{final:.2%}; ratio < 1: the planner needed less)", summary)
        errors = [{"abs_error": limit, **{f"{k}_steps": settled(w, limit) for k, w in walks.items()},
                   "random_median_steps": float(np.median([settled(w, limit) for w in randoms]))}
                  for limit in (0.01, 0.005, 0.0025)]
        print_table(f"{name}: steps from which the forecast's |error| stayed below", errors)
        cover = {k: np.mean([r["covered"] for r in w]) for k, w in
                 {**walks, "random": [r for w in randoms for r in w]}.items()}
        print("coverage of the 95% intervals over every state: " + ", ".join(f"{k} {v:.0%}" for k, v in cover.items()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=(1, 2, 3, 4, 5))
    parser.add_argument("--diagnose", action="store_true", help="Parts 1 and 2: print, for the planner's first "
                        "steps, each candidate's expected interval parts beside the refit with it (slow).")
    parser.add_argument("--folder", type=Path, default=Path("bench-planner-loop"),
                        help="Where part 4 writes its spec, plan and run store (rerun to reuse the trained runs).")
    args = parser.parse_args(argv)
    if args.part in (None, 1):
        olmo = final_table("olmo-ladder")
        olmo = olmo[~olmo["run"].str.contains("rerun")].reset_index(drop=True)
        retrospective("OLMo ladder", olmo, "1B-10xC", olmo["run"].str.startswith("1B"), args.diagnose)
    if args.part in (None, 2):
        markov = final_table("markov-ladder")
        markov["run"] = [f"w{w}-{t / 1000:.0f}k" for w, t in zip(datasets.load("markov-ladder").final()["width"],
                                                                   markov["tokens"], strict=True)]
        largest = markov["params"].max()
        target = markov.loc[markov["params"] == largest].sort_values("tokens")["run"].iloc[-1]
        retrospective("Markov ladder", markov, target, markov["params"] == largest, args.diagnose)
    if args.part in (None, 3):
        part_three()
    if args.part in (None, 4):
        part_four(args.folder)
    if args.part in (None, 5):
        part_five()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
