"""The ``scalelaw`` command: a thin layer over the Python API.

Exit codes: 0 success, 1 internal error (short message, rerun with --debug for the
traceback), 2 bad input (a message naming file, run, row and column), 3 a fit that
``--strict`` refuses to trust. Command groups live in sibling modules that expose
``register(app)``; they are discovered here so each area owns its own file.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

import typer

from scalelaw.errors import InputError, UntrustedFitError

app = typer.Typer(
    name="scalelaw",
    help="Fit scaling laws on small training runs and predict large ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}

# Typer vendors click in recent releases and re-exports click in older ones; find the
# usage-error class through a public name so either works.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on internal errors."),
) -> None:
    """Fit scaling laws on small training runs and predict large ones."""
    _state["debug"] = debug


def _register_commands() -> None:
    import scalelaw.cli as package

    if _state.get("registered"):  # run() may be called many times in one process (tests)
        return
    _state["registered"] = True
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in {"main", "output"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"scalelaw.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the exit code."""
    _register_commands()
    warnings.showwarning = _show_warning
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="scalelaw", standalone_mode=False)
        code = 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        code = 130
    except _UsageError as exc:
        exc.show()
        code = 2
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except UntrustedFitError as exc:
        print(f"untrusted fit: {exc}", file=sys.stderr)
        code = 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # the last line of defence: never a bare traceback
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("rerun with --debug for the traceback, and please report it", file=sys.stderr)
        code = 1
    if argv is None:
        sys.exit(code)
    return code
