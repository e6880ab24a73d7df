"""The Multi-Power Law for loss curves under any learning-rate schedule (Luo et al. 2025).

L(t) = L0 + A·(S1(t) + S_W)^(−α) − LD(t), LD(t) = B·Σ_{k=1..t} (η_{k−1} − η_k)·G(η_k^(−γ)·S_k(t)),
S_k(t) = Σ_{τ=k..t} η_τ, G(x) = 1 − (C·x + 1)^(−β). Conventions follow the authors'
code (thu-yao-01-luo/MultiPowerLaw): raw lr units, step ``t``'s loss after updates 1..t,
and S1(t) + S_W = η_1 + ... + η_t (the warmup's area is part of the sum, so no separate
S_W); the warmup's lr rises count as negative drops in LD. ``multi-power-sized`` lets
L0, A, α and B follow power laws in the model size N, fitted jointly over sizes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws._curves import Curve, CurveLaw, DropSum
from scalelaw.laws._curves_dense import DenseDropSum
from scalelaw.laws._held import FULL_DECAY_DROP, PAPER_SATURATION, HeldPrior, check_drop, check_held
from scalelaw.laws.base import Design, Param

#: Model size at which ``multi-power-sized`` reports its size-dependent parameters.
REFERENCE_PARAMS = 1e8
#: Curves asked for at every one of more steps than this use the O(T) whole-curve evaluation.
DENSE_FROM = 20_000
#: Largest accepted ``blocks_per_level`` (the default is 4; accuracy saturates well below this).
MAX_BLOCKS_PER_LEVEL = 64


@register
class MultiPower(HeldPrior, CurveLaw):
    """The Multi-Power Law, fitted jointly on several curves of one model size.

    Checkpoints before ``min_warmups`` warmup lengths are left out, and B, C, β and γ are
    held at the paper's values when the fitted curves never decayed their lr enough to
    determine them (``held``; see :mod:`scalelaw.laws._held`).
    """

    name = "multi-power"
    drop_param = "B"
    formula = "L(t) = L0 + A*(S1(t)+S_W)^-alpha - B*sum_k (lr[k-1]-lr[k])*(1-(C*lr[k]^-gamma*S_k(t)+1)^-beta)"
    citation = "Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules (ICLR 2025)"

    def __init__(self, *, blocks_per_level: int = 4, min_warmups: float = 1.0,
                 held: dict[str, float] | None = None, decay_drop: float = FULL_DECAY_DROP) -> None:
        # It sizes the drop-sum arrays: bounded so that a hand-edited fit cannot exhaust memory.
        if isinstance(blocks_per_level, bool) or blocks_per_level not in range(1, MAX_BLOCKS_PER_LEVEL + 1):
            raise InputError(f"multi-power: blocks_per_level must be a whole number from 1 to "
                             f"{MAX_BLOCKS_PER_LEVEL}, got {blocks_per_level!r}")
        self.blocks_per_level = int(blocks_per_level)
        if isinstance(min_warmups, bool) or not isinstance(min_warmups, (int, float)) or not 0 <= min_warmups <= 100:
            raise InputError(f"{self.name}: min_warmups must be a number from 0 to 100, got {min_warmups!r}")
        self.min_warmups = float(min_warmups)
        self.held = check_held(held, self.all_params())
        self.decay_drop = check_drop(decay_drop)

    def options(self) -> dict[str, Any]:
        return {"blocks_per_level": self.blocks_per_level, "min_warmups": self.min_warmups,
                "held": None if self.held is None else dict(self.held), "decay_drop": self.decay_drop}

    def all_params(self) -> tuple[Param, ...]:
        return (
            Param("L0", "loss as the lr area goes to infinity", 0.0, 50.0, (2.0, 3.0)),
            Param("A", "coefficient of the power law in the lr area", 1e-6, 1e3, (0.5,), log=True),
            Param("alpha", "exponent of the power law in the lr area", 0.01, 3.0, (0.5,)),
            Param("B", "scale of the loss drop from lr decay", 1e-3, 1e6, (300.0,), log=True),
            Param("C", "rate at which a decay's loss drop saturates", 1e-3, 1e3, (1.0,), log=True),
            Param("beta", "exponent of the loss-drop saturation", 0.01, 5.0, (0.5,)),
            Param("gamma", "lr exponent in the loss-drop saturation", 0.0, 1.5, (0.5,)),
        )

    def prior(self, peak: float) -> dict[str, float]:
        """B from the loss drop of a full decay (``decay_drop``) at this peak lr; C, β, γ the paper's."""
        return {"B": self.decay_drop / peak, **PAPER_SATURATION}

    def prepare(self, curve: Curve) -> DropSum | DenseDropSum:
        """The loss-drop sums' geometry: per output step, or for every step of a long curve."""
        every_step = curve.steps.size == curve.lr.size - 1 and np.array_equal(curve.steps, np.arange(1, curve.lr.size))
        if every_step and curve.steps.size > DENSE_FROM:
            return DenseDropSum.build(curve.lr)
        return DropSum.build(curve.lr, curve.steps, blocks_per_level=self.blocks_per_level)

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        theta = self.expand(theta)
        drop = np.concatenate([_drop_values(s, theta) for s in design.inputs["prepared"]], axis=1)
        l0, a, alpha, b = np.moveaxis(self.effective(theta, design), -1, 0)
        return l0 + a * np.exp(-alpha * np.log(design.inputs["area"])[None, :]) - b * drop

    def effective(self, theta: np.ndarray, design: Design) -> np.ndarray:
        """Per-point values (B, n, 4) of L0, A, α and B (the same everywhere for one size)."""
        return np.broadcast_to(theta[:, None, :4], (theta.shape[0], design.n, 4))

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray] | None:
        if _has_dense(design):
            return None
        loss, grad = curve_jacobian(self.expand(theta), design)
        return loss, self.free_columns(grad)



