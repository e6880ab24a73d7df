"""The one registry of input formats: which reader a path needs, decided from what is on disk.

``FORMATS`` holds one :class:`Format` per input kind, naming its reader as
``"module:function"`` (imported only when used, so ``import scalelaw`` stays fast).
Adding a reader is writing one module in :mod:`scalelaw.data.readers` and one line here.
A reader takes the path (plus the options its format declares) and returns a list of
:class:`~scalelaw.data.readers.raw.RawTable`, the same raw table for every format.

:func:`read_path` is the pipeline's first two steps (detect, read) for one input.
``detect_format`` looks at the name and the first bytes of a file, or at the files in a
folder. A file whose content contradicts its name or the ``--format`` asked for is an
:class:`InputError` that says what the file looks like and what reads it, never a
confusing parse failure of the wrong parser.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scalelaw.data.guards import files_within, head
from scalelaw.data.readers.lightning import is_lightning_metrics
from scalelaw.data.readers.mlflow_db import is_sqlite, is_tracking_uri, tracking_path
from scalelaw.data.readers.raw import Keys, RawTable
from scalelaw.data.readers.tabular import csv_header
from scalelaw.data.readers.wandb_api import is_wandb_uri, read_wandb_uri
from scalelaw.data.readers.wandb_file import is_wandb
from scalelaw.data.readers.wandb_panel import is_panel_export
from scalelaw.errors import InputError

Reader = Callable[..., list[RawTable]]


@dataclass(frozen=True)
class Format:
    """One input kind: its ``--format`` name, what people call it, and its reader.

    ``reader`` is ``"module:function"`` or None while the kind is recognised but cannot
    be read yet; ``options`` are the reader keywords this format accepts (``pattern``; ``keys``
    for formats that log arbitrary keys: :class:`~scalelaw.data.readers.raw.Keys`).
    """

    name: str
    title: str
    reader: str | None
    options: frozenset[str] = frozenset()

    def load_reader(self) -> Reader:
        if self.reader is None:
            raise InputError(f"recognised as {self.title}, which this version of scalelaw cannot read yet; "
                             "export it as CSV or JSON Lines")
        module, _, function = self.reader.partition(":")
        reader: Reader = getattr(importlib.import_module(module), function)
        return reader


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("csv", "a CSV table", "scalelaw.data.readers.tabular:read_csv"),
        Format("tsv", "a TSV table", "scalelaw.data.readers.tabular:read_tsv"),
        Format("jsonl", "JSON Lines", "scalelaw.data.readers.tabular:read_jsonl_file",
               frozenset({"keys"})),
        Format("parquet", "a Parquet table", "scalelaw.data.readers.tabular:read_parquet_file"),
        Format("tensorboard", "TensorBoard event files", "scalelaw.data.readers.tensorboard:read_tensorboard_path",
               frozenset({"keys"})),
        Format("mlflow", "an MLflow file store (mlruns/)", "scalelaw.data.readers.mlflow:read_mlflow",
               frozenset({"keys"})),
        Format("mlflow-sqlite", "an MLflow sqlite store (mlflow.db)", "scalelaw.data.readers.mlflow_db:read_mlflow_sqlite",
               frozenset({"keys"})),
        Format("wandb", "a W&B run file or run folder (run-*.wandb)", "scalelaw.data.readers.wandb_file:read_wandb",
               frozenset({"keys"})),
        Format("wandb-panel", "a W&B panel CSV export (Step, '<run> - <metric>')",
               "scalelaw.data.readers.wandb_panel:read_wandb_panel"),
        Format("hf-trainer", "Hugging Face Trainer output (trainer_state.json)", "scalelaw.data.readers.hf_trainer:read_trainer_output",
               frozenset({"keys"})),
        Format("lightning", "PyTorch Lightning CSVLogger logs (metrics.csv)", "scalelaw.data.readers.lightning:read_lightning"),
        Format("text", "a plain-text training log", "scalelaw.data.readers.textlog:read_text_logs",
               frozenset({"pattern"})),
    )
}
#: Formats read from plain text lines: ``--format text`` may be forced on any of them.
TABULAR = frozenset({"csv", "tsv", "jsonl", "parquet"})
#: Formats recognised by a magic number or a structure no other format has: they beat the extension.
STRONG = frozenset({"parquet", "mlflow-sqlite", "wandb", "hf-trainer"})
TEXT_FORMATS = frozenset({"csv", "tsv", "jsonl", "lightning", "wandb-panel", "text"})
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".wandb": "wandb",
    ".log": "text",
    ".txt": "text",
    ".out": "text",
}
PARQUET_MAGIC = b"PAR1"
#: Lines printed by training scripts whose format scalelaw knows (see ``scalelaw.data.readers.textlog``).
#: Blanks are ``[ \t]``, not ``\s``: a ``\s*`` would run over every following blank line at
#: each line start, and the search over a head of blank lines would be quadratic (issue 23).
TEXT_LOG_SIGNS = re.compile(
    rb"^(iter \d+: loss |step \d+: train loss |step[ \t]+\d+/\d+ \| (train )?loss |"
    rb"[ \t]*+(\[[^\]\n]*\][ \t]*)?iteration[ \t]+\d+/[ \t]*\d+ \||[ \t]*+validation loss at iteration |"
    rb"s:\d+ (trl|tel):)",
    re.MULTILINE,
)
#: JSON files that belong to a tool's output folder: what they are and what to import instead.
COMPANION_JSON: dict[str, str] = {
    "config.json": "a model config.json; import the Trainer output folder that holds it "
    "(scalelaw runs import OUTPUT_DIR)",
    "wandb-summary.json": "a W&B run summary; import the W&B run folder (scalelaw runs import wandb/run-...)",
    "wandb-metadata.json": "W&B run metadata; import the W&B run folder (scalelaw runs import wandb/run-...)",
    "trainer_config.json": "a trainer config; import the output folder that holds it",
}


def sniff(first: bytes) -> str:
    """Guess a format from a file's first bytes alone."""
    if first.startswith(PARQUET_MAGIC):
        return "parquet"
    if is_sqlite(first):
        return "mlflow-sqlite"
    if is_wandb(first):
        return "wandb"
    text = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "hf-trainer" if b'"log_history"' in first else "jsonl"
    if len(first) >= 12 and b"\x00" in first[:12]:
        return "tensorboard"
    if TEXT_LOG_SIGNS.search(first):
        return "text"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def _refine_csv(path: Path, first: bytes) -> str:
    """A CSV written by a known logger (Lightning's metrics.csv, a W&B panel export), else plain CSV."""
    header = csv_header(first)
    if is_panel_export(header):
        return "wandb-panel"
    return "lightning" if is_lightning_metrics(path, header) else "csv"


