"""Two-step forecasts: (N, D) → an intermediate metric → the metric wanted.

Bhagia et al. 2024 (the OLMo ladder) predict a task's accuracy in two steps: a loss law
from model and data size to the task's loss (bits per byte of the correct answer), then
a sigmoid from that loss to the accuracy. The same chaining with a loss-to-loss law
(Brandfonbrener et al. 2024) carries a law fitted on one dataset's loss to another
dataset's loss, which may be logged by only a few runs. The interval carries both
steps' uncertainty: every step-1 draw (a bootstrap parameter set plus a resampled
residual) goes through a step-2 bootstrap parameter set, plus a step-2 residual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, UntrustedFitError, warn
from scalelaw.fit.engine import fit_law
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Design, Law

#: Checkpoints averaged for each run's final value, and the fraction of early checkpoints
#: step 2 leaves out: the OLMo ladder's choices (--moving_avg 5, --skip_perc 0.1).
WINDOW = 5
SKIP = 0.1
KIND = "two-step"


@dataclass(frozen=True)
class TwoStepPrediction:
    """The predicted metric with its interval, the intermediate metric, and what extrapolates."""

    value: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    via: np.ndarray
    via_lo: np.ndarray
    via_hi: np.ndarray
    extrapolation: np.ndarray
    beyond_seen: np.ndarray
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class TwoStepFit:
    """Step 1 (a scaling law of ``via``) chained into step 2 (``metric`` as a function of ``via``).

    ``via_range`` and ``metric_range`` are the values step 2 was fitted on, so a forecast
    can say when the second step extrapolates beyond them.
    """

    metric: str
    via: str
    step1: FitResult
    step2: FitResult
    via_range: tuple[float, float]
    metric_range: tuple[float, float]

    @property
    def law(self) -> Law:
        """The second step's law (what the forecast is a value of)."""
        return self.step2.law

    @property
    def options(self) -> dict[str, Any]:
        return self.step1.options

    def predict(self, *, level: float | None = None, **inputs: Any) -> TwoStepPrediction:
        """Forecast ``metric`` at step-1 inputs, e.g. ``fit.predict(params=7e9, tokens=1.4e11)``."""
        level = float(self.step1.options.get("ci_level", 0.95) if level is None else level)
        if not 0 < level < 1:
            raise InputError(f"the interval level must be between 0 and 1, got {level!r}")
        try:
            design = self.step1.law.design_at(**inputs)
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot predict with law {self.step1.law.name} at {sorted(inputs)}: {exc}") from None
        first = self.step1.predict_design(design)
        via_point = first.loss
        via_draws = self.step1.prediction_samples(design, via_point)
        value = self.step2.law.predict(self.step2.theta[None, :], self._step2_design(via_point))[0]
        draws = self._chain(via_draws)
        quantiles = ((1 - level) / 2, (1 + level) / 2)
        space = self.step2.law
        with np.errstate(all="ignore"):
            lo, hi = space.from_residual_space(np.nanquantile(space.to_residual_space(draws), quantiles, axis=0))
            via_lo, via_hi = np.quantile(via_draws, quantiles, axis=0)
        beyond, messages = self._beyond_seen(via_point, value)
        for message in messages:
            if self.step1.options.get("strict", False):
                raise UntrustedFitError(message)
            warn(message, FitWarning)
        return TwoStepPrediction(value, lo, hi, via_point, via_lo, via_hi, first.extrapolation, beyond,
                                 first.warnings + messages)

    def prediction_rows(self, point: Mapping[str, float], *, level: float | None = None) -> list[dict[str, Any]]:
        """One row per predicted point: the inputs, ``value``, ``lo``, ``hi``, the intermediate metric
        (``via``, ``via_lo``, ``via_hi``), step 1's extrapolation in decades and whether step 2 extrapolates."""
        prediction = self.predict(level=level, **point)
        rows = []
        for i in range(prediction.value.size):
            rows.append({
                **{k: float(np.broadcast_to(np.asarray(v, dtype=float), prediction.value.shape)[i]) for k, v in point.items()},
                "value": float(prediction.value[i]), "lo": float(prediction.lo[i]), "hi": float(prediction.hi[i]),
                "via": float(prediction.via[i]), "via_lo": float(prediction.via_lo[i]), "via_hi": float(prediction.via_hi[i]),
                "extrapolation_decades": float(prediction.extrapolation[i]),
                "step2_extrapolates": bool(prediction.beyond_seen[i]),
            })  # fmt: skip
        return rows

    def _step2_design(self, via: np.ndarray) -> Design:
        x = np.asarray(via, dtype=float).ravel()
        return Design(inputs={self.step2.law.inputs[0]: x}, loss=np.full(x.size, np.nan), run=np.array(["prediction"] * x.size))

    def _chain(self, via_draws: np.ndarray) -> np.ndarray:
        """Step-2 draws of the metric for step-1 draws (S, n): parameter sets paired in turn, plus residuals."""
        law = self.step2.law
        thetas = self.step2.bootstrap_params
        thetas = self.step2.theta[None, :] if thetas is None else thetas[np.all(np.isfinite(thetas), axis=1)]
        if thetas.shape[0] == 0:
            thetas = self.step2.theta[None, :]
        rng = np.random.default_rng(int(self.step2.options.get("seed", 0)))
        pick = rng.integers(0, thetas.shape[0], size=via_draws.shape[0])
        out = np.empty_like(via_draws, dtype=float)
        for j in np.unique(pick):
            rows = pick == j
            design = self._step2_design(via_draws[rows])
            out[rows] = law.predict(thetas[j][None, :], design)[0].reshape(int(rows.sum()), -1)
        noise = -np.asarray(self.step2.residuals, dtype=float)
        noise = noise[np.isfinite(noise)]
        if noise.size:
            with np.errstate(all="ignore"):
                out = law.from_residual_space(law.to_residual_space(out) + rng.choice(noise, size=out.shape))
        return out

    def _beyond_seen(self, via: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Which forecasts step 2 makes outside the values it was fitted on, and what to say."""
        low, high = self.via_range
        seen_low, seen_high = self.metric_range
        beyond = (via < low) | (via > high) | (value < seen_low) | (value > seen_high)
        messages = []
        if np.any(via < low) or np.any(via > high):
            worst = float(via[np.argmax(np.maximum(low - via, via - high))])
            messages.append(
                f"step 2 extrapolates: the predicted {self.via} {worst:.4g} is outside the range it was fitted on "
                f"[{low:.4g}, {high:.4g}]"
            )
        if np.any(value > seen_high) or np.any(value < seen_low):
            worst = float(value[np.argmax(np.maximum(seen_low - value, value - seen_high))])
            messages.append(
                f"the forecast {self.metric} {worst:.4g} is beyond the values seen in fitting "
                f"[{seen_low:.4g}, {seen_high:.4g}]: the second step's curve there is not checked by data"
            )
        return beyond, messages

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        from scalelaw import __version__

        return {
            "kind": KIND,
            "metric": self.metric,
            "via": self.via,
            "via_range": list(self.via_range),
            "metric_range": list(self.metric_range),
            "step1": self.step1.to_dict(),
            "step2": self.step2.to_dict(),
            "scalelaw_version": __version__,
        }

    def save(self, path: Any) -> None:
        """Write FIT.json (non-finite numbers become null), atomically."""
        from scalelaw.fit.serialize import write_json

        write_json(path, self.to_dict())


def two_step_from_dict(data: Mapping[str, Any], *, source: str) -> TwoStepFit:
    """Rebuild a two-step fit from FIT.json content; anything malformed is an InputError naming ``source``."""
    from scalelaw.fit.serialize import fit_from_dict

    for key in ("metric", "via"):
        if not isinstance(data.get(key), str) or not data.get(key):
            raise InputError(f"a two-step fit needs field {key!r} naming a column", file=source)
    steps = []
    for key in ("step1", "step2"):
        if not isinstance(data.get(key), Mapping):
            raise InputError(f"a two-step fit needs field {key!r} holding a fit", file=source)
        steps.append(fit_from_dict(data[key], source=f"{source} ({key})"))
    ranges = []
    for key in ("via_range", "metric_range"):
        pair = data.get(key)
        if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                                   and np.isfinite(v) for v in pair) or pair[0] > pair[1]):
            raise InputError(f"field {key!r} must be a [low, high] pair of numbers", file=source)
        ranges.append((float(pair[0]), float(pair[1])))
    if len(steps[1].law.inputs) != 1:
        raise InputError(f"step 2 must be a law of one metric, not {steps[1].law.name!r}", file=source)
    return TwoStepFit(str(data["metric"]), str(data["via"]), steps[0], steps[1], ranges[0], ranges[1])


def second_step_law(rises: bool, x: str, *, window: int = WINDOW, skip: float = SKIP) -> Law:
    """The step-2 law: a sigmoid for a metric that rises (accuracy), loss-to-loss for a loss."""
    if rises:
        return laws.get("sigmoid", x=x, window=window, skip=skip)
    return laws.get("loss-to-loss", x=x, window=window)


def fit_two_step(
    runs: RunSet,
    metric: str,
    via: str,
    *,
    law: str | Law = "chinchilla",
    step2: str | Law | None = None,
    rises: bool | None = None,
    window: int = WINDOW,
    bootstrap: int = 0,
    seed: int = 0,
    ci_level: float = 0.95,
    strict: bool = False,
    progress: bool | None = None,
    fix: Mapping[str, float] | None = None,
    step2_runs: RunSet | None = None,
) -> TwoStepFit:
    """Fit ``law`` to ``via`` (each run's final value, averaged over ``window`` checkpoints) and
    ``metric`` as a function of ``via`` (every checkpoint logging both, for a sigmoid).

    ``rises`` says whether ``metric`` rises with scale (default: read from the data); it
    picks the second step's law unless ``step2`` names one. ``step2_runs`` fits step 2 on
    other runs (e.g. the few runs logging a second dataset's loss).
    """
    from scalelaw.fit.metric_fit import metric_rises

    if metric == via:
        raise InputError(f"--via must name a metric other than {metric!r}")
    first = fit_law(runs.target(via, window=window), law, bootstrap=bootstrap, seed=seed, ci_level=ci_level,
                    strict=strict, progress=progress, fix=fix)
    first.options.update(metric=via, window=window)
    second_runs = (step2_runs or runs).target(metric)
    x = "orig_loss" if via == "loss" else via
    if step2 is None:
        rises = metric_rises(second_runs) if rises is None else rises
        step2 = second_step_law(bool(rises), x, window=window)
    elif isinstance(step2, str):
        step2 = laws.get(step2, x=x)
    # Loss-to-loss takes the input's irreducible loss from its own scaling law (Brandfonbrener et al.).
    floor = {"E_x": first.params["E"]} if "E_x" in step2.param_names and "E" in first.params else {}
    second = fit_law(second_runs, step2, bootstrap=bootstrap, seed=seed, ci_level=ci_level, strict=strict,
                     progress=progress, fix=floor)
    second.options.update(metric=metric, via=via)
    design = step2.design(second_runs)
    data = np.ones(design.n, dtype=bool) if design.anchor is None else ~design.anchor
    x_seen, y_seen = np.asarray(design.inputs[step2.inputs[0]])[data], design.loss[data]
    return TwoStepFit(
        metric, via, first, second,
        (float(np.min(x_seen)), float(np.max(x_seen))), (float(np.min(y_seen)), float(np.max(y_seen))),
    )  # fmt: skip
