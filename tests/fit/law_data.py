"""Small synthetic runs that any registered law can be fitted on, chosen by what the law reads.

The round-trip property test fits every law of the catalog; a law is matched to data by
its kind, its inputs and whether its metric rises with scale, so a new law with the
inputs of an existing one is covered without a change here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.laws import get
from scalelaw.laws.base import Law

SIZES = (2e7, 5e7, 1e8, 3e8)
#: chinchilla-curve's parameters used to draw curves across sizes (tests/laws/test_chinchilla_curve.py).
CURVE_TRUTH = np.array([[1.8, 40.0, 0.3, 30.0, 0.3, 0.2, 0.1, 3.0, 0.6, 0.4, 0.05]])
BATCH = {2e7: 4096.0, 5e7: 8192.0, 1e8: 8192.0, 3e8: 16384.0}
#: A loss column another law reads as its input (loss-to-loss, sigmoid).
X = "orig_loss"


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.exp(rng.normal(0.0, 0.005, n))


def final_runs(seed: int, rises: bool) -> RunSet:
    """Final losses (or accuracies, for a law that rises) of 4 sizes × 5 lengths, some repeating data."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in SIZES:
        for ratio in (5, 10, 20, 40, 80):
            tokens = n * ratio
            unique = min(tokens, 3e9)
            loss = 1.8 + 400.0 * n**-0.34 + 410.0 * (unique + 0.3 * (tokens - unique)) ** -0.28
            value = 0.25 + 0.6 / (1.0 + np.exp(4.0 * (loss - 3.2))) if rises else loss
            rows.append({"run": f"n{n:.0e}-r{ratio}", "params": n, "tokens": tokens, "unique_tokens": unique,
                         "loss": value * _noise(rng, 1)[0], "step": tokens / 4096.0})
    return RunSet(pd.DataFrame(rows))


def curve_runs(seed: int, rises: bool) -> RunSet:
    """Checkpoints of 3 sizes (two schedules), from chinchilla-curve's formula (lr as a schedule spec, batch size)."""
    rng = np.random.default_rng(seed)
    law = get("chinchilla-curve")
    parts = []
    for n, (total, kind) in zip(SIZES[:3], ((400, "cosine"), (600, "wsd"), (400, "cosine"))):
        batch = BATCH[n]
        warmup = round(n / batch / 200)
        spec = {"cosine": f"cosine:peak=1e-3,warmup={warmup},total={total},final=1e-4",
                "wsd": f"wsd:peak=1e-3,warmup={warmup},total={total},decay_start={int(0.8 * total)},final=1e-5"}[kind]
        steps = np.arange(25, total + 1, 25)
        loss = law.predict(CURVE_TRUTH, law.design_at(params=n, schedule=spec, steps=steps, batch_size=batch))[0]
        parts.append(pd.DataFrame({"run": f"{n:.0e}-{kind}", "step": steps.astype(float),
                                   "loss": loss * _noise(rng, steps.size), "params": n, "batch_size": batch,
                                   "tokens": steps * batch, "lr_schedule": spec}))
    return RunSet(pd.concat(parts, ignore_index=True))


def paired_runs(seed: int, rises: bool) -> RunSet:
    """Checkpoints logging the loss and another loss column (``orig_loss``); the loss is an accuracy if it rises."""
    rng = np.random.default_rng(seed)
    frames = []
    for n in SIZES[:3]:
        for ratio in (5, 20):
            tokens = 20 * n * ratio * np.arange(1, 21) / 20
            x = 0.3 + 300.0 / n**0.3 + 800.0 / tokens**0.3
            y = -0.7 / (1.0 + np.exp(-4.0 * (x - 1.0))) + 0.95 if rises else 0.8 * (x - 0.2) ** 1.1 + 1.5
            frames.append(pd.DataFrame({"run": f"{n:.0e}-{ratio}x", "step": np.arange(1, 21) * 100.0, "tokens": tokens,
                                        "params": n, "loss": y * _noise(rng, 20), X: x * _noise(rng, 20)}))
    return RunSet(pd.concat(frames, ignore_index=True))


def batch_runs(seed: int, rises: bool) -> RunSet:
    """Checkpoints of 3 sizes at 2 batch sizes, from Kaplan et al.'s steps law (kaplan-steps)."""
    from scalelaw.laws.kaplan_steps import KAPLAN_2020

    rng = np.random.default_rng(seed)
    law = get("kaplan-steps")
    theta = np.array([[KAPLAN_2020[name] for name in law.param_names]])
    frames = []
    for n in (1e7, 1e8, 1e9):
        for batch in (2.5e5, 1e6):
            steps = np.geomspace(100, 20000, 15)
            design = law.design_at(params=np.full(15, n), step=steps, batch_size=np.full(15, batch))
            loss = law.predict(theta, design)[0]
            frames.append(pd.DataFrame({"run": f"{n:.0e}-b{batch:.0e}", "step": steps, "params": n, "batch_size": batch,
                                        "tokens": steps * batch, "loss": loss * _noise(rng, 15)}))
    return RunSet(pd.concat(frames, ignore_index=True))


def data_for(law: Law) -> Callable[[int, bool], RunSet]:
    """The generator of runs ``law`` can be fitted on, by the inputs it reads."""
    inputs = set(law.inputs)
    if X in inputs:
        return paired_runs
    if "batch_size" in inputs:
        return batch_runs
    if "lr" in inputs or "step" in inputs:
        return curve_runs
    return final_runs


def runs_for(law: Law, seed: int = 0) -> RunSet:
    """Runs ``law`` applies to, with noise drawn from ``seed``."""
    return data_for(law)(seed, law.rises)
