"""Reader of plain-text training logs: nanoGPT, Megatron-LM and llm.c as they print, or any log with a regex.

Known formats (the print statements of each project's training script):

- nanoGPT ``train.py``: ``step N: train loss X, val loss Y`` (an estimate over
  ``eval_iters`` batches) and ``iter N: loss X, time ...ms, mfu ...%``; the model prints
  ``number of parameters: 123.65M`` (without position embeddings).
- Megatron-LM ``training.py``: `` iteration N/ M | consumed samples: ... | learning rate:
  ... | global batch size: ... | lm loss: X | ...`` and `` validation loss at iteration N |
  lm loss value: X | ...``; the arguments block gives ``seq_length`` and ``global_batch_size``.
- llm.c ``train_gpt2.cu``: ``step k/M | loss X (...)| norm ... | lr ... | ...`` (k is the
  step index + 1) and ``val loss X`` before it; its ``main.log`` writes ``s:N trl:X lr:... norm:...``
  and ``s:N tel:X``; its settings table gives ``num_parameters``. Steps are llm.c's step index (k - 1 on stdout), as in ``main.log``.

``pattern`` is a user regex with named groups (``step`` and at least one value group),
run on RE2 so that it matches in linear time (see :mod:`scalelaw.data.regex_policy`, which
also says how the built-in patterns below avoid backtracking); lines are cut at
``MAX_LINE`` characters before matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.guards import files_under
from scalelaw.data.readers.raw import RawTable
from scalelaw.data.readers.tabular import decode_text
from scalelaw.data.regex_policy import UserPattern, compile_user_pattern
from scalelaw.errors import DataWarning, InputError, warn

MAX_LINE = 4096
Record = tuple[float, dict[str, object]]

NANOGPT_EVAL = re.compile(r"^step (\d+): train loss (\S+), val loss (\S+)\s*$")
NANOGPT_ITER = re.compile(r"^iter (\d+): loss (\S+), time")
NANOGPT_PARAMS = re.compile(r"^number of parameters: ([0-9.]+)M\s*$")
MEGATRON_ITER = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?iteration\s+(\d+)/\s*\d+ \|(.*)$")
MEGATRON_VAL = re.compile(r"^\s*validation loss at iteration (\d+) \|(.*)$")
MEGATRON_ARG = re.compile(r"^\s+(seq_length|global_batch_size) \.+ (\d+)\s*$")
LLMC_STEP = re.compile(r"^step\s+(\d+)/\d+ \| (?:train )?loss (\S+)")
LLMC_LR = re.compile(r"\| lr (\S+) \|")
LLMC_VAL = re.compile(r"^val loss (\S+)\s*$")
LLMC_PARAMS = re.compile(r"^\| num_parameters\s+\| (\d+)\s+\|")
#: ``s:N key:value key:value ...``: one space between items, possessive so a bad line fails in linear time.
LLMC_MAIN = re.compile(r"^s:(\d++) (\w++:\S++(?: \w++:\S++)*+) ?$")
LLMC_KEYS = {"trl": "train_loss", "tel": "val_loss", "lr": "lr", "norm": "grad_norm", "eval": "hellaswag_accuracy"}


def _number(text: str, *, file: str, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a number", file=file, row=row, column=column) from None
    if not np.isfinite(value):
        raise InputError(f"value {text[:40]!r} is NaN or infinite", file=file, row=row, column=column)
    return value


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(decode_text(path).splitlines(), start=1):
        yield number, line[:MAX_LINE]


def _megatron_fields(text: str) -> dict[str, str]:
    """``| key: value |`` fields of a Megatron line (``lm loss value`` style included)."""
    fields = {}
    for part in text.split("|"):
        key, sep, value = part.partition(":")
        if sep and value.strip():
            fields[key.strip()] = value.strip().split()[0]
    return fields


MEGATRON_NAMES = {"learning rate": "lr", "lm loss": "train_loss", "consumed samples": "consumed_samples",
                  "consumed tokens": "tokens", "global batch size": "global_batch_size", "grad norm": "grad_norm"}


def _nanogpt(path: Path, lines: list[tuple[int, str]]) -> Iterator[tuple[int, Record]]:
    file = str(path)
    for number, line in lines:
        if m := NANOGPT_EVAL.match(line):
            yield number, (float(m[1]), {"train_split_loss": _number(m[2], file=file, row=number, column="train loss"),
                                         "val_loss": _number(m[3], file=file, row=number, column="val loss")})
        elif m := NANOGPT_ITER.match(line):
            yield number, (float(m[1]), {"train_loss": _number(m[2], file=file, row=number, column="loss")})
        elif m := NANOGPT_PARAMS.match(line):
            yield number, (np.nan, {"params": float(m[1]) * 1e6})


def _megatron(path: Path, lines: list[tuple[int, str]]) -> Iterator[tuple[int, Record]]:
    file = str(path)
    for number, line in lines:
        if m := MEGATRON_ARG.match(line):
            yield number, (np.nan, {"seq_len" if m[1] == "seq_length" else "batch_sequences": float(m[2])})
        elif m := MEGATRON_ITER.match(line):
            fields = _megatron_fields(m[2])
            values = {MEGATRON_NAMES[k]: _number(v, file=file, row=number, column=k)
                      for k, v in fields.items() if k in MEGATRON_NAMES}
            yield number, (float(m[1]), values)
        elif m := MEGATRON_VAL.match(line):
            fields = _megatron_fields(m[2])
            if "lm loss value" in fields:
                yield number, (float(m[1]), {"val_loss": _number(fields["lm loss value"], file=file, row=number,
                                                                 column="lm loss value")})


def _llmc(path: Path, lines: list[tuple[int, str]]) -> Iterator[tuple[int, Record]]:
    file = str(path)
    pending_val: tuple[int, float] | None = None
    step = -1.0
    for number, line in lines:
        if m := LLMC_MAIN.match(line):
            values = {}
            for item in m[2].split():
                key, _, value = item.partition(":")
                values[LLMC_KEYS.get(key, key)] = _number(value, file=file, row=number, column=key)
            yield number, (float(m[1]), values)
        elif m := LLMC_PARAMS.match(line):
            yield number, (np.nan, {"params": float(m[1])})
        elif m := LLMC_VAL.match(line):
            pending_val = (number, _number(m[1], file=file, row=number, column="val loss"))
        elif m := LLMC_STEP.match(line):
            step = float(int(m[1]) - 1)
            values: dict[str, object] = {"train_loss": _number(m[2], file=file, row=number, column="loss")}
            if lr := LLMC_LR.search(line):
                values["lr"] = _number(lr[1], file=file, row=number, column="lr")
            if pending_val is not None:
                yield pending_val[0], (step, {"val_loss": pending_val[1]})
                pending_val = None
            yield number, (step, values)
    if pending_val is not None:  # llm.c evaluates once more after its last step
        yield pending_val[0], (step + 1, {"val_loss": pending_val[1]})


FLAVORS: dict[str, tuple[re.Pattern[str], Callable[[Path, list[tuple[int, str]]], Iterator[tuple[int, Record]]]]] = {
    "nanogpt": (re.compile(r"^(step \d+: train loss |iter \d+: loss )"), _nanogpt),
    "megatron": (re.compile(r"^\s*(\[[^\]]*\]\s*)?(iteration\s+\d+/\s*\d+ \||validation loss at iteration )"),
                 _megatron),
    "llm.c": (re.compile(r"^(step\s+\d+/\d+ \| (train )?loss |s:\d+ (trl|tel):)"), _llmc),
}


def compile_pattern(pattern: str) -> UserPattern:
    """A user regex (on RE2), checked: it compiles, is not huge, and names a ``step`` group and a value group."""
    compiled = compile_user_pattern(pattern)
    names = compiled.names
    if "step" not in names or len(names) < 2:
        raise InputError("--pattern needs named groups: (?P<step>...) and at least one value, e.g. (?P<loss>...)")
    return compiled


def _pattern_records(path: Path, lines: list[tuple[int, str]], compiled: UserPattern
                     ) -> Iterator[tuple[int, Record]]:
    file = str(path)
    for number, line in lines:
        groups = compiled.search(line)
        if groups is None or "step" not in groups:
            continue
        step = _number(groups.pop("step"), file=file, row=number, column="step")
        values: dict[str, object] = {k: _number(v, file=file, row=number, column=k) for k, v in groups.items()}
        yield number, (step, values)


def _flavor(lines: list[tuple[int, str]]) -> str | None:
    counts = {name: sum(1 for _, line in lines if sign.match(line)) for name, (sign, _) in FLAVORS.items()}
    best = max(counts, key=lambda n: counts[n])
    return best if counts[best] else None


def read_text_log(path: Path, *, pattern: str | None = None) -> list[RawTable]:
    """One log file as one run: per-step values from a known format's lines, or from ``pattern``."""
    compiled = compile_pattern(pattern) if pattern is not None else None
    lines = list(_lines(path))
    if compiled is not None:
        records = list(_pattern_records(path, lines, compiled))
        what = "no line matches --pattern (with a step group)"
    else:
        flavor = _flavor(lines)
        if flavor is None:
            raise InputError("no lines of a known training log (nanoGPT, Megatron-LM, llm.c); describe yours with "
                             "--format text --pattern 'step (?P<step>\\d+).*loss (?P<loss>[0-9.]+)'", file=str(path))
        records = list(FLAVORS[flavor][1](path, lines))
        what = f"no per-step lines in this {flavor} log"
    stepped = [(n, r) for n, r in records if not np.isnan(r[0])]
    if not stepped:
        raise InputError(what, file=str(path))
    constants = {k: v for _, (step, values) in records if np.isnan(step) for k, v in values.items()}
    frame = pd.DataFrame([{"step": step, **values} for _, (step, values) in stepped])
    for column, value in constants.items():
        frame[column] = value
    rows = np.asarray([n for n, _ in stepped])
    return [RawTable(frame, rows, str(path), path.stem, "logger")]


