"""Training throughput of the ladder's models on this CPU: tokens per second per model size,
and the ladder's trainer against a plain PyTorch loop of the same model and batches.

Part 1: for each model (widths 16-256, depth 1-4, seq_len 64, batch 2,048 tokens, Markov
corpus over 64 tokens) it times ``--steps`` optimizer steps after two warm-up steps,
with 1 torch thread and with all cores. Wall-clock and CPU time are both printed: on a
shared machine the wall time also measures the neighbours, and tokens per CPU-second
(1 thread) is the load-independent figure. The last lines fit the cost model of
``ladder plan --no-measure`` (seconds per step = overhead + FLOPs / rate) to the
1-thread CPU times.

Part 2 (issue 15): ``train_run`` (the trainer a sweep runs) against a plain PyTorch loop
written here, same model, same batches (drawn from the corpus inside the loop, as a
plain loop does), same optimizer settings and gradient clipping. The trainer is timed
through its progress callback over the steps between two warm-up steps and the final
(evaluated) step, so evaluation is not counted. The plain loop runs twice: at the
trainer's one thread and at torch's default thread count (in a fresh process: the
spinning OpenMP threads of a multi-threaded run slow what follows it); the variants are interleaved ``--repeats`` times and the ratios are
medians of the per-repeat ratios, so the machine's load hits all of them alike. ``--data`` times the sampler alone per step (the
part the trainer's background prefetch hides); ``--compile`` adds a ``torch.compile``d
plain loop (minutes of compilation on a CPU).

Run: ``python bench/bench_ladder_throughput.py [--steps 10] [--repeats 5] [--skip-sizes]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch.nn import functional as F

from scalelaw.ladder.corpora import CorpusSpec
from scalelaw.ladder.model import DecoderLM, ModelShape
from scalelaw.ladder.trainer import RunConfig, configure_torch, make_optimizer, train_run, train_step

MODELS: tuple[tuple[int, int, int], ...] = ((16, 1, 2), (32, 2, 2), (64, 2, 4), (96, 3, 4), (128, 4, 4), (256, 4, 8))
#: Models of the trainer-against-plain-loop comparison (part 2).
COMPARED: tuple[tuple[int, int, int], ...] = ((16, 1, 2), (32, 2, 2), (64, 2, 4))
SEQ_LEN, BATCH_TOKENS = 64, 2048
CORPUS = CorpusSpec(kind="markov", vocab_size=64, order=1, branching=3)
#: torch's own thread count before anything configures it: what a plain loop gets.
DEFAULT_THREADS = torch.get_num_threads()


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


def sizes_table(corpus: CorpusSpec, steps: int, cores: int) -> None:
    """Part 1: tokens per second per model size at one thread and all cores, and the cost model."""
    header = f"{'width':>5} {'depth':>5} {'params':>9} {'non-emb':>9} {'MFLOP/tok':>9} " \
             f"{'tok/s 1thr':>10} {'tok/CPU-s':>10} {f'tok/s {cores}thr':>10} {'GFLOP/s 1thr':>12}"
    print(header)
    print("-" * len(header))
    flops_per_step, cpu_per_step = [], []
    for width, depth, heads in MODELS:
        shape = ModelShape(width=width, depth=depth, heads=heads, seq_len=SEQ_LEN, vocab_size=64)
        config = RunConfig(run_id="bench", shape=shape, corpus=corpus, tokens=BATCH_TOKENS * 10,
                           batch_size=BATCH_TOKENS, schedule="constant:peak=1e-3", seed=0)
        wall_1, cpu_1 = time_steps(config, 1, steps)
        wall_n, _ = time_steps(config, cores, steps)
        tokens = steps * BATCH_TOKENS
        flops_per_step.append(shape.flops_per_token() * BATCH_TOKENS)
        cpu_per_step.append(cpu_1 / steps)
        print(f"{width:>5} {depth:>5} {shape.params:>9,} {shape.non_embedding_params:>9,} "
              f"{shape.flops_per_token() / 1e6:>9.3f} {tokens / wall_1:>10,.0f} {tokens / cpu_1:>10,.0f} "
              f"{tokens / wall_n:>10,.0f} {shape.flops_per_token() * tokens / cpu_1 / 1e9:>12.2f}")
    # Weighted by 1/time: relative errors count, so the small models are fitted as well as the large.
    slope, overhead = np.polyfit(np.array(flops_per_step), np.array(cpu_per_step), 1, w=1 / np.array(cpu_per_step))
    print(f"\ncost model fitted to the 1-thread CPU times: seconds per step = {max(overhead, 0):.4f} "
          f"+ FLOPs / {1 / slope:.3g}")


Timing = tuple[float, float]  # (wall seconds, CPU seconds) of the timed steps


def time_trainer(config: RunConfig) -> Timing:
    """The trainer (``train_run``, one thread) over steps 3..steps-1: after two warm-up steps, before the final eval."""
    marks: dict[int, Timing] = {}

    def progress(_run: str, step: int, _total: int) -> None:
        if step in (2, config.steps - 1):
            marks[step] = (time.perf_counter(), time.process_time())

    train_run(config, threads=1, progress=progress)
    (wall_0, cpu_0), (wall_1, cpu_1) = marks[2], marks[config.steps - 1]
    return wall_1 - wall_0, cpu_1 - cpu_0


def time_plain_loop(config: RunConfig, threads: int, compile_model: bool = False) -> Timing:
    """A plain PyTorch loop of the same model and batches, timed over the same steps as :func:`time_trainer`.

    What a user would write: torch's defaults (no deterministic mode), ``torch.optim.AdamW``
    with the run's settings, the batch drawn from the corpus at each step, clipping, and
    the loss read back every step.
    """
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(False)
    torch.manual_seed(config.seed)
    corpus = config.corpus.build()
    model = DecoderLM(config.shape)
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(config.beta1, config.beta2),
                                  weight_decay=config.weight_decay)
    losses = []
    start: Timing = (0.0, 0.0)
    for step in range(1, config.steps):
        if step == 3:
            start = (time.perf_counter(), time.process_time())
        batch = torch.from_numpy(corpus.train_batch(seed=config.seed, step=step, sequences=config.sequences,
                                                    seq_len=config.shape.seq_len))
        logits = forward(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        losses.append(loss.item())
    return time.perf_counter() - start[0], time.process_time() - start[1]


def time_sampler(config: RunConfig) -> float:
    """Seconds per step of drawing the batches alone (what the trainer's prefetch overlaps with training)."""
    corpus = config.corpus.build()
    begin = time.process_time()
    for step in range(3, config.steps):
        corpus.train_batch(seed=config.seed, step=step, sequences=config.sequences, seq_len=config.shape.seq_len)
    return (time.process_time() - begin) / (config.steps - 3)


VARIANTS = ("trainer", "plain 1thr", "plain default-thr", "plain compiled 1thr")


def time_variant(variant: str, config: RunConfig) -> Timing:
    """One measurement of one variant, in this process (see :func:`measure`)."""
    if variant == "trainer":
        return time_trainer(config)
    if variant == "plain 1thr":
        return time_plain_loop(config, 1)
    if variant == "plain default-thr":
        return time_plain_loop(config, DEFAULT_THREADS)
    return time_plain_loop(config, 1, compile_model=True)


def compared_config(model: tuple[int, int, int], corpus: CorpusSpec, steps: int) -> RunConfig:
    width, depth, heads = model
    shape = ModelShape(width=width, depth=depth, heads=heads, seq_len=SEQ_LEN, vocab_size=corpus.vocab_size)
    return RunConfig(run_id="bench", shape=shape, corpus=corpus, tokens=BATCH_TOKENS * steps,
                     batch_size=BATCH_TOKENS, schedule="constant:peak=1e-3", seed=0, evals=1, eval_sequences=8)


def measure(variant: str, model: tuple[int, int, int], steps: int) -> Timing:
    """Time one variant: the one-thread ones in this process, the others in a fresh process, because the
    OpenMP threads of a multi-threaded run keep spinning for a while after it ends and slow what follows."""
    if variant in ("trainer", "plain 1thr"):
        return time_variant(variant, compared_config(model, CORPUS, steps))
    command = [sys.executable, __file__, "--child", variant, "--model", ",".join(map(str, model)), "--steps", str(steps)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    return float(output[-2]), float(output[-1])


def trainer_vs_plain_loop(steps: int, repeats: int, with_compile: bool) -> None:
    """Part 2: the trainer's tokens per second against the plain loop's, interleaved, median ratios."""
    names = list(VARIANTS if with_compile else VARIANTS[:3])
    print(f"\ntrainer (train_run, 1 thread, prefetching) vs a plain PyTorch loop, same model and batches; "
          f"{steps - 4} timed steps of {BATCH_TOKENS} tokens, {repeats} interleaved repeats, multi-threaded "
          f"variants in a fresh process; tok/s = median over repeats (wall); ratio = median of per-repeat trainer/plain, wall (CPU)")
    header = f"{'width':>5} {'depth':>5} {'data ms':>7} " + " ".join(f"{f'tok/s {n}':>17}" for n in names) + " " + \
        " ".join(f"{f'trainer/{n}':>20}" for n in names[1:])
    print(header)
    print("-" * len(header))
    for model in COMPARED:
        timings: dict[str, list[Timing]] = {n: [] for n in names}
        for _ in range(repeats):
            for name in names:
                timings[name].append(measure(name, model, steps))
        tokens = (steps - 4) * BATCH_TOKENS
        rates = " ".join(f"{tokens / statistics.median(w for w, _ in timings[n]):>17,.0f}" for n in names)
        ratios = []
        for name in names[1:]:
            wall = statistics.median(p[0] / t[0] for t, p in zip(timings["trainer"], timings[name], strict=True))
            cpu = statistics.median(p[1] / t[1] for t, p in zip(timings["trainer"], timings[name], strict=True))
            ratios.append(f"{f'{wall:.2f} ({cpu:.2f})':>20}")
        sampler = time_sampler(compared_config(model, CORPUS, steps))
        print(f"{model[0]:>5} {model[1]:>5} {sampler * 1e3:>7.2f} {rates} {' '.join(ratios)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-sizes", action="store_true", help="only part 2 (trainer against the plain loop)")
    parser.add_argument("--compile", action="store_true", help="add a torch.compile'd plain loop (slow to compile)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model = tuple(int(v) for v in args.model.split(","))
        wall, cpu = time_variant(args.child, compared_config((model[0], model[1], model[2]), CORPUS, args.steps))
        print(wall, cpu)
        return
    cores = os.cpu_count() or 1
    print(f"cores: {cores}; load average at start: {os.getloadavg()[0]:.1f}; torch {torch.__version__}")
    if not args.skip_sizes:
        sizes_table(CORPUS, args.steps, cores)
    trainer_vs_plain_loop(max(args.steps, 6), args.repeats, args.compile)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
