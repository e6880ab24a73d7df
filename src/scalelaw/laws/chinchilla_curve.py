"""One law over every checkpoint of runs of several sizes, lengths and schedules.

L(N, t) = E + A·N^(−α) + B·(N/1e8)^ε·S1(t)^(−β) − D(N)·LD(t), with S1(t) = Σ_{k≤t} η̃_k·b_k the
tokens seen weighted by the relative learning rate η̃ = η/η_peak (so S1 = tokens for a
constant lr and batch size b enters), D(N) = D·(N/1e8)^δ, and the Multi-Power Law's loss
drop LD(t) = Σ_k (η̃_{k−1} − η̃_k)·G(η̃_k^(−γ)·S_k(t)/1e9), S_k(t) = Σ_{τ=k..t} η̃_τ·b_τ,
G(x) = 1 − (1 + κ·x)^(−ρ). It is Chinchilla's law with tokens replaced by lr-weighted
tokens, plus an annealing term; the drop sums reuse :class:`~scalelaw.laws._curves.DropSum`.
Only the schedule's shape enters (each run's lr relative to its own peak): the law assumes
every run's peak lr suits its size, as in a tuned ladder. See docs/guide/curve-across-sizes.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.data.schedules import Cosine, Schedule, parse_schedule
from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws._curves import Curve, CurveLaw, DropSum, curve_from_schedule, curves_from_runs
from scalelaw.laws.base import Design, Param

#: Model size at which D(N) is reported.
REFERENCE_PARAMS = 1e8
#: Tokens in one unit of the loss-drop argument (keeps κ near 1).
AREA_UNIT = 1e9


@register
class ChinchillaCurve(CurveLaw):
    """Chinchilla over lr-weighted tokens with a size-dependent Multi-Power loss drop.

    Options: ``min_warmups`` leaves out checkpoints before that many warmup lengths
    (the law does not describe the warmup); ``family`` is the schedule rule used for a
    target given only ``params`` and ``tokens`` (learnt from the fitted runs by
    :meth:`design` unless given): batch size b(N) = b0·(N/1e8)^b_exp tokens per step,
    warmup w(N) = w0·(N/1e8)^w_exp tokens, cosine to ``final`` × peak at the last step.
    """

    name = "chinchilla-curve"
    skips_points = True  # a run's loss-drop sums are costly: a bootstrap replicate's undrawn runs are skipped
    formula = ("L = E + A*N^-alpha + B*(N/1e8)^epsilon*S1^-beta - D*(N/1e8)^delta * sum_k (r[k-1]-r[k])*(1-(1+kappa*r[k]^-gamma"
               "*S_k(t)/1e9)^-rho), r = lr/peak, S1 = sum r*batch_tokens")
    citation = ("Hoffmann et al. 2022 (Chinchilla) with the loss drop of Luo et al. 2025 (Multi-Power Law); "
                "form and backtests in scalelaw docs/guide/curve-across-sizes.md")
    inputs = ("step", "lr", "params")

    def __init__(self, *, min_warmups: float = 2.0, sized_data: bool = True,
                 family: dict[str, float] | None = None) -> None:
        if not min_warmups >= 0:
            raise InputError(f"min_warmups must be >= 0, got {min_warmups!r}")
        self.min_warmups = float(min_warmups)
        self.sized_data = bool(sized_data)
        self.family = check_family(family)

    def options(self) -> dict[str, Any]:
        return {"min_warmups": self.min_warmups, "sized_data": self.sized_data, "family": self.family}

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("E", "irreducible loss", 0.0, 10.0, (1.5, 2.5)),
            Param("A", "coefficient of the model-size term", 1e-3, 1e6, (300.0,), log=True),
            Param("alpha", "exponent of N", 0.02, 1.5, (0.3,)),
            Param("B", "coefficient of the lr-weighted-token term", 1e-3, 1e8, (300.0,), log=True),
            Param("beta", "exponent of the lr-weighted tokens S1", 0.02, 1.5, (0.3,)),
            Param("D", "size of the loss drop from lr decay at N = 1e8", 1e-4, 1e2, (0.3,), log=True),
            Param("delta", "exponent of N in the loss-drop size", -2.0, 2.0, (0.0,)),
            Param("kappa", "rate at which a decay's loss drop saturates (per 1e9 tokens)", 1e-4, 1e6, (1.0, 30.0),
                  log=True),
            Param("rho", "exponent of the loss-drop saturation", 0.02, 5.0, (0.5,)),
            Param("gamma", "lr exponent in the loss-drop saturation", 0.0, 1.5, (0.5,)),
        ) + ((Param("epsilon", "exponent of N in the token term's coefficient", -2.0, 2.0, (0.0,)),)
             if self.sized_data else ())

    # -- designs ----------------------------------------------------------------------------
    def design(self, runs: RunSet) -> Design:
        """Every checkpoint after ``min_warmups`` warmups of every run (runs without any loss: targets)."""
        runs.require(["params"], purpose=f"the {self.name} law")
        has_loss = runs.table["loss"].notna().to_numpy()
        if not has_loss.any():
            return self._target_design(runs)
        curves = curves_from_runs(runs, purpose=f"the {self.name} law")
        self._sizes = sorted({c.params for c in curves})
        batches = [self._batch_of(runs, c.run) for c in curves]
        if self.family is not None:  # a fitted law: runs without a batch size get the family's rule
            batches = [self._target_batch(c.params, None if math.isnan(b) else b) for c, b in zip(curves, batches,
                                                                                                   strict=True)]
        if len({math.isnan(b) for b in batches}) > 1:
            raise InputError(f"the {self.name} law needs batch_size (tokens per step) for every run or for none")
        if self.family is None:
            self.family = _learn_family(curves, batches)
        kept = [(self._trim(c), b) for c, b in zip(curves, batches, strict=True)]
        kept = [(c, b) for c, b in kept if c.steps.size]
        if not kept:
            raise InputError(f"the {self.name} law: no checkpoint after {self.min_warmups:g} warmups")
        return self._design_of_sized(*zip(*kept, strict=True))

    def design_at(self, *, params: float, schedule: Schedule | str | None = None, tokens: float | None = None,
                  steps: np.ndarray | str | None = None, batch_size: float | None = None) -> Design:
        """A design to predict one run of size ``params``: under ``schedule`` (at ``steps``), or, given
        only ``tokens``, the fitted runs' schedule family run to completion at that length (last step)."""
        if schedule is None:
            if tokens is None:
                raise ValueError("give a schedule (with steps) or the total tokens")
            schedule, batch_size = self.family_schedule(float(params), float(tokens))
            steps = np.array([schedule.total_steps]) if steps is None else steps
        elif isinstance(schedule, str):
            schedule = parse_schedule(schedule)
        batch = self._target_batch(float(params), batch_size)
        curve = curve_from_schedule(schedule, steps=steps, params=float(params))
        return self._design_of_sized([curve], [batch])

    def family_schedule(self, params: float, tokens: float) -> tuple[Cosine, float]:
        """The fitted runs' schedule family at size ``params`` and length ``tokens``: (schedule, batch)."""
        family = self._family()
        ratio = params / REFERENCE_PARAMS
        batch = family["batch0"] * ratio ** family["batch_exp"]
        total = max(2, int(round(tokens / batch)))
        warmup = min(total - 1, int(round(family["warmup0"] * ratio ** family["warmup_exp"] / batch)))
        return Cosine(peak=1.0, warmup=warmup, total=total, final=family["final"]), batch

    def _target_design(self, runs: RunSet) -> Design:
        """Targets without losses: one curve per run under its lr (at its rows' steps), or, with only
        ``params`` and ``tokens``, the family schedule's final point."""
        parts = []
        for run, rows in runs.curves():
            params = float(rows["params"].dropna().iloc[0])
            batch = float(rows["batch_size"].dropna().iloc[0]) if "batch_size" in rows and rows["batch_size"].notna().any() else None
            has_lr = ("lr" in rows and rows["lr"].notna().any()) or (
                "lr_schedule" in rows and rows["lr_schedule"].notna().any())
            if has_lr and "step" in rows and rows["step"].notna().any():
                filled = rows.assign(loss=1.0)
                curve = curves_from_runs(RunSet(filled, {run: runs.source(run) or ""}), purpose=self.name)[0]
                curve = Curve(run=run, lr=curve.lr, steps=curve.steps, loss=np.full(curve.steps.size, np.nan),
                              params=params)
                parts.append((curve, self._target_batch(params, batch)))
                continue
            if "tokens" not in rows or not rows["tokens"].notna().any():
                raise InputError(f"a target of the {self.name} law needs step with lr (or lr_schedule), or tokens",
                                 file=runs.source(run), run=run)
            schedule, family_batch = self.family_schedule(params, float(rows["tokens"].max()))
            curve = curve_from_schedule(schedule, steps=np.array([schedule.total_steps]), params=params)
            parts.append((Curve(run=run, lr=curve.lr, steps=curve.steps, loss=curve.loss, params=params),
                          family_batch))
        return self._design_of_sized(*zip(*parts, strict=True))

    def _design_of_sized(self, curves: tuple[Curve, ...] | list[Curve], batches: tuple[float, ...] | list[float]) -> Design:
        relative = [_relative(c) for c in curves]
        base = self._design_of(relative)
        tokens_per_step = np.array([1.0 if math.isnan(b) else b for b in batches])
        per_point = np.concatenate([np.full(c.steps.size, b) for c, b in zip(relative, tokens_per_step, strict=True)])
        inputs = dict(base.inputs)
        inputs["area"] = base.inputs["area"] * per_point
        inputs["unit_scale"] = tokens_per_step / (AREA_UNIT if not math.isnan(batches[0]) else 1e3)
        inputs["tokens_per_step"] = tokens_per_step
        return Design(inputs=inputs, loss=base.loss, run=base.run)

    def prepare(self, curve: Curve) -> DropSum:
        return DropSum.build(curve.lr, curve.steps, blocks_per_level=4)

    def starts(self) -> np.ndarray:
        """The default grid; called only when fitting, so this is where one size is refused."""
        sizes = getattr(self, "_sizes", [])
        if len(sizes) == 1:
            raise InputError(f"the {self.name} law needs runs of at least two model sizes (params) to learn how loss "
                             f"depends on N; every run here has N = {sizes[0]:.4g} (for one size use multi-power or "
                             "lr-annealing)")
        return super().starts()

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design, gradient=False)[0]

    def jacobian_where(self, theta: np.ndarray, design: Design,
                       needed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`jacobian` without the loss-drop sums of a run for the rows that need none of its points
        (0 there): a bootstrap replicate leaves out about a third of the runs."""
        return self.jacobian(theta, design, needed=needed)

    def jacobian(self, theta: np.ndarray, design: Design, gradient: bool = True,
                 needed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        e, a, alpha, b, beta, d, delta, kappa, rho, gamma = (theta[:, i : i + 1] for i in range(10))
        epsilon = theta[:, 10:11] if self.sized_data else np.zeros_like(e)
        rows, n = theta.shape[0], design.n
        empty = np.empty if needed is None else np.zeros
        drop = {key: empty((rows, n)) for key in ("value", "d_c", "d_beta", "d_gamma")}
        start = 0
        for sums, scale in zip(design.inputs["prepared"], design.inputs["unit_scale"], strict=True):
            stop = start + sums.out_area.size
            asked = None if needed is None else np.flatnonzero(needed[:, start:stop].any(axis=1))
            if asked is not None and asked.size == rows:
                asked = None
            if asked is None or asked.size:
                part = sums.evaluate(kappa[:, 0] * scale, rho[:, 0], gamma[:, 0], gradient=gradient, rows=asked)
                at = (slice(None) if asked is None else asked, slice(start, stop))
                drop["value"][at] = part["value"]
                if gradient:
                    drop["d_c"][at] = part["d_c"] * scale
                    drop["d_beta"][at] = part["d_beta"]
                    drop["d_gamma"][at] = part["d_gamma"]
            start = stop
        log_n = np.log(design.inputs["params"])[None, :]
        log_s = np.log(design.inputs["area"])[None, :]
        log_ratio = log_n - math.log(REFERENCE_PARAMS)
        size_term = np.exp(-alpha * log_n)
        data_term = np.exp(epsilon * log_ratio - beta * log_s)
        drop_size = d * np.exp(delta * log_ratio)
        loss = e + a * size_term + b * data_term - drop_size * drop["value"]
        if not gradient:
            return loss, np.empty((rows, n, 0))
        grad = np.stack(
            [np.ones_like(loss), np.broadcast_to(size_term, loss.shape), -a * size_term * log_n,
             np.broadcast_to(data_term, loss.shape), -b * data_term * log_s,
             -drop_size / d * drop["value"], -drop_size * log_ratio * drop["value"],
             -drop_size * drop["d_c"], -drop_size * drop["d_beta"], -drop_size * drop["d_gamma"]]
            + ([b * data_term * log_ratio] if self.sized_data else []),
            axis=-1,
        )
        return loss, grad

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        tokens = design.inputs["step"] * np.concatenate(
            [np.full(s.out_area.size, b) for s, b in zip(design.inputs["prepared"], design.inputs["tokens_per_step"],
                                                         strict=True)])
        return {"params": design.inputs["params"], "tokens": tokens}

    # -- helpers ------------------------------------------------------------------------------
    def _trim(self, curve: Curve) -> Curve:
        """The curve without checkpoints before ``min_warmups`` warmup lengths."""
        warmup = int(np.argmax(curve.lr))
        keep = curve.steps >= self.min_warmups * warmup
        return Curve(run=curve.run, lr=curve.lr, steps=curve.steps[keep], loss=curve.loss[keep], params=curve.params)

    @staticmethod
    def _batch_of(runs: RunSet, run: str) -> float:
        rows = runs.curve(run)
        if "batch_size" in rows and rows["batch_size"].notna().any():
            return float(rows["batch_size"].dropna().iloc[0])
        return math.nan

    def _target_batch(self, params: float, batch_size: float | None) -> float:
        if batch_size is not None:
            return float(batch_size)
        family = self.family or {}
        if "batch0" not in family or math.isnan(family["batch0"]):
            return math.nan
        return family["batch0"] * (params / REFERENCE_PARAMS) ** family["batch_exp"]

    def _family(self) -> dict[str, float]:
        if not self.family or any(math.isnan(self.family.get(k, math.nan)) for k in FAMILY_KEYS):
            raise InputError(f"law {self.name}: predicting from params and tokens alone needs the fitted runs' "
                             "schedule family (batch_size and a warmup + decay schedule in the data); give a "
                             "schedule instead")
        return self.family


FAMILY_KEYS = ("batch0", "batch_exp", "warmup0", "warmup_exp", "final")
#: What each number of a schedule family may be: batch and warmup tokens at N = 1e8 positive, their exponents
#: within ±10, the final lr a fraction of the peak.
FAMILY_LIMITS = {"batch0": (0.0, 1e12), "batch_exp": (-10.0, 10.0), "warmup0": (0.0, 1e15), "warmup_exp": (-10.0, 10.0),
                 "final": (0.0, 1.0)}


def check_family(family: Any) -> dict[str, float] | None:
    """A ``family`` option (None: learn it from the fitted runs): the five numbers, each within its limits."""
    if family is None:
        return None
    if not isinstance(family, Mapping) or set(family) != set(FAMILY_KEYS):
        raise InputError(f"chinchilla-curve: family must be an object of {', '.join(FAMILY_KEYS)}, "
                         f"got {str(family)[:200]}")
    out = {}
    for key in FAMILY_KEYS:
        value, (low, high) = family[key], FAMILY_LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high \
                or (key in ("batch0", "warmup0") and value == 0):
            raise InputError(f"chinchilla-curve: family {key} must be a number in [{low:g}, {high:g}]"
                             f"{' above 0' if key in ('batch0', 'warmup0') else ''}, got {str(value)[:60]}")
        out[key] = float(value)
    return out


def _relative(curve: Curve) -> Curve:
    """The curve with its lr divided by its peak (the law sees the schedule's shape only)."""
    peak = float(np.max(curve.lr))
    if not peak > 0:
        raise InputError(f"run {curve.run!r}: the learning rate is never positive", run=curve.run, column="lr")
    return Curve(run=curve.run, lr=curve.lr / peak, steps=curve.steps, loss=curve.loss, params=curve.params)


def _learn_family(curves: list[Curve], batches: list[float]) -> dict[str, float] | None:
    """Batch size and warmup (in tokens) as power laws of N, and the final lr fraction, from the runs.

    None when the runs have no batch size, a single size, or no warmup-and-decay shape.
    """
    if any(math.isnan(b) for b in batches):
        return None
    sizes = np.array([c.params for c in curves])
    if np.unique(sizes).size < 2:
        return None
    warmups = np.array([int(np.argmax(c.lr)) for c in curves], dtype=float)
    finals = np.array([c.lr[-1] / np.max(c.lr) for c in curves])
    if np.any(warmups < 1) or np.any(finals >= 1):
        return None
    x = np.log(sizes / REFERENCE_PARAMS)
    batch_exp, log_batch0 = np.polyfit(x, np.log(batches), 1)
    warmup_exp, log_warmup0 = np.polyfit(x, np.log(warmups * np.array(batches)), 1)
    return {"batch0": float(np.exp(log_batch0)), "batch_exp": float(batch_exp), "warmup0": float(np.exp(log_warmup0)),
            "warmup_exp": float(warmup_exp), "final": float(np.median(finals))}
