"""Import every committed tool-output fixture with the CLI and print what was read, as a Markdown table.

Run from the repository root: ``PYTHONPATH=src python bench/read_tool_outputs.py``. Each row is
one exact ``scalelaw runs import`` command on a fixture written by the tool named (see
``tests/data/fixtures/README.md``), and what the run store then holds.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
from pathlib import Path

from scalelaw.cli.main import run
from scalelaw.data.store import RunStore

FIXTURES = Path("tests/data/fixtures")
VERSIONS = json.loads((FIXTURES / "versions.json").read_text()) if (FIXTURES / "versions.json").exists() else {}
#: W&B, MLflow and TensorBoard fixtures (tests/fixtures/make_tool_fixtures.py; versions in VERSIONS.txt).
TOOLS = Path("tests/fixtures/tools")
TOOL_VERSIONS = dict(line.split(" ", 1) for line in (TOOLS / "VERSIONS.txt").read_text().splitlines() if " " in line)

#: (tool and version, fixture, extra options)
CASES: list[tuple[str, str, list[str]]] = [
    (f"transformers {VERSIONS.get('transformers', '?')} Trainer", "hf_trainer", ["--set", "seq_len=16"]),
    (f"transformers {VERSIONS.get('transformers', '?')} Trainer", "hf_trainer/gpt2-tiny/checkpoint-4", []),
    (f"lightning {VERSIONS.get('lightning', '?')} CSVLogger", "lightning/lightning_logs",
     ["--meta", "lightning_sizes.csv"]),
    ("nanoGPT train.py print format", "text/nanogpt.log", []),
    ("Megatron-LM training.py print format", "text/megatron.log", []),
    ("llm.c train_gpt2.cu stdout format", "text/llmc_stdout.log", []),
    ("llm.c main.log format", "text/llmc_main.log", ["--loss", "train"]),
    (f"wandb {TOOL_VERSIONS.get('wandb', '?')} offline runs", f"{TOOLS}/wandb", []),
    ("W&B web UI panel export (layout)", f"{TOOLS}/wandb-panel.csv", []),
    (f"mlflow {TOOL_VERSIONS.get('mlflow', '?')} sqlite", f"{TOOLS}/mlflow-sqlite/mlflow.db", []),
    (f"mlflow {TOOL_VERSIONS.get('mlflow', '?')} sqlite URI", f"sqlite:///{TOOLS}/mlflow-sqlite/mlflow.db", []),
    (f"mlflow {TOOL_VERSIONS.get('mlflow', '?')} file store", f"{TOOLS}/mlruns", ["--set", "batch_size=4096"]),
    (f"tensorboard {TOOL_VERSIONS.get('tensorboard', '?')} add_hparams", f"{TOOLS}/tensorboard/small", []),
    (f"tensorboard {TOOL_VERSIONS.get('tensorboard', '?')} resumed run", f"{TOOLS}/tensorboard/resumed", []),
    (f"tensorboard {TOOL_VERSIONS.get('tensorboard', '?')} run still writing", f"{TOOLS}/tensorboard/running", []),
]


def _input(fixture: str) -> str:
    """The path given to the CLI: fixtures of this folder by name, the tools' fixtures and URIs as written."""
    return fixture if fixture.startswith(("tests/", "sqlite:")) else str(FIXTURES / fixture)


def _describe(store: Path) -> tuple[str, str, str, str]:
    runs = RunStore(store).load()
    entries = RunStore(store).list()
    steps = ", ".join(f"{int(e['rows'])} rows / {int(e['points'])} losses" for e in entries)
    params = ", ".join(f"{e['params']:.4g}" if e["params"] else "—" for e in entries)
    tokens = "yes" if runs.has("tokens") else "no"
    sources = ", ".join(sorted({str(e["loss_source"]) for e in entries}))
    return steps, params, tokens, sources


def main() -> None:
    print("| tool | fixture | command | runs | steps | params | tokens | loss |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for tool, fixture, options in CASES:
        with tempfile.TemporaryDirectory() as folder:
            store = Path(folder) / "store"
            resolved = [str(FIXTURES / o) if o.endswith(".csv") else o for o in options]
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                code = run(["runs", "import", _input(fixture), *resolved, "--store", str(store)])
            if code != 0:
                print(f"| {tool} | `{fixture}` | exit {code} | | | | | |")
                continue
            names = ", ".join(e["run"] for e in RunStore(store).list())
            steps, params, tokens, sources = _describe(store)
            command = " ".join(["scalelaw runs import", fixture, *options])
            print(f"| {tool} | `{fixture}` | `{command}` | {names} | {steps} | {params} | {tokens} | {sources} |")


if __name__ == "__main__":
    main()