def _json_document(path: Path, first: bytes) -> str:
    """A ``.json`` file: a Trainer state, a known companion file, or one-object-per-line JSON Lines."""
    if path.name in COMPANION_JSON:
        raise InputError(f"this is {COMPANION_JSON[path.name]}", file=str(path))
    if b'"log_history"' in first or path.name == "trainer_state.json":
        return "hf-trainer"
    line = first.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        if b'"law"' in first and b'"params"' in first:
            raise InputError("this is a fitted law (FIT.json): use scalelaw predict or scalelaw report on it",
                             file=str(path)) from None
        raise InputError("a JSON document spread over several lines, not JSON Lines (one object per line); "
                         "scalelaw reads JSON Lines and Trainer trainer_state.json files", file=str(path)) from None
    return "jsonl"


def detect_file(path: Path) -> str:
    """The format of one file, from its content first and its name second."""
    first = head(path)
    if not first:
        raise InputError("the file is empty", file=str(path))
    found = sniff(first)
    if found in STRONG or found == "tensorboard":
        return found
    if path.suffix.lower() == ".json":
        return _json_document(path, first)
    if "tfevents" in path.name:
        return "tensorboard"
    if path.name == "trainer_state.json":
        return "hf-trainer"
    if found == "csv":
        return _refine_csv(path, first)
    return found


#: Folder kinds in the order they are tried: the first whose files are present wins, so a
#: Trainer output folder that also holds TensorBoard logs is read as Trainer output.
FOLDER_SIGNS: tuple[tuple[str, str, int], ...] = (
    ("hf-trainer", "trainer_state.json", 3),
    ("lightning", "metrics.csv", 3),
    ("wandb", "*.wandb", 3),
    ("mlflow-sqlite", "mlflow.db", 1),
    ("tensorboard", "*tfevents*", 8),
)


def detect_folder(path: Path) -> str:
    """The format of a folder, from the files it holds."""
    if (path / "manifest.json").is_file():
        raise InputError("this folder is a run store: pass it to scalelaw fit directly, or "
                         "read it with RunStore(path).load()", file=str(path))
    from scalelaw.data.readers.mlflow import mlflow_runs

    for name, pattern, depth in FOLDER_SIGNS:
        hits = files_within(path, pattern, depth)
        if name == "lightning":
            hits = [h for h in hits if _refine_csv(h, head(h, 4096)) == "lightning"]
        if hits:
            return name
        if name == "mlflow-sqlite" and mlflow_runs(path):
            return "mlflow"
    if any(TEXT_LOG_SIGNS.search(head(p)) for p in files_within(path, "*", 2)
           if EXTENSIONS.get(p.suffix.lower()) == "text"):
        return "text"
    readable = ", ".join(f.title for f in FORMATS.values() if f.reader is not None and f.name not in TABULAR)
    raise InputError(f"the folder holds no training logs scalelaw recognises (it reads {readable}); "
                     "name a file, or force a format with --format", file=str(path))


