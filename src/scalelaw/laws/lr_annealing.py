"""The scaling law with learning-rate annealing (Tissue et al. 2024).

L(s) = L0 + A·S1^(−α) − C·S2, with the forward area S1 = η_1 + ... + η_s and the
annealing area S2 = m_1 + ... + m_s, m_i = λ·m_{i−1} + (η_{i−1} − η_i). Conventions (raw lr
units, step s's loss after updates 1..s, S1 counting the warmup) match the Multi-Power
law here. The warmup's lr rises are left out of S2 (drops count only after the first
step at the peak lr): counted, they would cancel the later decay and S2 would no
longer measure annealing (``warmup_in_s2=True`` counts them, as some reproductions do).
λ is held at ``decay_factor`` (0.999, the paper's value) or, with ``decay_factor=None``,
fitted. Checkpoints before ``min_warmups`` warmup lengths are left out, and C (and a fitted
λ) are held at a prior when the fitted curves never decayed their lr enough to determine
them (``held``; see :mod:`scalelaw.laws._held`).
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws._curves import Curve, CurveLaw
from scalelaw.laws._held import FULL_DECAY_DROP, HeldPrior, check_drop, check_held
from scalelaw.laws.base import Design, Param


def decayed_sum(x: np.ndarray, decay: float) -> np.ndarray:
    """m[i] = decay·m[i−1] + x[i] (m[−1] = 0), vectorised in blocks: m = decay^j·(decay·m_prev + cumsum(x·decay^−j)).

    Each block is as long as decay^−j stays below 1e200, so nothing overflows and the
    rounding error is that of the plain loop (relative to sum_k decay^(i−k)·|x[k]|).
    Same numbers as ``scipy.signal.lfilter([1], [1, -decay], x)`` without importing scipy.signal.
    """
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    block = max(1, min(x.size, int(200.0 / -math.log10(decay))))
    powers = decay ** np.arange(block, dtype=float)
    carry = 0.0
    for start in range(0, x.size, block):
        chunk = x[start : start + block]
        scale = powers[: chunk.size]
        out[start : start + chunk.size] = scale * (decay * carry + np.cumsum(chunk / scale))
        carry = out[start + chunk.size - 1]
    return out


def annealing_area(lr: np.ndarray, decay_factor: float, *, derivative: bool = False,
                   warmup_in_s2: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """S2 at steps 0..T (and dS2/dλ when asked; else zeros), from the per-step lr ``lr[0..T]``."""
    drops = np.concatenate([[0.0], lr[:-1] - lr[1:]])
    if not warmup_in_s2:
        drops[: int(np.argmax(lr)) + 1] = 0.0
    momentum = decayed_sum(drops, decay_factor)
    area = np.cumsum(momentum)
    if not derivative:
        return area, np.zeros_like(area)
    d_momentum = decayed_sum(np.concatenate([[0.0], momentum[:-1]]), decay_factor)
    return area, np.cumsum(d_momentum)


@register
class LRAnnealing(HeldPrior, CurveLaw):
    """L(s) = L0 + A·S1^(−α) − C·S2, with S2 the momentum-smoothed lr decay."""

    name = "lr-annealing"
    drop_param = "C"
    formula = "L(s) = L0 + A*S1^-alpha - C*S2, S2 = sum_i m_i, m_i = lambda*m_{i-1} + (lr[i-1] - lr[i])"
    citation = "Tissue et al. 2024, Scaling Law with Learning Rate Annealing (arXiv:2408.11029)"

    def __init__(self, *, decay_factor: float | None = 0.999, warmup_in_s2: bool = False, min_warmups: float = 1.0,
                 held: dict[str, float] | None = None, decay_drop: float = FULL_DECAY_DROP) -> None:
        if decay_factor is not None and not 0.0 < float(decay_factor) < 1.0:
            raise InputError(f"decay_factor (λ) must be in (0, 1), got {decay_factor!r}")
        self.decay_factor = None if decay_factor is None else float(decay_factor)
        self.warmup_in_s2 = bool(warmup_in_s2)
        if isinstance(min_warmups, bool) or not isinstance(min_warmups, (int, float)) or not 0 <= min_warmups <= 100:
            raise InputError(f"{self.name}: min_warmups must be a number from 0 to 100, got {min_warmups!r}")
        self.min_warmups = float(min_warmups)
        self.held = check_held(held, self.all_params())
        self.decay_drop = check_drop(decay_drop)

    def options(self) -> dict[str, Any]:
        return {"decay_factor": self.decay_factor, "warmup_in_s2": self.warmup_in_s2, "min_warmups": self.min_warmups,
                "held": None if self.held is None else dict(self.held), "decay_drop": self.decay_drop}

    def prior(self, peak: float) -> dict[str, float]:
        """C such that a decay of the whole peak lr lowers the loss by ``decay_drop`` (S2 then ends at
        peak/(1−λ)); a fitted λ held at the paper's 0.999."""
        decay = 0.999 if self.decay_factor is None else self.decay_factor
        return {"C": self.decay_drop * (1.0 - decay) / peak, **({"lambda": decay} if self.decay_factor is None else {})}

    def all_params(self) -> tuple[Param, ...]:
        fitted = (
            Param("L0", "loss as the lr area goes to infinity", 0.0, 50.0, (2.0, 3.0)),
            Param("A", "coefficient of the power law in the lr area", 1e-6, 1e3, (0.5,), log=True),
            Param("alpha", "exponent of the power law in the lr area", 0.01, 3.0, (0.5,)),
            Param("C", "loss drop per unit of annealing area", 0.0, 1e3, (1.0,)),
        )
        if self.decay_factor is None:
            fitted += (Param("lambda", "momentum decay factor of the annealing area", 0.9, 0.99999, (0.999,)),)
        return fitted

    def prepare(self, curve: Curve) -> tuple[np.ndarray, np.ndarray] | None:
        if self.decay_factor is None:
            return None
        area, _ = annealing_area(curve.lr, self.decay_factor, warmup_in_s2=self.warmup_in_s2)
        return area[curve.steps], np.zeros(curve.steps.size)

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = self.expand(theta)
        rows = theta.shape[0]
        s2, d_s2 = self._areas(theta, design)
        log_area = np.log(design.inputs["area"])[None, :]
        l0, a, alpha, c = (theta[:, i : i + 1] for i in range(4))
        power = np.exp(-alpha * log_area)
        loss = l0 + a * power - c * s2
        columns = [np.ones_like(loss), power, -a * power * log_area, -np.broadcast_to(s2, loss.shape)]
        if self.decay_factor is None:
            columns.append(-c * d_s2)
        return loss, self.free_columns(np.stack([np.broadcast_to(col, (rows, design.n)) for col in columns], axis=-1))

    def _areas(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """S2 and dS2/dλ at the design's points, (1, n) for a fixed λ or (B, n) for a fitted one."""
        if self.decay_factor is not None:
            parts = design.inputs["prepared"]
            return np.concatenate([p[0] for p in parts])[None, :], np.concatenate([p[1] for p in parts])[None, :]
        s2 = np.empty((theta.shape[0], design.n))
        d_s2 = np.empty_like(s2)
        for row, lam in enumerate(theta[:, 4]):
            start = 0
            for curve in design.inputs["curves"]:
                stop = start + curve.steps.size
                area, d_area = annealing_area(curve.lr, float(lam), derivative=True, warmup_in_s2=self.warmup_in_s2)
                s2[row, start:stop], d_s2[row, start:stop] = area[curve.steps], d_area[curve.steps]
                start = stop
        return s2, d_s2
