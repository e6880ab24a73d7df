"""The ``tasks`` command: forecast every task's accuracy in two steps and print a table.

A thin layer over :func:`scalelaw.plan.tasks.forecast_tasks`: parse the options, fit
every task found in the data, print one row per task and target point (or JSON), and
optionally write the task page of the HTML report.
"""

from __future__ import annotations

from pathlib import Path

import typer

from scalelaw.cli._data_options import WHERE_OPTION, load_inputs


def register(app: typer.Typer) -> None:
    """Add the ``tasks`` command to ``app``."""

    @app.command("tasks")
    def tasks_command(
        data: list[str] = typer.Argument(..., help="Runs logging task accuracy and bpb, e.g. dataset:olmo-ladder."),
        at: list[str] = typer.Option(..., "--at", help="Target to forecast, e.g. params=7e9,tokens=4e12. Repeatable."),
        task: list[str] = typer.Option([], "--task", help="Only tasks whose name contains this text. Repeatable."),
        law: str = typer.Option("chinchilla", "--law", help="Step-1 law from (N, D) to each task's bpb."),
        where: str | None = WHERE_OPTION,
        bootstrap: int = typer.Option(100, "--bootstrap", help="Bootstrap replicates of each step (for the intervals)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        level: float = typer.Option(0.9, "--level", help="Coverage of the intervals."),
        report: Path | None = typer.Option(None, "--report", help="Also write the task page (HTML) here."),
        as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
    ) -> None:
        """Forecast every task's accuracy at the targets: (N, D) -> task bpb -> accuracy (Bhagia et al. 2024)."""
        from scalelaw.cli.fitting import numeric_pairs
        from scalelaw.cli.output import console, print_json, print_table
        from scalelaw.plan.tasks import forecast_table, forecast_tasks

        if report is not None:
            from scalelaw.data.atomic import check_output_path

            check_output_path(report, option="--report")
        runs = load_inputs(data, (), where)
        points = [numeric_pairs([item], "--at") for item in at]
        forecasts = forecast_tasks(runs, points, only=task, law=law, bootstrap=bootstrap, seed=seed, level=level)
        rows = forecast_table(forecasts)
        if report is not None:
            from scalelaw.report.document import write_report
            from scalelaw.report.tasks import tasks_section

            write_report([tasks_section(forecasts, level=level)], path=report, title="scalelaw task forecasts")
        if as_json:
            print_json(rows)
            return
        print_table(f"task accuracy forecasts ({level:.0%} intervals; --json for every field)", [_shown(r) for r in rows])
        for forecast in forecasts:
            for note in forecast.notes:
                if "extrapolat" in note or "beyond" in note:
                    console.print(f"warning: {forecast.task.name}: {note}", style="yellow")
        if report is not None:
            console.print(f"wrote {report}")


def _shown(row: dict) -> dict[str, str]:
    """A forecast row for the terminal: the target, the accuracy in points with its interval, the bpb."""
    target = ", ".join(f"{k}={row[k]:.3g}" for k in row if k not in _FIELDS)
    return {
        "task": row["task"],
        "target": target,
        "accuracy %": f"{100 * row['value']:.1f} [{100 * row['lo']:.1f}, {100 * row['hi']:.1f}]",
        "bpb": f"{row['via']:.3f}",
        "extrapolates": "yes" if row["step2_extrapolates"] or row["extrapolation_decades"] > 0 else "no",
        "best seen %": f"{100 * row['accuracy_seen_max']:.1f}",
    }


_FIELDS = {"task", "value", "lo", "hi", "via", "via_lo", "via_hi", "extrapolation_decades", "step2_extrapolates",
           "accuracy_seen_max"}
