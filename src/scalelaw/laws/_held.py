"""Fitting a single-run curve law on what a partly trained run shows: warmup left out, unseen effects held.

Two things go wrong when a loss-curve law is fitted on the start of a run (early
stopping). The checkpoints inside the warmup follow a transient the laws do not describe
(the loss falls from ~ln(vocabulary) while the lr rises), and they pull the power law.
And a run whose lr has not yet decayed says almost nothing about how much a decay will
lower the loss: the parameters of that loss drop are then fitted to noise (or sit at a
bound), and the forecast of the decayed end of the run follows them.

:class:`HeldPrior` handles both for :mod:`~scalelaw.laws.multi_power` and
:mod:`~scalelaw.laws.lr_annealing`: checkpoints before ``min_warmups`` warmup lengths are
left out (the Multi-Power Law authors' data starts at the end of warmup), and when no
fitted curve has seen its lr fall by :data:`MIN_DECAY_SEEN` of its peak, the loss-drop
parameters are held at a prior and the fit warns. The prior's size, the loss drop of a
decay of the whole peak lr, is the law option ``decay_drop`` (a finished run of the same
setup gives a better value than the default). The decision is made by the first
design with logged losses and kept (``held`` is a law option saved in FIT.json), so that
backtest folds, the final fit and later predictions use one parametrization, and held-out
rows never change it.

The prior is the Multi-Power Law paper's (Luo et al. 2025; its published 25M and 100M
parameter sets, reproduced in tests/laws/test_multi_power.py): C = 2.0656, β = 0.5828,
γ = 0.6414 (the 25M fit; the 100M fit is within 3%), and a loss
drop of :data:`FULL_DECAY_DROP` for a decay of the whole peak lr (B·η_peak: 363.79 and
437.95 × 3e-4 = 0.109 and 0.131 at 25M and 100M, their mean). Other data may differ
(the OLMo ladder's full runs fit 0.145–0.195): the held values are a documented guess.
The backtests that calibrate the interval cannot measure that guess (they stay in the
undecayed part), so :meth:`scalelaw.fit.result.FitResult.predict_design` adds its spread,
:data:`DECAY_DROP_LOG_SD`, to the interval.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, warn
from scalelaw.laws._curves import Curve, curves_from_runs
from scalelaw.laws.base import Design, Param

#: Below this relative lr decay (1 − lowest lr after the peak / peak) seen by every fitted curve,
#: the loss drop of a decay is held at the prior.
MIN_DECAY_SEEN = 0.5
#: Loss drop of a decay of the whole peak lr (B·η_peak of the Multi-Power Law), the prior.
FULL_DECAY_DROP = 0.12
#: Spread (one standard deviation of its log) of the full-decay drop between setups, for the intervals of fits
#: that hold it: finished runs of the bundled data fit 0.11–0.15 (Multi-Power Law) and 0.145–0.195 (OLMo ladder),
#: up to e^0.49 × the prior.
DECAY_DROP_LOG_SD = 0.3
#: The Multi-Power Law paper's saturation parameters (25M fit), the prior for C, β and γ.
PAPER_SATURATION = {"C": 2.0656, "beta": 0.5828, "gamma": 0.6414}


def trim_warmup(curve: Curve, min_warmups: float) -> Curve:
    """The curve without logged checkpoints before ``min_warmups`` warmup lengths (warmup: steps to the peak lr)."""
    warmup = int(np.argmax(curve.lr))
    keep = curve.steps >= min_warmups * warmup
    return Curve(run=curve.run, lr=curve.lr, steps=curve.steps[keep], loss=curve.loss[keep], params=curve.params)


def decay_seen(curve: Curve) -> float:
    """How far the lr has fallen below its peak by the curve's last logged checkpoint (0: not at all, 1: to zero)."""
    logged = curve.steps[np.isfinite(curve.loss)]
    if logged.size == 0:
        return 0.0
    lr = curve.lr[: int(logged.max()) + 1]
    top = int(np.argmax(lr))
    return float(1.0 - np.min(lr[top:]) / lr[top]) if lr[top] > 0 else 0.0


def check_drop(drop: Any) -> float:
    """A ``decay_drop`` option: the loss drop of a full decay, a positive number below 10 (nats)."""
    if isinstance(drop, bool) or not isinstance(drop, (int, float)) or not 0 < drop < 10:
        raise InputError(f"decay_drop (the loss drop of a full lr decay) must be a number in (0, 10), got {drop!r}")
    return float(drop)


