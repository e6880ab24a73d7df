"""A law bound to a design: free parameters in optimiser space, residuals and their Jacobian.

The optimiser works on ``u``, the free parameters transformed (log for ``Param.log``),
in batches (B, q). Held-fixed parameters are filled in from ``fixed``. Laws without an
analytic Jacobian get vectorised central finite differences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from scalelaw.errors import InputError
from scalelaw.fit.objective import Objective
from scalelaw.laws.base import Design, Law


@dataclass(frozen=True)
class Problem:
    """Everything the optimiser needs: law, design, which parameters are free, objective."""

    law: Law
    design: Design
    objective: Objective
    fixed: Mapping[str, float]

    @cached_property
    def names(self) -> tuple[str, ...]:
        return self.law.param_names

    @cached_property
    def free(self) -> np.ndarray:
        """Indices of the free parameters in the law's parameter order."""
        return np.array([i for i, n in enumerate(self.names) if n not in self.fixed], dtype=int)

    @cached_property
    def is_log(self) -> np.ndarray:
        return np.array([p.log for p in self.law.params])[self.free]

    @cached_property
    def start_grid(self) -> np.ndarray:
        """The law's starting grid on the free parameters, in optimiser space and inside the bounds
        (built once per problem: a product grid of thousands of rows)."""
        lower, upper = self.bounds
        return np.clip(self.to_u(self.law.starts()[:, self.free]), lower, upper)

    @cached_property
    def start_axes(self) -> list[np.ndarray]:
        """The distinct start values of each free parameter, in optimiser space and inside the bounds.

        When the law's starts are the product of its parameters' grids (the default), they come
        from the grids directly, without building the product (4,500 rows for Chinchilla).
        """
        if type(self.law).starts is not Law.starts:
            return [np.unique(self.start_grid[:, j]) for j in range(self.free.size)]
        lower, upper = self.bounds
        params = [self.law.params[i] for i in self.free]
        grids = [np.asarray(p.grid, dtype=float) for p in params]
        return [np.unique(np.clip(np.log(np.maximum(g, 1e-300)) if p.log else g, lower[k], upper[k]))
                for k, (p, g) in enumerate(zip(params, grids))]

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of ``u``."""
        params = [self.law.params[i] for i in self.free]
        lower = np.array([np.log(p.lower) if p.log else p.lower for p in params], dtype=float)
        upper = np.array([np.log(p.upper) if p.log else p.upper for p in params], dtype=float)
        return lower, upper

    def with_design(self, design: Design) -> Problem:
        """The same law, objective and fixed parameters on another design (a subset of the points),
        keeping what depends on the parameters only (bounds, starting grid)."""
        other = replace(self, design=design)
        for name in ("names", "free", "is_log", "bounds", "start_grid", "start_axes"):
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    def to_u(self, theta: np.ndarray) -> np.ndarray:
        """Natural free parameters (B, q) to optimiser space."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.is_log, np.log(np.maximum(theta, 1e-300)), theta)

    def theta(self, u: np.ndarray) -> np.ndarray:
        """Full natural parameter vectors (B, p) from optimiser-space free parameters (B, q)."""
        u = np.atleast_2d(u)
        full = np.empty((u.shape[0], len(self.names)))
        for i, name in enumerate(self.names):
            if name in self.fixed:
                full[:, i] = self.fixed[name]
        full[:, self.free] = np.where(self.is_log, np.exp(np.minimum(u, 700.0)), u)
        return full

    @cached_property
    def observed(self) -> np.ndarray:
        """The observed values in residual space (log for most laws, see ``Law.residual``)."""
        return self.law.to_residual_space(self.design.loss)

    @cached_property
    def log_obs(self) -> np.ndarray:
        """log of the observed values (what log-residual laws compare with)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(self.design.loss)

    @property
    def linear(self) -> bool:
        return self.law.residual == "linear"

    def residuals(self, u: np.ndarray) -> np.ndarray:
        """r = log L_pred − log L_obs (or L_pred − L_obs for linear laws), (B, n); NaN where undefined."""
        with np.errstate(all="ignore"):
            pred = self.law.predict(self.theta(u), self.design)
            return self.law.to_residual_space(pred) - self.observed

    def residuals_jacobian(self, u: np.ndarray, needed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (B, n) and d r / d u (B, n, q); non-finite where the prediction is not positive.

        With ``needed`` (B, n), the law may skip the other points (:meth:`~scalelaw.laws.base.Law.jacobian_where`):
        both are 0 there, so a point of weight 0 adds exact zeros to the sums it enters.
        """
        u = np.atleast_2d(u)
        with np.errstate(all="ignore"):
            theta = self.theta(u)
            if needed is None:
                analytic = self.law.jacobian(theta, self.design)
            else:
                analytic = self.law.jacobian_where(theta, self.design, needed)
            if analytic is None:
                r, jac = self.residuals(u), self._finite_difference(u)
                return (r, jac) if needed is None else (np.where(needed, r, 0.0), np.where(needed[:, :, None], jac, 0.0))
            pred, grad = analytic
            if not self.linear:
                pred = np.where(pred > 0, pred, np.nan)
            column_scale = np.where(self.is_log, theta[:, self.free], 1.0)
            grad_t = np.transpose(grad, (0, 2, 1))
            if self.free.size != grad_t.shape[1]:
                grad_t = grad_t[:, self.free, :]
            if self.linear:
                jac_t = grad_t * column_scale[:, :, None]
            else:
                jac_t = grad_t * (1.0 / pred)[:, None, :]
                jac_t *= column_scale[:, :, None]
            r = self.law.to_residual_space(pred) - self.observed
            if needed is not None:
                r, jac_t = np.where(needed, r, 0.0), np.where(needed[:, None, :], jac_t, 0.0)
            return r, np.transpose(jac_t, (0, 2, 1))

    def _finite_difference(self, u: np.ndarray) -> np.ndarray:
        """Central differences of the residuals, all parameters and starts in one batch."""
        b, q = u.shape
        step = 1e-6 * np.maximum(1.0, np.abs(u))
        shifted = np.repeat(u[None, :, :], 2 * q, axis=0)
        for j in range(q):
            shifted[2 * j, :, j] += step[:, j]
            shifted[2 * j + 1, :, j] -= step[:, j]
        r = self.residuals(shifted.reshape(2 * q * b, q)).reshape(2 * q, b, -1)
        return np.stack([(r[2 * j] - r[2 * j + 1]) / (2 * step[:, j : j + 1]) for j in range(q)], axis=-1)


def check_fixed(law: Law, fix: Mapping[str, float] | None) -> dict[str, float]:
    """Validate held-fixed parameters: known names, finite values inside the bounds.

    Fixing every parameter is allowed: the engine then scores the given parameter set.
    """
    fixed: dict[str, float] = {}
    for name, value in (fix or {}).items():
        param = next((p for p in law.params if p.name == name), None)
        if param is None:
            raise InputError(f"cannot fix {name!r}: law {law.name} has parameters {', '.join(law.param_names)}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"cannot fix {name!r}: {value!r} is not a number") from None
        if not (np.isfinite(number) and param.lower <= number <= param.upper):
            raise InputError(f"cannot fix {name!r} at {value!r}: outside its bounds [{param.lower}, {param.upper}]")
        fixed[name] = number
    return fixed
