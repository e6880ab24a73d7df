"""The ladder model: parameter counts, FLOPs and shape checks."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from scalelaw.ladder.model import DecoderLM, ModelShape  # noqa: E402


@pytest.mark.parametrize(("width", "depth", "heads"), [(8, 1, 1), (16, 2, 2), (48, 3, 4)])
def test_parameter_counts_match_the_module(width: int, depth: int, heads: int) -> None:
    shape = ModelShape(width=width, depth=depth, heads=heads, seq_len=16, vocab_size=32)
    model = DecoderLM(shape)
    assert shape.params == model.count_params()
    embeddings = model.token_embedding.weight.numel() + model.position_embedding.weight.numel()
    assert shape.embedding_params == embeddings
    assert shape.non_embedding_params == shape.params - embeddings


def test_logits_have_vocabulary_width_and_attention_is_causal() -> None:
    torch.manual_seed(0)
    model = DecoderLM(ModelShape(width=16, depth=2, heads=2, seq_len=8, vocab_size=11)).eval()
    tokens = torch.randint(0, 11, (2, 8))
    logits = model(tokens)
    assert logits.shape == (2, 8, 11)
    changed = tokens.clone()
    changed[:, -1] = (changed[:, -1] + 1) % 11
    # Changing the last token must not change the predictions at earlier positions.
    assert torch.allclose(model(changed)[:, :-1], logits[:, :-1], atol=1e-6)


def test_flops_grow_with_size_and_context() -> None:
    small = ModelShape(width=16, depth=1, heads=2, seq_len=16, vocab_size=32)
    assert ModelShape(32, 1, 2, 16, 32).flops_per_token() > small.flops_per_token()
    assert ModelShape(16, 1, 2, 64, 32).flops_per_token() > small.flops_per_token()
    assert small.flops_per_token() >= 6 * small.non_embedding_params


@pytest.mark.parametrize("bad", [dict(width=10, heads=3), dict(depth=0), dict(vocab_size=0)])
def test_impossible_shapes_are_refused(bad: dict[str, int]) -> None:
    values = dict(width=16, depth=1, heads=2, seq_len=8, vocab_size=8) | bad
    with pytest.raises(ValueError):
        ModelShape(**values)
