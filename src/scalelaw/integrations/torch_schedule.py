"""The planned lr schedule of a torch training run, read from its optimizer and lr scheduler.

The live forecast needs the lr of every update to the end of the run. A callback sees the
optimizer and the scheduler: a ``LambdaLR`` (every Hugging Face schedule, and the usual way
to write a custom one) is a pure function of the step, so the plan is read exactly without
stepping anything; with no scheduler the lr is constant. Any other scheduler keeps its plan
in mutable state: the caller is then told to pass ``schedule=`` (a spec).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.data.schedules import Constant, Custom, Schedule

#: Steps at which a LambdaLR is evaluated at most (every step of shorter runs; linear in between beyond).
LAMBDA_POINTS = 20_000


def planned_schedule(optimizer: Any, scheduler: Any, total: int) -> Schedule | str:
    """The schedule of ``total`` updates, or a sentence saying why it cannot be read.

    Scalelaw's convention: ``lr(s)`` is the rate of update ``s``; torch's scheduler gives update ``s``
    the rate of its step ``s - 1`` (it steps after each update).
    """
    if not isinstance(total, (int, np.integer)) or not 1 <= total <= 10_000_000:
        return f"the run's total number of updates is not known (got {total!r}): set max_steps"
    groups = getattr(optimizer, "param_groups", None)
    if not groups:
        return "the optimizer has no parameter groups"
    if scheduler is None:
        peak = float(groups[0]["lr"])
        return Constant(peak=peak, total=int(total)) if peak > 0 else "the optimizer's lr is not positive"
    lambdas, bases = getattr(scheduler, "lr_lambdas", None), getattr(scheduler, "base_lrs", None)
    if not lambdas or not bases:
        return (f"the lr scheduler {type(scheduler).__name__} is not a LambdaLR, so its plan cannot be read "
                "without stepping it: pass schedule='cosine:peak=...,warmup=...,total=...'")
    steps = (np.arange(0, total + 1) if total <= LAMBDA_POINTS
             else np.unique(np.round(np.linspace(0, total, LAMBDA_POINTS + 1)).astype(np.int64)))
    values = np.array([float(bases[0]) * float(lambdas[0](int(max(s - 1, 0)))) for s in steps])
    if not np.all(np.isfinite(values)) or np.any(values < 0) or not values.max() > 0:
        return "the lr scheduler gives a non-finite, negative or all-zero learning rate"
    return Custom(steps=tuple(int(s) for s in steps), values=tuple(float(v) for v in values))
