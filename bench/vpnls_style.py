"""A vpnls-style Chinchilla fit, the bar ``bench_fit_speed.py`` measures scalelaw against.

Open-Athena's ``vpnls`` (variable projection with non-negative least squares) fits
L = E + A·N^−α + B·D^−β by searching only the exponents: on a 32 × 32 grid of (α, β) in
[0.05, 0.95] the coefficients E, A, B come from ``scipy.optimize.nnls`` (squared loss
residuals), then Nelder–Mead refines (α, β) from the best grid point with the same inner
solve. Written here from that description (``vpnls`` itself is not on the registry this
machine uses). Standalone on purpose: as a process it imports what such a script imports
(numpy, scipy.optimize and pandas to read the CSV), not scalelaw.
Run: ``python bench/vpnls_style.py RUNS.csv`` prints ``E A B alpha beta``.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import minimize, nnls

GRID = 32
EXPONENTS = (0.05, 0.95)


def fit(params: np.ndarray, tokens: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """(E, A, B, alpha, beta) of the vpnls-style fit."""
    log_n, log_d = np.log(params), np.log(tokens)
    ones = np.ones(loss.size)

    def inner(alpha: float, beta: float) -> tuple[np.ndarray, float]:
        design = np.column_stack([ones, np.exp(-alpha * log_n), np.exp(-beta * log_d)])
        coef, norm = nnls(design, loss)
        return coef, norm * norm

    axis = np.linspace(*EXPONENTS, GRID)
    best = min(((inner(a, b)[1], a, b) for a in axis for b in axis), key=lambda row: row[0])
    refined = minimize(lambda x: inner(x[0], x[1])[1], [best[1], best[2]], method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 1000})
    alpha, beta = refined.x
    coef, _ = inner(alpha, beta)
    return np.array([coef[0], coef[1], coef[2], alpha, beta])


def main(path: str) -> None:
    import pandas as pd

    table = pd.read_csv(path)
    theta = fit(table["params"].to_numpy(float), table["tokens"].to_numpy(float), table["loss"].to_numpy(float))
    print(" ".join(f"{v:.10g}" for v in theta))


if __name__ == "__main__":
    main(sys.argv[1])
