"""Tiny language models trained for real (seconds each), the shared part of the end-to-end tests.

Every tool trains the same grid: three widths (a few thousand parameters; three sizes so
that a law reading the model size is identifiable) times two lengths (so that the token
axis varies too: the final-loss laws such as ``chinchilla`` need more runs than their five
parameters). The data is a fixed random Markov chain over a 64-token vocabulary: a wider
model represents its transition table better, so the loss falls with size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

VOCAB, SEQ_LEN, BATCH = 64, 32, 8
TOKENS_PER_STEP = BATCH * SEQ_LEN
WIDTHS = (8, 16, 32)
LENGTHS = (15, 30)
PEAK_LR, WARMUP = 2e-2, 3


@dataclass(frozen=True)
class Spec:
    """One run of the grid."""

    width: int
    steps: int

    @property
    def name(self) -> str:
        return f"w{self.width}-s{self.steps}"


GRID = tuple(Spec(w, s) for w in WIDTHS for s in LENGTHS)


def markov_batches(steps: int, seed: int = 0) -> torch.Tensor:
    """``steps`` batches of token ids (steps, BATCH, SEQ_LEN) from one fixed Markov chain."""
    chain = torch.Generator().manual_seed(1234)
    transition = torch.softmax(3.0 * torch.randn(VOCAB, VOCAB, generator=chain), dim=-1)
    draw = torch.Generator().manual_seed(seed)
    ids = torch.empty(steps * BATCH, SEQ_LEN, dtype=torch.long)
    ids[:, 0] = torch.randint(VOCAB, (steps * BATCH,), generator=draw)
    for t in range(1, SEQ_LEN):
        ids[:, t] = torch.multinomial(transition[ids[:, t - 1]], 1, generator=draw).squeeze(1)
    return ids.view(steps, BATCH, SEQ_LEN)


def lr_factor(total: int) -> Callable[[int], float]:
    """The LambdaLR factor: linear warmup over WARMUP steps, then a cosine to zero at ``total``."""

    def factor(step: int) -> float:
        if step < WARMUP:
            return (step + 1) / WARMUP
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - WARMUP) / max(1, total - WARMUP))))

    return factor


class TinyLM(torch.nn.Module):
    """Embedding, one nonlinearity, unembedding: ``2·VOCAB·width + VOCAB + width·width + width`` parameters."""

    def __init__(self, width: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.Embedding(VOCAB, width)
        self.mix = torch.nn.Linear(width, width)
        self.out = torch.nn.Linear(width, VOCAB)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy of a batch of token ids."""
        logits = self.out(torch.tanh(self.mix(self.embed(ids[:, :-1]))))
        return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), ids[:, 1:].reshape(-1))


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def plain_loop(spec: Spec) -> Iterator[tuple[int, float, float, TinyLM]]:
    """Train a TinyLM by hand: yields (step, loss, lr of that update, model) after every update."""
    model = TinyLM(spec.width)
    optimizer = torch.optim.AdamW(model.parameters(), lr=PEAK_LR)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(spec.steps))
    for step, batch in enumerate(markov_batches(spec.steps), start=1):
        lr = optimizer.param_groups[0]["lr"]
        loss = model(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        yield step, float(loss.detach()), lr, model
