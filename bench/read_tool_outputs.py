"""Import every tool's output with the CLI, then forecast from it; print both as Markdown tables.

Run from the repository root: ``PYTHONPATH=src python bench/read_tool_outputs.py``
(``--fixtures`` for the first table only). First table: each row is one exact ``scalelaw
runs import`` command on a committed fixture written by the tool named (see
``tests/data/fixtures/README.md``), and what the run store then holds. Second table: the
tiny grid of the end-to-end tests (``tests/e2e/``: three widths x two lengths) trained for
real by each tool, then the commands a user types, with no ``--set`` beyond what the tool
cannot know: import, ``fit --law auto`` on the two smaller widths, ``predict`` the largest
width's runs; the forecast of its longest run's final loss against what it reached.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shlex
import sys
import tempfile
import warnings
from pathlib import Path

from scalelaw.cli.main import run
from scalelaw.data.store import RunStore
from scalelaw.fit import load_fit

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


def fixtures() -> None:
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


def _cli(command: str) -> tuple[int, str, str]:
    """A command line as a user types it: exit code, stdout, the last line of stderr."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("ignore")
        code = run(shlex.split(command)[1:])
    lines = [line for line in err.getvalue().splitlines() if line.startswith(("error", "untrusted", "internal"))]
    return code, out.getvalue(), (lines[-1] if lines else "")[:160]


def _train_every_tool(root: Path) -> list[tuple[str, Path, str]]:
    """The e2e grid trained by every tool: (tool, what it wrote, the import options it needs)."""
    sys.path.insert(0, "tests/e2e")
    from e2e_tiny import GRID, TOKENS_PER_STEP  # noqa: PLC0415
    from e2e_tools import mlflow_store, train_hf, train_lightning, train_plain_grid  # noqa: PLC0415

    from scalelaw.integrations import ScalelawCallback

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for spec in GRID:
            train_hf(spec, root / "hf", report_to=[])
            train_hf(spec, root / "hf-callback", report_to=[],
                     callbacks=[ScalelawCallback(root / "hf-callback-store", live_forecast=False)])
            train_lightning(spec, root / "lightning", root / "lightning-store")
        (root / "plain").mkdir()
        train_plain_grid(GRID, root / "plain")
    return [
        ("transformers Trainer output_dir", root / "hf", ""),
        ("ScalelawCallback (HF) store", root / "hf-callback-store", "store"),
        ("lightning CSVLogger", root / "lightning" / "logs", f"--set batch_size={TOKENS_PER_STEP}"),
        ("ScalelawLightningCallback store", root / "lightning-store", "store"),
        ("wandb offline", root / "plain" / "wandb", ""),
        ("mlflow default store", mlflow_store(root / "plain"), ""),
        ("tensorboard SummaryWriter", root / "plain" / "tensorboard", ""),
        ("RunLogger store", root / "plain" / "store", "store"),
    ]


def forecasts() -> None:
    """Each tool -> a forecast of the largest model's final loss from the two smaller ones."""
    print("| tool | commands | law chosen | forecast of w32-s30 final loss [95%] | reached | error | inside |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for index, (tool, source, options) in enumerate(_train_every_tool(root)):
            store = source if options == "store" else root / f"store-{index}"
            commands = [] if options == "store" else [f"scalelaw runs import {source} --store {store} {options}".strip()]
            fit = root / f"fit-{index}.json"
            commands += [f"scalelaw fit {store} --where 'params < SPLIT' --law auto --out {fit}",
                         f"scalelaw predict {fit} --runs {store} --where 'params > SPLIT' --json"]
            result = None
            for number, command in enumerate(commands):
                if "SPLIT" in command:  # between the two largest sizes, as the user who trained them knows them
                    commands[number:] = [c.replace("SPLIT", _split(store)) for c in commands[number:]]
                    command = commands[number]
                code, out, err = _cli(command)
                if code != 0:
                    shown = "; ".join(c.replace(str(root) + "/", "") for c in commands)
                    print(f"| {tool} | `{shown}` | exit {code}: {err} | | | | |")
                    break
                result = out
            else:
                shown = "; ".join(c.replace(str(root) + "/", "") for c in commands)
                rows = [r for r in json.loads(result or "[]") if str(r["run"]).startswith("w32-s30")]
                last = max(rows, key=lambda r: r["step"] if r["step"] is not None else math.inf)
                law = load_fit(fit).law.name
                reached = RunStore(store).load().final()
                observed = float(reached[reached["run"].astype(str).str.startswith("w32-s30")]["loss"].iloc[0])
                error = (last["loss"] - observed) / observed
                inside = "yes" if last["lo"] <= observed <= last["hi"] else "no"
                print(f"| {tool} | `{shown}` | {law} | {last['loss']:.3f} [{last['lo']:.3f}, {last['hi']:.3f}] | "
                      f"{observed:.3f} | {error:+.1%} | {inside} |")


def _split(store: Path) -> str:
    """A parameter count between the two largest model sizes of the store (the smaller ones fit, the largest is
    predicted): each tool trains its own model family, so the sizes differ from tool to tool."""
    sizes = sorted(set(RunStore(store).load().final()["params"].dropna().tolist()))
    return f"{math.sqrt(sizes[-1] * sizes[-2]):.0f}" if len(sizes) >= 2 else "0"


def main() -> None:
    fixtures()
    if "--fixtures" not in sys.argv:
        print()
        forecasts()


if __name__ == "__main__":
    main()
