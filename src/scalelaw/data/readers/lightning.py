"""Reader of PyTorch Lightning CSVLogger folders (``<name>/version_N/metrics.csv`` + ``hparams.yaml``).

CSVLogger writes one row per logging call: train metrics at their step, validation and
epoch-level metrics at the step they were computed, so one step has several rows, which
the pipeline merges; a last row still being written is left out with a warning. ``hparams.yaml``
(read as safe YAML: Python-object tags are refused, with a warning, and the run is read without
them) gives run metadata through the shared aliases (``num_params``, ``seq_len``,
``tokens_per_step``, ...), for CSVLogger and TensorBoardLogger folders alike. A run is named by its version folder relative to
the folder given (``lightning_logs/version_0`` read from the project folder).
"""

from __future__ import annotations

from pathlib import Path


from scalelaw.data.aliases import metadata_from
from scalelaw.data.guards import files_within, head
from scalelaw.data.readers import tabular
from scalelaw.data.readers.raw import RawTable
from scalelaw.errors import DataWarning, InputError, warn

METRICS = "metrics.csv"
HPARAMS = "hparams.yaml"
MAX_HPARAMS_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 3
#: Why a Lightning run may lack N or D: Lightning records neither unless the run logs them as hyperparameters.
UNKNOWN = {
    "params": "hparams.yaml has no model size (params, num_params, n_params, ...); log it with "
              "self.save_hyperparameters() or the scalelaw callback",
    "tokens": "Lightning does not log tokens; log tokens_per_step as a hyperparameter",
}


def is_lightning_metrics(path: Path, header: list[str]) -> bool:
    """True for a CSVLogger ``metrics.csv``: that name, and Lightning's columns or an ``hparams.yaml`` beside it."""
    return path.name == METRICS and ({"epoch", "step"} <= set(header) or (path.parent / HPARAMS).is_file())


def read_hparams(path: Path) -> dict[str, object]:
    """The hyperparameters of a run as a mapping; Python-object YAML tags are not constructed."""
    import yaml  # only Lightning folders need PyYAML: not imported with the reader registry

    from scalelaw.data.safe_yaml import NoAliasSafeLoader

    if not path.is_file():
        return {}
    if path.stat().st_size > MAX_HPARAMS_BYTES:
        raise InputError(f"hparams.yaml is larger than {MAX_HPARAMS_BYTES >> 20} MB", file=str(path))
    try:
        content = yaml.load(head(path, MAX_HPARAMS_BYTES).decode("utf-8-sig"), Loader=NoAliasSafeLoader)  # noqa: S506
    except yaml.constructor.ConstructorError:
        warn(f"{path} holds Python objects, which scalelaw does not load (safe YAML only); "
             "its hyperparameters are not read: give metadata with --set or --meta", DataWarning)
        return {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"hparams.yaml is not valid YAML: {exc}", file=str(path)) from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise InputError("hparams.yaml does not hold a mapping of names to values", file=str(path))
    return content


def hparams_metadata(folder: Path) -> dict[str, object]:
    """Run metadata (model size, sequence length, ...) from the ``hparams.yaml`` in a Lightning run folder."""
    path = folder / HPARAMS
    return metadata_from(read_hparams(path), file=str(path))


def _run_name(root: Path, folder: Path) -> str:
    relative = folder.relative_to(root).as_posix()
    if relative == ".":
        resolved = root.resolve()
        return f"{resolved.parent.name}/{resolved.name}"
    return relative


def read_run(metrics: Path, name: str) -> RawTable:
    """One CSVLogger run: its metrics.csv rows plus metadata from the hparams.yaml beside it."""
    raw = tabular.read_delimited(metrics, delimiter=",", cut_tail=True)
    if "step" not in raw.frame.columns:
        raise InputError("metrics.csv has no 'step' column: not written by Lightning's CSVLogger "
                         "(read it as a plain table with --format csv)", file=str(metrics))
    meta = hparams_metadata(metrics.parent)
    frame = raw.frame.assign(**{k: v for k, v in meta.items() if k not in raw.frame.columns})
    return RawTable(frame, raw.rows, raw.file, name, "logger", text=True, unknown=UNKNOWN)


def read_lightning(path: Path) -> list[RawTable]:
    """Every CSVLogger run at or a few levels under ``path`` (or one ``metrics.csv``)."""
    if path.is_file():
        return [read_run(path, _run_name(path.parent, path.parent))]
    files = [p for p in files_within(path, METRICS, MAX_DEPTH) if is_lightning_metrics(p, tabular.csv_header(head(p, 4096)))]
    if not files:
        raise InputError("no Lightning metrics.csv in the folder or its version_* folders", file=str(path))
    return [read_run(p, _run_name(path, p.parent)) for p in files]
