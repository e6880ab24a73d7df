"""Seeded bootstrap over runs: each replicate is a weight vector, all fitted as batches.

Resampling draws runs (not points) with replacement, so a run with many logged points
stays one unit; a point's weight is the number of times its run was drawn. A fit on a
single run resamples contiguous blocks of its checkpoints instead (a run bootstrap of
one run would redraw it every time and report zero-width intervals). Replicates
are warm-started from the best fit and fitted in bounded chunks, each chunk's rows split
in ``PARTS`` parts fitted at once in forked processes (:func:`~scalelaw.fit.parallel.minimise_parallel`),
with an optional rich progress bar. The split depends on the number of replicates only,
never on the machine's cores, so the numbers are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scalelaw.fit.optimize import BatchResult, Tolerances, batch_rows
from scalelaw.fit.parallel import join_batches, minimise_parallel
from scalelaw.fit.problem import Problem

BOOTSTRAP_TOL = Tolerances(ftol=1e-10, xtol=1e-9, max_iter=200)
CHUNK = 100
#: Parts each chunk of replicates is split in (a constant, so the numbers do not depend on the machine).
PARTS = 2
#: Blocks a single run's checkpoints are cut into for the block bootstrap.
BLOCKS = 10


def run_weights(
    run_ids: np.ndarray, replicates: int, rng: np.random.Generator, anchor: np.ndarray | None = None
) -> np.ndarray:
    """(replicates, n) point weights: each point gets the multiplicity of its run in a resample.

    Anchor points (constraints, not data) are never resampled: they keep weight 1.
    """
    data = np.ones(len(run_ids), dtype=bool) if anchor is None else ~np.asarray(anchor, dtype=bool)
    runs, index = np.unique(np.asarray(run_ids)[data], return_inverse=True)
    draws = rng.integers(0, runs.size, size=(replicates, runs.size))
    counts = np.zeros((replicates, runs.size))
    np.add.at(counts, (np.repeat(np.arange(replicates), runs.size), draws.ravel()), 1.0)
    weights = np.ones((replicates, len(run_ids)))
    weights[:, data] = counts[:, index]
    return weights


def block_weights(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates, n) point weights from resampling ``BLOCKS`` contiguous blocks of the n points.

    Points are taken in design order (a curve's checkpoints by step); a point's weight is
    the number of times its block was drawn.
    """
    blocks = max(2, min(BLOCKS, n // 2))
    index = np.minimum((np.arange(n) * blocks) // max(n, 1), blocks - 1)
    draws = rng.integers(0, blocks, size=(replicates, blocks))
    counts = np.zeros((replicates, blocks))
    np.add.at(counts, (np.repeat(np.arange(replicates), blocks), draws.ravel()), 1.0)
    return counts[:, index]


def resample_weights(
    run_ids: np.ndarray, replicates: int, rng: np.random.Generator, anchor: np.ndarray | None = None
) -> np.ndarray:
    """Run weights for several runs, block weights within the run when there is only one.

    Anchor points (constraints, not data) are never resampled: they keep weight 1.
    """
    data = np.ones(len(run_ids), dtype=bool) if anchor is None else ~np.asarray(anchor, dtype=bool)
    if np.unique(np.asarray(run_ids)[data]).size == 1:
        weights = np.ones((replicates, len(run_ids)))
        weights[:, data] = block_weights(int(data.sum()), replicates, rng)
        return weights
    return run_weights(run_ids, replicates, rng, anchor)


def bootstrap(
    problem: Problem,
    u_best: np.ndarray,
    replicates: int,
    *,
    seed: int,
    progress: bool,
) -> BatchResult:
    """Fit ``replicates`` run-resampled (or, for one run, block-resampled) replicates warm-started at ``u_best``."""
    weights = resample_weights(problem.design.run, replicates, np.random.default_rng(seed), problem.design.anchor)
    size = batch_rows(problem.design.n * max(len(problem.free), 1), CHUNK)
    chunks = [slice(i, min(i + size, replicates)) for i in range(0, replicates, size)]

    def fit_chunk(part: slice) -> BatchResult:
        start = np.repeat(u_best[None, :], part.stop - part.start, axis=0)
        return minimise_parallel(problem, start, weights[part], BOOTSTRAP_TOL, workers=PARTS)

    return join_batches(_with_progress(fit_chunk, chunks, replicates) if progress else [fit_chunk(p) for p in chunks])


def _with_progress(fit_chunk: Callable[[slice], BatchResult], chunks: list[slice], total: int) -> list[BatchResult]:
    """Fit the chunks in order while a rich progress bar on stderr counts replicates."""
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("bootstrap", total=total)
        results = []
        for part in chunks:
            results.append(fit_chunk(part))
            bar.advance(task, part.stop - part.start)
    return results