def check_held(held: Any, params: Sequence[Param]) -> dict[str, float] | None:
    """A ``held`` option: None (decide from the data), or the held values as a mapping (as FIT.json records
    it) or as the text ``"B=400,C=2.0656"`` of ``--option`` ("" or {}: nothing held). Each value must be a
    finite number within its parameter's bounds."""
    if held is None:
        return None
    if isinstance(held, str):
        pairs = [part.partition("=") for part in held.split(",") if part.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise InputError(f"held must look like 'B=400,C=2.07', got {held[:200]!r}")
        try:
            held = {key.strip(): float(value) for key, _, value in pairs}
        except ValueError:
            raise InputError(f"held must look like 'B=400,C=2.07', got {held[:200]!r}") from None
    if not isinstance(held, Mapping):
        raise InputError(f"held must be a mapping of parameter names to values, got {str(held)[:200]}")
    declared = {p.name: p for p in params}
    unknown = sorted(str(k)[:100] for k in set(held) - set(declared))
    bad = [k for k, v in held.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v)]
    if unknown or bad:
        raise InputError(f"held: unknown parameter(s) {unknown} or non-numeric value(s) for {bad}; "
                         f"parameters are {', '.join(declared)}")
    outside = [k for k, v in held.items() if not declared[k].lower <= v <= declared[k].upper]
    if outside:
        param = declared[outside[0]]
        raise InputError(f"held: {param.name} = {held[param.name]:g} lies outside its bounds "
                         f"[{param.lower:g}, {param.upper:g}]")
    return {str(k): float(v) for k, v in held.items()}


class HeldPrior:
    """Mixin for a :class:`~scalelaw.laws._curves.CurveLaw`: warmup left out, unseen loss-drop parameters held.

    A subclass lists every parameter in :meth:`all_params`, returns the prior values of
    its loss-drop parameters in :meth:`prior`, and computes with full parameter rows
    (:meth:`expand`); ``params`` then lists only the free ones.
    """

    name: str
    #: The held parameter proportional to the full-decay drop.
    drop_param: str
    min_warmups: float
    held: dict[str, float] | None
    decay_drop: float

    def all_params(self) -> tuple[Param, ...]:
        raise NotImplementedError

    def prior(self, peak: float) -> dict[str, float]:
        """Values of the loss-drop parameters for curves of peak lr ``peak``."""
        raise NotImplementedError

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.all_params() if p.name not in (self.held or {}))

    def _within_bounds(self, values: dict[str, float]) -> dict[str, float]:
        """Prior values clipped into their parameters' bounds (a FIT.json holding them must read back)."""
        bounds = {p.name: (p.lower, p.upper) for p in self.all_params()}
        return {k: float(np.clip(v, *bounds[k])) for k, v in values.items()}

    def with_drop_scaled(self, factor: float) -> HeldPrior:
        """A copy of this law whose held full-decay drop is ``factor`` times larger (itself if nothing is held)."""
        if not self.held or self.drop_param not in self.held:
            return self
        other = copy.copy(self)
        other.held = {**self.held, self.drop_param: self.held[self.drop_param] * factor}
        return other

    def expand(self, theta: np.ndarray) -> np.ndarray:
        """Free parameter rows (B, q) to full rows (B, p), the held values filled in."""
        theta = np.atleast_2d(theta)
        if not self.held:
            return theta
        names = [p.name for p in self.all_params()]
        full = np.empty((theta.shape[0], len(names)))
        free = [i for i, n in enumerate(names) if n not in self.held]
        full[:, free] = theta
        for name, value in self.held.items():
            full[:, names.index(name)] = value
        return full

    def free_columns(self, grad: np.ndarray) -> np.ndarray:
        """The Jacobian's columns (last axis) of the free parameters."""
        if not self.held:
            return grad
        names = [p.name for p in self.all_params()]
        return grad[..., [i for i, n in enumerate(names) if n not in self.held]]

    def design(self, runs: RunSet) -> Design:
        """Checkpoints from ``min_warmups`` warmups on; the first design with losses decides what is held,
        and every design with losses says what is held (a fit, and a forecast that depends on it)."""
        curves = [trim_warmup(c, self.min_warmups) for c in curves_from_runs(runs, purpose=f"the {self.name} law")]
        curves = [c for c in curves if c.steps.size]
        if not curves:
            raise InputError(f"the {self.name} law: no checkpoint from {self.min_warmups:g} warmup length(s) on "
                             "(the law does not describe the warmup)")
        if any(np.isfinite(c.loss).any() for c in curves):
            if self.held is None:
                seen = max(decay_seen(c) for c in curves)
                peak = float(np.median([np.max(c.lr) for c in curves]))
                self.held = {} if seen >= MIN_DECAY_SEEN else self._within_bounds(self.prior(peak))
            if self.held:
                shown = ", ".join(f"{k}={v:.4g}" for k, v in self.held.items())
                warn(f"law {self.name}: {shown} held at a prior, not fitted: checkpoints whose lr has not fallen by "
                     f"{MIN_DECAY_SEEN:.0%} of its peak cannot tell how much a decay lowers the loss. The prior: a full "
                     f"decay lowers it by {self.decay_drop:g} (the Multi-Power Law paper's value unless the law option "
                     "decay_drop says otherwise, e.g. from a finished run of the same setup); the law option held={} "
                     "fits them.", FitWarning)
        return self._design_of(curves)  # type: ignore[attr-defined]
