"""Ways to shrink each run while streaming a large input: keep every k-th point, or the final loss."""

from __future__ import annotations

from collections.abc import Callable

from scalelaw.data.runs import RunSet

Reducer = Callable[[RunSet], RunSet]


def keep_every(k: int) -> Reducer:
    """A reducer keeping every ``k``-th row with a loss of each run, and always its last one."""
    if k < 1:
        raise ValueError("k must be at least 1")

    def reduce(runs: RunSet) -> RunSet:
        table = runs.table[runs.table["loss"].notna()]
        position = table.groupby("run", sort=False).cumcount().to_numpy()
        last = ~table["run"].duplicated(keep="last").to_numpy()
        kept = table[(position % k == 0) | last]
        return RunSet(kept.reset_index(drop=True), runs.sources)

    return reduce


def final_losses(runs: RunSet) -> RunSet:
    """A reducer keeping one row per run: its last row with a loss."""
    return RunSet(runs.final(), runs.sources)
