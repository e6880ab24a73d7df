"""The ``completion`` command: the shell script that completes ``scalelaw`` commands and options."""

from __future__ import annotations

import typer

SHELLS = ("bash", "zsh", "fish", "powershell")


def register(app: typer.Typer) -> None:
    """Add the ``completion`` command to ``app``."""

    @app.command("completion")
    def completion(shell: str = typer.Argument(..., help=f"The shell: {', '.join(SHELLS)}.")) -> None:
        """Print the completion script of a shell; e.g. add `eval "$(scalelaw completion bash)"` to ~/.bashrc."""
        from scalelaw.cli.main import COMPLETE_VAR
        from scalelaw.errors import InputError

        if shell not in SHELLS:
            raise InputError(f"completion: unknown shell {shell!r}; choose one of {', '.join(SHELLS)}")
        from typer._completion_shared import get_completion_script

        print(get_completion_script(prog_name="scalelaw", complete_var=COMPLETE_VAR, shell=shell))