#: Names of text logs in a folder of them.
LOG_SUFFIXES = frozenset({".log", ".txt", ".out"})


def read_text_logs(path: Path, *, pattern: str | None = None) -> list[RawTable]:
    """One log file, or a folder of them: one run per file that holds a known log's lines (or
    lines matching ``pattern``), named by its path in the folder; other files are skipped, said once."""
    if not path.is_dir():
        return read_text_log(path, pattern=pattern)
    compiled = compile_pattern(pattern) if pattern is not None else None
    tables, skipped = [], []
    for file in files_under(path):
        if file.suffix.lower() not in LOG_SUFFIXES:
            continue
        lines = list(_lines(file))
        if not (any(compiled.search(line) for _, line in lines) if compiled else _flavor(lines)):
            skipped.append(file.relative_to(path).as_posix())
            continue
        (table,) = read_text_log(file, pattern=pattern)
        tables.append(replace(table, default_run=file.relative_to(path).with_suffix("").as_posix()))
    if not tables:
        raise InputError("the folder holds no training logs (nanoGPT, Megatron-LM, llm.c, or lines matching "
                         "--pattern) in .log, .txt or .out files", file=str(path))
    if skipped:
        warn(f"{path}: {len(skipped)} file(s) are not training logs and were skipped: {', '.join(skipped[:5])}",
             DataWarning)
    return tables
