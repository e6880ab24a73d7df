"""Step-Law hyperparameter fits on synthetic lr × batch-size grids: vertex rule vs plain argmin.

Final losses lie on an asymmetric bowl in (log lr, log bs) (steeper above the optimum,
as real learning-rate sweeps are) around known optima η = 2·N^−0.7·D^0.3 and
B = 0.6·D^0.55, on a factor-2 grid, with Gaussian seed noise. For 20 noise draws per
level, the table gives each rule's mean absolute error of the three exponents and how
often the 95% bootstrap interval of η_opt at (N, D) = (1e9, 1e11), 1 decade beyond the
grid, contains the truth. Run: ``python bench/bench_plan_hparams.py``.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from scalelaw.cli.output import print_table
from scalelaw.data.runs import RunSet
from scalelaw.laws.hparams import StepLaw
from scalelaw.plan.hparams import fit_hparams, predict_hparams

TRUE = StepLaw(lr_coef=2.0, lr_params_exp=-0.7, lr_tokens_exp=0.3, bs_coef=0.6, bs_tokens_exp=0.55)
SIZES = (1e7, 2e7, 4e7, 8e7)
TOKENS = (1e9, 2e9, 4e9, 8e9)
SEEDS = 20


def grid(noise: float, seed: int) -> RunSet:
    """One final loss per (N, D, lr, bs); the grid is fixed, so the optimum falls between grid points."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in SIZES:
        for d in TOKENS:
            lr_opt, bs_opt = TRUE.learning_rate(n, d), TRUE.batch_size(d)
            for lr in 2.0 ** np.arange(-14, -3):
                for bs in 2.0 ** np.arange(15, 22):
                    x, y = np.log(lr / lr_opt), np.log(bs / bs_opt)
                    loss = 3.0 + (0.02 if x < 0 else 0.05) * x**2 + (0.01 if y < 0 else 0.02) * y**2
                    rows.append({"run": f"{n:g}/{d:g}/{lr:g}/{bs:g}", "params": n, "tokens": d, "lr": lr,
                                 "batch_size": bs, "loss": loss + noise * rng.standard_normal()})
    return RunSet(pd.DataFrame(rows))


def main() -> int:
    truth = np.array([TRUE.lr_params_exp, TRUE.lr_tokens_exp, TRUE.bs_tokens_exp])
    target = float(TRUE.learning_rate(1e9, 1e11))
    rows = []
    for noise in (0.0, 0.002, 0.005):
        for rule in ("vertex", "argmin"):
            errors, covered = [], 0
            for seed in range(SEEDS if noise else 1):
                fit = fit_hparams(grid(noise, seed), rule=rule, bootstrap=200, seed=seed)
                law = fit.law
                errors.append(np.abs(np.array([law.lr_params_exp, law.lr_tokens_exp, law.bs_tokens_exp]) - truth))
                lr = predict_hparams(fit, params=1e9, tokens=1e11).values["lr"]
                covered += lr.low <= target <= lr.high
            mean = np.mean(errors, axis=0)
            runs = len(errors)
            rows.append({"noise sd": noise, "rule": rule, "|err| lr N-exp": mean[0], "|err| lr D-exp": mean[1],
                         "|err| bs D-exp": mean[2], "lr interval covers truth": f"{covered}/{runs}"})
    print_table("Step-Law exponents from lr × batch grids: vertex rule vs argmin", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
