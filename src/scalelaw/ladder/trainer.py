"""Train one ladder run: AdamW, gradient clipping, a learning-rate schedule, and a log
of train loss every step and eval loss at intervals, resumable from a checkpoint.

In the run table, ``loss`` is the eval loss (set at the eval steps, NaN in between,
where ``lr`` still carries the schedule, as the run model prescribes) and
``train_loss`` the train loss of every step; so ``scalelaw fit STORE`` fits eval losses.

The data of step ``s`` depends only on ``(seed, s)`` and the checkpoint holds the
model, the optimizer and the log so far, so a run resumed after a crash produces
exactly the numbers of an uninterrupted one (same seed, same thread count).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from scalelaw.data.schedules import Schedule
from scalelaw.ladder.corpora import Corpus, CorpusSpec
from scalelaw.ladder.model import DecoderLM, ModelShape
from scalelaw.ladder.schedule_template import schedule_for

#: ``progress(run_id, steps_done, total_steps)``, called after every optimizer step.
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run; the run id names it in the store."""

    run_id: str
    shape: ModelShape
    corpus: CorpusSpec
    tokens: int
    batch_size: int
    schedule: str
    seed: int
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    evals: int = 10
    eval_sequences: int = 128

    def __post_init__(self) -> None:
        if self.batch_size % self.shape.seq_len:
            raise ValueError(f"batch_size {self.batch_size} (tokens) is not a multiple of seq_len {self.shape.seq_len}")
        if self.tokens < self.batch_size:
            raise ValueError(f"tokens {self.tokens} is less than one batch of {self.batch_size}")

    @property
    def steps(self) -> int:
        """Optimizer steps: the token budget rounded up to whole batches."""
        return math.ceil(self.tokens / self.batch_size)

    @property
    def sequences(self) -> int:
        return self.batch_size // self.shape.seq_len

    @property
    def flops(self) -> float:
        """Training FLOPs of the whole run."""
        return self.shape.flops_per_token() * self.steps * self.batch_size

    def lr_schedule(self) -> Schedule:
        return schedule_for(self.schedule, self.steps)

    def eval_steps(self) -> set[int]:
        """Steps after which the eval loss is measured: ``evals`` evenly spaced ones, always the last."""
        count = max(1, min(self.evals, self.steps))
        return {round(self.steps * (i + 1) / count) for i in range(count)}


def pick_device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_torch(threads: int, seed: int) -> None:
    """Threads, seed and deterministic kernels (on the CPU) for reproducible runs."""
    torch.set_num_threads(max(1, threads))
    torch.manual_seed(seed)
    if not torch.cuda.is_available():
        torch.use_deterministic_algorithms(True)


