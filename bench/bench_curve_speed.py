"""Speed of the Multi-Power Law on a 1,000,000-step schedule: this checkout against an older one.

Side by side in one run, the same schedule (WSD, 2,000 warmup steps, cosine decay over the
last 20%) and the paper's 25M parameters:

- the loss-drop sums at 1,000 evaluation steps with their gradient (what ``predict`` and a
  fit's Jacobian need): building the split (parameter-free) and evaluating it;
- the whole law path, ``design_at(schedule=...)`` + ``jacobian`` at those 1,000 steps;
- every one of the 1,000,000 steps (``DenseDropSum``, the multipole-style variant).

The older implementation is read from git (``--old COMMIT``, default the commit before the
band prefix sums) and imported under another name; without git that column is left out.
Accuracy: the fast sums against the naive O(T) sum at 25 steps, with the stated bound.

Then the bundled data, before and after (``--before COMMIT``, default the commit this branch
started from; its ``src`` from ``git archive``), each tree in its own process, interleaved:
the Multi-Power Law on the MPL 25M runs and the Chinchilla-curve law on the 24 OLMo ladder
curves. Timed (CPU seconds, median): the design on all runs (curves and loss-drop splits
built), the design of a fold (all runs but the last, as a backtest builds it), and the
Jacobian at 1 and at 30 parameter rows (a fit step, a bootstrap chunk) with γ moving
between calls as it does in a fit. Run: ``python bench/bench_curve_speed.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

from scalelaw.data.schedules import parse_schedule
from scalelaw.laws import _curves, _curves_dense, get
from scalelaw.laws._curves import loss_drop_naive

ROOT = Path(__file__).resolve().parents[1]
TOTAL = 1_000_000
SPEC = f"wsd:peak=3e-4,warmup=2000,total={TOTAL},decay_start={TOTAL * 4 // 5},final=3e-5,shape=cosine"
THETA = np.array([[3.0405, 0.5247, 0.5079, 363.79, 2.0656, 0.5828, 0.6414]])  # Luo et al., 25M
OLD_COMMIT = "9362111"


def old_modules(commit: str, folder: Path) -> tuple[types.ModuleType, types.ModuleType] | None:
    """``_curves`` and ``_curves_dense`` as they were at ``commit`` (written to ``folder``), or None without git."""
    modules = []
    for name in ("_curves", "_curves_dense"):
        try:
            source = subprocess.run(["git", "show", f"{commit}:src/scalelaw/laws/{name}.py"], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        path = folder / f"old{name}.py"
        path.write_text(source.replace("from scalelaw.laws._curves import", "from old_curves import"))
        spec = importlib.util.spec_from_file_location(f"old{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"old{name}"] = module
        spec.loader.exec_module(module)
        modules.append(module)
    return modules[0], modules[1]


def seconds(fn, repeat: int) -> float:  # noqa: ANN001
    """Median wall time of ``fn()`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", default=OLD_COMMIT, help="Commit of the older implementation.")
    parser.add_argument("--before", default="", help="Commit for the bundled-data table (default: merge-base with main).")
    args = parser.parse_args()
    schedule = parse_schedule(SPEC)
    lr = schedule.lr(np.arange(0, TOTAL + 1, dtype=float))
    steps = np.unique(np.round(np.linspace(1, TOTAL, 1000)).astype(np.int64))
    c, beta, gamma = THETA[0, 4:]
    law = get("multi-power")
    old = old_modules(args.old, Path(tempfile.mkdtemp()))
    versions = {"this checkout": (_curves, _curves_dense)} | ({f"old ({args.old})": old} if old else {})

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (a shared machine: compare ratios)")
    print(f"schedule {SPEC}; median of {args.repeat}\n")
    rows: dict[str, dict[str, float]] = {}
    for label, (curves, dense) in versions.items():
        sums = curves.DropSum.build(lr, steps, blocks_per_level=4)
        build = getattr(curves.DropSum, "_build", curves.DropSum.build)  # the split itself, not a cache hit
        row = {
            "build split, 1,000 steps": seconds(lambda: build(lr, steps, blocks_per_level=4, max_lr_ratio=1.25),
                                                args.repeat),
            "evaluate + gradient, 1,000 steps": seconds(
                lambda: sums.evaluate([c], [beta], [gamma], gradient=True), args.repeat),
        }
        row["sum at 1,000 steps (build + evaluate)"] = row["build split, 1,000 steps"] + row["evaluate + gradient, 1,000 steps"]
        whole = dense.DenseDropSum.build(lr)
        row["every step: build"] = seconds(lambda: dense.DenseDropSum.build(lr), 1)
        row["every step: evaluate"] = seconds(lambda: whole.evaluate(c, beta, gamma), 1)
        rows[label] = row
    rows["this checkout"]["law: design_at + jacobian, 1,000 steps"] = seconds(
        lambda: law.jacobian(THETA, law.design_at(schedule=SPEC)), args.repeat)
    names = list(rows["this checkout"])
    labels = list(rows)
    print(f"{'seconds':42s}" + "".join(f"{label:>22s}" for label in labels) + (f"{'old / new':>12s}" if len(labels) > 1 else ""))
    for name in names:
        cells = "".join(f"{rows[label][name]:22.3f}" if name in rows[label] else f"{'-':>22s}" for label in labels)
        ratio = f"{rows[labels[1]][name] / rows[labels[0]][name]:11.1f}x" if len(labels) > 1 and name in rows[labels[1]] else ""
        print(f"{name:42s}{cells}{ratio}")

    check = steps[:: len(steps) // 25][:25]
    fast = _curves.DropSum.build(lr, check, blocks_per_level=4).evaluate([c], [beta], [gamma], bound=True)
    naive = loss_drop_naive(lr, check, c, beta, gamma)
    error = np.abs(fast["value"][0] - naive)
    scale = THETA[0, 3]  # B: loss-drop sums times B are nats
    print(f"\naccuracy at {check.size} steps against the naive sum (nats, x B = {scale:g}): "
          f"max error {scale * error.max():.2e}, max stated bound {scale * fast['bound'][0].max():.2e}, "
          f"error within bound: {bool(np.all(error <= fast['bound'][0] + 1e-15))}")
    dense_values = _curves_dense.DenseDropSum.build(lr).evaluate(c, beta, gamma)
    print(f"every-step variant at the same steps: max error {scale * np.abs(dense_values[check - 1] - naive).max():.2e} nats")
    data_section(args.before, args.repeat)


#: Measured in a fresh process per source tree: prints one JSON object of CPU seconds.
MEASURE = """
import json, statistics, sys, time, warnings
import numpy as np
from scalelaw import datasets
from scalelaw.laws import get
warnings.simplefilter("ignore")
repeat = int(sys.argv[1])

def cpu(fn):
    times = []
    for k in range(repeat):
        start = time.process_time()
        fn(k)
        times.append(time.process_time() - start)
    return statistics.median(times)

out = {}
for label, dataset, name in (("MPL 25M, multi-power", "multipowerlaw-25m", "multi-power"),
                             ("OLMo ladder, chinchilla-curve", "olmo-ladder", "chinchilla-curve")):
    runs = datasets.load(dataset)
    law = get(name)
    start = time.process_time()
    design = law.design(runs)
    out[label + ": design, all runs (first)"] = time.process_time() - start
    fold = runs.select(runs.runs[:-1])
    out[label + ": design, a fold"] = cpu(lambda k: law.design(fold))
    theta = law.starts()[:1]
    gamma = law.param_names.index("gamma")
    def jac(rows, k):
        batch = np.repeat(theta, rows, axis=0)
        batch[:, gamma] *= 1.0 + 1e-3 * (k + 1) + 1e-4 * np.arange(rows)
        law.jacobian(batch, design)
    out[label + ": Jacobian, 1 row"] = cpu(lambda k: jac(1, k))
    out[label + ": Jacobian, 30 rows"] = cpu(lambda k: jac(30, k))
print(json.dumps(out))
"""


def data_section(before: str, repeat: int) -> None:
    """The bundled curves, this checkout against ``before``, interleaved processes; CPU seconds."""
    base = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True)
    commit = before or base.stdout.strip()
    if not commit:
        print("\n(no git: the before/after table on the bundled data is left out)")
        return
    folder = Path(tempfile.mkdtemp())
    archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    trees = {"this checkout": ROOT / "src", f"before ({commit[:7]})": folder / "src"}
    results: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
    for _ in range(2):  # interleaved: a busy machine slows both alike
        for label, src in trees.items():
            env = {**os.environ, "PYTHONPATH": str(src)}
            done = subprocess.run([sys.executable, "-c", MEASURE, str(repeat)], env=env, capture_output=True,
                                  text=True, check=True)
            results[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
    labels = list(trees)
    print(f"\nbundled curves, CPU seconds (median over processes and repeats); load average {os.getloadavg()[0]:.1f}")
    print(f"{'':52s}" + "".join(f"{label:>20s}" for label in labels) + f"{'before / now':>14s}")
    for name in results[labels[0]][0]:
        medians = [statistics.median(r[name] for r in results[label]) for label in labels]
        print(f"{name:52s}" + "".join(f"{m:20.3f}" for m in medians) + f"{medians[1] / medians[0]:13.1f}x")


if __name__ == "__main__":
    main()
