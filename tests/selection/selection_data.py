"""Runs the selection tests share: a five-size ladder drawn from a known Chinchilla law."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet

#: Fast candidates (one-variable power laws) for tests of the selection mechanics.
FAST = ["power(variable=params)", "power(variable=flops)", "power(variable=tokens)"]
#: Tokens per parameter of a ladder with five runs per size (enough held-out runs for one level to decide).
FIVE_LENGTHS = (10, 14, 20, 28, 40)


def size_ladder(seed: int = 0, noise: float = 0.003, ratios: tuple[int, ...] = (10, 20, 40)) -> RunSet:
    """Five sizes, three lengths each (tokens per parameter ``ratios``), from a Chinchilla law with log-normal noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for size in (1e7, 3e7, 1e8, 3e8, 1e9):
        for ratio in ratios:
            tokens = size * ratio
            loss = (1.8 + 480 * size**-0.34 + 2000 * tokens**-0.36) * np.exp(rng.normal(0, noise))
            rows.append({"run": f"n{size:.0e}-d{ratio}", "params": size, "tokens": tokens, "loss": loss})
    return RunSet(pd.DataFrame(rows))
