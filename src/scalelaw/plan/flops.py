"""FLOP accounting for training runs: 6·N·D by default, with the terms that move exponents.

Porian et al. (2024) show that counting the last layer (the unembedding) and the
attention FLOPs, rather than Kaplan's 6·N_non-embedding per token, moves the
compute-optimal exponent from about 0.83 towards 0.5; every such term is an explicit
keyword here so a user states which accounting the numbers use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelaw.errors import InputError

#: Forward + backward pass cost of one multiply-accumulate per parameter per token.
FLOPS_PER_PARAM_PER_TOKEN = 6.0


@dataclass(frozen=True)
class FlopAccounting:
    """Which terms to count beyond 6·N per token, and the model shape they need.

    ``last_layer`` adds the unembedding matmul (6·vocab·d_model per token),
    ``embedding`` the input embedding as if it were a matmul (6·vocab·d_model, as
    Chinchilla's table counts it), ``attention`` the score and value products
    (6·n_layers·seq_len·d_model per token, Kaplan's C_forward term times three).
    The shape is either fixed (``d_model``, ``n_layers``) or, to compare model sizes,
    follows from N through ``aspect_ratio`` = d_model/n_layers and N = 12·n_layers·d_model².
    """

    last_layer: bool = False
    embedding: bool = False
    attention: bool = False
    vocab: int | None = None
    d_model: int | None = None
    n_layers: int | None = None
    seq_len: int | None = None
    aspect_ratio: float | None = None

    def __post_init__(self) -> None:
        needed: list[str] = []
        if self.last_layer or self.embedding:
            needed += ["vocab", "d_model"]
        if self.attention:
            needed += ["n_layers", "seq_len", "d_model"]
        for name in dict.fromkeys(needed):
            value = getattr(self, name)
            derived = name in ("d_model", "n_layers") and self.aspect_ratio is not None
            if not derived and (value is None or value <= 0):
                raise InputError(
                    f"FLOP accounting with these terms needs a positive {name}"
                    f"{' (or --aspect-ratio)' if name in ('d_model', 'n_layers') else ''}, got {value!r}"
                )
        if self.aspect_ratio is not None and self.aspect_ratio <= 0:
            raise InputError(f"the aspect ratio d_model/n_layers must be positive, got {self.aspect_ratio!r}")

    def shape(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(d_model, n_layers) for each N: the fixed shape, or the one the aspect ratio implies."""
        if self.aspect_ratio is None:
            return np.full(params.shape, float(self.d_model or 0)), np.full(params.shape, float(self.n_layers or 0))
        n_layers = (params / (12.0 * self.aspect_ratio**2)) ** (1.0 / 3.0)
        return self.aspect_ratio * n_layers, n_layers

    def per_token(self, params: np.ndarray | float) -> np.ndarray:
        """Training FLOPs per token for models of ``params`` non-embedding parameters."""
        n = np.asarray(params, dtype=float)
        if np.any(~np.isfinite(n)) or np.any(n <= 0):
            raise InputError("FLOP accounting needs positive, finite parameter counts")
        d_model, n_layers = self.shape(n)
        total = FLOPS_PER_PARAM_PER_TOKEN * n
        vocab_matmul = FLOPS_PER_PARAM_PER_TOKEN * float(self.vocab or 0) * d_model
        if self.last_layer:
            total = total + vocab_matmul
        if self.embedding:
            total = total + vocab_matmul
        if self.attention:
            total = total + FLOPS_PER_PARAM_PER_TOKEN * n_layers * float(self.seq_len) * d_model
        return total

    @property
    def is_standard(self) -> bool:
        """True when only 6·N per token is counted."""
        return not (self.last_layer or self.embedding or self.attention)


#: The default: 6·N·D, N the parameter count as given.
STANDARD = FlopAccounting()


def training_flops(
    params: np.ndarray | float, tokens: np.ndarray | float, *, accounting: FlopAccounting = STANDARD
) -> np.ndarray:
    """Training FLOPs of models of ``params`` parameters trained on ``tokens`` tokens."""
    d = np.asarray(tokens, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise InputError("FLOP accounting needs non-negative, finite token counts")
    return accounting.per_token(params) * d


def tokens_for_flops(
    params: np.ndarray | float, flops: np.ndarray | float, *, accounting: FlopAccounting = STANDARD
) -> np.ndarray:
    """The number of tokens a model of ``params`` parameters sees with a budget of ``flops``."""
    return np.asarray(flops, dtype=float) / accounting.per_token(params)
