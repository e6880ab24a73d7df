"""Real reports built from the bundled data, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
from scalelaw.plan.isoflop import isoflop_fit
from scalelaw.report import IsoflopEntry, Section, write_report
from scalelaw.report.html import paragraph

#: Porian et al.'s tuned RefinedWeb setup: the one whose exponent is near 0.5.
TUNED_SETUP = "dataset == 'rw' and hparams == 'tuned' and warmup == 'short' and param_count == 'standard'"


def porian_tuned() -> RunSet:
    """The isoFLOP points of Porian et al.'s tuned RefinedWeb setup."""
    return datasets.load("porian2024").where(TUNED_SETUP)


def isoflop_entry(runs: RunSet) -> IsoflopEntry:
    """An approach-2 analysis of ``runs`` (few bootstrap copies, to stay fast)."""
    table = runs.table
    columns = [table[c].to_numpy(dtype=float) for c in ("flops", "params", "tokens", "loss")]
    result = isoflop_fit(*columns, bootstrap=50, seed=0)
    return IsoflopEntry(result, columns[0], columns[1], columns[3])


def demo_report(path: Path) -> tuple[Path, int]:
    """A report mixing an isoFLOP analysis and a custom section; returns (path, figure count)."""
    runs = porian_tuned()
    note = Section("About this report", [paragraph(f"{len(runs)} isoFLOP points, {np.unique(runs.table['flops']).size} budgets.")])
    write_report([note, isoflop_entry(runs)], path=path, title="Browser test report", command="pytest tests/report/test_browser.py")
    return path, 1
