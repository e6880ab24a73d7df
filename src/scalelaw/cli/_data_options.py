"""Data-input options shared by every command that reads runs (``--map``, ``--where``, ...).

``load_inputs`` accepts files and folders (any format ``read_runs`` knows), run-store
folders, and bundled datasets written ``dataset:NAME`` (or a bare dataset name that is
not an existing path), so fitting, planning and report commands read data the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from scalelaw.errors import InputError

if TYPE_CHECKING:
    from scalelaw.data.runs import RunSet

DATASET_PREFIX = "dataset:"

MAP_OPTION = typer.Option(
    [], "--map", help="Use a source column as a canonical one: CANONICAL=SOURCE, e.g. loss=val_loss_c4. Repeatable."
)
WHERE_OPTION = typer.Option(None, "--where", help="Keep only rows matching a filter, e.g. \"params < 1e9 and dataset == 'rw'\" (and, or, not, in [...]).")
LOSS_UNIT_OPTION = typer.Option("nats", "--loss-unit", help="Unit of the loss column: nats, bits or bits_per_byte.")
BYTES_PER_TOKEN_OPTION = typer.Option(
    None, "--bytes-per-token", help="Bytes per token, to convert a bits_per_byte loss to nats per token."
)
FORMAT_OPTION = typer.Option(
    None, "--format", help="Force the input format (detected from what is on disk otherwise): csv, tsv, jsonl, "
    "parquet, tensorboard, mlflow, mlflow-sqlite, wandb, wandb-panel, hf-trainer, lightning or text."
)
LOSS_OPTION = typer.Option(
    None, "--loss", help="Which logged loss to fit: eval (the default where the log has one), train, or a column name."
)
SET_OPTION = typer.Option(
    [], "--set", help="Metadata for every run read from files: COLUMN=VALUE, e.g. params=1.2e8. Repeatable."
)
META_OPTION = typer.Option(
    None, "--meta", help="A table (CSV, TSV, JSONL or Parquet) with a 'run' column and metadata columns per run."
)
PATTERN_OPTION = typer.Option(
    None, "--pattern", help="For --format text: a regex with named groups (step, loss, lr, ...) matched on each line."
)
STORE_OPTION = typer.Option(Path("scalelaw-runs"), "--store", help="Run-store folder.")


def parse_maps(items: Iterable[str]) -> dict[str, str]:
    """``["loss=val_loss", ...]`` to ``{"loss": "val_loss"}``; a malformed item is an InputError."""
    mapping: dict[str, str] = {}
    for item in items:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise InputError(f"--map expects CANONICAL=SOURCE, got {item!r}")
        mapping[canonical.strip()] = source.strip()
    return mapping


def parse_sets(items: Iterable[str]) -> dict[str, object]:
    """``["params=1.2e8", "dataset=c4"]`` to ``{"params": 1.2e8, "dataset": "c4"}`` (numbers where they parse)."""
    values: dict[str, object] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise InputError(f"--set expects COLUMN=VALUE, got {item!r}")
        try:
            values[column.strip()] = float(value)
        except ValueError:
            values[column.strip()] = value.strip()
    return values


def bundled_dataset(text: str) -> str | None:
    """The bundled dataset an input names (``dataset:NAME``, or a bare NAME no file shadows), or None."""
    import scalelaw.datasets as datasets

    if text.startswith(DATASET_PREFIX):
        return text.removeprefix(DATASET_PREFIX)
    return text if not Path(text).exists() and text in datasets.names() else None


def is_store(path: Path) -> bool:
    """True for a run-store folder (one with a manifest)."""
    return path.is_dir() and (path / "manifest.json").is_file()


def load_inputs(
    paths: Sequence[str | Path],
    maps: Iterable[str] = (),
    where: str | None = None,
    loss_unit: str = "nats",
    bytes_per_token: float | None = None,
    *,
    format: str | None = None,
    loss: str | None = None,
    sets: Iterable[str] = (),
    meta: str | None = None,
    pattern: str | None = None,
    targets: bool = False,
) -> RunSet:
    """Read runs from files, folders, run stores and bundled datasets into one RunSet.

    ``--loss`` and ``--map`` choose columns of files; ``--set`` and ``--meta`` give
    metadata to runs from files, run stores and datasets alike. Runs of different inputs
    that share an id are distinct runs, renamed ``SOURCE/run``; files read together stay
    one collection, where a repeated id is refused. ``targets`` reads rows to predict,
    which may lack a loss.
    """
    import scalelaw.datasets as datasets
    from scalelaw.data.readers.mlflow_db import is_tracking_uri, tracking_path
    from scalelaw.data.pipeline import read_runs
    from scalelaw.data.readers.wandb_api import is_wandb_uri
    from scalelaw.data.runs import RunSet
    from scalelaw.data.store import RunStore

    if not paths:
        raise InputError("no input given: name files, folders, a run store or dataset:NAME")
    mapping = parse_maps(maps)
    files: list[Path | str] = []
    parts: list[RunSet] = []
    for item in paths:
        text = str(item)
        if (name := bundled_dataset(text)) is not None:
            parts.append(datasets.load(name))
        elif is_store(Path(text)):
            parts.append(RunStore(text).load())
        else:
            files.append(tracking_path(text) if is_tracking_uri(text) else text if is_wandb_uri(text) else Path(text))
    if (mapping or loss) and not files:
        raise InputError(f"{'--map' if mapping else '--loss'} applies to files; bundled datasets and run stores "
                         "already use canonical columns")
    values = parse_sets(sets)
    if parts and (values or meta):
        from scalelaw.data.metadata import with_metadata

        parts = [with_metadata(part, set_values=values, meta=meta) for part in parts]
    if parts and where:
        parts = [part.where(where) for part in parts]
    if files:
        parts.append(read_runs(files, columns=mapping or None, where=where, loss_unit=loss_unit,
                               bytes_per_token=bytes_per_token, format=format, loss=loss, set=values, meta=meta,
                               pattern=pattern, targets=targets))
    return RunSet.concat(parts, qualify=True)
