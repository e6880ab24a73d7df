"""Sweep specs: a YAML file listing or gridding model sizes, token budgets, batch sizes,
schedules and seeds, expanded into one :class:`RunConfig` per combination.

Example::

    name: small
    corpus: {kind: markov, vocab_size: 64, order: 1, branching: 3}
    seq_len: 32
    models: {width: [16, 32], depth: 1, heads: 2}    # a grid, or a list of mappings
    tokens: [200000, 500000]                          # or tokens_per_param: [10, 40]
    batch_size: 1024                                  # tokens per optimizer step
    schedules: ["cosine:peak=1e-2,final=1e-3,warmup=5%"]
    seeds: [0]

A run's id is readable (size, tokens, batch, seed) and ends with a digest of its whole
configuration, so changing any setting makes a new run instead of reusing a stored one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scalelaw.data.guards import MAX_SMALL_FILE_BYTES, read_capped
from scalelaw.data.safe_yaml import load_yaml
from scalelaw.errors import InputError
from scalelaw.ladder.corpora import CorpusSpec
from scalelaw.ladder.model import ModelShape
from scalelaw.ladder.schedule_template import schedule_for
from scalelaw.ladder.trainer import RunConfig

#: Optional scalar settings passed through to every run, with their types.
RUN_SETTINGS: dict[str, type] = {
    "weight_decay": float,
    "beta1": float,
    "beta2": float,
    "grad_clip": float,
    "evals": int,
    "eval_sequences": int,
}
KNOWN_KEYS: tuple[str, ...] = (
    "name", "corpus", "seq_len", "models", "tokens", "tokens_per_param", "batch_size", "schedules", "seeds", "target",
    *RUN_SETTINGS,
)
#: Most runs one spec may expand to (the grid is counted before it is built).
MAX_RUNS = 10_000
#: Largest width, depth and context of a ladder model (the ladder trains small models).
MAX_DIMENSION = 1 << 16


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: the runs to train, plus an optional larger ``target`` run (for the demo)."""

    name: str
    runs: tuple[RunConfig, ...]
    target: RunConfig | None
    file: str | None


