"""Which reader a path needs: from its extension, checked against its content.

A file whose content contradicts its extension (a ``.parquet`` that is text, a ``.csv``
that is Parquet or JSON) is an :class:`InputError`, never a confusing parse failure.
"""

from __future__ import annotations

from pathlib import Path

from scalelaw.data.mlflow import mlflow_runs
from scalelaw.data.mlflow_db import is_sqlite
from scalelaw.data.wandb_file import is_wandb, wandb_files
from scalelaw.errors import InputError

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "tensorboard", "mlflow", "mlflow-sqlite", "wandb")
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
PARQUET_MAGIC = b"PAR1"


def _head(path: Path, size: int = 512) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def sniff(head: bytes) -> str:
    """Guess a format from a file's first bytes."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if is_sqlite(head):
        return "mlflow-sqlite"
    if is_wandb(head):
        return "wandb"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "jsonl"
    if len(head) >= 12 and b"\x00" in head[:12]:
        return "tensorboard"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def detect_format(path: Path, requested: str | None = None) -> str:
    """The format of ``path``: ``requested`` if given, else from the name, checked by content."""
    if requested is not None and requested not in FORMATS:
        raise InputError(f"unknown format {requested!r}; use one of {', '.join(FORMATS)}", file=str(path))
    if not path.exists():
        raise InputError("no such file or folder", file=str(path))
    if path.is_dir():
        if mlflow_runs(path):
            return "mlflow"
        if wandb_files(path):
            return "wandb"
        if any(p.is_file() for p in path.rglob("*tfevents*")):
            return "tensorboard"
        if (path / "manifest.json").is_file():
            raise InputError("this folder is a run store: read it with RunStore(path).load()", file=str(path))
        raise InputError("the folder holds no MLflow runs, W&B run files or TensorBoard event files", file=str(path))
    head = _head(path)
    if not head:
        raise InputError("the file is empty", file=str(path))
    if requested in ("mlflow", "mlflow-sqlite"):
        if is_sqlite(head):
            return "mlflow-sqlite"
        raise InputError("an MLflow input is a run folder, an mlruns folder or an mlflow.db (sqlite) file", file=str(path))
    if is_sqlite(head):
        return "mlflow-sqlite"
    if is_wandb(head) or path.suffix == ".wandb":
        return "wandb"
    claimed = requested or ("tensorboard" if "tfevents" in path.name else EXTENSIONS.get(path.suffix.lower()))
    found = sniff(head)
    if claimed is None:
        return found
    if claimed == "parquet" and found != "parquet":
        raise InputError("the file is not Parquet (no PAR1 magic bytes); it looks like " + found, file=str(path))
    if claimed in ("csv", "tsv", "jsonl") and found == "parquet":
        raise InputError(f"the file is Parquet data, not {claimed.upper()} as its extension says", file=str(path))
    if claimed in ("csv", "tsv") and found == "jsonl":
        raise InputError(f"the file looks like JSON Lines, not {claimed.upper()} as its extension says", file=str(path))
    if claimed == "jsonl" and found != "jsonl" and b"\x00" not in head:
        raise InputError("the file does not look like JSON Lines (its first line is not a JSON object)", file=str(path))
    return claimed
