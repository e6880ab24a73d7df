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
import re
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.aliases import metadata_from
from scalelaw.data.readers.model_size import config_params, folder_params
from scalelaw.data.readers.raw import RawTable
from scalelaw.data.readers.tabular import json_cell
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


def _metadata(run: Path, state_file: Path, state: dict[str, object], *, tokens_logged: bool) -> dict[str, object]:
    """Run metadata from the model files and JSON training arguments of the run folder."""
    folders = [run, state_file.parent]
    meta: dict[str, object] = {}
    for folder in folders:
        found = folder_params(folder)
        if found is not None:
            meta["params"] = float(found[0])
            break
    for folder in folders:
        config_path = folder / "config.json"
        if "params" not in meta and config_path.is_file():
            config = _load_json(config_path)
            if isinstance(config, dict) and (n := config_params(config)) is not None:
                meta["params"] = float(n)
    args_path = next((f / "training_args.json" for f in folders if (f / "training_args.json").is_file()), None)
    args = _load_json(args_path) if args_path is not None else {}
    if not isinstance(args, dict):
        raise InputError("training_args.json is not a JSON object", file=str(args_path))
    meta.update({k: v for k, v in metadata_from(args, file=str(args_path)).items() if k not in meta})
    per_step = None if tokens_logged else _sequences_per_step(state, args, args_path)
    if per_step is not None:
        meta["batch_sequences"] = per_step
    return meta


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


def read_state(run: Path, name: str, files: list[Path]) -> RawTable:
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
    frame = pd.DataFrame.from_records(records).astype(object)
    frame = frame.where(frame.notna(), "")
    tokens_logged = "num_input_tokens_seen" in frame.columns
    for column, value in _metadata(run, state_file, state, tokens_logged=tokens_logged).items():
        frame[column] = value if column not in frame.columns else frame[column]
    return RawTable(frame, np.asarray(rows), str(state_file), name, "logger", text=True)


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


def read_trainer_output(path: Path) -> list[RawTable]:
    """Every run in a Trainer output folder (or a sweep folder of them, or one ``trainer_state.json``)."""
    if path.is_file():
        return [read_state(path.parent, _run_name(path.parent, path.parent), [path])]
    runs = run_folders(path)
    if not runs:
        raise InputError(f"no {STATE} in the folder or its checkpoint-* folders", file=str(path))
    return [read_state(run, _run_name(path, run), _state_files(run)) for run in runs]

