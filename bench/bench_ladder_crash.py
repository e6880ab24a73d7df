"""Crash the ladder with SIGKILL, again and again, then check the store.

A sweep of 4 tiny runs (``scalelaw ladder run``, one torch thread per run) is started as
a subprocess and, once training is under way (a new checkpoint appears), SIGKILLed
after a random extra 0-3 s (seeded); this repeats ``--max-kills`` times, then one
start runs to the end. Then: the store must hold every run exactly once, each
with a complete curve (one row per step, every eval), no checkpoint left over, and
each curve equal, number for number, to the same run trained without interruption.
Both the in-process executor (``--workers 1``) and the process pool (``--workers 2``)
are crashed. Run: ``python bench/bench_ladder_crash.py [--max-kills 8] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from scalelaw.data.store import RunStore
from scalelaw.ladder.executors import CHECKPOINT_DIR, execute_run
from scalelaw.ladder.spec import parse_spec

SPEC = {
    "name": "crash",
    "corpus": {"kind": "markov", "vocab_size": 16, "order": 1, "branching": 3, "seed": 0},
    "seq_len": 16,
    "models": {"width": [8, 12, 16, 24], "depth": 1, "heads": 2},
    "tokens": [256 * 400],
    "batch_size": 256,
    "schedules": ["cosine:peak=1e-2,final=1e-3,warmup=5%"],
    "evals": 40,
    "eval_sequences": 16,
}


def crash_until_done(spec_file: Path, store: Path, workers: int, rng: random.Random, max_kills: int) -> list[dict]:
    """Start the sweep; once training is under way (a checkpoint exists), SIGKILL it after a
    random extra delay; repeat. After ``max_kills`` kills, the last start runs to the end."""
    command = (f"import sys; from scalelaw.cli.main import run; sys.exit(run(['ladder', 'run', {str(spec_file)!r}, "
               f"'--store', {str(store)!r}, '--workers', '{workers}', '--threads', '1']))")
    rounds = []
    for attempt in range(max_kills + 1):
        process = subprocess.Popen([sys.executable, "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed = False
        if attempt < max_kills:
            before = set(_checkpoints(store).items())
            while process.poll() is None and not set(_checkpoints(store).items()) - before:
                time.sleep(0.02)  # wait for a new checkpoint: training is under way
            delay = rng.uniform(0.0, 3.0)
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                in_progress = _checkpoints(store)
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed = True
        process.wait()
        time.sleep(0.5)  # let orphaned pool workers (if any) notice their parent died
        rounds.append({"round": attempt + 1, "killed": killed, "exit": process.returncode,
                       "stored": len(RunStore(store).list()),
                       "mid_run": ", ".join(f"{name.rsplit('-', 1)[0]}@{step}" for name, step in in_progress.items()) if killed else ""})
        if not killed and process.returncode == 0:
            break
    return rounds


def _checkpoints(store: Path) -> dict[str, int]:
    """Unfinished runs and the step of their last checkpoint."""
    found = {}
    for path in (store / CHECKPOINT_DIR).glob("*.pt"):
        try:
            found[path.stem.removeprefix("crash-")] = int(torch.load(path, weights_only=False)["step"])
        except Exception:  # being replaced right now
            continue
    return found


def check(store: Path, reference: Path, runs: list) -> dict[str, object]:
    listed = [entry["run"] for entry in RunStore(store).list()]
    loaded, expected = RunStore(store).load(), RunStore(reference).load()
    complete = identical = 0
    for config in runs:
        if config.run_id not in loaded:
            continue
        curve = loaded.curve(config.run_id)
        if list(curve["step"]) == list(range(1, config.steps + 1)) and curve["loss"].notna().sum() == config.evals:
            complete += 1
        same = expected.curve(config.run_id)
        if np.array_equal(curve["train_loss"], same["train_loss"]) and np.array_equal(curve["loss"], same["loss"], equal_nan=True):
            identical += 1
    return {
        "runs": len(runs), "stored_entries": len(listed), "distinct": len(set(listed)), "complete": complete,
        "identical_to_uninterrupted": identical, "leftover_checkpoints": len(list((store / CHECKPOINT_DIR).glob("*"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    runs = list(parse_spec(SPEC).runs)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        spec_file = root / "crash.yaml"
        spec_file.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
        for config in runs:  # the reference: every run trained once without interruption
            execute_run(config, str(root / "reference"), threads=1)
        verdicts = []
        for workers in (1, 2):
            store = root / f"store-{workers}"
            print(f"\nexecutor with --workers {workers}:")
            print(f"{'round':>5} {'outcome':>8} {'exit':>5} {'runs stored':>11}  runs killed mid-run @ checkpointed step")
            for row in crash_until_done(spec_file, store, workers, rng, args.max_kills):
                outcome = "killed" if row["killed"] else "finished"
                print(f"{row['round']:>5} {outcome:>8} {row['exit']:>5} {row['stored']:>11}  {row['mid_run']}")
            verdicts.append({"workers": workers, **check(store, root / "reference", runs)})
        print()
        columns = list(verdicts[0])
        print(" ".join(f"{c:>{max(len(c), 7)}}" for c in columns))
        for verdict in verdicts:
            print(" ".join(f"{verdict[c]!s:>{max(len(c), 7)}}" for c in columns))
        ok = all(v["stored_entries"] == v["distinct"] == v["complete"] == v["identical_to_uninterrupted"] == len(runs)
                 and v["leftover_checkpoints"] == 0 for v in verdicts)
        print(f"\nevery run stored exactly once, complete, identical to an uninterrupted run: {'yes' if ok else 'NO'}")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
