"""Model size N without loading a model: from a ``model.safetensors`` header or a ``config.json``.

The safetensors header (8-byte little-endian length, then JSON naming each tensor's
shape) gives the exact count of saved parameters; transformers saves tied weights once.
The header is read with a size bound and no weights are touched. Without weights, N is
computed from the architecture fields of common model types (formulas checked against
transformers' own parameter counts in ``tests/data/fixtures/architectures.json``).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping
from pathlib import Path

from scalelaw.errors import InputError

#: safetensors' own limit on the header size.
MAX_HEADER_BYTES = 100 * 1024 * 1024
MAX_SHARDS = 1000
#: Names of embedding tables in transformers checkpoints (GPT-2 ``wte``/``wpe``, Llama ``embed_tokens``, ...).
EMBEDDING = re.compile(r"(^|\.)(wte|wpe|embed_tokens|embed_positions|word_embeddings|position_embeddings|embed_in)\.")


def safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """The shape of every tensor listed in a safetensors file's header (the weights are never read)."""
    try:
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise InputError("the safetensors file is shorter than its 8-byte header length", file=str(path))
            (size,) = struct.unpack("<Q", prefix)
            if size > MAX_HEADER_BYTES:
                raise InputError(f"the safetensors header claims {size} bytes, more than the "
                                 f"{MAX_HEADER_BYTES} allowed", file=str(path))
            text = handle.read(size)
    except OSError as exc:
        raise InputError(f"cannot read the safetensors file: {exc.strerror or exc}", file=str(path)) from None
    if len(text) != size:
        raise InputError("the safetensors header is cut off", file=str(path))
    try:
        header = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"the safetensors header is not JSON: {exc}", file=str(path)) from None
    if not isinstance(header, dict):
        raise InputError("the safetensors header is not a JSON object", file=str(path))
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                                  for n in shape):
            raise InputError(f"tensor {str(name)[:60]!r} has no valid shape in the safetensors header",
                             file=str(path))
        shapes[str(name)] = shape
    return shapes


def safetensors_params(path: Path) -> int:
    """The number of values in every tensor listed in a safetensors file's header."""
    return sum(math.prod(shape) for shape in safetensors_shapes(path).values())


def non_embedding_params(shapes: dict[str, list[int]]) -> int:
    """Values outside the token and position embedding tables (what the Trainer's FLOP count multiplies)."""
    return sum(math.prod(shape) for name, shape in shapes.items() if not EMBEDDING.search(name))


def folder_shapes(folder: Path) -> tuple[dict[str, list[int]], str] | None:
    """Tensor shapes of a saved model folder's safetensors file(s) (sharded or not), with where they came from."""
    single = folder / "model.safetensors"
    if single.is_file():
        return safetensors_shapes(single), str(single)
    shards = sorted(folder.glob("model-*-of-*.safetensors"))[: MAX_SHARDS + 1]
    if not shards:
        return None
    if len(shards) > MAX_SHARDS:
        raise InputError(f"more than {MAX_SHARDS} safetensors shards", file=str(folder))
    return {name: shape for p in shards for name, shape in safetensors_shapes(p).items()}, str(folder / "model-*.safetensors")


def folder_params(folder: Path) -> tuple[int, str] | None:
    """N from the safetensors file(s) of a saved model folder (sharded or not), with the file it came from."""
    found = folder_shapes(folder)
    return None if found is None else (sum(math.prod(s) for s in found[0].values()), found[1])


def _int(config: Mapping[str, object], *names: str, default: int | None = None) -> int:
    for name in names:
        value = config.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    if default is None:
        raise KeyError(names[0])
    return default


def _gated_decoder(config: Mapping[str, object], model_type: str) -> int:
    """Llama-style decoders: gated MLP, RMSNorm, grouped-query attention."""
    d = _int(config, "hidden_size")
    layers = _int(config, "num_hidden_layers")
    heads = _int(config, "num_attention_heads")
    kv = _int(config, "num_key_value_heads", default=heads)
    head_dim = config.get("head_dim") or d // heads
    assert isinstance(head_dim, int)
    ffn = _int(config, "intermediate_size")
    vocab = _int(config, "vocab_size")
    q, k = heads * head_dim, kv * head_dim
    attention = d * q + 2 * d * k + q * d
    if model_type == "qwen2":
        attention += q + 2 * k
    elif config.get("attention_bias"):
        attention += q + 2 * k + d
    mlp = 3 * d * ffn + (2 * ffn + d if config.get("mlp_bias") else 0)
    norms = {"olmo": 0, "olmo2": 2 * d + q + k}.get(model_type, 2 * d)
    if model_type == "qwen3":
        norms += 2 * head_dim
    final_norm = 0 if model_type == "olmo" else d
    head = 0 if config.get("tie_word_embeddings") else vocab * d
    return vocab * d + layers * (attention + mlp + norms) + final_norm + head


def _gpt2(config: Mapping[str, object]) -> int:
    d = _int(config, "n_embd", "hidden_size")
    layers = _int(config, "n_layer", "num_hidden_layers")
    ffn = _int(config, "n_inner", default=4 * d) if config.get("n_inner") is not None else 4 * d
    vocab = _int(config, "vocab_size")
    positions = _int(config, "n_positions", "max_position_embeddings")
    block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * ffn + ffn) + (ffn * d + d)
    head = 0 if config.get("tie_word_embeddings", True) else vocab * d
    return vocab * d + positions * d + layers * block + 2 * d + head


def _gpt_neox(config: Mapping[str, object]) -> int:
    d = _int(config, "hidden_size")
    layers = _int(config, "num_hidden_layers")
    ffn = _int(config, "intermediate_size")
    vocab = _int(config, "vocab_size")
    bias = 4 * d if config.get("attention_bias", True) else 0
    block = 4 * d + 3 * d * d + d * d + bias + (d * ffn + ffn) + (ffn * d + d)
    head = 0 if config.get("tie_word_embeddings") else vocab * d
    return vocab * d + layers * block + 2 * d + head


GATED = frozenset({"llama", "mistral", "qwen2", "qwen3", "olmo", "olmo2", "gemma", "phi3"})


def config_params(config: Mapping[str, object]) -> int | None:
    """N computed from a transformers ``config.json``; None for a model type without a formula here."""
    model_type = str(config.get("model_type", ""))
    try:
        if model_type in GATED:
            return _gated_decoder(config, model_type)
        if model_type == "gpt2":
            return _gpt2(config)
        if model_type == "gpt_neox":
            return _gpt_neox(config)
    except (KeyError, AssertionError, ZeroDivisionError):
        return None
    return None
