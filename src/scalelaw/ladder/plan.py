"""Estimate a sweep before running it: FLOPs and time of every run.

Time comes from throughput measured here and now (a few timed optimizer steps per
distinct model and batch size), or, with ``measure=False``, from a cost model
calibrated once on a 2-core CPU: ``seconds per step = STEP_OVERHEAD_SECONDS +
FLOPs per step / FLOPS_PER_SECOND_PER_THREAD / threads`` (see bench_ladder_throughput.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from scalelaw.ladder.model import DecoderLM
from scalelaw.ladder.trainer import RunConfig, make_optimizer, train_step, configure_torch, pick_device

#: Fitted to 1-thread CPU times of bench/bench_ladder_throughput.py on the project's 2-core machine
#: (widths 16-256, seq_len 64, batch 2,048 tokens), 2026-11-23.
FLOPS_PER_SECOND_PER_THREAD = 4.5e10
STEP_OVERHEAD_SECONDS = 0.015


@dataclass(frozen=True)
class PlannedRun:
    """One run of a plan: its size, budget, FLOPs, expected time, and whether it is stored already."""

    run_id: str
    params: int
    non_embedding_params: int
    tokens: int
    steps: int
    batch_size: int
    flops: float
    tokens_per_second: float
    seconds: float
    stored: bool


def measure_throughput(config: RunConfig, *, threads: int = 1, steps: int = 3) -> float:
    """Training tokens per second of ``config``'s model, timed over ``steps`` steps after one warm-up step."""
    configure_torch(threads, config.seed)
    device = pick_device()
    corpus = config.corpus.build()
    model = DecoderLM(config.shape).to(device)
    optimizer = make_optimizer(model, config)
    batches = [
        torch.from_numpy(corpus.train_batch(seed=config.seed, step=s, sequences=config.sequences, seq_len=config.shape.seq_len)).to(device)
        for s in range(steps + 1)
    ]
    train_step(model, optimizer, batches[0], config.grad_clip)
    started = time.perf_counter()
    for batch in batches[1:]:
        train_step(model, optimizer, batch, config.grad_clip)
    return steps * config.batch_size / (time.perf_counter() - started)


def modelled_throughput(config: RunConfig, *, threads: int = 1) -> float:
    """Tokens per second from the calibrated cost model (no measurement)."""
    step_flops = config.shape.flops_per_token() * config.batch_size
    return config.batch_size / (STEP_OVERHEAD_SECONDS + step_flops / (FLOPS_PER_SECOND_PER_THREAD * threads))


def plan_sweep(
    runs: Sequence[RunConfig], *, measure: bool = True, threads: int = 1, stored: frozenset[str] = frozenset()
) -> list[PlannedRun]:
    """A :class:`PlannedRun` per run; throughput is measured once per distinct (model, batch size)."""
    throughput: dict[tuple[object, int], float] = {}
    planned = []
    for config in runs:
        key = (config.shape, config.batch_size)
        if key not in throughput:
            throughput[key] = measure_throughput(config, threads=threads) if measure else modelled_throughput(config, threads=threads)
        tokens = config.steps * config.batch_size
        planned.append(PlannedRun(
            run_id=config.run_id, params=config.shape.params, non_embedding_params=config.shape.non_embedding_params,
            tokens=tokens, steps=config.steps, batch_size=config.batch_size, flops=config.flops,
            tokens_per_second=throughput[key], seconds=tokens / throughput[key], stored=config.run_id in stored,
        ))
    return planned
