"""Approach 2 (isoFLOP profiles) on the bundled Porian et al. (2024) data, against their exponents.

For each of the 15 training setups, fit N*(C) ∝ C^a with scalelaw's isoFLOP analysis
(Porian et al.'s rule: Akima interpolation, 1,000 noisy copies, median optimum) and
compare a with the published ``n_exponent``; pass when within 0.02. Chinchilla's
parabola rule is shown beside it for contrast. Run: ``python bench/bench_plan_porian.py``.
"""

from __future__ import annotations

import sys

import numpy as np

from scalelaw import datasets
from scalelaw.cli.output import print_table
from scalelaw.plan.isoflop import isoflop_fit

TOLERANCE = 0.02
#: Porian et al.'s seed-noise levels (configs.py: RW_SEED_CONFIG, OWT2_SEED_CONFIG).
NOISE = {"rw": 0.002, "owt2": 0.01}
SETUP = ("source_file", "dataset", "hparams", "warmup", "decay", "param_count", "loss_type")


def main() -> int:
    runs = datasets.load("porian2024").table
    published = datasets.published_fits()
    rows = []
    for _, fit_row in published.iterrows():
        mask = np.logical_and.reduce([runs[c] == str(fit_row[c]) for c in SETUP])
        points = runs[mask]
        common = dict(noise=NOISE[fit_row["dataset"]], bootstrap=1000, seed=42)
        ours = isoflop_fit(points["flops"], points["params"], points["tokens"], points["loss"], method="akima", **common)
        parabola = isoflop_fit(points["flops"], points["params"], points["tokens"], points["loss"], method="parabola", **common)
        a_pub = float(fit_row["n_exponent"])
        diff = ours.params.exponent - a_pub
        rows.append(
            {
                "setup": "/".join(str(fit_row[c]) for c in SETUP[1:]),
                "published a": a_pub,
                "ours a": ours.params.exponent,
                "95% CI": f"[{ours.params.exponent_low:.3f}, {ours.params.exponent_high:.3f}]",
                "difference": diff,
                "budgets": len(ours.used_budgets),
                "parabola a": parabola.params.exponent,
                "pass": "pass" if abs(diff) <= TOLERANCE else "FAIL",
            }
        )
    print_table(f"Approach 2 on porian2024: compute-optimal exponent a (tolerance {TOLERANCE})", rows)
    failures = sum(r["pass"] != "pass" for r in rows)
    print(f"{len(rows) - failures}/{len(rows)} setups within {TOLERANCE}; largest |difference| "
          f"{max(abs(r['difference']) for r in rows):.4f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
