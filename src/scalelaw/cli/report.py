"""The ``scalelaw report`` command: a saved fit (and data) to one self-contained HTML file."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from scalelaw.errors import InputError


def _read_data(sources: list[str], columns: list[str], where: str | None) -> object:
    """Runs from files/folders, or a bundled dataset given by name."""
    import scalelaw.datasets as datasets
    from scalelaw.data.readers import read_runs
    from scalelaw.data.runs import RunSet

    mapping = {}
    for item in columns:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical or not source:
            raise InputError(f"--map expects CANONICAL=COLUMN, got {item!r}")
        mapping[canonical.strip()] = source.strip()
    files = [s for s in sources if Path(s).exists()]
    named = [s for s in sources if not Path(s).exists()]
    unknown = [s for s in named if s not in datasets.names()]
    if unknown:
        raise InputError(f"no such file, folder or bundled dataset ({', '.join(datasets.names())})", file=unknown[0])
    parts = [datasets.load(name) for name in named]
    if files:
        parts.append(read_runs(files, columns=mapping or None))
    runs = RunSet.concat(parts)
    return runs.where(where) if where else runs


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        fit_path: Path = typer.Argument(..., help="A fit saved as JSON (e.g. by `scalelaw fit --save`)."),
        data: list[str] = typer.Argument(None, help="Held-out runs to evaluate the fit on: files, folders or a bundled dataset name."),
        output: Path = typer.Option(Path("report.html"), "--output", "-o", help="Where to write the HTML report."),
        fit_data: list[str] = typer.Option([], "--fit-data", help="The runs the fit was fitted on (files or a bundled dataset name), to plot them. Repeatable."),
        where: str | None = typer.Option(None, "--where", help="Pandas query selecting the held-out runs, e.g. \"run.str.contains('cosine')\"."),
        fit_where: str | None = typer.Option(None, "--fit-where", help="Pandas query selecting the fitted runs out of --fit-data."),
        columns: list[str] = typer.Option([], "--map", help="Map a canonical column to a column of the files: CANONICAL=COLUMN. Repeatable."),
        title: str = typer.Option("scalelaw report", "--title", help="Title of the report."),
        as_json: bool = typer.Option(False, "--json", help="Print where the report went and what it holds, as JSON."),
    ) -> None:
        """Write one self-contained HTML report of a saved fit: summary, parameters with intervals, diagnostics, plots, held-out evaluation."""
        from scalelaw.cli.output import console, print_json
        from scalelaw.fit import load_fit
        from scalelaw.report import write_report

        if not fit_path.exists():
            raise InputError("no such fit file", file=str(fit_path))
        fit = load_fit(fit_path)
        runs = _read_data(fit_data, columns, fit_where) if fit_data else None
        heldout = _read_data(data, columns, where) if data else None
        command = _reconstruct(fit_path, data, output, fit_data, where, fit_where, columns, title)
        path = write_report(fit, runs=runs, path=output, heldout=heldout, command=command, title=title)
        text = path.read_text(encoding="utf-8")
        summary = {
            "path": str(path),
            "bytes": len(text.encode("utf-8")),
            "figures": text.count("<figure"),
            "fitted_runs": len(runs) if runs is not None else 0,
            "heldout_runs": len(heldout) if heldout is not None else 0,
        }
        if as_json:
            print_json(summary)
        else:
            console.print(f"wrote {path} ({summary['figures']} figures, {summary['bytes'] / 1e6:.1f} MB)")


def _reconstruct(fit_path: Path, data: list[str] | None, output: Path, fit_data: list[str], where: str | None, fit_where: str | None, columns: list[str], title: str) -> str:
    """The command line that reproduces this report, quoted for a POSIX shell."""
    parts = ["scalelaw", "report", str(fit_path), *(data or []), "-o", str(output)]
    for item in fit_data:
        parts += ["--fit-data", item]
    for flag, value in (("--where", where), ("--fit-where", fit_where)):
        if value:
            parts += [flag, value]
    for item in columns:
        parts += ["--map", item]
    if title != "scalelaw report":
        parts += ["--title", title]
    return " ".join(shlex.quote(p) for p in parts)
