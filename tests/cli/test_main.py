"""Exit codes and error handling of the scalelaw command."""

from __future__ import annotations

import pytest
import typer

from scalelaw.cli import main
from scalelaw.errors import InputError


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run(["--help"]) == 0
    assert "scalelaw" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    assert main.run(["no-such-command"]) == 2


def test_input_error_exits_2_with_location(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    probe = typer.Typer()

    @probe.command("explode-input")
    def _explode() -> None:
        raise InputError("loss is not a number", file="a.csv", run="r1", row=3, column="loss")

    monkeypatch.setattr(main, "_register_commands", lambda: main.app.add_typer(probe, name="probe"))
    assert main.run(["probe", "explode-input"]) == 2
    err = capsys.readouterr().err
    assert "file a.csv" in err and "run 'r1'" in err and "row 3" in err and "column 'loss'" in err
    assert "Traceback" not in err


def test_internal_error_exits_1_without_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    probe = typer.Typer()

    @probe.command("explode-bug")
    def _explode() -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(main, "_register_commands", lambda: main.app.add_typer(probe, name="probe2"))
    assert main.run(["probe2", "explode-bug"]) == 1
    err = capsys.readouterr().err
    assert "--debug" in err and "Traceback" not in err


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    import scalelaw

    assert main.run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"scalelaw {scalelaw.__version__}"


def test_python_dash_m_runs_the_command() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "scalelaw", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("scalelaw ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completion_script_names_the_command(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert main.COMPLETE_VAR in script and "scalelaw" in script


def test_completion_completes_commands_and_options(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """What bash receives when the user presses Tab after `scalelaw fi` and `scalelaw fit --la`."""
    monkeypatch.setenv(main.COMPLETE_VAR, "complete_bash")
    for words, cword, expected in (("scalelaw fi", "1", "fit"), ("scalelaw fit --la", "2", "--law")):
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", cword)
        with pytest.raises(SystemExit) as done:  # completion mode answers and exits, as click does
            main.run([])
        assert done.value.code == 0 and expected in capsys.readouterr().out.split()


def test_unknown_completion_shell_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run(["completion", "tcsh"]) == 2
    assert "unknown shell 'tcsh'" in capsys.readouterr().err


def test_the_package_says_it_is_typed() -> None:
    from importlib.resources import files

    assert files("scalelaw").joinpath("py.typed").is_file()
