"""Goodness-of-fit scores of predicted against observed losses (per run and overall)."""

from __future__ import annotations

import numpy as np

SCORE_FIELDS: tuple[str, ...] = ("n", "r2", "mae", "rmse", "mean_rel_error", "worst_rel_error")


def scores(observed: np.ndarray, predicted: np.ndarray) -> dict[str, float | int | None]:
    """R², MAE, RMSE, mean and worst relative error (PredE, WorstE); R² is None for < 2 points."""
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    error = predicted - observed
    spread = float(np.sum((observed - observed.mean()) ** 2))
    relative = np.abs(error) / np.abs(observed)
    return {
        "n": int(observed.size),
        "r2": 1.0 - float(np.sum(error**2)) / spread if observed.size >= 2 and spread > 0 else None,
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mean_rel_error": float(np.mean(relative)),
        "worst_rel_error": float(np.max(relative)),
    }


def evaluation(run: np.ndarray, observed: np.ndarray, predicted: np.ndarray) -> dict[str, object]:
    """``{"runs": [{"run", scores...}], "overall": scores}`` in first-appearance run order."""
    per_run = []
    for name in dict.fromkeys(run.tolist()):
        mask = run == name
        per_run.append({"run": str(name), **scores(observed[mask], predicted[mask])})
    return {"runs": per_run, "overall": scores(observed, predicted)}
