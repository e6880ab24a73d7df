"""The ``scalelaw demo`` command: a readable tour of the bundled public data."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""

    @app.command("demo")
    def demo(as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
        """Summarise the bundled datasets: runs, points, loss range and what each is for."""
        import scalelaw.datasets as datasets
        from scalelaw.cli.output import console, print_json, print_table

        rows = []
        for name in datasets.names():
            runs = datasets.load(name)
            final = runs.final()
            rows.append({
                **{k: v for k, v in datasets.info(name).items() if k in ("name", "runs", "loss_rows")},
                "best_final_loss": float(final["loss"].min()),
                "worst_final_loss": float(final["loss"].max()),
                "description": datasets.info(name)["description"],
            })
        if as_json:
            print_json(rows)
            return
        console.rule("scalelaw demo: the bundled public data")
        print_table(None, rows, ["name", "runs", "loss_rows", "best_final_loss", "worst_final_loss", "description"])
        console.print("Load any of them with [bold]scalelaw.datasets.load(NAME)[/] or [bold]dataset:NAME[/] on the command line.")
