"""A straight line in log scale: ACC = a + b·log10(x / 10^9), the simplest accuracy law.

Citation: the log-linear trend of accuracy in model size or compute that benchmark
scaling studies start from (e.g. Owen 2024, "How predictable is language model benchmark
performance?", and the linear baseline of Ruan et al. 2024). Two free numbers, no floor
and no ceiling: over the short spans a family of 4-5 sizes covers it is often as good as
a sigmoid, and it cannot flatten at a wrong ceiling. ``variable`` is ``params``,
``flops`` (6·N·D) or ``params+tokens`` (a + b·log10 N + t·log10(D / 20N)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.laws import register
from scalelaw.laws._accuracy import AccuracyLaw, check_variable, scale_terms
from scalelaw.laws.base import Design, Param

#: The scale (log10) at which ``a`` is read: 10^9 parameters, or 10^21 FLOPs.
_REFERENCE = {"params": 9.0, "params+tokens": 9.0, "flops": 21.0}


@register
class LogLinear(AccuracyLaw):
    """ACC = a + b·(log10 x − r) for x = N or C (r = 9 or 21), with + t·log10(D/20N) for ``params+tokens``."""

    name = "log-linear"
    formula = "ACC = a + b*(log10 x - r), x = params (r = 9) | flops (r = 21)"
    citation = "Owen 2024, How predictable is language model benchmark performance? (log-linear baseline)"

    def __init__(self, variable: str = "params") -> None:
        self.variable = check_variable(self.name, variable)

    @property
    def params(self) -> tuple[Param, ...]:
        out = [
            Param("a", "accuracy at 10^9 parameters (10^21 FLOPs for flops)", -10.0, 10.0, (0.3, 0.6)),
            Param("b", "accuracy gained per decade of scale", 0.0, 10.0, (0.05, 0.2)),
        ]
        if self.variable == "params+tokens":
            out.append(Param("t", "accuracy gained per decade of tokens per parameter", -10.0, 10.0, (0.0, 0.05)))
        return tuple(out)

    def options(self) -> dict[str, Any]:
        return {"variable": self.variable}

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        log_x, ratio = scale_terms(self.variable, design)
        centred = log_x - _REFERENCE[self.variable]
        value = theta[:, 0:1] + theta[:, 1:2] * centred
        parts = [np.ones_like(value), centred]
        if ratio is not None:
            value = value + theta[:, 2:3] * ratio
            parts.append(ratio)
        return value, np.stack(np.broadcast_arrays(*parts), axis=2)