def train_run(
    config: RunConfig,
    *,
    checkpoint: Path | None = None,
    threads: int = 1,
    checkpoint_seconds: float = 30.0,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Train ``config`` to the end and return its log as a run table (one row per step).

    With ``checkpoint``, the state is saved there every ``checkpoint_seconds`` and at
    every eval, and a matching checkpoint found at start is resumed from; a checkpoint
    of a different config is ignored (the run restarts).
    """
    configure_torch(threads, config.seed)
    device = pick_device()
    corpus = config.corpus.build()
    model = DecoderLM(config.shape).to(device)
    optimizer = make_optimizer(model, config)
    schedule = config.lr_schedule()
    rows: list[dict[str, float]] = []
    start = 0
    state = _load_checkpoint(checkpoint, config)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rows, start = state["rows"], state["step"]
    eval_tokens = torch.from_numpy(corpus.eval_set(sequences=config.eval_sequences, seq_len=config.shape.seq_len))
    eval_steps = config.eval_steps()
    last_save = time.monotonic()
    for step, tokens in prefetched_batches(corpus, config, start + 1):
        lr = float(schedule.lr(np.array([step]))[0])
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = torch.from_numpy(tokens).to(device)
        loss = train_step(model, optimizer, batch, config.grad_clip)
        row = {"step": float(step), "tokens": float(step * config.batch_size), "train_loss": loss, "lr": lr}
        row["flops"] = config.shape.flops_per_token() * row["tokens"]
        if not math.isfinite(loss):
            raise FloatingPointError(f"run {config.run_id}: the train loss is {loss} at step {step} (diverged)")
        if step in eval_steps:
            row["loss"] = evaluate(model, eval_tokens.to(device), corpus)
        rows.append(row)
        if checkpoint is not None and (step in eval_steps or time.monotonic() - last_save > checkpoint_seconds):
            _save_checkpoint(checkpoint, config, model, optimizer, rows, step)
            last_save = time.monotonic()
        if progress is not None:
            progress(config.run_id, step, config.steps)
    return run_table(config, rows, corpus)


def prefetched_batches(corpus: Corpus, config: RunConfig, first_step: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(step, tokens)`` for steps ``first_step..steps``, each batch drawn in a background thread while the previous step trains.

    A batch depends only on ``(seed, step)``, so drawing it ahead changes no number; it
    hides the sampler's time (a Python loop over positions) behind the model's kernels,
    which release the GIL.
    """
    def draw(step: int) -> np.ndarray:
        return corpus.train_batch(seed=config.seed, step=step, sequences=config.sequences, seq_len=config.shape.seq_len)

    if first_step > config.steps:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ladder-data") as loader:
        pending = loader.submit(draw, first_step)
        for step in range(first_step, config.steps + 1):
            tokens = pending.result()
            if step < config.steps:
                pending = loader.submit(draw, step + 1)
            yield step, tokens


def make_optimizer(model: DecoderLM, config: RunConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on biases, norms or embeddings' positions)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "position" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "position" in n]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=0.0, betas=(config.beta1, config.beta2))


def train_step(model: DecoderLM, optimizer: torch.optim.Optimizer, batch: torch.Tensor, grad_clip: float) -> float:
    """One optimizer step on ``batch`` (inputs and shifted targets); returns the train loss."""
    model.train()
    logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(loss.item())


@torch.no_grad()
def evaluate(model: DecoderLM, tokens: torch.Tensor, corpus: Corpus, chunk: int = 32) -> float:
    """Mean cross-entropy (nats/token) on the eval set, over targets with full context.

    Against the true next-token law when the corpus knows it (Markov), else against the
    observed next token.
    """
    model.eval()
    first_target = max(corpus.eval_from - 1, 0)
    law = corpus.next_token_law(tokens.cpu().numpy())
    truth = tokens[:, 1:][:, first_target:] if law is None else torch.from_numpy(law).to(tokens.device, torch.float32)
    total, count = 0.0, 0
    for part, target in zip(tokens.split(chunk), truth.split(chunk), strict=True):
        logits = model(part[:, :-1])[:, first_target:]
        flat_target = target.reshape(-1, target.shape[-1]) if law is not None else target.reshape(-1)
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), flat_target, reduction="sum"))
        count += logits.shape[0] * logits.shape[1]
    return total / count


def oracle_eval_loss(corpus: Corpus, *, sequences: int, seq_len: int) -> float | None:
    """The eval loss of the true model on the eval set (None when the source is unknown)."""
    law = corpus.next_token_law(corpus.eval_set(sequences=sequences, seq_len=seq_len))
    if law is None:
        return None
    return float(-(law * np.log(law)).sum(axis=-1).mean())


def run_table(config: RunConfig, rows: list[dict[str, float]], corpus: Corpus) -> pd.DataFrame:
    """The log as a run table: per-step rows (``loss`` = eval loss where measured) plus the run's metadata."""
    table = pd.DataFrame(rows)
    shape = config.shape
    meta: dict[str, Any] = {
        "params": float(shape.params),
        "non_embedding_params": float(shape.non_embedding_params),
        "embedding_params": float(shape.embedding_params),
        "batch_size": float(config.batch_size),
        "seq_len": float(shape.seq_len),
        "dataset": corpus.name,
        "width": shape.width,
        "depth": shape.depth,
        "heads": shape.heads,
        "seed": config.seed,
        "schedule": config.lr_schedule().to_spec(),
        "entropy_rate": np.nan if corpus.entropy_rate is None else corpus.entropy_rate,
    }
    for column, value in meta.items():
        table[column] = value
    table.insert(0, "run", config.run_id)
    return table


def _save_checkpoint(
    path: Path, config: RunConfig, model: DecoderLM, optimizer: torch.optim.Optimizer, rows: list[dict[str, float]], step: int
) -> None:
    """Write atomically (temporary file, then rename), so a kill never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"config": asdict(config), "model": model.state_dict(), "optimizer": optimizer.state_dict(), "rows": rows, "step": step}
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def _load_checkpoint(path: Path | None, config: RunConfig) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        state = torch.load(path, weights_only=False)
    except Exception:  # an unreadable checkpoint is restarted from scratch, never trusted
        return None
    return state if state.get("config") == asdict(config) else None
