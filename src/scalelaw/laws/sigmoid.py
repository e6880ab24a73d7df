"""Accuracy from a loss through a sigmoid: ACC = a / (1 + exp(−k·(x − x0))) + b.

Citation: Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient
Model Ladders", step 2 (task loss → accuracy), eq. (2), and their code
(allenai/OLMo-ladder ``fitting/step2.py``): fitted by least squares on every
intermediate checkpoint (the first 10% of each run skipped, both metrics smoothed over
5 checkpoints) plus one anchor point (x = 0, accuracy = 1: a model with zero loss on the
correct answer is always right), with bounds a ∈ [−1, 0], b ∈ [0, 1], x0, k ≥ 0. ``b``
is the accuracy as the loss goes to zero, ``a + b`` the accuracy of a hopeless model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws import register
from scalelaw.laws._paired import paired_points
from scalelaw.laws.base import Design, Law, Param

#: Run id of the anchor point in designs and scores.
ANCHOR_RUN = "(anchor)"


@register
class Sigmoid(Law):
    """ACC(x) = a / (1 + exp(−k (x − x0))) + b for a loss-like metric x (e.g. the task's bpb)."""

    name = "sigmoid"
    formula = "ACC(x) = a / (1 + exp(-k*(x - x0))) + b, x = a loss column (option x)"
    citation = "Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model Ladders (step 2)"
    kind = "curve"
    residual = "linear"
    rises = True
    objective = "squares"

    def __init__(self, x: str = "orig_loss", skip: float = 0.1, window: int = 5, anchor: bool = True,
                 floor: float = 0.25) -> None:
        self.x = str(x)
        self.skip = float(skip)
        self.window = int(window)
        self.anchor = bool(anchor)
        self.floor = float(floor)

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.x,)

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("a", "accuracy span (negative: accuracy falls as the loss rises)", -1.0, 0.0, (-0.9, -0.6, -0.3)),
            Param("x0", "loss at the midpoint", 0.0, 100.0, (0.5, 1.0, 1.5, 2.5)),
            Param("k", "steepness", 0.0, 1000.0, (1.0, 3.0, 10.0)),
            Param("b", "accuracy at zero loss", 0.0, 1.0, (0.6, 0.8, 1.0)),
        )

    def options(self) -> dict[str, Any]:
        return {"x": self.x, "skip": self.skip, "window": self.window, "anchor": self.anchor, "floor": self.floor}

    def starts(self) -> np.ndarray:
        """The grid plus OLMo's own first start (a = floor − 1, x0 = 0.9, k = 3, b = 1)."""
        olmo = np.array([[self.floor - 1.0, 0.9, 3.0, 1.0]])
        return np.concatenate([olmo, super().starts()])

    def design(self, runs: RunSet) -> Design:
        points = paired_points(runs, self.x, skip=self.skip, window=self.window, purpose="the sigmoid law")
        x, y, run = points.x, points.y, points.run
        anchor = np.zeros(x.size, dtype=bool)
        if self.anchor:
            x, y = np.append(x, 0.0), np.append(y, 1.0)
            run, anchor = np.append(run, ANCHOR_RUN), np.append(anchor, True)
        return Design(inputs={self.x: x}, loss=y, run=run, anchor=anchor)

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design)[0]

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        x = np.asarray(design.inputs[self.x], dtype=float)[None, :]
        a, x0, k, b = (theta[:, i : i + 1] for i in range(4))
        shifted = x - x0
        s = 0.5 * (1.0 + np.tanh(0.5 * k * shifted))  # the logistic function, without overflow
        slope = a * s * (1.0 - s)
        value = a * s + b
        grad = np.stack([s, -k * slope, shifted * slope, np.ones_like(value)], axis=2)
        return value, grad
