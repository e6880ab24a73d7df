"""The ``scalelaw runs`` commands: import files into the run store, list and show runs."""

from __future__ import annotations

from pathlib import Path

import typer

from scalelaw.cli._data_options import (
    BYTES_PER_TOKEN_OPTION,
    FORMAT_OPTION,
    LOSS_OPTION,
    LOSS_UNIT_OPTION,
    MAP_OPTION,
    META_OPTION,
    PATTERN_OPTION,
    SET_OPTION,
    STORE_OPTION,
    WHERE_OPTION,
    load_inputs,
)

runs_app = typer.Typer(help="Import training logs into the run store, list and show stored runs.", no_args_is_help=True)

LIST_COLUMNS = ["run", "points", "last_step", "params", "final_loss", "loss_source", "source", "written"]
#: Rows of the import summary printed before "... and N more".
IMPORT_ROWS_SHOWN = 20


@runs_app.command("import")
def import_runs(
    files: list[str] = typer.Argument(..., help="Files or folders to import, format detected (Trainer output, Lightning, TensorBoard, MLflow, W&B, text logs, CSV, TSV, JSONL, Parquet), or dataset:NAME."),
    maps: list[str] = MAP_OPTION,
    loss: str | None = LOSS_OPTION,
    sets: list[str] = SET_OPTION,
    meta: str | None = META_OPTION,
    pattern: str | None = PATTERN_OPTION,
    where: str | None = WHERE_OPTION,
    loss_unit: str = LOSS_UNIT_OPTION,
    bytes_per_token: float | None = BYTES_PER_TOKEN_OPTION,
    format: str | None = FORMAT_OPTION,
    store: Path = STORE_OPTION,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace runs the store already holds."),
    as_json: bool = typer.Option(False, "--json", help="Print the imported runs as JSON."),
) -> None:
    """Read runs from files and record them in the run store (all or nothing)."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.data.store import RunStore

    runs = load_inputs(files, maps, where, loss_unit, bytes_per_token, format=format, loss=loss, sets=sets, meta=meta,
                       pattern=pattern)
    target = RunStore(store)
    imported = set(target.put(runs, overwrite=overwrite))
    rows = [entry for entry in target.list() if entry["run"] in imported]
    if as_json:
        print_json({"store": str(store), "imported": rows})
    else:
        from scalelaw.cli.output import console

        print_table(f"imported {len(rows)} run(s) into {store}", rows[:IMPORT_ROWS_SHOWN], LIST_COLUMNS)
        if len(rows) > IMPORT_ROWS_SHOWN:
            console.print(f"... and {len(rows) - IMPORT_ROWS_SHOWN} more; `scalelaw runs list --store {store}` shows all.")


@runs_app.command("list")
def list_runs(
    store: Path = STORE_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """List the stored runs: points, last step, model size, final loss, which loss, source file, when written."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.data.store import RunStore

    rows = RunStore(store).list()
    if as_json:
        print_json(rows)
    else:
        print_table(f"{len(rows)} run(s) in {store}", rows, LIST_COLUMNS)


@runs_app.command("show")
def show_run(
    run: str = typer.Argument(..., help="The run id."),
    store: Path = STORE_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Show one stored run: its metadata, columns and first and last logged points."""
    import pandas as pd

    from scalelaw.cli.output import print_json, print_table
    from scalelaw.data.store import RunStore

    target = RunStore(store)
    entry = next((e for e in target.list() if e["run"] == run), {})
    curve = target.load([run]).curve(run)
    with_loss = curve[curve["loss"].notna()]
    if as_json:
        print_json({**entry, "columns": list(curve.columns), "points": with_loss.to_dict("records")})
        return
    summary = {**entry, "columns": ", ".join(curve.columns)}
    print_table(f"run {run!r}", [{"field": k, "value": v} for k, v in summary.items()], ["field", "value"])
    shown = with_loss if len(with_loss) <= 10 else pd.concat([with_loss.head(5), with_loss.tail(5)])
    columns = [c for c in ("step", "tokens", "loss", "lr") if c in curve.columns]
    print_table(f"first and last points of {run!r}", shown.to_dict("records"), columns)


def register(app: typer.Typer) -> None:
    """Add the ``runs`` command group to ``app``."""
    app.add_typer(runs_app, name="runs")
