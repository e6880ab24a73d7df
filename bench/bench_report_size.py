"""Size and render time of an HTML report with dense scatters drawn as vectors or as bitmaps.

Fits a power law in steps to three Multi-Power-Law curves (bundled data), then writes
the report of the fit with its six held-out curves twice, side by side: scatters of more
than ``plots.RASTER_ABOVE`` points rasterised inside the SVG (the default) and all
vector. Run: ``python bench/bench_report_size.py``.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import scalelaw
import scalelaw.datasets as datasets
from scalelaw.errors import FitWarning
from scalelaw.report import FitEntry, plots, write_report

FITTED = ["cosine_24000", "constant_24000", "wsdcon_9"]


def main() -> None:
    runs = datasets.load("multipowerlaw-25m")
    fitted = runs.select(FITTED)
    heldout = runs.select([r for r in runs.runs if r not in FITTED])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        fit = scalelaw.fit(fitted, law="power", law_options={"variable": "step"}, bootstrap=20, seed=0)
    entry = FitEntry(fit, fitted, heldout, title="power law in steps on multipowerlaw-25m")
    default = plots.RASTER_ABOVE
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for variant, threshold in (("dense scatters as bitmaps (default)", default), ("everything vector", 10**12)):
            plots.RASTER_ABOVE = threshold
            start = time.perf_counter()
            path = write_report(entry, path=Path(folder) / "report.html")
            seconds = time.perf_counter() - start
            rows.append((variant, path.stat().st_size, seconds))
    plots.RASTER_ABOVE = default
    base_size, base_time = rows[0][1], rows[0][2]
    print(f"{'variant':<38} {'bytes':>12} {'size ratio':>11} {'seconds':>8} {'time ratio':>11}")
    for variant, size, seconds in rows:
        print(f"{variant:<38} {size:>12,} {size / base_size:>11.2f} {seconds:>8.1f} {seconds / base_time:>11.2f}")


if __name__ == "__main__":
    main()
