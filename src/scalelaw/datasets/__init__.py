"""Public scaling-law data bundled with scalelaw, loaded as :class:`~scalelaw.data.RunSet`.

``names()`` lists the datasets, ``info(name)`` describes one, ``load(name)`` returns its
runs. The data files sit beside this module with their README (source, citation) and
LICENSE, and are read only from here, never downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.datasets import _multipowerlaw, _olmo_ladder, _tables
from scalelaw.datasets._tables import published_fits, published_metrics
from scalelaw.errors import InputError

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Dataset:
    """One bundled dataset: where its files are, what it holds and how to build its table."""

    name: str
    folder: str
    description: str
    citation: str
    licence: str
    build: Callable[[], pd.DataFrame]


_DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "multipowerlaw-25m",
            "multipowerlaw",
            "25M-parameter loss curves under 9 LR schedules, exact per-step LR (Luo et al. 2025)",
            "Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules, ICLR",
            "MIT",
            lambda: _multipowerlaw.load_curves("25m"),
        ),
        Dataset(
            "multipowerlaw-100m",
            "multipowerlaw",
            "100M-parameter loss curves under 9 LR schedules, exact per-step LR (Luo et al. 2025)",
            "Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules, ICLR",
            "MIT",
            lambda: _multipowerlaw.load_curves("100m"),
        ),
        Dataset(
            "datablations",
            "datablations",
            "final C4 losses of 296 data-constrained runs, N 7M-8.7B, up to 9000 epochs (Muennighoff et al. 2023)",
            "Muennighoff et al. 2023, Scaling Data-Constrained Language Models, NeurIPS",
            "Apache-2.0",
            _tables.load_datablations,
        ),
        Dataset(
            "porian2024",
            "porian2024",
            "1745 isoFLOP points of 15 compute-optimal training setups (Porian et al. 2024)",
            "Porian et al. 2024, Resolving Discrepancies in Compute-Optimal Scaling of Language Models, NeurIPS",
            "MIT",
            _tables.load_porian,
        ),
        Dataset(
            "olmo-ladder",
            "olmo_ladder",
            "24 OLMo ladder runs (190M-1B, 0.5-10x Chinchilla tokens, 1xC reruns): C4 loss, 10 other "
            "validation losses, task bpb and accuracy at every checkpoint, exact per-step LR (Bhagia et al. 2024)",
            "Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model Ladders, arXiv:2412.04403",
            "Apache-2.0",
            _olmo_ladder.load_ladder,
        ),
    )
}


def names() -> list[str]:
    """Names of the bundled datasets."""
    return list(_DATASETS)


def _get(name: str) -> Dataset:
    if name not in _DATASETS:
        raise InputError(f"unknown dataset {name!r}; bundled datasets: {', '.join(_DATASETS)}")
    return _DATASETS[name]


@lru_cache(maxsize=None)
def _table(name: str) -> pd.DataFrame:
    return _get(name).build()


def load(name: str) -> RunSet:
    """The runs of a bundled dataset (a fresh copy each call, so callers may modify it)."""
    table = _table(name).copy()
    source = f"dataset:{name}"
    return RunSet(table, {run: source for run in table["run"].unique().tolist()})


def info(name: str) -> dict[str, object]:
    """Name, description, counts (runs, rows, rows with a loss), citation, licence and folder."""
    dataset = _get(name)
    table = _table(name)
    return {
        "name": name,
        "description": dataset.description,
        "runs": int(table["run"].nunique()),
        "rows": len(table),
        "loss_rows": int(table["loss"].notna().sum()),
        "citation": dataset.citation,
        "licence": dataset.licence,
        "folder": str(HERE / dataset.folder),
    }


def files(name: str) -> list[Path]:
    """The data files a dataset is read from (its README and LICENSE sit beside them)."""
    folder = HERE / _get(name).folder
    if name.startswith("multipowerlaw-"):
        folder = folder / _multipowerlaw.SIZES[name.split("-")[1]][0]
    if name == "olmo-ladder":
        return _olmo_ladder.run_files()
    return sorted(p for p in folder.iterdir() if p.suffix == ".csv")


__all__ = ["files", "info", "load", "names", "published_fits", "published_metrics"]
