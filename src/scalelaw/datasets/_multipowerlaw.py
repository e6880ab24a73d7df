"""The Multi-Power Law loss curves, with the exact per-step learning rate rebuilt.

Each schedule's learning rate is rebuilt for every optimizer step 1..T from the
definitions in the paper (Luo et al. 2025) and checked against the logged ``lr``; the
logged losses land on their steps and the steps between carry NaN loss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import InputError

PEAK_LR = 3e-4
FINAL_LR = 3e-5
WARMUP_STEPS = 2160
DECAY_START = 20_000
WSDCON_DROP = 8_000

#: Schedule name -> total steps T.
SCHEDULES: dict[str, int] = {
    "constant_24000": 24_000,
    "cosine_24000": 24_000,
    "wsd_20000_24000": 24_000,
    "wsdld_20000_24000": 24_000,
    "constant_72000": 72_000,
    "cosine_72000": 72_000,
    "wsdcon_3": 16_000,
    "wsdcon_9": 16_000,
    "wsdcon_18": 16_000,
}

#: Dataset size -> (folder of CSVs, nominal parameter count).
SIZES: dict[str, tuple[str, float]] = {"25m": ("csv_25", 25e6), "100m": ("csv_100", 100e6)}

FOLDER = Path(__file__).parent / "multipowerlaw"


def schedule_lr(schedule: str, steps: np.ndarray) -> np.ndarray:
    """Learning rate at each step of ``schedule`` (warmup: ``PEAK_LR * t / 2160``)."""
    t = np.asarray(steps, dtype=float)
    kind = schedule.split("_")[0]
    lr = np.where(t < WARMUP_STEPS, PEAK_LR * t / WARMUP_STEPS, PEAK_LR)
    if kind == "cosine":
        total = SCHEDULES[schedule]
        progress = (t - WARMUP_STEPS) / (total - WARMUP_STEPS)
        cosine = FINAL_LR + 0.5 * (PEAK_LR - FINAL_LR) * (1 + np.cos(np.pi * progress))
        lr = np.where(t >= WARMUP_STEPS, cosine, lr)
    elif kind == "wsd":
        progress = (t - DECAY_START) / (SCHEDULES[schedule] - DECAY_START)
        lr = np.where(t >= DECAY_START, PEAK_LR * (FINAL_LR / PEAK_LR) ** progress, lr)
    elif kind == "wsdld":
        progress = (t - DECAY_START) / (SCHEDULES[schedule] - DECAY_START)
        lr = np.where(t >= DECAY_START, PEAK_LR - (PEAK_LR - FINAL_LR) * progress, lr)
    elif kind == "wsdcon":
        lr = np.where(t >= WSDCON_DROP, int(schedule.split("_")[1]) * 1e-5, lr)
    elif kind != "constant":
        raise ValueError(f"unknown schedule {schedule!r}")
    return lr


def logged(size: str, schedule: str) -> pd.DataFrame:
    """The bundled CSV of one curve as published (columns ``step, lr, loss``)."""
    return pd.read_csv(FOLDER / SIZES[size][0] / f"{schedule}.csv")


def lr_max_relative_error(size: str) -> float:
    """Largest relative gap between the rebuilt and the logged lr over all logged points."""
    worst = 0.0
    for schedule in SCHEDULES:
        points = logged(size, schedule)
        rebuilt = schedule_lr(schedule, points["step"].to_numpy())
        worst = max(worst, float(np.max(np.abs(rebuilt - points["lr"]) / points["lr"])))
    return worst


def load_curves(size: str) -> pd.DataFrame:
    """The nine runs of one model size as a long table with one row per step."""
    parts = []
    for schedule, total in SCHEDULES.items():
        points = logged(size, schedule)
        steps = np.arange(1, total + 1, dtype=float)
        loss = np.full(total, np.nan)
        loss[points["step"].to_numpy(dtype=int) - 1] = points["loss"].to_numpy(dtype=float)
        rebuilt = schedule_lr(schedule, steps)
        logged_lr = points["lr"].to_numpy(dtype=float)
        gap = np.abs(rebuilt[points["step"].to_numpy(dtype=int) - 1] - logged_lr) / logged_lr
        if gap.max() > 1e-9:
            raise InputError(
                f"rebuilt learning rate differs from the logged one by {gap.max():.3g} (relative)",
                file=str(FOLDER / SIZES[size][0] / f"{schedule}.csv"),
                run=schedule,
                column="lr",
            )
        parts.append(
            pd.DataFrame(
                {
                    "run": schedule,
                    "step": steps,
                    "loss": loss,
                    "lr": rebuilt,
                    "params": SIZES[size][1],
                    "schedule": schedule,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
