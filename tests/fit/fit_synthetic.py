"""Synthetic run sets drawn from known laws, shared by the fitting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet

CHINCHILLA_TRUE = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}


def chinchilla_runs(n: int = 120, noise: float = 0.01, seed: int = 0, params: dict | None = None) -> RunSet:
    """Final losses of ``n`` runs from a Chinchilla law with log-normal noise."""
    p = params or CHINCHILLA_TRUE
    rng = np.random.default_rng(seed)
    size = 10 ** rng.uniform(7.5, 10.0, n)
    tokens = 10 ** rng.uniform(9.0, 11.5, n)
    loss = p["E"] + p["A"] * size ** -p["alpha"] + p["B"] * tokens ** -p["beta"]
    loss = loss * np.exp(rng.normal(0.0, noise, n))
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "params": size, "tokens": tokens, "loss": loss}))


