"""Training throughput of the ladder's models on this CPU: tokens per second per model size.

For each model (widths 16-256, depth 1-4, seq_len 64, batch 2,048 tokens, Markov
corpus over 64 tokens) it times ``--steps`` optimizer steps after two warm-up steps,
with 1 torch thread and with all cores. Wall-clock and CPU time are both printed: on a
shared machine the wall time also measures the neighbours, and tokens per CPU-second
(1 thread) is the load-independent figure. The last lines fit the cost model of
``ladder plan --no-measure`` (seconds per step = overhead + FLOPs / rate) to the
1-thread CPU times. Run: ``python bench/bench_ladder_throughput.py [--steps 10]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from scalelaw.ladder.corpora import CorpusSpec
from scalelaw.ladder.model import DecoderLM, ModelShape
from scalelaw.ladder.trainer import RunConfig, configure_torch, make_optimizer, train_step

MODELS: tuple[tuple[int, int, int], ...] = ((16, 1, 2), (32, 2, 2), (64, 2, 4), (96, 3, 4), (128, 4, 4), (256, 4, 8))
SEQ_LEN, BATCH_TOKENS = 64, 2048


def time_steps(config: RunConfig, threads: int, steps: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``steps`` optimizer steps after two warm-up steps."""
    configure_torch(threads, 0)
    corpus = config.corpus.build()
    model = DecoderLM(config.shape)
    optimizer = make_optimizer(model, config)
    batches = [torch.from_numpy(corpus.train_batch(seed=0, step=s, sequences=config.sequences, seq_len=SEQ_LEN))
               for s in range(steps + 2)]
    for batch in batches[:2]:
        train_step(model, optimizer, batch, 1.0)
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches[2:]:
        train_step(model, optimizer, batch, 1.0)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    corpus = CorpusSpec(kind="markov", vocab_size=64, order=1, branching=3)
    print(f"cores: {cores}; load average at start: {os.getloadavg()[0]:.1f}; torch {torch.__version__}")
    header = f"{'width':>5} {'depth':>5} {'params':>9} {'non-emb':>9} {'MFLOP/tok':>9} " \
             f"{'tok/s 1thr':>10} {'tok/CPU-s':>10} {f'tok/s {cores}thr':>10} {'GFLOP/s 1thr':>12}"
    print(header)
    print("-" * len(header))
    flops_per_step, cpu_per_step = [], []
    for width, depth, heads in MODELS:
        shape = ModelShape(width=width, depth=depth, heads=heads, seq_len=SEQ_LEN, vocab_size=64)
        config = RunConfig(run_id="bench", shape=shape, corpus=corpus, tokens=BATCH_TOKENS * 10,
                           batch_size=BATCH_TOKENS, schedule="constant:peak=1e-3", seed=0)
        wall_1, cpu_1 = time_steps(config, 1, args.steps)
        wall_n, _ = time_steps(config, cores, args.steps)
        tokens = args.steps * BATCH_TOKENS
        flops_per_step.append(shape.flops_per_token() * BATCH_TOKENS)
        cpu_per_step.append(cpu_1 / args.steps)
        print(f"{width:>5} {depth:>5} {shape.params:>9,} {shape.non_embedding_params:>9,} "
              f"{shape.flops_per_token() / 1e6:>9.3f} {tokens / wall_1:>10,.0f} {tokens / cpu_1:>10,.0f} "
              f"{tokens / wall_n:>10,.0f} {shape.flops_per_token() * tokens / cpu_1 / 1e9:>12.2f}")
    # Weighted by 1/time: relative errors count, so the small models are fitted as well as the large.
    slope, overhead = np.polyfit(np.array(flops_per_step), np.array(cpu_per_step), 1, w=1 / np.array(cpu_per_step))
    print(f"\ncost model fitted to the 1-thread CPU times: seconds per step = {max(overhead, 0):.4f} "
          f"+ FLOPs / {1 / slope:.3g}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
