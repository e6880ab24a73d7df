"""The ``scalelaw demo`` command: fit the main laws on the bundled data and write the report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("scalelaw-demo/report.html"), "--out", "-o", help="Where to write the HTML report."),
        bootstrap: int = typer.Option(100, "--bootstrap", help="Bootstrap replicates per fit (0 for none)."),
        seed: int = typer.Option(0, "--seed", help="Seed of every random choice; same seed, same numbers."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Fit the main laws on the bundled public data, print what they predict and write a report."""
        from scalelaw.cli.output import console, print_json, print_table
        from scalelaw.data.atomic import check_output_path
        from scalelaw.demo import run_demo, write_demo_report

        check_output_path(out, create_folder=True)
        quiet = as_json or not sys.stdout.isatty()
        if not quiet:
            console.rule("scalelaw demo: fitting the main laws on the bundled public data")
        with console.status("fitting ...", spinner="dots") if not quiet else _nothing():
            result = run_demo(bootstrap=bootstrap, seed=seed, progress=not quiet)
        path = write_demo_report(result, out, command="scalelaw " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
        if as_json:
            print_json({
                "summary": result.summary,
                "best_schedule": result.schedule.schedule.to_spec(),
                "warnings": result.warnings,
                "report": str(path),
            })
            return
        rows = [
            {
                "question": row["question"],
                "scalelaw": row["scalelaw"],
                "95% interval": _interval(row["interval"]),
                "published": row["published"],
                "data": row["data"],
            }
            for row in result.summary
        ]
        print_table("What the bundled data says", rows)
        best = result.schedule
        console.print(
            f"Best schedule found for the 25M model at 24,000 steps: {best.schedule.to_spec()}, "
            f"predicted final loss {best.final_loss:.4f} against cosine's {best.cosine_loss:.4f} "
            f"(gain {best.gain:.4f} nats)."
        )
        if result.warnings:
            console.print("Warnings from the fits (explained in the report):", style="bold yellow")
            for message in result.warnings:
                console.print(f"  - {message}")
        console.print(f"Report written to {path.resolve()} (open it in a browser; it needs no network).")


def _interval(value: list[float] | None) -> str:
    if not value:
        return "-"
    from scalelaw.cli.output import format_value

    return f"[{format_value(float(value[0]))}, {format_value(float(value[1]))}]"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