def load_spec(path: str | Path, *, allowed_roots: Sequence[Path] = ()) -> SweepSpec:
    """Read and expand a sweep spec file; any problem is an :class:`InputError` naming the key.

    Paths in the spec (a text corpus) must lie inside the spec's folder or one of ``allowed_roots``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("sweep spec not found", file=str(path))
    try:
        text = read_capped(path, MAX_SMALL_FILE_BYTES).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the spec is not UTF-8 text (byte {exc.start})", file=str(path)) from None
    raw = load_yaml(text, file=str(path))
    return parse_spec(raw, file=str(path), base_dir=path.parent, allowed_roots=allowed_roots)


def parse_spec(raw: Any, *, file: str | None = None, base_dir: Path | None = None,
               allowed_roots: Sequence[Path] = ()) -> SweepSpec:
    """Expand a spec already read from YAML (a mapping) into run configs (paths as in :func:`load_spec`)."""
    if not isinstance(raw, dict):
        raise InputError("a sweep spec must be a YAML mapping (name, corpus, models, tokens, ...)", file=file)
    unknown = sorted(set(raw) - set(KNOWN_KEYS))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; known keys: {', '.join(KNOWN_KEYS)}", file=file, column=unknown[0])
    reader = _Reader(raw, file)
    name = str(raw.get("name", Path(file).stem if file else "ladder"))
    corpus = CorpusSpec.from_mapping(raw.get("corpus"), file=file, base_dir=base_dir, allowed_roots=allowed_roots)
    seq_len = reader.ints("seq_len", default=[64])[0]
    vocab = corpus.vocabulary
    shapes = [_shape(m, seq_len, vocab, file) for m in reader.models()]
    if ("tokens" in raw) == ("tokens_per_param" in raw):
        raise InputError("give exactly one of 'tokens' and 'tokens_per_param'", file=file, column="tokens")
    budgets = reader.numbers("tokens") if "tokens" in raw else reader.numbers("tokens_per_param")
    per_param = "tokens_per_param" in raw
    batch_sizes = reader.ints("batch_size", default=[16 * seq_len])
    schedules = [str(s) for s in reader.list("schedules", default=["cosine:peak=3e-3,final=3e-4,warmup=5%"])]
    for schedule in schedules:
        schedule_for(schedule, 100, file=file)  # fail early on a bad template
    seeds = reader.ints("seeds", default=[0], allow_zero=True)
    settings = {key: reader.setting(key, kind) for key, kind in RUN_SETTINGS.items() if key in raw}
    count = len(shapes) * len(budgets) * len(batch_sizes) * len(schedules) * len(seeds)
    if count > MAX_RUNS:
        raise InputError(f"the spec expands to {count:,} runs, more than the {MAX_RUNS:,} allowed", file=file)
    runs = []
    for shape, budget, batch, schedule, seed in itertools.product(shapes, budgets, batch_sizes, schedules, seeds):
        tokens = round(budget * shape.params) if per_param else round(budget)
        runs.append(_config(name, shape, corpus, tokens, batch, schedule, seed, settings, file))
    target = None
    if raw.get("target") is not None:
        target = _target(raw["target"], name, seq_len, vocab, corpus, batch_sizes[0], schedules[0], seeds[0], settings, file)
    return SweepSpec(name=name, runs=tuple(runs), target=target, file=file)


class _Reader:
    """Reads scalar-or-list values of a spec, with errors naming the key."""

    def __init__(self, raw: dict[str, Any], file: str | None) -> None:
        self.raw, self.file = raw, file

    def list(self, key: str, *, default: list[Any] | None = None) -> list[Any]:
        value = self.raw.get(key, default)
        if value is None:
            raise InputError(f"the spec needs {key!r}", file=self.file, column=key)
        values = value if isinstance(value, list) else [value]
        if not values:
            raise InputError(f"{key!r} is an empty list", file=self.file, column=key)
        return values

    def numbers(self, key: str, *, default: list[Any] | None = None, allow_zero: bool = False) -> list[float]:
        """The values of ``key`` as positive numbers (or non-negative with ``allow_zero``)."""
        out = []
        for value in self.list(key, default=default):
            try:
                number = float(value)
            except (TypeError, ValueError, OverflowError):
                number = math.nan
            if isinstance(value, bool) or not math.isfinite(number):
                raise InputError(f"{key!r}: {str(value)[:40]!r} is not a finite number", file=self.file,
                                 column=key) from None
            if number < 0 or (number == 0 and not allow_zero):
                raise InputError(f"{key!r}: {value!r} must be {'>= 0' if allow_zero else 'positive'}", file=self.file, column=key)
            out.append(number)
        return out

    def ints(self, key: str, *, default: list[Any] | None = None, allow_zero: bool = False) -> list[int]:
        numbers = self.numbers(key, default=default, allow_zero=allow_zero)
        if any(n != int(n) for n in numbers):
            raise InputError(f"{key!r} must hold whole numbers, got {numbers}", file=self.file, column=key)
        return [int(n) for n in numbers]

    def setting(self, key: str, kind: type) -> Any:
        """One scalar run setting (a finite number of type ``kind``)."""
        value = self.numbers(key, allow_zero=True)
        if len(value) != 1 or (kind is int and value[0] != int(value[0])):
            raise InputError(f"{key!r} must be one {kind.__name__}", file=self.file, column=key)
        return kind(value[0])

    def models(self) -> list[dict[str, Any]]:
        """The ``models`` key: a list of mappings, or one mapping of lists (a grid)."""
        value = self.raw.get("models")
        if isinstance(value, dict):
            keys = list(value)
            grids = [v if isinstance(v, list) else [v] for v in value.values()]
            if math.prod(len(g) for g in grids) > MAX_RUNS:
                raise InputError(f"the 'models' grid has more than {MAX_RUNS:,} models", file=self.file,
                                 column="models")
            return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grids)]
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return value
        raise InputError(
            "'models' must be a list of {width, depth, heads} mappings or one mapping of lists (a grid)",
            file=self.file, column="models",
        )


def _shape(model: dict[str, Any], seq_len: int, vocab: int, file: str | None) -> ModelShape:
    unknown = sorted(set(model) - {"width", "depth", "heads"})
    if unknown or "width" not in model:
        raise InputError(f"a model needs width (and optionally depth, heads); got {model}", file=file, column="models")
    try:
        shape = ModelShape(width=int(model["width"]), depth=int(model.get("depth", 1)),
                           heads=int(model.get("heads", 1)), seq_len=seq_len, vocab_size=vocab)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"model {str(model)[:80]}: {exc}", file=file, column="models") from None
    if max(shape.width, shape.depth, shape.seq_len) > MAX_DIMENSION:
        raise InputError(f"model {str(model)[:80]}: width, depth and seq_len must be at most {MAX_DIMENSION}",
                         file=file, column="models")
    return shape


def _config(
    name: str, shape: ModelShape, corpus: CorpusSpec, tokens: int, batch: int, schedule: str, seed: int,
    settings: dict[str, Any], file: str | None,
) -> RunConfig:
    try:
        draft = RunConfig(run_id="", shape=shape, corpus=corpus, tokens=tokens, batch_size=batch, schedule=schedule,
                          seed=seed, **settings)
    except ValueError as exc:
        raise InputError(str(exc), file=file, column="batch_size") from None
    schedule_for(schedule, draft.steps, file=file)
    digest = hashlib.sha256(json.dumps(asdict(draft), sort_keys=True).encode()).hexdigest()[:8]
    run_id = f"{name}-w{shape.width}d{shape.depth}h{shape.heads}-t{tokens}-b{batch}-s{seed}-{digest}"
    return RunConfig(**{**asdict(draft), "shape": shape, "corpus": corpus, "run_id": run_id})


def _target(
    raw: Any, name: str, seq_len: int, vocab: int, corpus: CorpusSpec, batch: int, schedule: str, seed: int,
    settings: dict[str, Any], file: str | None,
) -> RunConfig:
    if not isinstance(raw, dict) or "tokens" not in raw:
        raise InputError("'target' must be a mapping {width, depth, heads, tokens}", file=file, column="target")
    model = {k: v for k, v in raw.items() if k != "tokens"}
    tokens = _Reader(raw, file).numbers("tokens")[0]
    return _config(name, _shape(model, seq_len, vocab, file), corpus, round(tokens), batch, schedule, seed, settings, file)
