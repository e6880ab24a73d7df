"""What each law is, readable without importing numpy, pandas or scipy.

``scalelaw laws`` and ``--help`` answer from these cards in a few milliseconds; the law
module itself (with its numerical imports) is imported only when the law is built. A
test checks every card against its law class, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LawCard:
    """A law's name, the module that defines it, and what ``scalelaw laws`` shows (default options)."""

    name: str
    module: str
    kind: str
    formula: str
    params: tuple[str, ...]
    inputs: tuple[str, ...]
    citation: str


_MPL_CITATION = "Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules (ICLR 2025)"

CARDS: dict[str, LawCard] = {
    card.name: card
    for card in (
        LawCard(
            "chinchilla", "chinchilla", "final", "L(N, D) = E + A/N^alpha + B/D^beta",
            ("E", "A", "B", "alpha", "beta"), ("params", "tokens"),
            "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models",
        ),
        LawCard(
            "chinchilla-curve", "chinchilla_curve", "curve",
            "L = E + A*N^-alpha + B*(N/1e8)^epsilon*S1^-beta - D*(N/1e8)^delta * sum_k (r[k-1]-r[k])*(1-(1+kappa*r[k]"
            "^-gamma*S_k(t)/1e9)^-rho), r = lr/peak, S1 = sum r*batch_tokens",
            ("E", "A", "alpha", "B", "beta", "D", "delta", "kappa", "rho", "gamma", "epsilon"), ("step", "lr", "params"),
            "Hoffmann et al. 2022 (Chinchilla) with the loss drop of Luo et al. 2025 (Multi-Power Law); form and "
            "backtests in scalelaw docs/guide/curve-across-sizes.md",
        ),
        LawCard(
            "loss-to-loss", "loss_to_loss", "final", "L_y = K*(L_x - E_x)^kappa + E_y, L_x = another loss column (option x)",
            ("K", "kappa", "E_x", "E_y"), ("orig_loss",),
            "Brandfonbrener et al. 2024, Loss-to-Loss Prediction: Scaling Laws for All Datasets",
        ),
        LawCard(
            "sigmoid", "sigmoid", "curve", "ACC(x) = a / (1 + exp(-k*(x - x0))) + b, x = a loss column (option x)",
            ("a", "x0", "k", "b"), ("orig_loss",),
            "Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model Ladders (step 2)",
        ),
        LawCard(
            "chance-sigmoid", "chance_sigmoid", "final",
            "ACC = c + (h - c) * sigmoid(s*(log10 x - m)), c = chance, h = ceiling (held), x = params | flops",
            ("s", "m"), ("params",),
            "Ruan et al. 2024 (observational scaling laws); Maia Polo et al. 2024 (Sloth): sigmoid above the chance level",
        ),
        LawCard(
            "log-linear", "log_linear", "final", "ACC = a + b*(log10 x - r), x = params (r = 9) | flops (r = 21)",
            ("a", "b"), ("params",),
            "Owen 2024, How predictable is language model benchmark performance? (log-linear baseline)",
        ),
        LawCard(
            "sigmoid-chinchilla", "sigmoid_chinchilla", "final", "ACC(N, D) = p / (1 + exp(-(A/N^alpha + B/D^beta + E))) + q",
            ("A", "B", "alpha", "beta", "E", "p", "q"), ("params", "tokens"),
            "Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model Ladders (single step)",
        ),
        LawCard(
            "data-constrained", "data_constrained", "final",
            "L = E + A/N'^alpha + B/D'^beta,  D' = U + U*R_D*(1 - exp(-(D/U - 1)/R_D)),  N' likewise with R_N",
            ("E", "A", "B", "alpha", "beta", "R_D", "R_N"), ("params", "tokens", "unique_tokens"),
            "Muennighoff et al. 2023, Scaling Data-Constrained Language Models",
        ),
        LawCard(
            "kaplan", "kaplan", "final", "L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
            ("N_c", "D_c", "alpha_N", "alpha_D"), ("params", "tokens"),
            "Kaplan et al. 2020, Scaling Laws for Neural Language Models",
        ),
        LawCard(
            "kaplan-steps", "kaplan_steps", "curve",
            "L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S, S_min = S/(1 + B*/(B L^(1/alpha_B)))",
            ("alpha_N", "N_c", "alpha_S", "S_c", "alpha_B", "B_star"), ("params", "step", "batch_size"),
            "Kaplan et al. 2020; Su et al. 2024, Unraveling the Mystery of Scaling Laws: Part I",
        ),
        LawCard(
            "lr-annealing", "lr_annealing", "curve",
            "L(s) = L0 + A*S1^-alpha - C*S2, S2 = sum_i m_i, m_i = lambda*m_{i-1} + (lr[i-1] - lr[i])",
            ("L0", "A", "alpha", "C"), ("step", "lr"),
            "Tissue et al. 2024, Scaling Law with Learning Rate Annealing (arXiv:2408.11029)",
        ),
        LawCard(
            "multi-power", "multi_power", "curve",
            "L(t) = L0 + A*(S1(t)+S_W)^-alpha - B*sum_k (lr[k-1]-lr[k])*(1-(C*lr[k]^-gamma*S_k(t)+1)^-beta)",
            ("L0", "A", "alpha", "B", "C", "beta", "gamma"), ("step", "lr"), _MPL_CITATION,
        ),
        LawCard(
            "multi-power-sized", "multi_power", "curve",
            "multi-power with X(N) = X*(N/1e8)^X_exp for X in L0, A, alpha, B",
            ("L0", "A", "alpha", "B", "C", "beta", "gamma", "L0_exp", "A_exp", "alpha_exp", "B_exp"),
            ("step", "lr", "params"), _MPL_CITATION,
        ),
        LawCard(
            "overtraining", "overtraining", "final", "L = E + (a*M^eta + b*M^(-eta)) * C^(-eta),  M = D/N, C = 6ND",
            ("E", "a", "b", "eta"), ("params", "tokens"),
            "Gadre et al. 2024, Language models scale reliably with over-training and on downstream tasks",
        ),
        LawCard(
            "power", "power", "final", "L(x) = E + A*x^(-alpha), x = params | tokens | flops | step",
            ("E", "A", "alpha"), ("params",), "Kaplan et al. 2020; Hoffmann et al. 2022 (offset E)",
        ),
    )
}
