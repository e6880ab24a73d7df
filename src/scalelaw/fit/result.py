"""The outcome of a fit: parameters, intervals, diagnostics, and predictions from them.

A :class:`FitResult` is immutable and holds everything needed to predict with honest
intervals (bootstrap parameter sets, the fit's log residuals and, when backtests were
run, the law's extrapolation error) and to audit the fit (options, data hash, fitted
range, how the law was chosen). It round-trips through FIT.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scalelaw._lazy import lazy
from scalelaw.data.atomic import write_json
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, UntrustedFitError, warn
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit import tables
from scalelaw.fit.diagnostics import Diagnostics
from scalelaw.fit.metrics import evaluation
from scalelaw.fit.optimize import batch_rows
from scalelaw.laws.base import Design, Law

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

#: Log-residual noise samples drawn per bootstrap replicate for prediction intervals.
NOISE_SAMPLES = 4000


@dataclass(frozen=True, repr=False)
class Prediction:
    """Predicted loss with a prediction interval, and how far each point extrapolates.

    ``extrapolation`` is, per point, the largest distance in decades beyond the fitted
    range over the law's scale variables (``extrapolation_by`` has each variable).
    ``inputs`` holds the per-point inputs predicted at and ``run`` the runs' names (when
    predicting runs), so that :meth:`to_dataframe` can show them beside the numbers.
    """

    loss: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    extrapolation: np.ndarray
    extrapolation_by: dict[str, np.ndarray]
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    run: np.ndarray | None = None

    def to_dataframe(self) -> pd.DataFrame:
        """One row per point: run (if any), the inputs, loss, lo, hi and the decades beyond the fitted range."""
        return tables.prediction_frame(self)

    def __repr__(self) -> str:
        return tables.prediction_repr(self)


@dataclass(frozen=True, eq=False, repr=False)
class FitResult:
    """A fitted law: ``params`` by name, ``ci`` (name → (lo, hi)), derived quantities, diagnostics."""

    law: Law
    params: dict[str, float]
    ci: dict[str, tuple[float, float]]
    derived: dict[str, float]
    derived_ci: dict[str, tuple[float, float]]
    diagnostics: Diagnostics
    options: dict[str, Any]
    data_hash: str
    bootstrap_params: np.ndarray | None
    fitted_range: dict[str, tuple[float, float]]
    residuals: np.ndarray
    #: Extrapolation-error model from rolling-origin backtests (None: not measured).
    calibration: ExtrapolationError | None = None
    #: How ``--law auto`` chose the law: candidates, backtest errors, the reason (None: chosen by hand).
    selection: dict[str, Any] | None = None
    #: Where the fitted runs were read from, as ``scalelaw fit`` recorded it (None: not recorded, e.g. the Python API).
    source: dict[str, Any] | None = None

    @property
    def theta(self) -> np.ndarray:
        """The parameters as a (p,) vector in the law's order."""
        return np.array([self.params[name] for name in self.law.param_names])

    # -- prediction ---------------------------------------------------------------------
    def predict(self, data: pd.DataFrame | RunSet | None = None, /, *, level: float | None = None,
                **inputs: Any) -> Prediction:
        """Predict at user-given inputs: ``fit.predict(params=7e9, tokens=1.4e11)``, ``fit.predict(df)``
        (one point per row, the law's inputs as columns) or ``fit.predict(runs)`` (the runs' points).

        ``level`` is the coverage of the prediction interval (the fit's ``ci_level`` by default).
        """
        if data is not None:
            if inputs:
                raise InputError("give the points to predict at either as a table or as keywords, not both")
            if isinstance(data, RunSet):
                design = _without_anchors(self.law.design(data))
                return self.predict_design(design, level=level)
            inputs = _table_inputs(self.law, data)
        check_prediction_inputs(inputs)
        try:
            design = self.law.design_at(**inputs)
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot predict with law {self.law.name} at {sorted(inputs)}: {exc}") from None
        return self.predict_design(design, level=level)

    def predict_design(self, design: Design, *, level: float | None = None) -> Prediction:
        """Predict the loss for a design, with intervals and extrapolation checks."""
        point = self.law.predict(self.theta[None, :], design)[0]
        by = self._extrapolation(design)
        decades = self.decades_beyond(design, by)
        lo, hi = self._interval(design, point, decades, self._level(level))  # the samples carry the correction
        if self.calibration is not None and self.calibration.correction:
            point = self.law.from_residual_space(self.law.to_residual_space(point) + self.calibration.shift(decades))
        lo, hi = self._with_held_spread(design, point, lo, hi, self._level(level))
        limit = float(self.options.get("extrapolation_warning_decades", 2.0))
        untrusted = []
        for name, values in by.items():
            if name not in self.fitted_range:
                untrusted.append(f"prediction extrapolates an unknown distance in {name}: the fit records no "
                                 f"fitted range of {name}")
            elif np.any(values > limit):
                untrusted.append(
                    f"prediction extrapolates {float(np.max(values)):.2f} decades beyond the fitted "
                    f"range of {name} (warning threshold {limit:g})"
                )
        untrusted += self.law.beyond_recorded(design, self.fitted_range)
        farthest = float(np.max(decades)) if decades.size else 0.0
        if self.calibration is not None and self.calibration.untested(farthest):
            untrusted.append(
                f"prediction lies {farthest:.2f} decades beyond the fitted data, but the backtests tested the law "
                f"only up to {self.calibration.tested_decades:.2f} decades: its interval is a guess, not a measurement"
            )
        messages = list(untrusted)
        if self.bootstrap_params is None:
            messages.append("no bootstrap: parameter uncertainty enters the interval only through the backtested error"
                            if self.calibration is not None else
                            "no bootstrap: intervals show residual noise only, not parameter uncertainty")
        if self.calibration is None and farthest > 0:
            messages.append(
                "no backtest calibration: the interval leaves out the law's own error beyond the fitted data "
                "(fit with --law auto or --calibrate)"
            )
        self._raise_or_warn(untrusted)
        named = design.run if not np.all(design.run == "prediction") else None
        return Prediction(point, lo, hi, decades, by, messages, _point_inputs(self.law, design), named)

    def decades_beyond(self, design: Design, by: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Per point, the largest distance in decades beyond the fitted range over the scale variables."""
        by = self._extrapolation(design) if by is None else by
        if not by:
            return np.zeros(design.n)
        return np.nan_to_num(np.max(np.stack(list(by.values())), axis=0), nan=0.0)

    def _level(self, level: float | None) -> float:
        """The interval level asked for, or the fit's ``ci_level``; checked to lie in (0, 1)."""
        value = float(self.options.get("ci_level", 0.95)) if level is None else float(level)
        if not 0 < value < 1:
            raise InputError(f"the interval level must be between 0 and 1, got {level!r}")
        return value

    def predict_runs(self, runs: RunSet) -> pd.DataFrame:
        """Predict every fitted point of ``runs``: columns run, step, observed, loss, lo, hi."""
        design = _without_anchors(self.law.design(runs))
        prediction = self.predict_design(design)
        step = design.inputs.get("step", design.extra.get("step", np.full(design.n, np.nan)))
        return pd.DataFrame(
            {
                "run": design.run,
                "step": np.asarray(step, dtype=float),
                "observed": design.loss,
                "loss": prediction.loss,
                "lo": prediction.lo,
                "hi": prediction.hi,
            }
        )

    def evaluate(self, runs: RunSet) -> dict[str, object]:
        """Scores on ``runs`` (normally runs the fit did not see): per run and overall."""
        design = _without_anchors(self.law.design(runs))
        predicted = self.law.predict(self.theta[None, :], design)[0]
        return evaluation(np.asarray(design.run), design.loss, predicted)

    def optimal_allocation(self, flops: Any) -> dict[str, np.ndarray]:
        """Compute-optimal params, tokens, tokens per parameter and loss at ``flops``.

        With a bootstrap, ``<name>_lo`` and ``<name>_hi`` give the interval of each.
        """
        flops = np.atleast_1d(np.asarray(flops, dtype=float))
        best = self.law.optimal_allocation(self.params, flops)
        if best is None:
            raise NotImplementedError(f"law {self.law.name} defines no compute-optimal allocation")
        problem = self.law.allocation_problem(self.params)
        if problem:
            raise InputError(f"no compute-optimal allocation from this {self.law.name} fit: {problem}")
        out = {k: np.asarray(v, dtype=float) for k, v in best.items()}
        if self.bootstrap_params is not None:
            names = self.law.param_names
            samples = [self.law.optimal_allocation(dict(zip(names, row)), flops) for row in self.bootstrap_params]
            level = float(self.options.get("ci_level", 0.95))
            for key in best:
                stack = np.stack([s[key] for s in samples])
                out[f"{key}_lo"] = np.nanquantile(stack, (1 - level) / 2, axis=0)
                out[f"{key}_hi"] = np.nanquantile(stack, (1 + level) / 2, axis=0)
        return out

    def _interval(
        self, design: Design, point: np.ndarray, decades: np.ndarray, level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Prediction interval: quantiles of :meth:`prediction_samples` in the law's residual space."""
        quantiles = ((1 - level) / 2, (1 + level) / 2)
        draws = max(NOISE_SAMPLES, int(np.size(self.residuals)))
        width = batch_rows(draws)  # a large grid is taken in column chunks, so samples stay bounded
        if design.n > width and _point_arrays(design):
            parts = [self._interval(_points(design, slice(i, i + width)), point[i : i + width], decades[i : i + width],
                                    level) for i in range(0, design.n, width)]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        samples = self._residual_samples(design, point, decades)  # not via prediction_samples: exp would underflow
        with np.errstate(all="ignore"):
            lo, hi = np.quantile(samples, quantiles, axis=0)
        return self.law.from_residual_space(lo), self.law.from_residual_space(hi)

    def prediction_samples(
        self, design: Design, point: np.ndarray | None = None, decades: np.ndarray | None = None
    ) -> np.ndarray:
        """Draws (S, n) of the observed value at each point of ``design``.

        Each bootstrap parameter set's prediction plus residuals resampled from the fit (in
        the law's residual space; without a bootstrap, the point fit plus residuals), plus
        the backtested extrapolation error at each point's distance beyond the fitted data.
        Seeded by the fit's seed, so the same fit gives the same draws.
        """
        return self.law.from_residual_space(self._residual_samples(design, point, decades))

    def _residual_samples(
        self, design: Design, point: np.ndarray | None = None, decades: np.ndarray | None = None
    ) -> np.ndarray:
        """The draws of :meth:`prediction_samples` in the law's residual space (a heavy t tail stays finite there)."""
        if point is None:
            point = self.law.predict(self.theta[None, :], design)[0]
        if decades is None:
            decades = self.decades_beyond(design)
        noise = -np.asarray(self.residuals, dtype=float)
        noise = noise[np.isfinite(noise)] if noise.size else noise
        noise = noise if noise.size else np.zeros(1)
        with np.errstate(all="ignore"):
            preds = self.law.to_residual_space(point)[None, :]
            if self.bootstrap_params is not None:
                boot = self.law.to_residual_space(self.law.predict(self.bootstrap_params, design))
                boot = boot[np.all(np.isfinite(boot), axis=1)]
                preds = boot if boot.shape[0] > 1 else preds
            rng = np.random.default_rng(int(self.options.get("seed", 0)))
            if preds.shape[0] <= 1:
                samples = preds + noise[:, None]
            else:
                draws = max(1, NOISE_SAMPLES // preds.shape[0])
                picked = rng.choice(noise, size=(preds.shape[0], draws, design.n))
                samples = (preds[:, None, :] + picked).reshape(-1, design.n)
            if self.calibration is not None and (self.calibration.slope > 0 or self.calibration.floor > 0
                                                 or self.calibration.correction_sd > 0):
                spread = self.calibration.sd(decades)[None, :]
                samples = samples + spread * rng.standard_t(self.calibration.dof, size=samples.shape)
            if self.calibration is not None and self.calibration.correction:
                samples = samples + self.calibration.shift(decades)[None, :]
            return samples

    def _with_held_spread(
        self, design: Design, point: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The interval widened by the uncertainty of a held lr-decay prior (unchanged when nothing is held).

        The backtests of a run whose lr has not decayed cannot measure the prior
        (:mod:`scalelaw.laws._held`): one standard deviation is the change of the forecast
        when the full-decay drop is e^DECAY_DROP_LOG_SD times larger, taken relative to each
        run's last point within the fitted steps (the data pin the curve there; a new
        schedule predicted from step 1 keeps it relative to its own point at that step), and
        added to both sides in quadrature, in log space.
        """
        from statistics import NormalDist

        from scalelaw.laws._held import DECAY_DROP_LOG_SD, HeldPrior

        law = self.law
        if not isinstance(law, HeldPrior) or law.with_drop_scaled(2.0) is law or "step" not in design.inputs:
            return lo, hi
        scaled = law.with_drop_scaled(float(np.exp(DECAY_DROP_LOG_SD)))
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.log(scaled.predict(self.theta[None, :], design)[0] / point)
        run = np.asarray(design.run).astype(str)
        step = np.asarray(design.inputs["step"], dtype=float)
        last_fitted = self.fitted_range.get("steps", (np.nan, np.inf))[1]
        for name in np.unique(run):
            mine = (run == name) & (step <= last_fitted)
            if mine.any():
                shift[run == name] -= shift[np.flatnonzero(mine)[np.argmax(step[mine])]]
        z = NormalDist().inv_cdf(0.5 + 0.5 * level)
        with np.errstate(divide="ignore", invalid="ignore"):
            below = np.sqrt(np.log(point / lo) ** 2 + (z * shift) ** 2)
            above = np.sqrt(np.log(hi / point) ** 2 + (z * shift) ** 2)
        return point * np.exp(-below), point * np.exp(above)

    def _extrapolation(self, design: Design) -> dict[str, np.ndarray]:
        """Decades beyond the fitted range, per scale variable and point (0 inside, inf if unrecorded)."""
        out = {}
        for name, values in self.law.reach(design).items():
            if name not in self.fitted_range:  # a hand-edited file: the distance is unknown
                out[name] = np.full(design.n, np.inf)
                continue
            low, high = self.fitted_range[name]
            with np.errstate(all="ignore"):
                logs = np.log10(np.asarray(values, dtype=float))
                out[name] = np.maximum(0.0, np.maximum(logs - np.log10(high), np.log10(low) - logs))
        return out

    def _raise_or_warn(self, messages: list[str]) -> None:
        if messages and self.options.get("strict", False):
            raise UntrustedFitError("; ".join(messages))
        for message in messages:
            warn(message, FitWarning)

    # -- reading it -------------------------------------------------------------------------
    def summary(self) -> str:
        """A statsmodels-like text table: law, formula, data, parameters with intervals, diagnostics, calibration."""
        return tables.summary_text(self)

    def to_dataframe(self) -> pd.DataFrame:
        """The parameters and derived quantities, indexed by name: value, lo, hi, kind, meaning."""
        return tables.parameter_frame(self)

    def _repr_html_(self) -> str:
        return tables.summary_html(self)

    def __repr__(self) -> str:
        return tables.short_repr(self)

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The FIT.json content (plain JSON types)."""
        from scalelaw import __version__

        return {
            "law": self.law.name,
            "law_options": self.law.options(),
            "params": dict(self.params),
            "ci": {k: list(v) for k, v in self.ci.items()},
            "derived": dict(self.derived),
            "derived_ci": {k: list(v) for k, v in self.derived_ci.items()},
            "diagnostics": self.diagnostics.to_dict(),
            "options": dict(self.options),
            "data_hash": self.data_hash,
            "fitted_range": {k: list(v) for k, v in self.fitted_range.items()},
            "residuals": np.asarray(self.residuals).tolist(),
            "bootstrap": None if self.bootstrap_params is None else self.bootstrap_params.tolist(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "selection": self.selection,
            **({"source": self.source} if self.source is not None else {}),
            "scalelaw_version": __version__,
        }

    def save(self, path: str | Path) -> None:
        """Write FIT.json atomically (non-finite numbers become null); read it with ``load_fit``.

        The content is first read back with the loader's own checks, so a saved fit always loads.
        """
        from scalelaw.fit.serialize import checked_fit_data

        write_json(path, checked_fit_data(self.to_dict(), target=str(path)))


#: Inputs that measure scale: a prediction there must be at a finite positive value.
POSITIVE_INPUTS = frozenset({"params", "non_embedding_params", "tokens", "unique_tokens", "flops", "step", "batch_size"})


def check_prediction_inputs(inputs: Mapping[str, Any]) -> None:
    """Numeric inputs must be finite (NaN would predict null), scale inputs also positive."""
    for name, value in inputs.items():
        if isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.ndarray, list, tuple, np.generic)):
            continue  # a schedule or other object: checked by the law
        try:
            values = np.atleast_1d(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            continue
        bad = ~np.isfinite(values) | ((values <= 0) if name in POSITIVE_INPUTS else False)
        if np.any(bad):
            need = "a finite positive number" if name in POSITIVE_INPUTS else "a finite number"
            raise InputError(f"cannot predict at {name}={values[bad][0]:g}: {name} must be {need}")


def _table_inputs(law: Law, table: Any) -> dict[str, np.ndarray]:
    """The law's inputs from the columns of a table of points (a DataFrame or a mapping of columns)."""
    if not isinstance(table, (pd.DataFrame, Mapping)):
        raise InputError(f"predict takes a DataFrame of points or a RunSet, got {type(table).__name__}")
    missing = [name for name in law.inputs if name not in table]
    if missing:
        raise InputError(f"cannot predict with law {law.name}: the table lacks the column(s) {', '.join(missing)} "
                         f"(it has {', '.join(map(str, table.keys()))})")
    return {name: np.asarray(table[name], dtype=float) for name in law.inputs}


def _point_inputs(law: Law, design: Design) -> dict[str, np.ndarray]:
    """The user-facing inputs of a design given per point (the law's inputs and scale variables; not the
    schedules, curves or intermediate arrays a law keeps in its design)."""
    shown = set(law.inputs) | POSITIVE_INPUTS
    return {name: value for name, value in design.inputs.items() if name in shown
            and isinstance(value, np.ndarray) and value.shape == (design.n,) and value.dtype.kind in "fiu"}


def _point_arrays(design: Design) -> bool:
    """True when every input is a per-point array (a design that can be cut into column chunks)."""
    return not design.extra and all(isinstance(v, np.ndarray) and v.shape == (design.n,) for v in design.inputs.values())


def _points(design: Design, part: slice) -> Design:
    """The points ``part`` of a design whose inputs are per-point arrays."""
    return Design(inputs={k: v[part] for k, v in design.inputs.items()}, loss=design.loss[part], run=design.run[part],
                  anchor=None if design.anchor is None else design.anchor[part])


def _without_anchors(design: Design) -> Design:
    """The design's data points only (anchor points are constraints, not observations)."""
    if design.anchor is None or not design.anchor.any():
        return design
    keep = ~design.anchor
    inputs = {k: (v[keep] if isinstance(v, np.ndarray) and v.shape == (design.n,) else v) for k, v in design.inputs.items()}
    return Design(inputs=inputs, loss=design.loss[keep], run=design.run[keep], extra=design.extra)
