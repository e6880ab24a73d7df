"""The robust objectives the engine minimises, on log-loss residuals r = log L_pred − log L_obs.

Each objective gives ρ(r) (the penalty), ψ(r) = ρ'(r) and the IRLS curvature ψ(r)/r,
which is what a Gauss–Newton/Levenberg–Marquardt step needs. Huber with δ = 1e-3 on
log residuals is the choice of Hoffmann et al. 2022 and Epoch AI's replication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from scalelaw.errors import InputError

ObjectiveName = Literal["huber", "squares", "asymmetric"]
OBJECTIVES: tuple[str, ...] = ("huber", "squares", "asymmetric")


@dataclass(frozen=True)
class Objective:
    """A penalty on residuals: Huber(δ), plain squares, or asymmetric squares.

    ``asymmetric`` is least squares with over-prediction (r > 0) weighted by
    ``asymmetry`` and under-prediction by 1 (an expectile fit).
    """

    name: ObjectiveName = "huber"
    delta: float = 1e-3
    asymmetry: float = 2.0

    def __post_init__(self) -> None:
        if self.name not in OBJECTIVES:
            raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.name!r}")
        if not (np.isfinite(self.delta) and self.delta > 0):
            raise InputError(f"the Huber delta must be a positive number, got {self.delta!r}")
        if not (np.isfinite(self.asymmetry) and self.asymmetry > 0):
            raise InputError(f"the asymmetry weight must be a positive number, got {self.asymmetry!r}")

    def rho(self, r: np.ndarray) -> np.ndarray:
        """The penalty of each residual."""
        if self.name == "huber":
            a = np.abs(r)
            return np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))
        if self.name == "squares":
            return 0.5 * r * r
        return np.where(r > 0, self.asymmetry, 1.0) * 0.5 * r * r

    def psi(self, r: np.ndarray) -> np.ndarray:
        """The derivative of the penalty."""
        if self.name == "huber":
            return np.clip(r, -self.delta, self.delta)
        if self.name == "squares":
            return r
        return np.where(r > 0, self.asymmetry, 1.0) * r

    def curvature(self, r: np.ndarray) -> np.ndarray:
        """ψ(r)/r, the IRLS weight (1 in the quadratic zone)."""
        if self.name == "huber":
            a = np.abs(r)
            return np.where(a <= self.delta, 1.0, self.delta / np.maximum(a, self.delta))
        if self.name == "squares":
            return np.ones_like(r)
        return np.where(r > 0, self.asymmetry, 1.0)
