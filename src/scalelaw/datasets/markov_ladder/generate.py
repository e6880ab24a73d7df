"""Regenerate ``runs.csv``: train the sweep in ``ladder.yaml`` and keep every evaluated checkpoint.

Run from the repository root (needs the ``[ladder]`` extra; a few minutes on 2 CPU cores):
``python src/scalelaw/datasets/markov_ladder/generate.py [STORE]``. Training is
deterministic for a seed and one torch thread per run, so the same file comes out.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
COLUMNS = ("run", "step", "tokens", "loss", "lr", "params", "batch_size", "width", "lr_schedule", "entropy_rate")


def main(store: str) -> None:
    from scalelaw.data.store import RunStore
    from scalelaw.ladder.executors import run_sweep
    from scalelaw.ladder.schedule_template import schedule_for
    from scalelaw.ladder.spec import load_spec

    spec = load_spec(HERE / "ladder.yaml")
    outcomes = run_sweep(spec.runs, store, threads=1)
    failed = [o.run_id for o in outcomes if o.status not in ("trained", "skipped")]
    if failed:
        raise SystemExit(f"runs failed: {', '.join(failed)}")
    table = RunStore(store).load().table
    parts = []
    for config in spec.runs:
        rows = table[(table["run"] == config.run_id) & table["loss"].notna()].copy()
        rows["lr_schedule"] = schedule_for(config.schedule, config.steps).to_spec()
        rows["width"] = config.shape.width
        rows["entropy_rate"] = config.corpus.build().entropy_rate
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)[list(COLUMNS)]
    if not np.allclose(out["tokens"], out["step"] * out["batch_size"]):
        raise SystemExit("tokens != step x batch_size")
    out.to_csv(HERE / "runs.csv", index=False, float_format="%.10g")
    print(f"wrote {HERE / 'runs.csv'}: {out['run'].nunique()} runs, {len(out)} rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="markov-ladder-"))
