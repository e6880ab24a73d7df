"""What the accuracy laws share: which scale they read, and one checked point per run.

An accuracy law sees each run's final value (smoothed by the caller) against its model
size N (``params``), its compute C = 6·N·D (``flops``) or both N and the tokens per
parameter D/N (``params+tokens``). Values must be fractions in [0, 1]: a percentage
(45.2) is refused with a message saying so, never fitted as an accuracy of 45.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws._final import final_design
from scalelaw.laws.base import Design, Law

#: The scale an accuracy law reads -> the columns it needs.
VARIABLES: dict[str, tuple[str, ...]] = {
    "params": ("params",),
    "flops": ("flops",),
    "params+tokens": ("params", "tokens"),
}
#: Tokens per parameter of a Chinchilla-optimal run, the reference of the tokens term.
OPTIMAL_TOKENS_PER_PARAM = 20.0


def check_variable(law: str, variable: str) -> str:
    if variable not in VARIABLES:
        raise InputError(f"{law} law: variable must be one of {', '.join(VARIABLES)}, got {variable!r}")
    return variable


def accuracy_design(runs: RunSet, variable: str, *, purpose: str) -> Design:
    """Each run's final value against its scale; a value outside [0, 1] is an InputError naming the run."""
    rows = runs.final()
    values = rows["loss"].to_numpy(dtype=float) if not rows.empty else np.empty(0)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        run, value = str(rows["run"].iloc[i]), values[i]
        hint = f" (a percentage? {value:g}% is {value / 100:g})" if 1 < value <= 100 else ""
        raise InputError(f"{purpose} needs an accuracy between 0 and 1, got {value:g}{hint}",
                         file=runs.source(run), run=run, column="loss")
    design = final_design(runs, VARIABLES[variable], purpose=purpose, derive_flops=True)
    return Design(inputs=design.inputs, loss=values, run=design.run)


def design_at(variable: str, law: str, inputs: dict[str, Any]) -> Design:
    """A prediction design; compute is taken as 6·N·D when a ``flops`` law is given params and tokens."""
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in inputs.items()}
    if variable == "flops" and "flops" not in arrays and {"params", "tokens"} <= set(arrays):
        arrays["flops"] = 6.0 * arrays["params"] * arrays["tokens"]
    missing = [name for name in VARIABLES[variable] if name not in arrays]
    if missing:
        raise ValueError(f"law {law} needs {', '.join(missing)} to predict"
                         + (" (or params and tokens)" if variable == "flops" else ""))
    n = max(a.shape[0] for a in arrays.values())
    arrays = {k: np.broadcast_to(a, (n,)).copy() for k, a in arrays.items()}
    return Design(inputs=arrays, loss=np.full(n, np.nan), run=np.array(["prediction"] * n))


def scale_terms(variable: str, design: Design) -> tuple[np.ndarray, np.ndarray | None]:
    """(log10 of the main scale, log10 of tokens per parameter over 20, or None), each (1, n)."""
    if variable == "params+tokens":
        n, d = np.asarray(design.inputs["params"], float), np.asarray(design.inputs["tokens"], float)
        return np.log10(n)[None, :], np.log10(d / (OPTIMAL_TOKENS_PER_PARAM * n))[None, :]
    return np.log10(np.asarray(design.inputs[VARIABLES[variable][0]], float))[None, :], None


def scale_of(variable: str, design: Design) -> dict[str, np.ndarray]:
    """The scale variables a forecast extrapolates in."""
    if variable == "params+tokens":
        n, d = design.inputs["params"], design.inputs["tokens"]
        return {"params": n, "tokens": d, "flops": 6.0 * np.asarray(n) * np.asarray(d)}
    name = VARIABLES[variable][0]
    return {name: design.inputs[name]}


class AccuracyLaw(Law):
    """What the accuracy laws share: one final point per run in [0, 1], against the scale ``variable``."""

    kind = "final"
    residual = "linear"
    rises = True
    objective = "squares"
    variable: str

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return VARIABLES[self.variable]

    def design(self, runs: RunSet) -> Design:
        return accuracy_design(runs, self.variable, purpose=f"the {self.name} law")

    def design_at(self, **inputs: Any) -> Design:
        return design_at(self.variable, self.name, inputs)

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design)[0]

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return scale_of(self.variable, design)
