"""The end-to-end example: train a small ladder, fit laws, predict a larger model before
training it, then train it and compare; and compare the fitted irreducible loss with
the corpus's exact entropy rate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import scalelaw.fit as fitting
from scalelaw.data.store import RunStore
from scalelaw.errors import InputError
from scalelaw.ladder.executors import run_sweep
from scalelaw.ladder.spec import SweepSpec, load_spec
from scalelaw.ladder.trainer import ProgressCallback, RunConfig, oracle_eval_loss

#: The laws the demo fits: chinchilla on final eval losses, kaplan-steps on eval curves.
DEMO_LAWS: tuple[str, ...] = ("chinchilla", "kaplan-steps")


@dataclass(frozen=True)
class LawCheck:
    """One law's prediction of the target run's final eval loss against what training gave."""

    law: str
    predicted: float
    lo: float
    hi: float
    actual: float

    @property
    def relative_error(self) -> float:
        return (self.predicted - self.actual) / self.actual


@dataclass(frozen=True)
class DemoResult:
    """What the demo measured: the predictions, and the fitted E against the true entropy rate."""

    ladder_runs: int
    largest_trained_params: int
    target_params: int
    target_tokens: int
    checks: tuple[LawCheck, ...]
    entropy_rate: float
    oracle_eval_loss: float
    fitted_E: float
    fitted_E_ci: tuple[float, float]
    seconds: float

    @property
    def size_ratio(self) -> float:
        return self.target_params / self.largest_trained_params


def demo_spec_path() -> Path:
    """The bundled demo spec (a copy to start your own sweeps from)."""
    return Path(str(resources.files("scalelaw.ladder") / "demo.yaml"))


def run_demo(
    store: str | Path,
    *,
    spec: SweepSpec | None = None,
    workers: int | None = None,
    threads: int | None = None,
    bootstrap: int = 100,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """Train the ladder, fit, predict the target, train the target, and compare."""
    started = time.monotonic()
    spec = spec or load_spec(demo_spec_path())
    if spec.target is None:
        raise InputError("the demo spec needs a 'target' run {width, depth, heads, tokens}", file=spec.file, column="target")
    run_sweep(spec.runs, store, workers=workers, threads=threads, progress=progress)
    ladder = RunStore(store).load([c.run_id for c in spec.runs])
    target = spec.target
    fits = {law: fitting.fit_law(ladder, law, bootstrap=bootstrap if law == "chinchilla" else 0, seed=0)
            for law in DEMO_LAWS}
    predictions = {law: _predict(fit, target) for law, fit in fits.items()}
    run_sweep([target], store, workers=1, threads=threads, progress=progress)
    actual = float(RunStore(store).load([target.run_id]).final()["loss"].iloc[0])
    corpus = target.corpus.build()
    chinchilla = fits["chinchilla"]
    return DemoResult(
        ladder_runs=len(spec.runs),
        largest_trained_params=max(c.shape.params for c in spec.runs),
        target_params=target.shape.params,
        target_tokens=target.steps * target.batch_size,
        checks=tuple(LawCheck(law, *predictions[law], actual) for law in DEMO_LAWS),
        entropy_rate=float(corpus.entropy_rate or np.nan),
        oracle_eval_loss=float(oracle_eval_loss(corpus, sequences=target.eval_sequences, seq_len=target.shape.seq_len) or np.nan),
        fitted_E=chinchilla.params["E"],
        fitted_E_ci=tuple(chinchilla.ci.get("E", (np.nan, np.nan))),
        seconds=time.monotonic() - started,
    )


def _predict(fit: fitting.FitResult, target: RunConfig) -> tuple[float, float, float]:
    """The law's predicted final eval loss of ``target``, with its interval."""
    inputs = {
        "params": float(target.shape.params),
        "tokens": float(target.steps * target.batch_size),
        "step": float(target.steps),
        "batch_size": float(target.batch_size),
    }
    prediction = fit.predict(**{name: inputs[name] for name in fit.law.inputs})
    return float(prediction.loss[0]), float(prediction.lo[0]), float(prediction.hi[0])


def checks_table(result: DemoResult) -> pd.DataFrame:
    """The predicted-against-actual rows, for printing."""
    return pd.DataFrame([
        {"law": c.law, "predicted": c.predicted, "lo": c.lo, "hi": c.hi, "actual": c.actual,
         "relative_error": c.relative_error}
        for c in result.checks
    ])