def _has_dense(design: Design) -> bool:
    return any(isinstance(s, DenseDropSum) for s in design.inputs["prepared"])


def _drop_values(sums: DropSum | DenseDropSum, theta: np.ndarray) -> np.ndarray:
    """Loss-drop sums (B, n) of one curve for parameter rows (L0, A, α, B, C, β, γ, ...)."""
    if isinstance(sums, DropSum):
        return sums.evaluate(theta[:, 4], theta[:, 5], theta[:, 6])["value"]
    return np.stack([sums.evaluate(row[4], row[5], row[6]) for row in theta])


def curve_jacobian(theta: np.ndarray, design: Design, effective: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Loss (B, n) and d loss / d (L0, A, α, B, C, β, γ) (B, n, 7).

    ``effective`` optionally gives per-point values (B, n, 4) of L0, A, α and B (the
    size-aware law); otherwise the first four columns of ``theta`` apply everywhere.
    """
    n = design.n
    if effective is None:
        effective = np.broadcast_to(theta[:, None, :4], (theta.shape[0], n, 4))
    l0, a, alpha, b = (effective[:, :, i] for i in range(4))
    drop = {key: np.empty((theta.shape[0], n)) for key in ("value", "d_c", "d_beta", "d_gamma")}
    start = 0
    for sums in design.inputs["prepared"]:
        stop = start + sums.out_area.size
        part = sums.evaluate(theta[:, 4], theta[:, 5], theta[:, 6], gradient=True)
        for key in drop:
            drop[key][:, start:stop] = part[key]
        start = stop
    log_area = np.log(design.inputs["area"])[None, :]
    power = np.exp(-alpha * log_area)
    loss = l0 + a * power - b * drop["value"]
    grad = np.stack(
        [np.ones_like(loss), power, -a * power * log_area, -drop["value"],
         -b * drop["d_c"], -b * drop["d_beta"], -b * drop["d_gamma"]],
        axis=-1,
    )
    return loss, grad


@register
class MultiPowerSized(MultiPower):
    """The Multi-Power Law with L0, A, α and B power laws in the model size N, fitted over sizes.

    X(N) = X·(N/N_ref)^X_exp for X in (L0, A, α, B), N_ref = 1e8; C, β and γ are shared.
    With two sizes each X(N) is exactly identified (two values, two numbers), so the law
    interpolates and extrapolates in N only as far as pure power laws do; L0(N) has no
    floor (E + a·N^−b would need three sizes).
    """

    name = "multi-power-sized"
    formula = "multi-power with X(N) = X*(N/1e8)^X_exp for X in L0, A, alpha, B"
    inputs = ("step", "lr", "params")
    _SIZED = ("L0", "A", "alpha", "B")

    def all_params(self) -> tuple[Param, ...]:
        base = super().all_params()
        exps = tuple(
            Param(f"{name}_exp", f"exponent of {name} in N/1e8", -3.0, 3.0, (0.0,)) for name in self._SIZED
        )
        return base + exps

    def design(self, runs):  # type: ignore[no-untyped-def]
        runs.require(["params"], purpose=f"the {self.name} law")
        return super().design(runs)

    def prior(self, peak: float) -> dict[str, float]:
        """The single-size prior, and B the same at every size (B_exp = 0)."""
        return {**super().prior(peak), "B_exp": 0.0}

    def effective(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return theta[:, None, :4] * np.exp(theta[:, None, 7:11] * self._log_ratio(design))

    def _log_ratio(self, design: Design) -> np.ndarray:
        sizes = design.inputs["params"]
        if not np.all(np.isfinite(sizes) & (sizes > 0)):
            raise InputError(f"law {self.name} needs a positive model size (params) for every point")
        return np.log(sizes / REFERENCE_PARAMS)[None, :, None]

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray] | None:
        theta = self.expand(theta)
        if _has_dense(design):
            return None
        log_ratio = self._log_ratio(design)
        factor = np.exp(theta[:, None, 7:11] * log_ratio)
        effective = theta[:, None, :4] * factor
        loss, grad = curve_jacobian(theta, design, effective)
        sized = grad[:, :, :4]
        full = np.concatenate([sized * factor, grad[:, :, 4:], sized * effective * log_ratio], axis=-1)
        return loss, self.free_columns(full)
