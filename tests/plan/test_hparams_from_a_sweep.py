"""A user's hyperparameter walk: an lr × batch-size sweep trained by `scalelaw ladder run`, read back from its run
store by `plan hparams-fit`, answered by `plan hparams`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scalelaw.cli.main import run
from scalelaw.data.store import RunStore

pytest.importorskip("torch")

SPEC = """\
name: sweep
corpus: {kind: markov, vocab_size: 32, order: 1, branching: 3, smoothing: 0.02, seed: 0}
seq_len: 16
models: {width: [8, 16], depth: 1, heads: 2}
tokens: [2048, 4096]
batch_size: [16, 32]
schedules: [%s]
seeds: [0]
evals: 1
"""
PEAKS = (5e-3, 1e-2, 2e-2, 4e-2, 8e-2)


def test_a_trained_sweep_gives_optima_inside_its_runs_and_a_stated_lr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SPEC % ", ".join(f'"cosine:peak={p:g},final=1e-4,warmup=5%"' for p in PEAKS))
    store, fit = tmp_path / "store", tmp_path / "hp.json"
    assert run(["ladder", "run", str(spec), "--store", str(store), "--workers", "2", "--threads", "1", "--json"]) == 0
    capsys.readouterr()
    assert run(["plan", "hparams-fit", str(store), "--out", str(fit), "--bootstrap", "50", "--json"]) == 0
    optima = json.loads(capsys.readouterr().out)["optima"]
    runs = RunStore(store).load()
    final = runs.final()
    peak = runs.table.groupby("run")["lr"].max()
    assert len(optima) == 4  # 2 widths x 2 budgets
    for cell in optima:
        mine = final[(final["params"] == cell["params"]) & (final["tokens"] == cell["tokens"])]
        lrs = peak[mine["run"]]
        # the smooth optimum lies among the lrs the cell ran, and its loss is no worse than its best run by much
        assert lrs.min() <= cell["lr"] <= lrs.max()
        assert cell["loss"] <= mine["loss"].min() * 1.02
    assert run(["plan", "hparams", str(fit), "--params", "2e4", "--tokens", "4096", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    lr = answer["values"]["lr"]
    assert np.isfinite(lr["value"]) and lr["low"] < lr["value"] < lr["high"]
    assert any("beyond the largest fitted" in w for w in answer["warnings"])
