"""Corpora: the Markov chain's exact entropy rate, determinism, text files and the grammar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.ladder.corpora import CorpusSpec, MarkovCorpus
from scalelaw.ladder.grammar import generate_text


def test_stationary_law_is_stationary_and_rows_are_distributions() -> None:
    corpus = MarkovCorpus(CorpusSpec(vocab_size=8, order=2, branching=3, seed=4))
    assert np.allclose(corpus.transition.sum(axis=1), 1.0)
    pi = corpus.stationary
    states = pi.size
    moved = np.zeros(states)
    for state in range(states):
        for token in range(corpus.vocab_size):
            moved[(state * corpus.vocab_size) % states + token] += pi[state] * corpus.transition[state, token]
    assert np.allclose(moved, pi, atol=1e-12)


def test_entropy_rate_matches_the_sampled_log_loss_of_the_true_model() -> None:
    corpus = MarkovCorpus(CorpusSpec(vocab_size=12, order=2, branching=3, seed=1))
    tokens = corpus.train_batch(seed=0, step=1, sequences=400, seq_len=400)
    law = corpus.next_token_law(tokens)
    observed = tokens[:, corpus.order :]
    log_p = np.log(np.take_along_axis(law, observed[..., None], axis=-1))
    # 160k samples: the empirical log-loss is within a few standard errors of the exact rate.
    assert abs(-log_p.mean() - corpus.entropy_rate) < 4 * log_p.std() / np.sqrt(log_p.size)
    # ... and the entropy is far from that of a uniform guess, so the check has teeth.
    assert corpus.entropy_rate < 0.7 * np.log(12)


def test_batches_depend_only_on_seed_and_step() -> None:
    corpus = CorpusSpec(vocab_size=16, order=1).build()
    first = corpus.train_batch(seed=3, step=7, sequences=4, seq_len=20)
    assert np.array_equal(first, corpus.train_batch(seed=3, step=7, sequences=4, seq_len=20))
    assert not np.array_equal(first, corpus.train_batch(seed=3, step=8, sequences=4, seq_len=20))
    assert not np.array_equal(first, corpus.train_batch(seed=4, step=7, sequences=4, seq_len=20))
    assert first.shape == (4, 21) and first.max() < 16


def test_text_corpus_uses_bytes_and_holds_out_the_end(tmp_path: Path) -> None:
    path = tmp_path / "book.txt"
    path.write_bytes(bytes(range(256)) * 40)
    corpus = CorpusSpec.from_mapping({"kind": "text", "path": "book.txt"}, base_dir=tmp_path).build()
    assert corpus.vocab_size == 256 and corpus.entropy_rate is None
    batch = corpus.train_batch(seed=0, step=1, sequences=3, seq_len=32)
    assert batch.shape == (3, 33)
    assert np.all((np.diff(batch, axis=1) % 256) == 1)  # consecutive bytes of the file
    assert corpus.eval_set(sequences=4, seq_len=32).shape == (4, 33)


def test_too_short_text_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("tiny", encoding="utf-8")
    corpus = CorpusSpec(kind="text", path=str(path)).build()
    with pytest.raises(InputError, match="too short") as info:
        corpus.eval_set(sequences=2, seq_len=64)
    assert info.value.location.file == str(path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "zipf"}, "unknown kind"),
        ({"kind": "markov", "smoothing": 0.0}, "smoothing"),
        ({"kind": "markov", "branching": 40, "vocab_size": 8}, "branching"),
        ({"kind": "text", "path": "missing.txt"}, "not found"),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_bad_corpus_settings_are_input_errors(tmp_path: Path, raw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        CorpusSpec.from_mapping(raw, file="spec.yaml", base_dir=tmp_path)


def test_grammar_text_is_deterministic_english_like_ascii() -> None:
    text = generate_text(20_000, seed=5)
    assert text == generate_text(20_000, seed=5) and text != generate_text(20_000, seed=6)
    assert len(text) >= 20_000 and text.isascii()
    sentences = [s for s in text.replace("\n", " ").split(". ") if s]
    assert all(s[0].isupper() for s in sentences)


@pytest.mark.parametrize("raw", [{"kind": "markov", "vocab_size": 24}, {"kind": "grammar", "characters": 10_000}])
def test_vocabulary_is_known_before_building(raw: dict[str, object]) -> None:
    spec = CorpusSpec.from_mapping(raw)
    assert spec.vocabulary == spec.build().vocab_size
