"""``scalelaw plan compute`` and ``plan target``: the compute-optimal allocation and the cheapest compute to a loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from scalelaw.cli.plan import FIT_ARGUMENT, JSON_OPTION, LEVEL_OPTION, load_fitted, plan_app, show_answer


def accounting_of(
    last_layer: bool, attention: bool, embedding: bool, vocab: int | None, d_model: int | None,
    n_layers: int | None, seq_len: int | None, aspect_ratio: float | None,
) -> Any:
    """The FLOP accounting the --last-layer/--attention/--embedding options describe."""
    from scalelaw.plan.flops import FlopAccounting

    return FlopAccounting(last_layer=last_layer, embedding=embedding, attention=attention, vocab=vocab,
                          d_model=d_model, n_layers=n_layers, seq_len=seq_len, aspect_ratio=aspect_ratio)


LAST_LAYER_OPTION = typer.Option(False, "--last-layer", help="Count the unembedding FLOPs, 6·vocab·d_model per token.")
ATTENTION_OPTION = typer.Option(False, "--attention", help="Count attention FLOPs, 6·n_layers·seq_len·d_model per token.")
EMBEDDING_OPTION = typer.Option(False, "--embedding", help="Count the input embedding as a matmul, 6·vocab·d_model.")
VOCAB_OPTION = typer.Option(None, "--vocab", help="Vocabulary size (for --last-layer/--embedding).")
D_MODEL_OPTION = typer.Option(None, "--d-model", help="Model width, if fixed.")
N_LAYERS_OPTION = typer.Option(None, "--n-layers", help="Number of layers, if fixed.")
SEQ_LEN_OPTION = typer.Option(None, "--seq-len", help="Sequence length (for --attention).")
ASPECT_OPTION = typer.Option(None, "--aspect-ratio", help="d_model/n_layers, to derive each size's shape from N = 12·n_layers·d_model².")


@plan_app.command("compute")
def compute(
    fit: Path = FIT_ARGUMENT,
    flops: float = typer.Option(..., "--flops", help="Training compute budget C in FLOPs."),
    last_layer: bool = LAST_LAYER_OPTION,
    attention: bool = ATTENTION_OPTION,
    embedding: bool = EMBEDDING_OPTION,
    vocab: int | None = VOCAB_OPTION,
    d_model: int | None = D_MODEL_OPTION,
    n_layers: int | None = N_LAYERS_OPTION,
    seq_len: int | None = SEQ_LEN_OPTION,
    aspect_ratio: float | None = ASPECT_OPTION,
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Compute-optimal N and D for a budget, and the predicted loss (approach 3), with intervals."""
    from scalelaw.plan.compute import compute_optimal, refuse_without_optimum

    accounting = accounting_of(last_layer, attention, embedding, vocab, d_model, n_layers, seq_len, aspect_ratio)
    fitted = load_fitted(fit)
    refuse_without_optimum(fitted, source=str(fit))
    answer = compute_optimal(fitted, flops=flops, accounting=accounting, level=level)
    show_answer(f"compute-optimal allocation at C = {flops:.3g} FLOPs", answer, as_json)


@plan_app.command("target")
def target(
    fit: Path = FIT_ARGUMENT,
    loss: float = typer.Option(..., "--loss", help="Target loss (nats)."),
    params: float | None = typer.Option(None, "--params", help="Model size N (kaplan-steps: steps and tokens for this N)."),
    last_layer: bool = LAST_LAYER_OPTION,
    attention: bool = ATTENTION_OPTION,
    embedding: bool = EMBEDDING_OPTION,
    vocab: int | None = VOCAB_OPTION,
    d_model: int | None = D_MODEL_OPTION,
    n_layers: int | None = N_LAYERS_OPTION,
    seq_len: int | None = SEQ_LEN_OPTION,
    aspect_ratio: float | None = ASPECT_OPTION,
    level: float = LEVEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The cheapest way to reach a loss: compute, N and D (chinchilla-like), or steps and tokens (kaplan-steps)."""
    from scalelaw.plan import answers
    from scalelaw.plan.compute import cheapest_compute, refuse_without_optimum

    fitted = load_fitted(fit)
    if fitted.law.name != "kaplan-steps":
        refuse_without_optimum(fitted, source=str(fit))
        accounting = accounting_of(last_layer, attention, embedding, vocab, d_model, n_layers, seq_len, aspect_ratio)
        answer = cheapest_compute(fitted, loss=loss, accounting=accounting, level=level)
        show_answer(f"cheapest compute reaching loss {loss}", answer, as_json)
    elif params is None:
        show_answer(f"smallest model that can reach loss {loss}", answers.smallest_model(fitted, loss=loss, level=level), as_json)
    else:
        result = answers.minimum_steps_and_tokens(fitted, params=params, loss=loss, level=level)
        show_answer(f"minimum steps and tokens to loss {loss} with N = {params:.3g}", result, as_json)
