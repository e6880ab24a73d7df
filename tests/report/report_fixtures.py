"""Helpers shared by the report tests: the bundled data they use and what their report holds."""

from __future__ import annotations

import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
from scalelaw.plan.isoflop import isoflop_fit
from scalelaw.report import IsoflopEntry

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
    return IsoflopEntry.from_runs(result, runs)


#: Figures in the report of the ``report_items`` fixture: 4 (final loss, residuals,
#: bootstrap, held-out interval coverage) for the Chinchilla fit, 6 (curves, panels,
#: residuals, schedules, bootstrap, held-out interval coverage) for the curve fit, 1 for
#: the isoFLOP analysis.
REPORT_FIGURES = 11
