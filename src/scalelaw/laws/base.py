"""What every law declares, so that one fitting engine can fit them all.

A law is a formula with named parameters. It turns a :class:`~scalelaw.data.RunSet`
into a *design* (the numeric inputs it needs, one entry per fitted point) and predicts
the loss for a whole batch of parameter vectors at once, which is what makes
multi-start and bootstrap cheap. A law knows nothing about optimizers.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:
    from scalelaw.data.runs import RunSet


@dataclass(frozen=True)
class Param:
    """One fitted parameter.

    ``grid`` holds starting values in natural units; ``log`` says the optimiser works
    in log space (the parameter is then strictly positive, e.g. ``A`` fitted as log A).
    """

    name: str
    meaning: str
    lower: float
    upper: float
    grid: tuple[float, ...]
    log: bool = False

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ValueError(f"parameter {self.name}: lower bound must be below upper bound")
        if self.log and self.lower <= 0:
            raise ValueError(f"parameter {self.name}: a log-space parameter needs lower > 0")


@dataclass(frozen=True)
class Design:
    """The numeric inputs of a law for a set of points, and the observed loss.

    ``inputs`` maps an input name (``params``, ``tokens``, ...) to an array of length
    n (or any structure the law needs, for curve laws). ``loss`` is the observed loss
    per point (NaN where only predicting), ``run`` the run id of each point (used for
    resampling runs in the bootstrap and per-run scores).
    """

    inputs: Mapping[str, Any]
    loss: np.ndarray
    run: np.ndarray
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Points that encode a constraint rather than data (e.g. the accuracy-1 anchor of a
    #: sigmoid): every bootstrap replicate keeps them once, and scores ignore them.
    anchor: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.loss.shape[0])


@dataclass(frozen=True)
class LinearPart:
    """What a law is linear in once its other parameters are fixed: loss^p = basis @ c, c ≥ 0.

    ``names`` are the parameters given by the k coefficients, ``basis`` is (B, n, k) for
    the B parameter rows it was built at, ``loss_power`` p (B,) maps the loss to the
    space where the law is linear (1 for a sum of terms), and the parameters are
    ``c ** coef_power`` (B, k), e.g. Kaplan's N_c enters as N_c^(α_N/α_D).
    """

    names: tuple[str, ...]
    basis: np.ndarray
    loss_power: np.ndarray
    coef_power: np.ndarray


class Law(ABC):
    """A scaling law or loss-curve law.

    Subclasses set the class attributes and implement :meth:`design` and
    :meth:`predict`; :meth:`jacobian` is optional (the engine falls back to finite
    differences when a law does not supply it). Options that change the formula
    (which variable a power law uses, a held-fixed constant) are constructor keywords.
    """

    name: ClassVar[str]
    formula: ClassVar[str]
    citation: ClassVar[str]
    kind: ClassVar[Literal["final", "curve"]]
    #: Columns of the run table this law needs.
    inputs: ClassVar[tuple[str, ...]]
    #: Residuals the engine fits: ``log`` (log L_pred − log L_obs, relative errors, for
    #: losses) or ``linear`` (L_pred − L_obs, for bounded metrics such as accuracy).
    residual: ClassVar[Literal["log", "linear"]] = "log"
    #: True for laws of metrics that rise with scale (accuracy); loss laws fall.
    rises: ClassVar[bool] = False
    #: The objective the law's authors fit with, used when the caller names none.
    objective: ClassVar[str] = "huber"

    @property
    @abstractmethod
    def params(self) -> tuple[Param, ...]:
        """The fitted parameters, in the order of the columns of ``theta``."""

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def options(self) -> dict[str, Any]:
        """Constructor keywords, so that a saved fit can rebuild the same law."""
        return {}

    def __repr__(self) -> str:
        """``chinchilla`` or ``power(variable='flops')``: the name and the options that rebuild the law."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        text = f"{self.name}({shown})" if shown else self.name
        return text if len(text) <= 200 else text[:197] + "..."

    @abstractmethod
    def design(self, runs: RunSet) -> Design:
        """Extract the inputs and observed losses this law is fitted to."""

    def design_at(self, **inputs: Any) -> Design:
        """A design for prediction at user-given inputs, e.g. ``params=7e9, tokens=1.4e11``."""
        arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in inputs.items()}
        missing = [name for name in self.inputs if name not in arrays]
        if missing:
            raise ValueError(f"law {self.name} needs {', '.join(missing)} to predict")
        n = max(a.shape[0] for a in arrays.values())
        arrays = {k: np.broadcast_to(a, (n,)).copy() for k, a in arrays.items()}
        return Design(inputs=arrays, loss=np.full(n, np.nan), run=np.array(["prediction"] * n))

    @abstractmethod
    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        """Loss for a batch of parameter vectors: ``theta`` (B, p) -> (B, n), positive."""

    def to_residual_space(self, values: np.ndarray) -> np.ndarray:
        """Values in the space residuals are taken in (log, or as they are); NaN where undefined."""
        values = np.asarray(values, dtype=float)
        if self.residual == "linear":
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(values > 0, values, np.nan))

    def from_residual_space(self, values: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_residual_space`."""
        return np.asarray(values, dtype=float) if self.residual == "linear" else np.exp(values)

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray] | None:
        """``(loss (B, n), d loss / d theta (B, n, p))`` in natural units, or None."""
        return None

    #: Whether :meth:`jacobian_where` skips the points not needed (then the fit asks only for those of weight > 0;
    #: for other laws it asks for all, which costs no masking).
    skips_points: bool = False

    def jacobian_where(self, theta: np.ndarray, design: Design,
                       needed: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`jacobian`, right at the points marked in ``needed`` (B, n) and anything at the others
        (a bootstrap replicate gives weight 0 to the runs it did not draw). A law whose points
        cost much, such as the loss-curve sums, skips them; by default all are computed."""
        return self.jacobian(theta, design)

    def linear_part(self, theta: np.ndarray, design: Design) -> LinearPart | None:
        """For the rows of ``theta`` (B, p), the basis of the parameters that enter linearly, or None.

        Only the other (nonlinear) entries of ``theta`` are read. The fitting engine uses
        it to solve those parameters exactly while it searches the others (variable
        projection); a law without one is searched over its whole starting grid.
        """
        return None

    def derived(self, values: Mapping[str, float]) -> dict[str, float]:
        """Quantities that follow from the parameters (e.g. compute-optimal exponents)."""
        return {}

    def starts(self) -> np.ndarray:
        """Starting points for the multi-start fit, (S, p) in natural units.

        The default is the Cartesian product of every parameter's ``grid``; a law with
        a better idea (e.g. a data-driven start) overrides this.
        """
        return np.array(list(itertools.product(*(p.grid for p in self.params))), dtype=float)

    def optimal_allocation(self, values: Mapping[str, float], flops: np.ndarray) -> dict[str, np.ndarray] | None:
        """Compute-optimal ``params``, ``tokens``, ``tokens_per_param`` and ``loss`` at ``flops``.

        None for laws that do not define a compute-optimal allocation.
        """
        return None

    def allocation_problem(self, values: Mapping[str, float]) -> str | None:
        """Why ``values`` give no compute-optimal allocation (e.g. a loss that does not fall with scale), or None.

        :meth:`optimal_allocation` then returns NaN (never raises), so that one bootstrap
        replicate cannot stop an interval; a caller answering for the fit itself refuses.
        """
        return None

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        """The positive inputs that measure scale (N, D, C, steps), for extrapolation checks."""
        return {}

    def recorded_ranges(self, design: Design) -> dict[str, tuple[float, float]]:
        """Ranges a fit records beside those of :meth:`reach` that do not enter the distance beyond the data,
        only :meth:`beyond_recorded`'s warnings (none by default)."""
        return {}

    def beyond_recorded(self, design: Design, fitted_range: Mapping[str, tuple[float, float]]) -> list[str]:
        """Warnings for a prediction beyond a range of :meth:`recorded_ranges` (none by default)."""
        return []

    def reach(self, design: Design) -> dict[str, np.ndarray]:
        """The inputs a prediction can reach beyond the fitted data in (the scale, by default).

        Distances beyond the fitted range of these, in decades either way, size the
        extrapolation warning and the backtested extrapolation error of an interval.
        """
        return self.scale(design)
