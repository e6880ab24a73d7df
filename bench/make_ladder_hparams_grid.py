"""Generate the bundled ``ladder-hparams`` dataset: a learning-rate × batch-size grid of ladder runs.

Four model widths (16, 32, 64, 128; depth 1, 2 heads, context 32) on the order-1 Markov
corpus over 64 tokens (exact entropy rate known), two token budgets (8,192 and 16,384),
three batch sizes (32, 64, 128 tokens) and nine peak learning rates per width: 0.7/width
times 1/4 ... 4 in steps of sqrt(2) (a sweep centred where a 1/width rule puts the optimum, as
practitioners centre theirs; the fit locates the optimum from the losses), each with seeds 0 and 1
(seed 0's runs keep the first, five-lr grid's names and losses); then two longer budgets (32,768 and
65,536 tokens), where the best batch leaves the smallest, with batch sizes 32-256 and seed 0. Schedule:
cosine from the peak to 1e-4 with 5% warm-up; AdamW (weight decay 0.1, betas 0.9/0.95,
clip 1.0), one final eval on 128 sequences against the chain's true law. A
diverged run (non-finite train loss) is kept with ``loss`` empty and ``diverged`` true.

Writes ``src/scalelaw/datasets/ladder_hparams/grid.csv`` (one row per run). The 720 runs took
about 25 minutes of wall time on the shared 2-core machine (load about 2). Run:
``nice -n 10 python bench/make_ladder_hparams_grid.py [--store DIR] [--workers 2]`` (a rerun
with the same store reuses the runs already trained).
"""

from __future__ import annotations

import argparse
import itertools
import platform
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from scalelaw.data.store import RunStore
from scalelaw.ladder.corpora import CorpusSpec
from scalelaw.ladder.executors import run_sweep
from scalelaw.ladder.model import ModelShape
from scalelaw.ladder.trainer import RunConfig

CORPUS = CorpusSpec(kind="markov", vocab_size=64, order=1, branching=3, smoothing=0.02, seed=0)
WIDTHS = (16, 32, 64, 128)
TOKENS = (8_192, 16_384)
BATCH_SIZES = (32, 64, 128)
LR_FACTORS = tuple(2.0 ** (k / 2) for k in range(-4, 5))  # 1/4 ... 4 in steps of sqrt(2)
SEEDS = (0, 1)
#: Longer budgets, where the best batch size leaves the grid's smallest (one sequence): one seed, a wider batch sweep.
LONG_TOKENS = (32_768, 65_536)
LONG_BATCH_SIZES = (32, 64, 128, 256)
SEQ_LEN = 32
OUT = Path(__file__).resolve().parents[1] / "src" / "scalelaw" / "datasets" / "ladder_hparams" / "grid.csv"


def peak_lr(width: int, factor: float) -> float:
    """The sweep's peak learning rates: 0.7 / width times a factor-2 ladder (rounded to 4 significant digits)."""
    return float(f"{0.7 / width * factor:.4g}")


def grid_runs() -> list[RunConfig]:
    """Every run of the grid."""
    runs = []
    cells = itertools.chain(itertools.product(SEEDS, WIDTHS, TOKENS, BATCH_SIZES, LR_FACTORS),
                            itertools.product((0,), WIDTHS, LONG_TOKENS, LONG_BATCH_SIZES, LR_FACTORS))
    for seed, width, tokens, batch, factor in cells:
        lr = peak_lr(width, factor)
        suffix = "" if seed == 0 else f"-s{seed}"  # seed 0 keeps the first grid's run names
        shape = ModelShape(width=width, depth=1, heads=2, seq_len=SEQ_LEN, vocab_size=CORPUS.vocab_size)
        runs.append(RunConfig(
            run_id=f"hp-w{width}-t{tokens}-b{batch}-lr{lr:g}{suffix}", shape=shape, corpus=CORPUS, tokens=tokens,
            batch_size=batch, schedule=f"cosine:peak={lr:g},final=1e-4,warmup=5%", seed=seed, evals=1,
        ))
    return runs


def grid_table(runs: list[RunConfig], store: RunStore) -> pd.DataFrame:
    """One row per run: its settings and final eval loss (empty when it diverged)."""
    stored = {entry["run"] for entry in store.list()}
    loaded = store.load() if stored else None
    rows = []
    for config in runs:
        loss = float("nan")
        if config.run_id in stored and loaded is not None:
            loss = float(loaded.curve(config.run_id)["loss"].dropna().iloc[-1])
        rows.append({
            "run": config.run_id, "width": config.shape.width, "depth": config.shape.depth,
            "params": config.shape.params, "non_embedding_params": config.shape.non_embedding_params,
            "tokens": config.steps * config.batch_size, "batch_size": config.batch_size,
            "lr": float(config.lr_schedule().peak), "loss": round(loss, 6) if np.isfinite(loss) else np.nan,
            "diverged": config.run_id not in stored, "entropy_rate": round(float(CORPUS.build().entropy_rate), 6),
            "schedule": config.schedule, "seed": config.seed,
        })
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "scalelaw-ladder-hparams")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    runs = grid_runs()
    print(f"{len(runs)} runs; torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}")
    outcomes = run_sweep(runs, args.store, workers=args.workers, threads=1)
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        print(f"diverged: {outcome.run_id}: {outcome.message}")
    table = grid_table(runs, RunStore(args.store))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(table)} runs, {int(table['diverged'].sum())} diverged)")


if __name__ == "__main__":
    main()