def _mismatch(path: Path, requested: str, found: str) -> InputError:
    what, asked = FORMATS[found].title, FORMATS[requested].title
    return InputError(f"the file looks like {what}, not {asked}; read it with `scalelaw runs import {path}` "
                      f"(or --format {found})", file=str(path))


def _check_requested(path: Path, requested: str, found: str) -> str:
    """``requested`` if the content allows it, else an error naming what the file is."""
    if requested == found:
        return requested
    if requested == "text" and found in TEXT_FORMATS:
        return requested
    if requested == "mlflow" and found == "mlflow-sqlite":
        return found
    if requested in ("csv", "tsv") and found in ("csv", "tsv", "lightning", "wandb-panel", "text"):
        return requested
    if requested in ("lightning", "wandb-panel") and found in ("csv", "lightning", "wandb-panel"):
        return requested
    if requested == "jsonl" and found == "text" and b"\x00" not in head(path, 4096):
        raise InputError("the file does not look like JSON Lines (its first line is not a JSON object)",
                         file=str(path))
    if requested == "tensorboard" and found == "csv" and "tfevents" in path.name:
        return requested  # the TensorBoard reader names the first bad record
    raise _mismatch(path, requested, found)


def detect_format(path: Path, requested: str | None = None) -> str:
    """The format of ``path`` (a file or a folder): ``requested`` if the content allows it, else detected."""
    if requested is not None and requested not in FORMATS:
        raise InputError(f"unknown format {requested!r}; use one of {', '.join(FORMATS)}", file=str(path))
    if not path.exists():
        raise InputError("no such file or folder", file=str(path))
    if path.is_dir():
        if requested in TABULAR:
            raise InputError(f"--format {requested} reads a file, and this is a folder", file=str(path))
        return requested or detect_folder(path)
    found = detect_file(path)
    if requested is not None:
        return _check_requested(path, requested, found)
    claimed = "tensorboard" if "tfevents" in path.name else EXTENSIONS.get(path.suffix.lower())
    if claimed is None or claimed == found:
        return found
    if found in STRONG:
        raise InputError(f"the file is {FORMATS[found].title}, not {FORMATS[claimed].title} as its extension says; "
                         f"read it with `scalelaw runs import {path}` --format {found}", file=str(path))
    return _weak_content(path, claimed, found)


def _weak_content(path: Path, claimed: str, found: str) -> str:
    """The format when the extension and a guess from content (not a magic number) disagree."""
    if claimed == "parquet":
        raise InputError(f"the file is not Parquet (no PAR1 magic bytes); it looks like {FORMATS[found].title}",
                         file=str(path))
    if claimed in ("csv", "tsv") and found == "jsonl":
        raise InputError(f"the file looks like JSON Lines, not {claimed.upper()} as its extension says",
                         file=str(path))
    if claimed == "jsonl" and found in ("csv", "tsv", "text"):
        raise InputError("the file does not look like JSON Lines (its first line is not a JSON object)",
                         file=str(path))
    if found in ("lightning", "wandb-panel") or (claimed == "text" and found == "jsonl"):
        return found
    if claimed == "text" and found in ("csv", "tsv") and _delimited_header(head(path, 4096)):
        return found  # a table saved as .txt or .log
    return claimed


def _delimited_header(first: bytes) -> bool:
    """True when the first line has several comma- or tab-separated fields (a table's header)."""
    line = first.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return b"," in line or b"\t" in line


def input_path(item: str | Path) -> Path | str:
    """One input as given: ``wandb://ENTITY/PROJECT`` stays a string, an MLflow tracking URI becomes its path."""
    if isinstance(item, str) and is_wandb_uri(item):
        return item
    return tracking_path(item) if isinstance(item, str) and is_tracking_uri(item) else Path(item)


def read_path(path: Path | str, *, format: str | None = None, pattern: str | None = None,
              keys: Keys = Keys()) -> list[RawTable]:
    """Detect and read one input: the raw tables in a path (several for a folder of runs) or
    ``wandb://ENTITY/PROJECT``, each error naming the path when the reader did not. ``keys``
    says which logged keys become columns, for the formats that log arbitrary keys."""
    if isinstance(path, str):
        return read_wandb_uri(path, keys=keys)
    if pattern is not None and format not in (None, "text"):
        raise InputError(f"--pattern applies to --format text, not --format {format}", file=str(path))
    kind = detect_format(path, "text" if pattern is not None else format)
    spec = FORMATS[kind]
    given = {"pattern": pattern, "keys": keys}
    options = {name: given[name] for name in spec.options if given[name] is not None}
    try:
        return spec.load_reader()(path, **options)
    except InputError as exc:
        if exc.location.file is None:
            raise InputError(exc.reason, file=str(path), run=exc.location.run, row=exc.location.row,
                             column=exc.location.column) from None
        raise
