"""Reader of Hugging Face Trainer output folders (``trainer_state.json``, ``checkpoint-*/``).

A run folder holds ``trainer_state.json`` (written by ``trainer.save_state()``) and/or
``checkpoint-N/trainer_state.json``; its ``log_history`` has train entries (``loss``,
``learning_rate``, ``grad_norm``, ``epoch``, ``step``) and eval entries (``eval_loss``, ...)
at the same steps, which the pipeline merges. Each earlier state file is a prefix of a
later one, so the history is the one of the state file with the highest ``global_step``
(the top-level file on a tie); the others only serve to warn when a resumed run rewrote
its past. Run metadata: N from ``model.safetensors`` (header only) or ``config.json``,
sequences per step from ``trainer_state.json`` and an optional ``training_args.json``
(``TrainingArguments.to_json_string()``). ``training_args.bin`` is a pickle and is never read.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from scalelaw.data.aliases import metadata_from
from scalelaw.data.readers.model_size import config_params, folder_shapes, non_embedding_params
from scalelaw.data.readers.raw import Keys, RawTable, columns_from_records
from scalelaw.data.readers.tabular import MAX_COLUMNS, json_cell
from scalelaw.errors import DataWarning, InputError, warn

STATE = "trainer_state.json"
CHECKPOINT = re.compile(r"checkpoint-(\d+)$")
MAX_JSON_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 3
#: Keys of the summary entry ``Trainer.train`` appends at the end (``train_loss`` there is a run average).
SUMMARY_KEYS = frozenset({"train_samples_per_second", "train_steps_per_second", "total_flos"})


def _load_json(path: Path) -> object:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise InputError(f"the file is larger than {MAX_JSON_BYTES >> 20} MB", file=str(path))
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not valid JSON (a truncated or damaged file?): {exc}", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from None


def _state(path: Path) -> tuple[int, list[dict[str, object]], dict[str, object]]:
    """``(global_step, log_history, content)`` of one state file, checked for shape."""
    content = _load_json(path)
    if not isinstance(content, dict) or not isinstance(content.get("log_history"), list):
        raise InputError("not a Trainer state: no 'log_history' list", file=str(path))
    history = content["log_history"]
    for number, entry in enumerate(history, start=1):
        if not isinstance(entry, dict):
            raise InputError(f"log_history entry is {type(entry).__name__}, not an object", file=str(path),
                             row=number)
    step = content.get("global_step", 0)
    return (step if isinstance(step, int) and not isinstance(step, bool) else 0), history, content


def _state_files(run: Path) -> list[Path]:
    """The run's state files, most authoritative first (highest global step; top level on a tie)."""
    files = [run / STATE] if (run / STATE).is_file() else []
    checkpoints = [p for p in run.glob(f"checkpoint-*/{STATE}") if CHECKPOINT.match(p.parent.name)]
    return files + sorted(checkpoints, key=lambda p: -int(CHECKPOINT.match(p.parent.name).group(1)))  # type: ignore[union-attr]


def _entry_key(entry: dict[str, object]) -> str:
    """What identifies a log entry across state files: its step and which metrics it holds."""
    return json.dumps([entry.get("step"), sorted(map(str, entry))], default=str)


def _history(files: list[Path]) -> tuple[Path, list[dict[str, object]], dict[str, object]]:
    states = [(path, *_state(path)) for path in files]
    states.sort(key=lambda s: -s[1])  # stable: the top-level file stays first on a tie
    path, _, history, content = states[0]
    latest = {_entry_key(e): e for e in history}
    for other, _, older, _ in states[1:]:
        changed = [e for e in older if _entry_key(e) in latest and latest[_entry_key(e)] != e]
        if changed:
            warn(f"{other} disagrees with {path} at step {changed[0].get('step')} (a resumed run?); "
                 f"using {path}", DataWarning)
    return path, history, content


class _Sizes:
    """Run metadata found in a run folder, the notes on how, and why N or D stays unknown."""

    def __init__(self) -> None:
        self.meta: dict[str, object] = {}
        self.notes: list[str] = []
        self.unknown: dict[str, str] = {}


def _model_folders(run: Path) -> list[Path]:
    """Where the model files may be: the run folder, then its checkpoints, latest first."""
    checkpoints = [p for p in run.glob("checkpoint-*") if p.is_dir() and CHECKPOINT.match(p.name)]
    return [run] + sorted(checkpoints, key=lambda p: -int(CHECKPOINT.match(p.name).group(1)))  # type: ignore[union-attr]


def _first_json(folders: list[Path], name: str) -> tuple[dict[str, object], Path | None]:
    path = next((f / name for f in folders if (f / name).is_file()), None)
    content = _load_json(path) if path is not None else {}
    if not isinstance(content, dict):
        raise InputError(f"{name} is not a JSON object", file=str(path))
    return content, path


