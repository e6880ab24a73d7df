"""A small decoder-only transformer (GPT-style, pre-LayerNorm) for the ladder.

Deliberately plain: learned position embeddings, causal self-attention through
``scaled_dot_product_attention``, a 4x GELU MLP and an unembedding tied to the token
embedding, so parameter counts follow the usual Kaplan/Chinchilla conventions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ModelShape:
    """The architecture of one ladder model: width, depth, heads, context and vocabulary."""

    width: int
    depth: int
    heads: int
    seq_len: int
    vocab_size: int

    def __post_init__(self) -> None:
        for name in ("width", "depth", "heads", "seq_len", "vocab_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")

    @property
    def embedding_params(self) -> int:
        """Token plus position embedding parameters (the unembedding is tied)."""
        return self.vocab_size * self.width + self.seq_len * self.width

    @property
    def non_embedding_params(self) -> int:
        """Parameters of the blocks and the final LayerNorm: 12 d^2 + 13 d per layer, plus 2 d."""
        d = self.width
        return self.depth * (12 * d * d + 13 * d) + 2 * d

    @property
    def params(self) -> int:
        return self.embedding_params + self.non_embedding_params

    def flops_per_token(self) -> float:
        """Training FLOPs per token: 6 x (non-embedding + unembedding matmul) + attention scores.

        Kaplan et al. 2020's count: 6 N per token for the weights (here including the
        vocabulary projection, which costs compute although it is tied) plus
        6 n_layer n_ctx d for the attention logits and their use.
        """
        d = self.width
        weights = self.non_embedding_params + self.vocab_size * d
        return 6.0 * weights + 6.0 * self.depth * self.seq_len * d


class _Block(nn.Module):
    """One pre-LayerNorm transformer block: causal self-attention then an MLP."""

    def __init__(self, shape: ModelShape) -> None:
        super().__init__()
        d = shape.width
        self.heads = shape.heads
        self.norm_attn = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm_mlp = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d)
        self.down = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, d = x.shape
        q, k, v = self.qkv(self.norm_attn(x)).split(d, dim=2)
        q, k, v = (t.view(batch, length, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(attended.transpose(1, 2).reshape(batch, length, d))
        return x + self.down(F.gelu(self.up(self.norm_mlp(x))))


class DecoderLM(nn.Module):
    """A decoder-only language model returning next-token logits."""

    def __init__(self, shape: ModelShape) -> None:
        super().__init__()
        self.shape = shape
        self.token_embedding = nn.Embedding(shape.vocab_size, shape.width)
        self.position_embedding = nn.Embedding(shape.seq_len, shape.width)
        self.blocks = nn.ModuleList(_Block(shape) for _ in range(shape.depth))
        self.norm_out = nn.LayerNorm(shape.width)
        self.apply(self._init_weights)
        # GPT-2's scaled init of the residual projections keeps deep models stable.
        for block in self.blocks:
            for layer in (block.proj, block.down):
                nn.init.normal_(layer.weight, std=0.02 / math.sqrt(2 * shape.depth))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        for block in self.blocks:
            x = block(x)
        return self.norm_out(x) @ self.token_embedding.weight.T

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
