"""Hyperparameter laws: the optimal peak learning rate and batch size as power laws of N, D or C.

Step Law (Li et al. 2025, "Predictable Scale: Part I"): η_opt = a·N^α·D^β and
B_opt = b·D^γ. DeepSeek LLM (DeepSeek-AI 2024): η_opt = 0.3118·C^−0.1250 and
B_opt = 0.2920·C^0.3271 (B in tokens, C in FLOPs). These predict hyperparameters, not a
loss, so they are plain immutable parameter tuples rather than registered loss laws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StepLaw:
    """η_opt = lr_coef·N^lr_params_exp·D^lr_tokens_exp and B_opt = bs_coef·D^bs_tokens_exp."""

    lr_coef: float
    lr_params_exp: float
    lr_tokens_exp: float
    bs_coef: float
    bs_tokens_exp: float

    def learning_rate(self, params: np.ndarray | float, tokens: np.ndarray | float) -> np.ndarray:
        """Optimal peak learning rate for N parameters trained on D tokens."""
        return self.lr_coef * np.asarray(params, dtype=float) ** self.lr_params_exp * np.asarray(tokens, dtype=float) ** self.lr_tokens_exp

    def batch_size(self, tokens: np.ndarray | float) -> np.ndarray:
        """Optimal batch size (tokens per step) for D training tokens."""
        return self.bs_coef * np.asarray(tokens, dtype=float) ** self.bs_tokens_exp


@dataclass(frozen=True)
class ComputeLaw:
    """η_opt = lr_coef·C^lr_exp and B_opt = bs_coef·C^bs_exp (DeepSeek LLM's form)."""

    lr_coef: float
    lr_exp: float
    bs_coef: float
    bs_exp: float

    def learning_rate(self, flops: np.ndarray | float) -> np.ndarray:
        """Optimal peak learning rate at compute C."""
        return self.lr_coef * np.asarray(flops, dtype=float) ** self.lr_exp

    def batch_size(self, flops: np.ndarray | float) -> np.ndarray:
        """Optimal batch size (tokens per step) at compute C."""
        return self.bs_coef * np.asarray(flops, dtype=float) ** self.bs_exp


#: Published constants: DeepSeek LLM (2024), eq. (1).
DEEPSEEK_2024 = ComputeLaw(lr_coef=0.3118, lr_exp=-0.1250, bs_coef=0.2920, bs_exp=0.3271)
#: Published constants: Step Law (Li et al. 2025): η_opt = 1.79·N^−0.713·D^0.307, B_opt = 0.58·D^0.571 (B in tokens).
STEP_LAW_2025 = StepLaw(lr_coef=1.79, lr_params_exp=-0.713, lr_tokens_exp=0.307, bs_coef=0.58, bs_tokens_exp=0.571)
