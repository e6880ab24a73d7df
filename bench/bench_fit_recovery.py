"""Parameter recovery and bootstrap coverage on synthetic data drawn from each law.

For every law: draw ``--datasets`` data sets (each a set of runs with known parameters
and 1% log-normal noise on the final loss, or 0.5% for the flat compute power law),
fit with a run bootstrap and 90% intervals, and print per parameter the median
relative error of the estimate and how often the 90% interval covers the true value
(the goal is 85-95%). The data-constrained law is fitted the paper's way: base fixed at
the truth, R_D* and R_N* fitted. Run: ``python bench/bench_fit_recovery.py``
(``--laws power,kaplan`` and ``--datasets 20`` for a quicker look).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.fit import fit_law
from scalelaw.laws import get


@dataclass(frozen=True)
class Case:
    """A law, its true parameters, how to draw run inputs, and fit keywords."""

    law: str
    truth: dict[str, float]
    inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    noise: float = 0.01
    options: dict | None = None
    fixed: tuple[str, ...] = ()


def _n_d(n: int) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
    return lambda rng: {"params": 10 ** rng.uniform(7.5, 10.0, n), "tokens": 10 ** rng.uniform(9.0, 11.5, n)}


def _over(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = 10 ** rng.uniform(7.0, 9.5, 60)
    return {"params": n, "tokens": n * 10 ** rng.uniform(0.7, 2.7, 60)}


def _constrained(rng: np.random.Generator) -> dict[str, np.ndarray]:
    unique = 10 ** rng.uniform(8.0, 10.0, 80)
    return {
        "params": 10 ** rng.uniform(7.5, 9.5, 80),
        "tokens": unique * 10 ** rng.uniform(0.0, 2.5, 80),
        "unique_tokens": unique,
    }


CASES = {
    "power": Case(
        "power", {"E": 2.0, "A": 129.0, "alpha": 0.106},
        lambda rng: {"flops": 10 ** rng.uniform(17, 21, 20)}, noise=0.005, options={"variable": "flops"},
    ),
    "chinchilla": Case("chinchilla", {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}, _n_d(100)),
    "kaplan": Case("kaplan", {"N_c": 8.8e13, "D_c": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095}, _n_d(60)),
    "overtraining": Case("overtraining", {"E": 1.8, "a": 400.0, "b": 1000.0, "eta": 0.15}, _over),
    "data-constrained": Case(
        "data-constrained",
        {"E": 1.869, "A": 520.8, "B": 1487.7, "alpha": 0.3527, "beta": 0.3527, "R_D": 15.39, "R_N": 5.31},
        _constrained, fixed=("E", "A", "B", "alpha", "beta"),
    ),
}  # fmt: skip


def draw(case: Case, rng: np.random.Generator) -> RunSet:
    law = get(case.law, **(case.options or {}))
    inputs = case.inputs(rng)
    design = law.design_at(**inputs)
    theta = np.array([[case.truth[n] for n in law.param_names]])
    loss = law.predict(theta, design)[0] * np.exp(rng.normal(0.0, case.noise, design.n))
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(design.n)], **inputs, "loss": loss}))


def study(case: Case, datasets: int, replicates: int, objective: str) -> list[dict[str, object]]:
    rng = np.random.default_rng(2024)
    fitted = [n for n in case.truth if n not in case.fixed]
    covered = {n: 0 for n in fitted}
    errors: dict[str, list[float]] = {n: [] for n in fitted}
    warned = 0
    for k in range(datasets):
        runs = draw(case, rng)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_law(
                runs, case.law, law_options=case.options, fix={n: case.truth[n] for n in case.fixed},
                bootstrap=replicates, seed=k, ci_level=0.9, progress=False, objective=objective,
            )  # fmt: skip
        warned += bool(caught)
        for name in fitted:
            lo, hi = fit.ci[name]
            covered[name] += int(lo <= case.truth[name] <= hi)
            errors[name].append(abs(fit.params[name] / case.truth[name] - 1.0))
    return [
        {
            "law": case.law,
            "param": name,
            "true": case.truth[name],
            "median_rel_error": float(np.median(errors[name])),
            "coverage_90": covered[name] / datasets,
            "fits_with_warnings": warned / datasets,
        }
        for name in fitted
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laws", default=",".join(CASES))
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--objective", default="huber", help="huber (δ = 1e-3), squares or asymmetric")
    args = parser.parse_args()
    print(f"{args.datasets} synthetic data sets per law, {args.bootstrap} run-bootstrap replicates, 90% intervals, "
          f"objective {args.objective}\n")
    print(f"{'law':18s} {'param':8s} {'true':>10s} {'median rel err':>15s} {'coverage':>9s} {'in 85-95%':>10s} {'warned':>7s}")
    for name in args.laws.split(","):
        start = time.perf_counter()
        for row in study(CASES[name], args.datasets, args.bootstrap, args.objective):
            ok = "yes" if 0.85 <= row["coverage_90"] <= 0.95 else "NO"
            print(
                f"{row['law']:18s} {row['param']:8s} {row['true']:10.4g} {row['median_rel_error']:15.3%} "
                f"{row['coverage_90']:9.0%} {ok:>10s} {row['fits_with_warnings']:7.0%}",
                flush=True,
            )
        print(f"{'':18s} ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
