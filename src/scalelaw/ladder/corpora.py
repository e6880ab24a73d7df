"""Training corpora that need no download: a Markov chain with a known entropy rate,
a user's text file read as bytes, and English-like text generated from a fixed grammar.

Every corpus yields batches that depend only on ``(seed, step)``, so a run resumed from
a checkpoint sees exactly the data it would have seen, and a fixed evaluation set that
is the same for every run of a sweep, so their eval losses are comparable.

A sweep spec is untrusted (copied from elsewhere): a text corpus's path must resolve,
symlinks followed, inside the spec's folder or a root the user allowed on the command
line (``--allow-root``), and the file is never read whole: each batch reads its
sequences at their offsets, so memory does not grow with the file (at most
``MAX_CORPUS_BYTES``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scalelaw.errors import InputError
from scalelaw.ladder.grammar import generate_text

#: Corpus kinds a sweep spec may name.
CORPUS_KINDS: tuple[str, ...] = ("markov", "text", "grammar")
#: Largest text corpus file (bytes); it is read a batch at a time, never whole.
MAX_CORPUS_BYTES = 16 << 30


class Corpus(Protocol):
    """What the trainer needs from a corpus."""

    name: str
    vocab_size: int
    #: Eval loss counts targets from this position on (earlier ones lack full context).
    eval_from: int
    #: The exact irreducible loss in nats per token, when the source is known; else None.
    entropy_rate: float | None

    def train_batch(self, *, seed: int, step: int, sequences: int, seq_len: int) -> np.ndarray:
        """``sequences`` rows of ``seq_len + 1`` token ids for optimizer step ``step``."""
        ...

    def eval_set(self, *, sequences: int, seq_len: int) -> np.ndarray:
        """The fixed evaluation sequences (same for every run)."""
        ...

    def next_token_law(self, tokens: np.ndarray) -> np.ndarray | None:
        """The true next-token law from position ``eval_from`` on, (B, L - eval_from, V), if known.

        When known, the eval loss is the cross-entropy against this law instead of the
        sampled token: the same expectation with far less noise.
        """
        ...


@dataclass(frozen=True)
class CorpusSpec:
    """A corpus as written in a sweep spec; hashable, so workers can rebuild and cache it.

    ``kind`` is ``markov`` (``vocab_size``, ``order``, ``branching``, ``smoothing``,
    ``seed``), ``text`` (``path``: any file, read as bytes) or ``grammar``
    (``characters`` of generated text, ``seed``).
    """

    kind: str = "markov"
    vocab_size: int = 32
    order: int = 2
    branching: int = 3
    smoothing: float = 0.02
    seed: int = 0
    path: str | None = None
    characters: int = 2_000_000

    @classmethod
    def from_mapping(cls, raw: Any, *, file: str | None = None, base_dir: Path | None = None,
                     allowed_roots: Sequence[Path] = ()) -> CorpusSpec:
        """Read the ``corpus:`` section of a sweep spec.

        A text ``path`` read from a spec file is resolved against ``base_dir`` (the spec's
        folder) and must end up inside it or inside one of ``allowed_roots``. Without
        ``base_dir`` (a spec built in Python, whose author is the caller) it is only resolved.
        """
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise InputError("'corpus' must be a mapping such as {kind: markov, order: 2}", file=file, column="corpus")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InputError(f"corpus: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}", file=file, column="corpus")
        spec_values = dict(raw)
        if spec_values.get("path") is not None:
            path = str(spec_values["path"])
            resolved = Path(path).resolve() if base_dir is None else _inside_roots(path, base_dir, allowed_roots, file=file)
            spec_values["path"] = str(resolved)
        try:
            spec = cls(**spec_values)
        except TypeError as exc:
            raise InputError(f"corpus: {exc}", file=file, column="corpus") from None
        spec.validate(file=file)
        return spec

    def validate(self, *, file: str | None = None) -> None:
        """Raise an :class:`InputError` for impossible settings."""
        def fail(message: str) -> None:
            raise InputError(f"corpus: {message}", file=file, column="corpus")

        if self.kind not in CORPUS_KINDS:
            fail(f"unknown kind {self.kind!r}; known kinds: {', '.join(CORPUS_KINDS)}")
        if self.kind == "markov":
            if not 2 <= self.vocab_size <= 256:
                fail(f"vocab_size must be in [2, 256], got {self.vocab_size}")
            if not 1 <= self.order or self.vocab_size**self.order > 2**20:
                fail(f"order {self.order} gives too many states (vocab_size**order must be <= 2**20)")
            if not 1 <= self.branching <= self.vocab_size:
                fail(f"branching must be in [1, vocab_size], got {self.branching}")
            if not 0 < self.smoothing < 1:
                fail(f"smoothing must be in (0, 1) so that the chain is ergodic, got {self.smoothing}")
        if self.kind == "text" and (self.path is None or not Path(self.path).is_file()):
            raise InputError("corpus: text file not found", file=self.path or file, column="path")
        if self.kind == "text" and Path(str(self.path)).stat().st_size > MAX_CORPUS_BYTES:
            raise InputError(f"corpus: the text file is larger than the {MAX_CORPUS_BYTES >> 30} GiB allowed",
                             file=self.path, column="path")
        if self.kind == "grammar" and self.characters < 10_000:
            fail(f"characters must be at least 10000, got {self.characters}")

    @property
    def vocabulary(self) -> int:
        """The corpus's vocabulary size, known without building it (bytes: 256)."""
        return self.vocab_size if self.kind == "markov" else 256

    @property
    def label(self) -> str:
        """A short name stored in the ``dataset`` column."""
        if self.kind == "markov":
            return f"markov-v{self.vocab_size}-k{self.order}-b{self.branching}-s{self.seed}"
        if self.kind == "text":
            return f"text:{Path(str(self.path)).name}"
        return f"grammar-s{self.seed}"

    def build(self) -> Corpus:
        """The corpus itself (cached per process: a Markov chain's stationary law costs a moment)."""
        return _build(self)


