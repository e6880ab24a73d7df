"""Synthetic ladders logging a loss, a task bpb and a task accuracy at every checkpoint.

bpb follows a Chinchilla law of (N, D) and accuracy a known sigmoid of bpb (Bhagia et
al.'s two-step form), each with small noise, so fits can be checked against the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet

BPB = "eval/downstream_bpb/task_rc_5shot_bpb"
ACC = "eval/downstream/task:rc/len_norm"
SIGMOID = (-0.7, 1.0, 4.0, 0.95)  # a, x0, k, b


def true_bpb(params: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    return 0.3 + 300.0 / params**0.3 + 800.0 / tokens**0.3


def true_accuracy(bpb: np.ndarray) -> np.ndarray:
    a, x0, k, b = SIGMOID
    return a / (1.0 + np.exp(-k * (bpb - x0))) + b


def ladder(sizes: tuple[float, ...] = (2e8, 4e8, 8e8), multipliers: tuple[float, ...] = (0.5, 1, 2, 5, 10),
           checkpoints: int = 20, seed: int = 0) -> RunSet:
    """Runs named SIZE-Mx with ``checkpoints`` evaluations each; noise 0.3% on losses, 0.5 points on accuracy."""
    rng = np.random.default_rng(seed)
    frames = []
    for n in sizes:
        for m in multipliers:
            tokens = 20 * n * m * np.arange(1, checkpoints + 1) / checkpoints
            bpb = true_bpb(np.full(checkpoints, n), tokens)
            frames.append(pd.DataFrame({
                "run": f"{n:.0e}-{m}x", "step": np.arange(1, checkpoints + 1) * 100, "tokens": tokens, "params": n,
                "loss": 2 * bpb * (1 + rng.normal(0, 0.003, checkpoints)),
                BPB: bpb * (1 + rng.normal(0, 0.003, checkpoints)),
                ACC: true_accuracy(bpb) + rng.normal(0, 0.005, checkpoints),
            }))  # fmt: skip
    return RunSet(pd.concat(frames, ignore_index=True))


HELLASWAG = "eval/downstream/hellaswag_val_rc_5shot_len_norm"


def family(sizes: tuple[float, ...] = (1.6e8, 4.1e8, 1.0e9, 1.4e9, 2.8e9), *, tokens: float = 3e11,
           slope: float = 2.0, midpoint: float = 9.6, chance: float = 0.25, noise: float = 0.004,
           seed: int = 0) -> RunSet:
    """A family as a public eval table has it: one row per size (same tokens), HellaSwag accuracy from a
    chance-floored sigmoid of log10 N plus ``noise``, and no loss column's worth of values."""
    rng = np.random.default_rng(seed)
    n = np.asarray(sizes, dtype=float)
    accuracy = chance + (1 - chance) / (1 + np.exp(-slope * (np.log10(n) - midpoint))) + rng.normal(0, noise, n.size)
    return RunSet(pd.DataFrame({"run": [f"m{i}" for i in range(n.size)], "params": n, "tokens": tokens,
                                "loss": np.nan, HELLASWAG: accuracy}))


def family_truth(params: float, *, slope: float = 2.0, midpoint: float = 9.6, chance: float = 0.25) -> float:
    return chance + (1 - chance) / (1 + np.exp(-slope * (np.log10(params) - midpoint)))