def _sizes(run: Path, state: dict[str, object], *, tokens_logged: bool) -> _Sizes:
    """N from the model files (safetensors header, else config.json) of the run folder or its latest
    checkpoint; tokens per step from the JSON training arguments, else from the Trainer's FLOP count."""
    folders = _model_folders(run)
    found = _Sizes()
    shapes = next((s for s in map(folder_shapes, folders) if s is not None), None)
    config, config_path = _first_json(folders, "config.json")
    if shapes is not None:
        found.meta["params"] = float(sum(math.prod(s) for s in shapes[0].values()))
    elif config and (n := config_params(config)) is not None:
        found.meta["params"] = float(n)
    else:
        found.unknown["params"] = ("no model.safetensors, nor a config.json of a known model type, in the folder "
                                   "or its checkpoint-* folders")
    if isinstance(config.get("vocab_size"), int):
        found.meta["vocab_size"] = float(config["vocab_size"])  # type: ignore[arg-type]
    args, args_path = _first_json(folders, "training_args.json")
    found.meta.update({k: v for k, v in metadata_from(args, file=str(args_path)).items() if k not in found.meta})
    if tokens_logged:
        return found
    per_step = _sequences_per_step(state, args, args_path)
    flops_tokens = _tokens_from_flops(state, shapes[0] if shapes is not None else None)
    if per_step is not None:
        found.meta["batch_sequences"] = per_step
        context = _context_length(config)
        if "seq_len" not in found.meta and context is not None:
            found.meta["seq_len"] = float(context)
            found.notes.append(f"sequence length {context} from {config_path} (the model's context length): "
                               "if you trained on shorter sequences, give --set seq_len=L")
        elif "seq_len" not in found.meta:
            found.unknown["tokens"] = (f"{per_step:g} sequences per step from {args_path}, but no sequence "
                                       "length; give --set seq_len=L")
    elif flops_tokens is not None:
        found.meta["batch_size"] = flops_tokens
        found.notes.append(f"tokens per step {flops_tokens:g} from the Trainer's FLOP count (total_flos = 6 x "
                           "non-embedding parameters x tokens)")
    else:
        found.unknown["tokens"] = ("the Trainer logs tokens only with include_num_input_tokens_seen=True, and its "
                                   "arguments are only in training_args.bin, a pickle scalelaw does not load; save "
                                   "them as training_args.json (trainer.args.to_json_string())")
    return found


def _context_length(config: dict[str, object]) -> int | None:
    value = next((config[k] for k in ("n_positions", "max_position_embeddings", "n_ctx") if k in config), None)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _tokens_from_flops(state: dict[str, object], shapes: dict[str, list[int]] | None) -> float | None:
    """Tokens per step from ``total_flos`` (the Trainer adds 6 x non-embedding parameters x input tokens
    per batch), kept only when it gives a whole number of tokens per step."""
    flos, steps = state.get("total_flos"), state.get("global_step")
    if shapes is None or not isinstance(flos, (int, float)) or not isinstance(steps, int) or steps <= 0 or flos <= 0:
        return None
    params = non_embedding_params(shapes)
    if params <= 0:
        return None
    per_step = flos / (6 * params) / steps
    whole = round(per_step)
    return float(whole) if whole >= 1 and abs(per_step - whole) <= 1e-6 * per_step else None


def _sequences_per_step(state: dict[str, object], args: dict[str, object], args_path: Path | None) -> float | None:
    """Sequences per optimizer step: per-device batch × devices × gradient accumulation × processes."""
    if args_path is None:
        return None
    per_device = args.get("per_device_train_batch_size")
    loader = state.get("train_batch_size")
    batch = loader if isinstance(loader, int) and loader > 0 else per_device
    accumulation = args.get("gradient_accumulation_steps", 1)
    world = args.get("world_size")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (batch, accumulation)):
        return None
    if world is None:
        warn(f"{args_path} does not give the number of processes; tokens assume one. With several, "
             "give --set batch_size=TOKENS_PER_STEP", DataWarning)
        world = 1
    if not isinstance(world, int) or world < 1:
        raise InputError(f"world_size is {world!r}, not a positive whole number", file=str(args_path))
    return float(batch * accumulation * world)  # type: ignore[operator]


def read_state(run: Path, name: str, files: list[Path], keys: Keys = Keys()) -> RawTable:
    """One run folder as a table: one row per log_history entry (the summary entry dropped)."""
    state_file, history, state = _history(files)
    records, rows = [], []
    for number, entry in enumerate(history, start=1):
        if SUMMARY_KEYS & set(entry):
            continue
        records.append({str(k): json_cell(v) for k, v in entry.items()})
        rows.append(number)
    if not records:
        raise InputError("the Trainer state has no logged metrics (log_history is empty)", file=str(state_file))
    frame = columns_from_records(records, keys=keys, fill=np.nan, file=str(state_file), max_keys=MAX_COLUMNS)
    tokens_logged = "num_input_tokens_seen" in frame.columns
    sizes = _sizes(run, state, tokens_logged=tokens_logged)
    frame = frame.assign(**{k: v for k, v in sizes.meta.items() if k not in frame.columns})
    return RawTable(frame, np.asarray(rows), str(state_file), name, "logger", text=True, notes=tuple(sizes.notes),
                    unknown=sizes.unknown)


def _run_name(root: Path, run: Path) -> str:
    if run == root:
        name = root.resolve().name
        return root.resolve().parent.name if CHECKPOINT.match(name) else name
    return run.relative_to(root).as_posix()


def run_folders(root: Path) -> list[Path]:
    """Folders at most a few levels under ``root`` holding a Trainer state (checkpoints belong to their run)."""
    found = []
    for level in range(MAX_DEPTH + 1):
        for folder in [root] if level == 0 else root.glob("/".join(["*"] * level)):
            if not folder.is_dir() or (CHECKPOINT.match(folder.name) and folder != root):
                continue
            if any(CHECKPOINT.match(p.name) for p in folder.relative_to(root).parents if p.name):
                continue
            if _state_files(folder):
                found.append(folder)
    return sorted(found)


def read_trainer_output(path: Path, *, keys: Keys = Keys()) -> list[RawTable]:
    """Every run in a Trainer output folder (or a sweep folder of them, or one ``trainer_state.json``)."""
    if path.is_file():
        return [read_state(path.parent, _run_name(path.parent, path.parent), [path], keys)]
    runs = run_folders(path)
    if not runs:
        raise InputError(f"no {STATE} in the folder or its checkpoint-* folders", file=str(path))
    return [read_state(run, _run_name(path, run), _state_files(run), keys) for run in runs]

