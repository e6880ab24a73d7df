"""Generate docs/cli.md, the command-line reference, from the typer app itself.

Run ``python docs/gen_cli_reference.py`` after changing a command; ``--check`` exits
with 1 when the committed file is out of date (the test suite runs that check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import typer.main

from scalelaw.cli import main as cli_main

OUTPUT = Path(__file__).with_name("cli.md")

HEADER = """# Command-line reference

Generated from the code by `python docs/gen_cli_reference.py`; do not edit by hand.
Every command accepts `-h`/`--help`. Exit codes: 0 success, 1 internal error,
2 bad input (the message names file, run, row and column), 3 a fit refused by
`--strict`, 130 interrupted.
"""


def _default(param: Any) -> str:
    default = getattr(param, "default", None)
    if getattr(param, "is_flag", False) or default is None or callable(default):
        return ""
    if isinstance(default, (list, tuple)):
        return ", ".join(str(d) for d in default) if default else ""
    return str(getattr(default, "value", default))


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _command_markdown(path: str, command: Any) -> list[str]:
    ctx = typer.main.get_command(cli_main.app).make_context("scalelaw", [], resilient_parsing=True)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"## `{path}`", "", _escape(command.help or command.short_help or "").strip(), ""]
    lines += ["```", f"{path} {usage}".rstrip(), "```", ""]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [p for p in command.params if p.param_type_name == "option" and p.name != "help"]
    if arguments:
        lines += ["| Argument | Description |", "| --- | --- |"]
        lines += [f"| `{p.name.upper()}` | {_escape(getattr(p, 'help', None) or '')} |" for p in arguments]
        lines.append("")
    if options:
        lines += ["| Option | Description | Default |", "| --- | --- | --- |"]
        for p in options:
            names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            default = _default(p)
            lines.append(f"| {names} | {_escape(getattr(p, 'help', None) or '')} | {f'`{default}`' if default else ''} |")
        lines.append("")
    return lines


def _walk(path: str, command: Any) -> list[str]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return _command_markdown(path, command)
    lines: list[str] = []
    for name in sorted(subcommands):
        lines += _walk(f"{path} {name}", subcommands[name])
    return lines


def render() -> str:
    """The Markdown reference of every registered command, in name order."""
    cli_main._register_commands()
    root = typer.main.get_command(cli_main.app)
    commands = getattr(root, "commands", {})
    index = [f"- [`scalelaw {name}`](#scalelaw-{name.replace(' ', '-')}): {_escape(commands[name].get_short_help_str(80))}" for name in sorted(commands)]
    return "\n".join([HEADER, *index, "", *_walk("scalelaw", root)]).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/cli.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md differs from the code")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date; run python docs/gen_cli_reference.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
