"""Accuracy from scale with a floor at chance: ACC = c + (h − c)·σ(s·(log10 x − m)).

Citation: the sigmoid link of observational scaling laws (Ruan et al. 2024, "Observational
Scaling Laws and the Predictability of Language Model Performance") and of Sloth (Maia
Polo et al. 2024, "Sloth: scaling laws for LLM skills"), whose floor is the guessing
level of the benchmark: a logistic function of log scale between the task's chance level
``c`` (held, from ``--chance`` or the table of common benchmarks) and a ceiling ``h``
(held at 1 unless given). With both ends held, a family of 4-5 sizes fits two numbers:
the slope ``s`` (logits per decade) and the midpoint ``m`` (log10 of the scale at which
accuracy is half way from chance to the ceiling). ``variable`` picks the scale: model
size (``params``), compute 6·N·D (``flops``), or size with a third parameter ``t`` for
the tokens per parameter, z = s·(log10 N − m) + t·log10(D / 20N) (``params+tokens``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws._accuracy import AccuracyLaw, check_variable, scale_terms
from scalelaw.laws.base import Design, Param

#: Starting midpoints (log10 of the scale) per variable.
_MIDPOINTS = {"params": (7.0, 9.0, 11.0, 13.0), "flops": (17.0, 20.0, 23.0, 26.0)}


@register
class ChanceSigmoid(AccuracyLaw):
    """ACC = chance + (ceiling − chance)·σ(slope·(log10 x − midpoint)) for x = N, C, or N with D/N."""

    name = "chance-sigmoid"
    formula = "ACC = c + (h - c) * sigmoid(s*(log10 x - m)), c = chance, h = ceiling (held), x = params | flops"
    citation = "Ruan et al. 2024 (observational scaling laws); Maia Polo et al. 2024 (Sloth): sigmoid above the chance level"

    def __init__(self, variable: str = "params", chance: float = 0.0, ceiling: float = 1.0) -> None:
        self.variable = check_variable(self.name, variable)
        self.chance, self.ceiling = float(chance), float(ceiling)
        if not (0.0 <= self.chance < self.ceiling <= 1.0):
            raise InputError(f"{self.name} law needs 0 <= chance < ceiling <= 1, got chance {chance!r}, "
                             f"ceiling {ceiling!r}")

    @property
    def params(self) -> tuple[Param, ...]:
        mids = _MIDPOINTS["flops" if self.variable == "flops" else "params"]
        out = [
            Param("s", "slope: logits gained per decade of scale", 0.0, 50.0, (0.5, 1.5, 4.0)),
            Param("m", "midpoint: log10 of the scale half way from chance to the ceiling", 0.0, 60.0, mids),
        ]
        if self.variable == "params+tokens":
            out.append(Param("t", "logits gained per decade of tokens per parameter", -20.0, 50.0, (0.0, 1.0)))
        return tuple(out)

    def options(self) -> dict[str, Any]:
        return {"variable": self.variable, "chance": self.chance, "ceiling": self.ceiling}

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        log_x, ratio = scale_terms(self.variable, design)
        s, m = theta[:, 0:1], theta[:, 1:2]
        z = s * (log_x - m)
        if ratio is not None:
            z = z + theta[:, 2:3] * ratio
        sig = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
        span = self.ceiling - self.chance
        value = self.chance + span * sig
        g = span * sig * (1.0 - sig)
        parts = [g * (log_x - m), -g * s] + ([g * ratio] if ratio is not None else [])
        return value, np.stack(np.broadcast_arrays(*parts), axis=2)
