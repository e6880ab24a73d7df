"""The OLMo model ladder (Bhagia et al. 2024): 24 runs of 4 sizes and 5 lengths, every checkpoint.

One row per logged checkpoint, with the C4 validation loss as ``loss`` and every other
logged metric under its original name. The learning rate of every optimizer step is the
run's ``lr_schedule`` spec, rebuilt from the ladder's rule (linear warmup over
round(N / batch) steps, cosine to 10% of the peak ten steps before the last step, then
held) and checked against the logged lr at every checkpoint.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.schedules import Cosine
from scalelaw.errors import InputError

FOLDER = Path(__file__).parent / "olmo_ladder" / "runs"

#: Size label -> parameter count N as the ladder code counts it.
SIZES: dict[str, int] = {
    "190M": 190_354_176,
    "370M": 371_262_464,
    "760M": 758_220_288,
    "1B": 1_279_395_840,
}
#: Length multipliers: tokens = multiplier x 20 N (Chinchilla-optimal is 1).
MULTIPLIERS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)
#: The cosine reaches 10% of the peak this many steps before the run's last step (fitted
#: exactly to the logged lr, see docs/decisions.md "## Data").
COSINE_END_OFFSET = 10
FINAL_FRACTION = 0.1
#: Largest accepted relative gap between the rebuilt and the logged lr.
LR_TOLERANCE = 1e-9

#: Source column -> canonical column.
CANONICAL = {
    "_step": "step",
    "throughput/total_tokens": "tokens",
    "eval/c4_en-validation/CrossEntropyLoss": "loss",
    "batch_size_in_tokens": "batch_size",
}
LOGGED_LR = "optim/learning_rate_group0"
PEAK_LR = "learning_rate_peak"
_RUN_NAME = re.compile(r"^(190M|370M|760M|1B)-(0\.5|1|2|5|10)xC(-rerun)?$")


def warmup_steps(params: float, batch_size: float) -> int:
    """The ladder's warmup length: round(N / tokens per step) steps."""
    return int(round(params / batch_size))


def schedule_for(params: float, batch_size: float, peak: float, last_step: int) -> Cosine:
    """The ladder's schedule of a run of ``last_step`` steps (warmup, cosine to 10%, held)."""
    return Cosine(peak=peak, warmup=warmup_steps(params, batch_size), total=last_step - COSINE_END_OFFSET,
                  final=FINAL_FRACTION * peak)


def run_files() -> list[Path]:
    """The run CSVs, ordered by size, then length, the rerun after its run."""
    files = [p for p in FOLDER.iterdir() if p.suffix == ".csv"]
    return sorted(files, key=lambda p: _sort_key(p.stem))


def _sort_key(run: str) -> tuple[int, float, bool]:
    size, multiplier, rerun = _parse_name(run)
    return list(SIZES).index(size), multiplier, rerun


def _parse_name(run: str) -> tuple[str, float, bool]:
    match = _RUN_NAME.match(run)
    if match is None:
        raise InputError(f"unexpected OLMo ladder run file name {run!r}", file=str(FOLDER / f"{run}.csv"))
    return match.group(1), float(match.group(2)), match.group(3) is not None


def _rebuild(path: Path) -> tuple[pd.DataFrame, Cosine, np.ndarray, np.ndarray]:
    """The published table, the run's schedule, its rebuilt lr and relative gap to the logged lr."""
    size, _, _ = _parse_name(path.stem)
    raw = pd.read_csv(path)
    schedule = schedule_for(SIZES[size], float(raw["batch_size_in_tokens"].iloc[0]), float(raw[PEAK_LR].iloc[0]),
                            int(raw["_step"].max()))
    rebuilt = schedule.lr(raw["_step"].to_numpy(dtype=float))
    logged = raw[LOGGED_LR].to_numpy(dtype=float)
    return raw, schedule, rebuilt, np.abs(rebuilt - logged) / logged


def load_run(path: Path) -> pd.DataFrame:
    """One run as published, renamed to canonical columns, with the rebuilt lr and its spec."""
    run = path.stem
    size, multiplier, rerun = _parse_name(run)
    raw, schedule, rebuilt, gap = _rebuild(path)
    if not gap.max() <= LR_TOLERANCE:
        raise InputError(f"rebuilt learning rate differs from the logged one by {gap.max():.3g} (relative)",
                         file=str(path), run=run, row=int(np.argmax(gap)) + 1, column=LOGGED_LR)
    table = raw.drop(columns=[LOGGED_LR, PEAK_LR]).rename(columns=CANONICAL)
    table.insert(0, "run", run)
    table["lr"] = rebuilt
    table["params"] = float(SIZES[size])
    table["peak_lr"] = schedule.peak
    table["lr_schedule"] = schedule.to_spec()
    table["size"] = size
    table["multiplier"] = multiplier
    table["rerun"] = rerun
    return table


def lr_max_relative_error() -> float:
    """Largest relative gap between the rebuilt and the logged lr over every checkpoint of every run."""
    return max(float(_rebuild(path)[3].max()) for path in run_files())


def load_ladder() -> pd.DataFrame:
    """All 24 runs as one long table (canonical columns first, then the other metrics, then tags)."""
    table = pd.concat([load_run(path) for path in run_files()], ignore_index=True)
    first = ["run", "step", "tokens", "loss", "lr", "params", "batch_size"]
    return table[first + [c for c in table.columns if c not in first]]
