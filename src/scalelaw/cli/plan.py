"""The ``scalelaw plan`` commands: questions to answer before committing compute.

Each command loads a FIT.json (from ``scalelaw fit`` or ``scalelaw plan unravel``) or
reads isoFLOP data, calls one function of :mod:`scalelaw.plan`, and prints a table or,
with ``--json``, the numbers with their intervals and warnings. This module holds the
group and what its commands share; one sibling module per question adds the commands:
``plan_compute`` (compute-optimal size, cheapest compute), ``plan_steps`` (the
kaplan-steps questions), ``plan_isoflop`` (approach 2), ``plan_hparams`` and ``plan_ladder`` (which runs to train).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


plan_app = typer.Typer(help="Planning: compute-optimal size, target loss, batch size, hyperparameters.", no_args_is_help=True)

FIT_ARGUMENT = typer.Argument(..., help="A FIT.json from `scalelaw fit` or `scalelaw plan unravel`.")
JSON_OPTION = typer.Option(False, "--json", help="Print the answer as JSON.")
LEVEL_OPTION = typer.Option(0.95, "--level", help="Coverage of the intervals.")


def load_fitted(path: Path) -> Any:
    """A step-by-step fit (``method: stepwise``) or an engine FitResult, from FIT.json."""
    from scalelaw.fit.serialize import fit_from_dict, read_json

    data = read_json(path)
    if isinstance(data, dict) and data.get("method") == "stepwise":
        from scalelaw.plan.unraveling import StepwiseFit

        return StepwiseFit.from_dict(data, source=str(path))
    return fit_from_dict(data, source=str(path))


def show_answer(title: str, answer: Any, as_json: bool) -> None:
    """Print an :class:`~scalelaw.plan.answers.Answer` as a table (warnings to stderr) or JSON."""
    from scalelaw.cli.output import err_console, print_json, print_table

    if as_json:
        print_json(answer.as_dict())
        return
    rows = [{"quantity": k, "value": v.value, "low": v.low, "high": v.high} for k, v in answer.values.items()]
    print_table(title, rows, ["quantity", "value", "low", "high"])
    for message in answer.warnings:
        err_console.print(f"warning: {message}")


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command group to ``app``; the question modules add its commands (in this order)."""
    import importlib

    for question in ("plan_compute", "plan_steps", "plan_isoflop", "plan_hparams", "plan_ladder"):
        importlib.import_module(f"scalelaw.cli.{question}")
    app.add_typer(plan_app, name="plan")