@functools.lru_cache(maxsize=8)
def _build(spec: CorpusSpec) -> Corpus:
    if spec.kind == "markov":
        return MarkovCorpus(spec)
    if spec.kind == "text":
        return ByteCorpus(Path(str(spec.path)), name=spec.label, file=spec.path)
    return ByteCorpus(generate_text(spec.characters, seed=spec.seed).encode("ascii"), name=spec.label)


def _inside_roots(text: str, base_dir: Path, allowed_roots: Sequence[Path], *, file: str | None) -> Path:
    """``text`` resolved against ``base_dir`` (symlinks followed), if inside ``base_dir`` or an allowed root."""
    if "\x00" in text:
        raise InputError("corpus: the path holds a NUL character", file=file, column="path")
    resolved = (base_dir / text).resolve()
    roots = [base_dir.resolve(), *(Path(root).resolve() for root in allowed_roots)]
    if not any(resolved == root or root in resolved.parents for root in roots):
        raise InputError(f"corpus: the text path {text[:200]!r} resolves to {str(resolved)[:200]!r}, outside the "
                         f"spec's folder {str(roots[0])!r}; move the file there or allow its folder with "
                         "--allow-root DIR", file=file, column="path")
    return resolved


class MarkovCorpus:
    """Sequences from a random sparse order-k Markov chain over a small vocabulary.

    Each of the ``vocab_size**order`` contexts has ``branching`` likely next tokens
    with Dirichlet(1) weights, mixed with ``smoothing`` of the uniform law so the chain
    is ergodic. Sequences start from the stationary law, so from position ``order`` on
    every target has entropy exactly ``sum_s pi(s) H(P(.|s))``, the entropy rate: the
    loss no model can beat.
    """

    def __init__(self, spec: CorpusSpec) -> None:
        self.name = spec.label
        self.vocab_size = spec.vocab_size
        self.order = spec.order
        self.eval_from = spec.order
        rng = np.random.default_rng([spec.seed, 1])
        states = spec.vocab_size**spec.order
        sparse = np.zeros((states, spec.vocab_size))
        for state in range(states):
            successors = rng.choice(spec.vocab_size, size=spec.branching, replace=False)
            sparse[state, successors] = rng.dirichlet(np.ones(spec.branching))
        self.transition = (1.0 - spec.smoothing) * sparse + spec.smoothing / spec.vocab_size
        self._cdf = np.cumsum(self.transition, axis=1)
        self.stationary = self._stationary()
        row_entropy = -(self.transition * np.log(self.transition)).sum(axis=1)
        self.entropy_rate: float | None = float(self.stationary @ row_entropy)

    def _next_state(self, state: np.ndarray, token: np.ndarray) -> np.ndarray:
        return (state * self.vocab_size) % (self.vocab_size**self.order) + token

    def _stationary(self) -> np.ndarray:
        """Power iteration on the state chain (ergodic thanks to the smoothing)."""
        states = self.vocab_size**self.order
        successor = self._next_state(np.arange(states)[:, None], np.arange(self.vocab_size)[None, :])
        pi = np.full(states, 1.0 / states)
        for _ in range(100_000):
            new = np.bincount(successor.ravel(), weights=(pi[:, None] * self.transition).ravel(), minlength=states)
            if np.abs(new - pi).sum() < 1e-15:
                return new / new.sum()
            pi = new
        raise RuntimeError("the Markov chain's stationary distribution did not converge")

    def _sample(self, rng: np.random.Generator, sequences: int, length: int) -> np.ndarray:
        tokens = np.empty((sequences, length), dtype=np.int64)
        state = rng.choice(self.stationary.size, size=sequences, p=self.stationary)
        for position in range(self.order):  # the start state's digits are the first tokens
            tokens[:, position] = (state // self.vocab_size ** (self.order - 1 - position)) % self.vocab_size
        uniforms = rng.random((sequences, length))
        for position in range(self.order, length):
            token = (self._cdf[state] < uniforms[:, position, None]).sum(axis=1)
            token = np.minimum(token, self.vocab_size - 1)
            tokens[:, position] = token
            state = self._next_state(state, token)
        return tokens

    def next_token_law(self, tokens: np.ndarray) -> np.ndarray:
        """The true law of every token from position ``order`` on given what precedes it: (B, L - order, V)."""
        state = np.zeros(tokens.shape[0], dtype=np.int64)
        for position in range(self.order):
            state = self._next_state(state, tokens[:, position])
        out = np.empty((tokens.shape[0], tokens.shape[1] - self.order, self.vocab_size))
        for position in range(self.order, tokens.shape[1]):
            out[:, position - self.order] = self.transition[state]
            state = self._next_state(state, tokens[:, position])
        return out

    def train_batch(self, *, seed: int, step: int, sequences: int, seq_len: int) -> np.ndarray:
        return self._sample(np.random.default_rng([seed, step, 2]), sequences, seq_len + 1)

    def eval_set(self, *, sequences: int, seq_len: int) -> np.ndarray:
        return self._sample(np.random.default_rng([3]), sequences, seq_len + 1)


class ByteCorpus:
    """Bytes as tokens (vocabulary 256): the first 90% trains, the last 10% evaluates.

    The bytes are given, or a file read a sequence at a time (``os.pread`` at each
    offset): memory stays that of one batch whatever the file's size, and a file cut
    short while training is an InputError, not a crash.
    """

    def __init__(self, source: bytes | Path, *, name: str, file: str | None = None) -> None:
        self.name = name
        self.vocab_size = 256
        self.eval_from = 0
        self.entropy_rate = None
        self.file = file
        self._data = source if isinstance(source, bytes) else None
        self._path = None if isinstance(source, bytes) else source
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        self._split, self._size = int(size * 0.9), size

    def _read(self, starts: Sequence[int], count: int) -> np.ndarray:
        """``count`` bytes from each offset in ``starts``, as rows of token ids."""
        if self._data is not None:
            chunks = [self._data[start : start + count] for start in starts]
        else:
            descriptor = os.open(str(self._path), os.O_RDONLY)
            try:
                chunks = [os.pread(descriptor, count, start) for start in starts]
            finally:
                os.close(descriptor)
            if any(len(chunk) != count for chunk in chunks):
                raise InputError("the text corpus file was cut short while training", file=self.file)
        return np.frombuffer(b"".join(chunks), dtype=np.uint8).astype(np.int64).reshape(len(chunks), count)

    def _check_length(self, size: int, seq_len: int, what: str) -> None:
        if size < seq_len + 1:
            raise InputError(
                f"the text is too short: its {what} part has {size} bytes, fewer than one sequence "
                f"of {seq_len + 1}; give a longer file or a smaller seq_len",
                file=self.file,
            )

    def train_batch(self, *, seed: int, step: int, sequences: int, seq_len: int) -> np.ndarray:
        self._check_length(self._split, seq_len, "training (first 90%)")
        rng = np.random.default_rng([seed, step, 2])
        starts = rng.integers(0, self._split - seq_len, size=sequences)
        return self._read([int(s) for s in starts], seq_len + 1)

    def eval_set(self, *, sequences: int, seq_len: int) -> np.ndarray:
        held_out = self._size - self._split
        self._check_length(held_out, seq_len, "evaluation (last 10%)")
        count = min(sequences, (held_out - 1) // seq_len)
        (tokens,) = self._read([self._split], count * seq_len + 1)
        return np.stack([tokens[i * seq_len : i * seq_len + seq_len + 1] for i in range(count)])

    def next_token_law(self, tokens: np.ndarray) -> None:
        return None
