"""Readers of outputs written by the real tools (committed fixtures, see tests/data/fixtures/README.md)."""

from __future__ import annotations

import json
import shutil
import struct
import warnings
from pathlib import Path

import pytest

from scalelaw.cli.main import run
from scalelaw.data.readers.model_size import config_params, safetensors_params
from scalelaw.data.pipeline import read_runs
from scalelaw.errors import DataWarning, InputError

FIXTURES = Path(__file__).parent / "fixtures"
HF = FIXTURES / "hf_trainer"
TEXT = FIXTURES / "text"


def quiet_read(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return read_runs(*args, **kwargs)  # type: ignore[arg-type]


def state(run: str, where: str = "") -> dict[str, object]:
    return json.loads((HF / run / where / "trainer_state.json").read_text())


def test_trainer_output_folder_reads_eval_loss_with_train_loss_and_model_size() -> None:
    runs = quiet_read(HF)
    assert runs.runs == ["gpt2-tiny", "llama-tiny"]
    for name in runs.runs:
        curve = runs.curve(name)
        history = state(name)["log_history"]
        evals = {e["step"]: e["eval_loss"] for e in history if "eval_loss" in e}
        trains = {e["step"]: e["loss"] for e in history if "loss" in e}
        assert curve["step"].tolist() == sorted(trains)  # one row per step: train and eval rows merged
        assert curve.dropna(subset=["loss"]).set_index("step")["loss"].to_dict() == evals
        assert curve.set_index("step")["orig_loss"].to_dict() == trains
        assert set(curve["loss_source"]) == {"eval_loss"}
        header = safetensors_params(HF / name / "model.safetensors")
        assert runs.meta(name)["params"] == header
    assert runs.meta("gpt2-tiny")["params"] == config_params(json.loads((HF / "gpt2-tiny" / "config.json").read_text()))


def test_trainer_tokens_from_tokens_seen_or_json_arguments() -> None:
    runs = quiet_read(HF)
    llama = runs.curve("llama-tiny")
    seen = {e["step"]: e["num_input_tokens_seen"] for e in state("llama-tiny")["log_history"]
            if "num_input_tokens_seen" in e}
    assert llama.set_index("step")["tokens"].to_dict() == seen
    args = json.loads((HF / "gpt2-tiny" / "training_args.json").read_text())
    per_step = args["per_device_train_batch_size"] * args["gradient_accumulation_steps"]
    gpt2 = quiet_read(HF / "gpt2-tiny", set={"seq_len": 16}).curve("gpt2-tiny")
    assert gpt2["batch_sequences"].iloc[0] == per_step
    assert gpt2["tokens"].tolist() == [s * per_step * 16 for s in gpt2["step"]]
    context = json.loads((HF / "gpt2-tiny" / "config.json").read_text())["n_positions"]
    with pytest.warns(DataWarning, match=f"sequence length {context} from .*config.json"):
        from_config = read_runs(HF / "gpt2-tiny").curve("gpt2-tiny")
    assert from_config["tokens"].tolist() == [s * per_step * context for s in from_config["step"]]
    with pytest.warns(DataWarning, match="number of processes"):
        read_runs(HF / "gpt2-tiny")


def test_trainer_checkpoints_are_deduplicated_and_a_killed_run_reads(tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    shutil.copytree(HF / "gpt2-tiny", run_dir)
    (run_dir / "trainer_state.json").unlink()  # killed before save_state: only checkpoints remain
    curve = quiet_read(run_dir).curve("killed")
    assert curve["step"].tolist() == [float(s) for s in range(1, 9)]
    only_early = quiet_read(run_dir / "checkpoint-4").curve("killed")
    assert only_early["step"].max() == 4.0 and only_early["loss"].notna().sum() == 1
    single = quiet_read(HF / "llama-tiny" / "trainer_state.json")
    assert single.runs == ["llama-tiny"] and single.meta("llama-tiny")["params"] > 0


def test_trainer_loss_choice_and_rewritten_checkpoint(tmp_path: Path) -> None:
    train = quiet_read(HF / "gpt2-tiny", loss="train").curve("gpt2-tiny")
    assert train["loss"].notna().all() and set(train["loss_source"]) == {"loss"}
    run_dir = tmp_path / "resumed"
    shutil.copytree(HF / "gpt2-tiny", run_dir)
    older = json.loads((run_dir / "checkpoint-4" / "trainer_state.json").read_text())
    older["log_history"][0]["loss"] = 9.0
    (run_dir / "checkpoint-4" / "trainer_state.json").write_text(json.dumps(older))
    with pytest.warns(DataWarning, match="disagrees"):
        read_runs(run_dir)


def test_trainer_bad_inputs_name_the_file(tmp_path: Path) -> None:
    run_dir = tmp_path / "out"
    shutil.copytree(HF / "gpt2-tiny", run_dir)
    text = (run_dir / "trainer_state.json").read_text()
    (run_dir / "trainer_state.json").write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="not valid JSON") as info:
        read_runs(run_dir)
    assert info.value.location.file == str(run_dir / "trainer_state.json")
    (run_dir / "training_args.bin").write_bytes(b"\x80\x04 not to be unpickled")
    (run_dir / "trainer_state.json").write_text(text.replace('"eval_loss": 3.8', '"eval_loss": NaN, "x": 3.8', 1))
    with pytest.raises(InputError, match="NaN") as info:
        read_runs(run_dir)
    assert info.value.location.row is not None


def test_safetensors_header_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(InputError, match="claims"):
        safetensors_params(path)
    header = json.dumps({"a": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]},
                         "__metadata__": {"format": "pt"}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    assert safetensors_params(path) == 12
    path.write_bytes(struct.pack("<Q", len(header) + 5) + header)
    with pytest.raises(InputError, match="cut off"):
        safetensors_params(path)


def test_parameter_count_formulas_match_transformers() -> None:
    cases = json.loads((FIXTURES / "architectures.json").read_text())
    assert len(cases) >= 10
    for case in cases:
        assert config_params(case["config"]) == case["params"], case["name"]
    assert config_params({"model_type": "mamba", "hidden_size": 8}) is None


@pytest.mark.parametrize(
    ("name", "points", "steps", "params", "source"),
    [
        ("nanogpt.log", 3, 11, 10.65e6, "val_loss"),
        ("megatron.log", 2, 3, None, "val_loss"),
        ("llmc_stdout.log", 3, 6, 124475904, "val_loss"),
        ("llmc_main.log", 3, 6, None, "val_loss"),
    ],
)
def test_text_logs(name: str, points: int, steps: int, params: float | None, source: str) -> None:
    runs = read_runs(TEXT / name)
    (run_id,) = runs.runs
    curve = runs.curve(run_id)
    assert len(curve) == steps and curve["loss"].notna().sum() == points
    assert runs.meta(run_id).get("params") == params and set(curve["loss_source"]) == {source}
    assert read_runs(TEXT / name, loss="train").curve(run_id)["loss"].notna().sum() >= 3


def test_megatron_tokens_and_llmc_stdout_matches_main_log() -> None:
    megatron = read_runs(TEXT / "megatron.log").curve("megatron")
    assert megatron["tokens"].tolist() == (megatron["consumed_samples"] * 512).tolist()
    stdout = read_runs(TEXT / "llmc_stdout.log").curve("llmc_stdout")
    main = read_runs(TEXT / "llmc_main.log").curve("llmc_main")
    assert stdout["step"].tolist() == main["step"].tolist()
    assert stdout["loss"].round(4).tolist()[::3] == main["loss"].tolist()[::3]


def test_text_pattern_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "custom.txt"
    path.write_text("epoch 1 | it 10 | ce=4.50 | lr=1e-3\nepoch 1 | it 20 | ce=4.10 | lr=1e-3\nnoise\n")
    pattern = r"it (?P<step>\d+) \| ce=(?P<loss>[0-9.]+) \| lr=(?P<lr>\S+)"
    curve = read_runs(path, format="text", pattern=pattern).curve("custom")
    assert curve[["step", "loss", "lr"]].to_numpy().tolist() == [[10, 4.5, 1e-3], [20, 4.1, 1e-3]]
    for bad, says in [("(?P<step>\\d+", "not a valid regular"), ("(?P<loss>\\d+)", "named groups"),
                      ("x" * 2000, "longer than")]:
        with pytest.raises(InputError, match=says) as info:
            read_runs(path, format="text", pattern=bad)
        assert info.value.location.file == str(path)
    with pytest.raises(InputError, match="no lines of a known training log"):
        read_runs(path, format="text")
    with pytest.raises(InputError, match="--pattern applies to --format text"):
        read_runs(path, format="csv", pattern=pattern)


def test_text_log_nan_loss_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_text("iter 0: loss 4.2, time 1ms, mfu 1%\niter 10: loss nan, time 1ms, mfu 1%\n")
    with pytest.raises(InputError, match="NaN") as info:
        read_runs(path)
    assert info.value.location.row == 2


def test_cli_imports_a_trainer_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    assert run(["runs", "import", str(HF), "--set", "seq_len=16", "--store", store]) == 0
    capsys.readouterr()
    assert run(["runs", "list", "--store", store, "--json"]) == 0
    listed = {e["run"]: e for e in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"gpt2-tiny", "llama-tiny"}
    assert listed["gpt2-tiny"]["loss_source"] == "eval_loss" and listed["gpt2-tiny"]["last_step"] == 8
    assert listed["gpt2-tiny"]["points"] == 2


LIGHTNING = FIXTURES / "lightning" / "lightning_logs"


def lightning_rows(version: str) -> list[dict[str, str]]:
    import csv

    with open(LIGHTNING / version / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_lightning_csvlogger_runs_merge_rows_and_read_hparams() -> None:
    assert quiet_read(FIXTURES / "lightning").runs == ["lightning_logs/version_0", "lightning_logs/version_1"]
    runs = read_runs(LIGHTNING, meta=FIXTURES / "lightning_sizes.csv")
    assert runs.runs == ["version_0", "version_1"]
    for version in ("version_0", "version_1"):
        curve = runs.curve(version)
        rows = lightning_rows(version)
        val = {float(r["step"]): float(r["val_loss"]) for r in rows if r["val_loss"]}
        train = {float(r["step"]): float(r["train_loss_step"]) for r in rows if r["train_loss_step"]}
        assert curve["step"].tolist() == sorted({float(r["step"]) for r in rows})
        assert curve.dropna(subset=["loss"]).set_index("step")["loss"].to_dict() == val
        assert curve.dropna(subset=["train_loss_step"]).set_index("step")["train_loss_step"].to_dict() == train
        assert set(curve["loss_source"]) == {"val_loss"} and curve["lr"].notna().all()
    assert runs.meta("version_0")["params"] == 544  # num_params logged to hparams.yaml
    assert runs.meta("version_1") == {"params": 1056.0, "dataset": "shifted-tokens"}  # from --meta
    train = read_runs(LIGHTNING / "version_0", loss="train").curve("lightning_logs/version_0")
    assert set(train["loss_source"]) == {"train_loss_step"}


def test_lightning_bad_inputs(tmp_path: Path) -> None:
    version = tmp_path / "logs" / "version_0"
    shutil.copytree(LIGHTNING / "version_0", version)
    (version / "hparams.yaml").write_text("args: !!python/object:argparse.Namespace {lr: 0.1}\n")
    with pytest.warns(DataWarning, match="Python objects"):
        assert "params" not in read_runs(version).columns
    (version / "metrics.csv").write_text("epoch,step,val_loss\n0,3,3.5\n0,3,3.4\n")
    with pytest.raises(InputError, match="logged twice") as info:
        read_runs(tmp_path / "logs")
    assert info.value.location.row == 2 and info.value.location.file == str(version / "metrics.csv")


def test_lightning_run_still_writing_reads_its_complete_rows(tmp_path: Path) -> None:
    version = tmp_path / "version_0"
    shutil.copytree(LIGHTNING / "version_0", version)
    text = (version / "metrics.csv").read_text()
    (version / "metrics.csv").write_text(text + "1,,12,,3.5")  # the next row, cut before its end
    with pytest.warns(DataWarning, match="still writing"):
        curve = read_runs(version).curve(f"{tmp_path.name}/version_0")
    assert curve["step"].max() == 11.0
