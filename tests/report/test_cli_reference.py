"""The CLI reference generator documents every registered command and option."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import typer.main

from scalelaw.cli import main as cli_main

GENERATOR = Path(__file__).resolve().parents[2] / "docs" / "gen_cli_reference.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_reference", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _leaf_commands(path: str, command: object) -> dict[str, object]:
    children = getattr(command, "commands", None)
    if not children:
        return {path: command}
    found: dict[str, object] = {}
    for name, child in children.items():
        found.update(_leaf_commands(f"{path} {name}", child))
    return found


def test_reference_covers_every_command_and_option() -> None:
    text = _generator().render()
    cli_main._register_commands()
    commands = _leaf_commands("scalelaw", typer.main.get_command(cli_main.app))
    assert "scalelaw report" in commands
    for path, command in commands.items():
        assert f"## `{path}`" in text, f"{path} is missing from the reference"
        for param in command.params:  # type: ignore[attr-defined]
            if param.param_type_name == "option" and param.name != "help":
                assert f"`{param.opts[0]}`" in text, f"{path} {param.opts[0]} is missing"


def test_check_mode_detects_a_stale_file(tmp_path: Path, monkeypatch: object) -> None:
    generator = _generator()
    stale = tmp_path / "cli.md"
    stale.write_text("# old\n")
    monkeypatch.setattr(generator, "OUTPUT", stale)  # type: ignore[attr-defined]
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
    assert "## `scalelaw report`" in stale.read_text()
