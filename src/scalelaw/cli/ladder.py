"""The ``scalelaw ladder`` commands: plan a sweep, run it into a run store, and the
end-to-end demo (train a small ladder, fit, predict a larger model, train it, compare)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:  # the ladder imports torch: only load it when a command runs
    from scalelaw.ladder.executors import RunOutcome
    from scalelaw.ladder.trainer import ProgressCallback, RunConfig

Result = TypeVar("Result")

ladder_app = typer.Typer(help="Train small models to produce scaling-law data (needs the ladder extra: pip install 'scalelaw\\[ladder]').", no_args_is_help=True)

STORE_OPTION = typer.Option(Path("scalelaw-runs"), "--store", help="Run-store folder the runs are written into.")
EXECUTOR_OPTION = typer.Option("local", "--executor", help="local (a process pool on this machine) or ray.")
ADDRESS_OPTION = typer.Option(None, "--address", help="Ray cluster address (e.g. ray://head:10001 or auto); default: start a local Ray.")
WORKERS_OPTION = typer.Option(None, "--workers", help="Local runs in parallel (default: one per core).")
THREADS_OPTION = typer.Option(None, "--threads", help="Torch threads per run (default 1; locally at most the cores left per worker).")
ALLOW_ROOT_OPTION = typer.Option([], "--allow-root", help="A folder a spec's corpus path may point into besides the spec's own folder. Repeatable.")
PLAN_COLUMNS = ["run_id", "params", "tokens", "steps", "flops", "tokens_per_second", "seconds", "stored"]
RUN_COLUMNS = ["run_id", "status", "seconds", "final_eval_loss", "message"]


def _require_torch() -> None:
    from scalelaw.errors import InputError

    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("the ladder needs PyTorch: pip install 'scalelaw[ladder]' (torch==2.13.0)") from None


@ladder_app.command("plan")
def plan(
    spec: Path = typer.Argument(..., help="Sweep spec (YAML)."),
    store: Path = STORE_OPTION,
    allow_root: list[Path] = ALLOW_ROOT_OPTION,
    measure: bool = typer.Option(True, "--measure/--no-measure", help="Time a few steps per model (default) or use the calibrated cost model."),
    workers: int | None = WORKERS_OPTION,
    threads: int | None = THREADS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """List the runs of SPEC with their FLOPs and estimated training time."""
    _require_torch()
    from scalelaw.cli.output import console, print_json, print_table
    from scalelaw.data.store import RunStore
    from scalelaw.ladder.executors import local_layout
    from scalelaw.ladder.plan import plan_sweep
    from scalelaw.ladder.spec import load_spec

    sweep = load_spec(spec, allowed_roots=allow_root)
    stored = frozenset(entry["run"] for entry in RunStore(store).list())
    pending = [c for c in sweep.runs if c.run_id not in stored]
    count, threads = local_layout(max(1, len(pending)), workers, threads=threads)
    rows = [asdict(p) for p in plan_sweep(sweep.runs, measure=measure, threads=threads, stored=stored)]
    to_train = sum(r["seconds"] for r in rows if not r["stored"])
    summary = {
        "runs": len(rows), "to_train": len(pending), "flops": sum(r["flops"] for r in rows),
        "estimate": "measured" if measure else "calibrated cost model",
        "workers": count, "threads_per_worker": threads, "wall_seconds": to_train / count,
    }
    if as_json:
        print_json({"summary": summary, "runs": rows})
        return
    print_table(f"plan for {spec} ({summary['estimate']} throughput, {threads} thread(s) per run)", rows, PLAN_COLUMNS)
    console.print(f"{len(pending)} of {len(rows)} runs to train, {summary['flops']:.3g} FLOPs in all; "
                  f"about {summary['wall_seconds'] / 60:.1f} min with {count} local worker(s).")


@ladder_app.command("run")
def run(
    spec: Path | None = typer.Argument(None, help="Sweep spec (YAML); or give --plan."),
    plan: Path | None = typer.Option(None, "--plan", help="Train the runs of a plan from `scalelaw plan ladder "
                                     "--family SPEC --out plan.json` instead of a spec."),
    store: Path = STORE_OPTION,
    allow_root: list[Path] = ALLOW_ROOT_OPTION,
    executor: str = EXECUTOR_OPTION,
    address: str | None = ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    threads: int | None = THREADS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the outcome of every run as JSON."),
) -> None:
    """Train the runs of SPEC (or of --plan) not yet in the store; rerun after a crash or Ctrl-C to resume."""
    _require_torch()
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.errors import InputError
    from scalelaw.ladder.from_plan import load_plan
    from scalelaw.ladder.spec import load_spec

    if (spec is None) == (plan is None):
        raise InputError("give a sweep spec or --plan plan.json (exactly one)", column="--plan")
    sweep = (load_spec(spec, allowed_roots=allow_root) if spec is not None
             else load_plan(plan, allowed_roots=allow_root))  # type: ignore[arg-type]
    outcomes = [asdict(o) for o in _train(sweep.runs, store, executor=executor, address=address, workers=workers, threads=threads)]
    if as_json:
        print_json({"store": str(store), "runs": outcomes})
    else:
        print_table(f"ladder {sweep.name} -> {store}", outcomes, RUN_COLUMNS)
    if any(o["status"] == "failed" for o in outcomes):
        raise typer.Exit(1)


def _train(
    runs: Sequence[RunConfig], store: Path, *, executor: str, address: str | None, workers: int | None, threads: int | None
) -> list[RunOutcome]:
    """Run a sweep under a progress bar; Ctrl-C leaves checkpoints to resume from."""
    from scalelaw.ladder.executors import run_sweep

    return _with_progress(
        lambda progress: run_sweep(runs, store, executor=executor, workers=workers, threads=threads, address=address,
                                   progress=progress),
        total=sum(c.steps for c in runs),
    )


@ladder_app.command("demo")
def demo(
    store: Path = typer.Option(Path("scalelaw-ladder-demo"), "--store", help="Run-store folder (rerun to resume or reuse)."),
    spec: Path | None = typer.Option(None, "--spec", help="A spec with a 'target' run instead of the bundled demo.yaml."),
    allow_root: list[Path] = ALLOW_ROOT_OPTION,
    workers: int | None = WORKERS_OPTION,
    threads: int | None = THREADS_OPTION,
    bootstrap: int = typer.Option(100, "--bootstrap", help="Bootstrap replicates for the chinchilla fit's intervals."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train a small ladder on a Markov corpus, predict a 7x larger model, train it, compare.

    Also compares the fitted irreducible loss E with the corpus's exact entropy rate.
    About 5-10 minutes on 2 CPU cores.
    """
    _require_torch()
    from scalelaw.cli.output import console, print_json, print_table
    from scalelaw.ladder.demo import checks_table, run_demo
    from scalelaw.ladder.spec import load_spec

    sweep = load_spec(spec, allowed_roots=allow_root) if spec is not None else None
    result = _with_progress(lambda progress: run_demo(store, spec=sweep, workers=workers, threads=threads, bootstrap=bootstrap,
                                                      progress=progress))
    checks = checks_table(result).to_dict("records")
    truth = {
        "fitted_E": result.fitted_E, "E_lo": result.fitted_E_ci[0], "E_hi": result.fitted_E_ci[1],
        "entropy_rate": result.entropy_rate, "oracle_eval_loss": result.oracle_eval_loss,
        "relative_error_vs_entropy_rate": result.fitted_E / result.entropy_rate - 1,
    }
    if as_json:
        print_json({"store": str(store), "ladder_runs": result.ladder_runs, "size_ratio": result.size_ratio,
                    "target_params": result.target_params, "target_tokens": result.target_tokens,
                    "predictions": checks, "irreducible_loss": truth, "seconds": result.seconds})
        return
    print_table(f"final eval loss of a {result.target_params:,}-parameter model, {result.size_ratio:.1f}x the largest "
                f"of {result.ladder_runs} ladder runs: predicted before training vs actual", checks)
    print_table("chinchilla's fitted E against the corpus's exact entropy rate", [truth])
    console.print(f"done in {result.seconds / 60:.1f} min; runs are in {store} (scalelaw runs list --store {store})")


def _with_progress(work: Callable[[ProgressCallback], Result], *, total: int | None = None) -> Result:
    """Call ``work(progress)`` under a progress bar of training steps on stderr."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scalelaw.cli.output import err_console, printable

    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), TextColumn("{task.completed} steps"),
                  TimeRemainingColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("training", total=total)
        done: dict[str, int] = {}

        def progress(run_id: str, step: int, steps: int) -> None:
            bar.advance(task, step - done.get(run_id, 0))
            done[run_id] = step
            bar.update(task, description=printable(f"training {run_id}", keep_newlines=False))

        try:
            return work(progress)
        except KeyboardInterrupt:
            err_console.print("interrupted: finished runs are stored; rerun the same command to resume the rest")
            raise


def register(app: typer.Typer) -> None:
    """Add the ``ladder`` command group to ``app``."""
    app.add_typer(ladder_app, name="ladder")
