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
