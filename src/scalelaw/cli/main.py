"""The ``scalelaw`` command: a thin layer over the Python API.

Exit codes: 0 success, 1 internal error (short message, rerun with --debug for the
traceback), 2 bad input (a message naming file, run, row and column), 3 a fit that
``--strict`` refuses to trust. Command groups live in sibling modules that expose
``register(app)``; they are discovered here so each area owns its own file.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import warnings

import typer

from scalelaw.errors import InputError, UntrustedFitError


def _new_app() -> typer.Typer:
    """The root typer app with its settings (plain click help: typer's rich help imports ~0.25 s of rich)."""
    return typer.Typer(
        name="scalelaw",
        help="Fit scaling laws on small training runs and predict large ones.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
    )


app = _new_app()

_state = {"debug": False}

# Typer vendors click in recent releases and re-exports click in older ones; find the
# usage-error class through a public name so either works.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


#: The environment variable a shell's completion script sets (see ``scalelaw completion``).
COMPLETE_VAR = "_SCALELAW_COMPLETE"


def _print_version(value: bool) -> None:
    if value:
        from scalelaw import __version__

        print(f"scalelaw {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on internal errors."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
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


def _command_name(info: typer.models.CommandInfo) -> str | None:
    """The name a top-level command is called by (typer derives it from the function when not given)."""
    if isinstance(info.name, str):
        return info.name
    callback = info.callback
    return None if callback is None else callback.__name__.lower().replace("_", "-")


def _app_for(args: list[str]) -> typer.Typer:
    """Only the top-level command or group that ``args`` names, with the root callback.

    Typer builds (and prepares the option coercion of) every command of the app it runs;
    building just the one asked for keeps ``scalelaw laws`` and ``scalelaw fit --help``
    fast. Root help, a root option before the command, or an unknown name get the whole app.
    """
    first = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if first is None or any(a in ("-h", "--help") for a in args[:first]):
        return app
    name = args[first]
    commands = [c for c in app.registered_commands if _command_name(c) == name]
    groups = [g for g in app.registered_groups if isinstance(g.name, str) and g.name == name]
    if not commands and not groups:
        return app
    pruned = _new_app()
    pruned.registered_callback = app.registered_callback
    pruned.registered_commands = commands
    pruned.registered_groups = groups
    return pruned


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {_printable(str(message))}", file=sys.stderr)


#: Longest error or warning line printed; a message quoting a huge untrusted value is cut.
MAX_MESSAGE = 4000


def _printable(text: str) -> str:
    """Messages quote untrusted input: cut them to ``MAX_MESSAGE`` characters and escape control characters."""
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}... (message cut: {len(text):,} characters)"
    if text.isprintable():
        return text
    from scalelaw.cli.output import printable

    return printable(text)


def _quiet_blas(args: list[str]) -> None:
    """One OpenBLAS thread in a fresh process that does not train models (set before NumPy loads, unless the
    user chose): its threads only spin on scalelaw's small products (fits limit them to one anyway), and
    starting them cost 0.1 s of CPU at every NumPy import, a tenth of ``fit``. ``ladder`` trains with torch
    and keeps the machine's default."""
    first = next((a for a in args if not a.startswith("-")), None)
    if "numpy" not in sys.modules and first != "ladder":
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the exit code."""
    from scalelaw.cli._fast_params import install

    install()
    _register_commands()
    if COMPLETE_VAR in os.environ:  # a shell asks for completions: typer's machinery, loaded only then
        from typer.completion import completion_init

        completion_init()
    warnings.showwarning = _show_warning
    args = sys.argv[1:] if argv is None else argv
    _quiet_blas(args)
    debug = "--debug" in args
    try:
        _app_for(args)(args=args, prog_name="scalelaw", standalone_mode=False)
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
        print(f"error: {_printable(str(exc))}", file=sys.stderr)
        code = 2
    except UntrustedFitError as exc:
        print(f"untrusted fit: {_printable(str(exc))}", file=sys.stderr)
        code = 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # the last line of defence: never a bare traceback
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {_printable(str(exc))}", file=sys.stderr)
        print("rerun with --debug for the traceback, and please report it", file=sys.stderr)
        code = 1
    if argv is None:
        sys.exit(code)
    return code
