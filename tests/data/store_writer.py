"""A writer process for the store durability tests: puts runs until it is told to stop or killed."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.data.store import RunStore

POINTS = 200


def run_table(name: str, seed: int) -> pd.DataFrame:
    """A run whose rows can be checked for completeness: POINTS steps, loss falling from 5."""
    steps = np.arange(1, POINTS + 1, dtype=float)
    loss = 5.0 - np.linspace(0, 2, POINTS) - 0.001 * (seed % 7)
    return pd.DataFrame({"run": name, "step": steps, "loss": loss, "params": 1e6 + seed})


def main(store_dir: str, prefix: str, count: int) -> None:
    store = RunStore(store_dir)
    print("ready", flush=True)  # the parent waits for this line
    for i in range(count):
        name = f"{prefix}-{i % 10}"
        store.put(RunSet(run_table(name, i)), overwrite=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
