"""The ``scalelaw datasets`` command: the bundled public datasets and what they hold."""

from __future__ import annotations

import typer

COLUMNS = ["name", "runs", "rows", "loss_rows", "description"]


def register(app: typer.Typer) -> None:
    """Add the ``datasets`` command to ``app``."""

    @app.command("datasets")
    def list_datasets(
        name: str | None = typer.Argument(None, help="Show one dataset in full (citation, licence, folder)."),
        as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    ) -> None:
        """List the bundled datasets (name, runs, rows, description); load one with dataset:NAME."""
        import scalelaw.datasets as datasets
        from scalelaw.cli.output import console, print_json, print_table

        rows = [datasets.info(name)] if name else [datasets.info(n) for n in datasets.names()]
        if as_json:
            print_json(rows[0] if name else rows)
        elif name:
            console.print(rows[0])
        else:
            print_table("bundled datasets", rows, COLUMNS)
