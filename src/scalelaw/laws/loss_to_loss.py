"""Loss-to-loss: one loss as a shifted power law of another, L_y = K·(L_x − E_x)^κ + E_y.

Citation: Brandfonbrener et al. 2024, "Loss-to-Loss Prediction: Scaling Laws for All
Datasets", eq. (1) (train-to-train, train-to-test and test-to-test; "LLMs on the Line",
Mayilvahanan et al. 2025, find the same shape). ``E_x`` and ``E_y`` are the irreducible
losses of the two metrics, ``K`` and ``κ`` how one tracks the other. Points are the
checkpoints where both are logged: by default each run's final one (as the paper pairs
final models), or every checkpoint with ``points=all``. At or below E_x the law gives E_y
(the limit of the power term), so a prediction is never undefined.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws._paired import paired_points
from scalelaw.laws.base import Design, Law, Param


@register
class LossToLoss(Law):
    """L_y(L_x) = K·(L_x − E_x)^κ + E_y for another logged loss L_x (option ``x``)."""

    name = "loss-to-loss"
    formula = "L_y = K*(L_x - E_x)^kappa + E_y, L_x = another loss column (option x)"
    citation = "Brandfonbrener et al. 2024, Loss-to-Loss Prediction: Scaling Laws for All Datasets"
    kind = "final"

    def __init__(self, x: str = "orig_loss", points: Literal["final", "all"] = "final", window: int = 1) -> None:
        if points not in ("final", "all"):
            raise InputError(f"loss-to-loss: points must be 'final' or 'all', got {points!r}")
        self.x = str(x)
        self.points = points
        self.window = int(window)

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.x,)

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("K", "coefficient", 1e-4, 1e4, (0.5, 1.0, 2.0), log=True),
            Param("kappa", "exponent", 0.01, 10.0, (0.5, 1.0, 2.0)),
            Param("E_x", "irreducible loss of the input metric", 0.0, 20.0, (0.0, 1.0, 1.5, 2.0)),
            Param("E_y", "irreducible loss of the predicted metric", 0.0, 20.0, (0.0, 0.5, 1.0, 2.0)),
        )

    def options(self) -> dict[str, Any]:
        return {"x": self.x, "points": self.points, "window": self.window}

    def design(self, runs: RunSet) -> Design:
        pairs = paired_points(runs, self.x, skip=0.0, window=self.window, purpose="the loss-to-loss law")
        keep = pairs.last if self.points == "final" else np.ones(pairs.x.size, dtype=bool)
        x, y = pairs.x[keep], pairs.y[keep]
        bad = ~((x > 0) & (y > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"the loss-to-loss law needs positive losses, got {x[i]!r} and {y[i]!r}",
                             run=str(pairs.run[keep][i]))
        return Design(inputs={self.x: x}, loss=y, run=pairs.run[keep])

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design)[0]

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        x = np.asarray(design.inputs[self.x], dtype=float)[None, :]
        k, kappa, e_x, e_y = (theta[:, i : i + 1] for i in range(4))
        with np.errstate(all="ignore"):
            gap = np.maximum(x - e_x, 0.0)  # at or below the input's floor the law gives the output's floor
            above = gap > 0
            log_gap = np.log(np.where(above, gap, 1.0))
            power = np.where(above, np.exp(kappa * log_gap), 0.0)
            value = k * power + e_y
            d_floor = np.where(above, -k * kappa * power / np.where(above, gap, 1.0), 0.0)
            grad = np.stack([power, k * power * log_gap, d_floor, np.ones_like(value)], axis=2)
        return value, grad
