"""The ``scalelaw report`` command: a saved fit (and data) to one self-contained HTML file."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from scalelaw.cli._data_options import BYTES_PER_TOKEN_OPTION, FORMAT_OPTION, LOSS_UNIT_OPTION, MAP_OPTION, load_inputs


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        fit_path: Path = typer.Argument(..., help="A fit saved as JSON (e.g. by `scalelaw fit --save`)."),
        data: list[str] = typer.Argument(None, help="Held-out runs to evaluate the fit on: files, folders, a run store or dataset:NAME."),
        output: Path = typer.Option(Path("report.html"), "--out", "-o", "--output", help="Where to write the HTML report."),
        fit_data: list[str] = typer.Option([], "--fit-data", help="The runs the fit was fitted on (same kinds of input as DATA), to plot them; by default those FIT.json records, when unchanged. Repeatable."),
        where: str | None = typer.Option(None, "--where", help="Keep only held-out rows matching a filter, e.g. \"params > 1e9\"."),
        fit_where: str | None = typer.Option(None, "--fit-where", help="Keep only --fit-data rows matching a filter (same language as --where)."),
        maps: list[str] = MAP_OPTION,
        loss_unit: str = LOSS_UNIT_OPTION,
        bytes_per_token: float | None = BYTES_PER_TOKEN_OPTION,
        input_format: str | None = FORMAT_OPTION,
        title: str = typer.Option("scalelaw report", "--title", help="Title of the report."),
        as_json: bool = typer.Option(False, "--json", help="Print where the report went and what it holds, as JSON."),
    ) -> None:
        """Write one self-contained HTML report of a saved fit: summary, parameters with intervals, diagnostics, plots, held-out evaluation."""
        from scalelaw.cli._provenance import read_source
        from scalelaw.cli.output import console, print_json
        from scalelaw.data.atomic import check_output_path
        from scalelaw.fit import FitResult, load_fit
        from scalelaw.report import write_report

        check_output_path(output, option="-o")
        fit = load_fit(fit_path)
        metric = fit.options.get("metric") if hasattr(fit, "options") else None
        options = dict(maps=maps, loss_unit=loss_unit, bytes_per_token=bytes_per_token, format=input_format,
                       targets=metric not in (None, "loss"))  # a --metric fit's data need no loss column
        if fit_data:
            runs, note = load_inputs(fit_data, where=fit_where, **options), ""
        else:  # the runs FIT.json says it was fitted on, when they are still there and unchanged
            runs, note = read_source(fit, fit_path) if isinstance(fit, FitResult) else (None, "")
        if runs is not None and fit_where and not fit_data:
            runs = runs.where(fit_where)
        heldout = load_inputs(data, where=where, **options) if data else None
        command = _command_line(fit_path, data or [], output, fit_data, where, fit_where, maps, loss_unit, bytes_per_token, input_format, title)
        path = write_report(fit, runs=runs, path=output, heldout=heldout, command=command, title=title)
        text = path.read_text(encoding="utf-8")
        summary = {
            "path": str(path),
            "bytes": len(text.encode("utf-8")),
            "figures": text.count('<figure id="'),
            "fitted_runs": len(runs) if runs is not None else 0,
            "heldout_runs": len(heldout) if heldout is not None else 0,
            "note": note,
        }
        if as_json:
            print_json(summary)
        else:
            console.print(f"wrote {path} ({summary['figures']} figures, {summary['bytes'] / 1e6:.1f} MB)"
                          + (f"; {note}" if note else ""))


def _command_line(
    fit_path: Path,
    data: list[str],
    output: Path,
    fit_data: list[str],
    where: str | None,
    fit_where: str | None,
    maps: list[str],
    loss_unit: str,
    bytes_per_token: float | None,
    input_format: str | None,
    title: str,
) -> str:
    """The command line that reproduces this report, quoted for a POSIX shell."""
    parts = ["scalelaw", "report", str(fit_path), *data, "-o", str(output)]
    for flag, values in (("--fit-data", fit_data), ("--map", maps)):
        for value in values:
            parts += [flag, value]
    optional = (
        ("--where", where),
        ("--fit-where", fit_where),
        ("--loss-unit", None if loss_unit == "nats" else loss_unit),
        ("--bytes-per-token", bytes_per_token),
        ("--format", input_format),
        ("--title", None if title == "scalelaw report" else title),
    )
    for flag, value in optional:
        if value is not None:
            parts += [flag, str(value)]
    return " ".join(_quote(p) for p in parts)


def _quote(text: str) -> str:
    """Quote for a POSIX shell, preferring readable double quotes around single-quoted text."""
    quoted = shlex.quote(text)
    if quoted == text or not any(c in text for c in "'") or any(c in text for c in '"$`\\!'):
        return quoted
    return f'"{text}"'
