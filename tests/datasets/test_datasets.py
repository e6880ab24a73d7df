"""The bundled datasets load as runs with the documented shapes and exact learning rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import scalelaw.datasets as datasets
from scalelaw.data.schedules import parse_schedule
from scalelaw.datasets import _multipowerlaw, _olmo_ladder
from scalelaw.errors import InputError

SCHEDULES = [
    "constant_24000", "cosine_24000", "wsd_20000_24000", "wsdld_20000_24000",
    "constant_72000", "cosine_72000", "wsdcon_3", "wsdcon_9", "wsdcon_18",
]
# (runs, rows, rows with a loss), counted from the published files.
DOCUMENTED = {
    "multipowerlaw-25m": (9, 288_000, 2_059),
    "multipowerlaw-100m": (9, 288_000, 2_103),
    "datablations": (296, 296, 296),
    "porian2024": (1_745, 1_745, 1_745),
    "olmo-ladder": (24, 2_459, 2_459),
    "markov-ladder": (15, 180, 180),
    "ladder-hparams": (720, 720, 720),
}


def test_names_lists_the_datasets() -> None:
    assert datasets.names() == list(DOCUMENTED)


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_documented_counts(name: str) -> None:
    info = datasets.info(name)
    assert (info["runs"], info["rows"], info["loss_rows"]) == DOCUMENTED[name]
    runs = datasets.load(name)
    assert len(runs) == DOCUMENTED[name][0]
    assert np.isfinite(runs.table["loss"].dropna()).all()


@pytest.mark.parametrize("name", ["multipowerlaw-25m", "multipowerlaw-100m"])
def test_multipowerlaw_runs_are_the_schedules(name: str) -> None:
    runs = datasets.load(name)
    assert runs.runs == SCHEDULES
    nominal = 25e6 if name.endswith("25m") else 100e6
    assert set(runs.table["params"]) == {nominal}
    for run, curve in runs.curves():
        assert (curve["schedule"] == run).all()
        assert np.array_equal(curve["step"], np.arange(1, len(curve) + 1))
        assert curve["lr"].notna().all()
    assert len(runs.curve("constant_72000")) == 72_000
    assert runs.curve("constant_72000")["loss"].notna().sum() == 546


@pytest.mark.parametrize("size", ["25m", "100m"])
def test_rebuilt_lr_matches_logged_lr(size: str) -> None:
    error = _multipowerlaw.lr_max_relative_error(size)
    print(f"multipowerlaw-{size}: max relative error of rebuilt vs logged lr = {error:.3g}")
    assert error < 1e-12


def test_rebuilt_lr_landmarks() -> None:
    steps = np.array([1, 1080, 2160, 7999, 8000, 20000, 24000])
    assert _multipowerlaw.schedule_lr("wsdcon_9", steps)[:5] == pytest.approx([3e-4 / 2160, 1.5e-4, 3e-4, 3e-4, 9e-5])
    assert _multipowerlaw.schedule_lr("wsd_20000_24000", steps)[-2:] == pytest.approx([3e-4, 3e-5])
    assert _multipowerlaw.schedule_lr("cosine_24000", steps)[-1] == pytest.approx(3e-5)


def test_logged_losses_sit_on_their_steps() -> None:
    curve = datasets.load("multipowerlaw-25m").curve("cosine_24000")
    logged = _multipowerlaw.logged("25m", "cosine_24000")
    with_loss = curve[curve["loss"].notna()]
    assert with_loss["step"].tolist() == logged["step"].astype(float).tolist()
    assert with_loss["loss"].tolist() == logged["loss"].tolist()


def test_datablations_subsets() -> None:
    runs = datasets.load("datablations")
    assert runs.table["run"].is_unique
    assert len(runs.where("in_paper_fit")) == 182
    assert runs.table["in_all_runs"].all()
    assert set(runs.table["subset"]) == {"all_runs_cell1", "paper_fit_182_cell25"}
    assert (runs.table["tokens"] >= runs.table["unique_tokens"]).all()


def test_porian_runs_keep_setup_tags() -> None:
    runs = datasets.load("porian2024")
    assert runs.table["setup"].nunique() == 15
    assert runs.table["flops"].min() == pytest.approx(1.25e16)
    assert len(datasets.published_fits()) == 15


def test_published_metrics() -> None:
    metrics = datasets.published_metrics()
    assert set(metrics["split"]) == {"fit", "test"}
    assert len(metrics) == 18


def test_load_returns_a_copy() -> None:
    first = datasets.load("datablations")
    first.table.loc[0, "loss"] = -1.0
    assert datasets.load("datablations").table.loc[0, "loss"] > 0


def test_unknown_dataset_is_an_input_error() -> None:
    with pytest.raises(InputError, match="bundled datasets"):
        datasets.load("nope")


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_each_dataset_ships_readme_and_licence(name: str) -> None:
    folder = Path(str(datasets.info(name)["folder"]))
    assert (folder / "README.md").is_file() and (folder / "LICENSE").is_file()
    assert all(folder in path.parents for path in datasets.files(name))


def test_olmo_ladder_runs_and_tags() -> None:
    runs = datasets.load("olmo-ladder")
    assert len(runs) == 24
    table = runs.table
    assert runs.runs[:6] == ["190M-0.5xC", "190M-1xC", "190M-1xC-rerun", "190M-2xC", "190M-5xC", "190M-10xC"]
    assert set(table["params"]) == set(map(float, _olmo_ladder.SIZES.values()))
    assert set(table["multiplier"]) == set(_olmo_ladder.MULTIPLIERS)
    assert table.loc[table["rerun"], "run"].str.endswith("-rerun").all()
    assert np.array_equal(table["tokens"], table["step"] * table["batch_size"])
    for column in ("eval/pile-validation/CrossEntropyLoss", "eval/downstream_bpb/hellaswag_val_rc_5shot_bpb",
                   "eval/downstream/arc_easy_val_rc_5shot_len_norm"):
        assert table[column].notna().all()
    final = runs.final().set_index("run")
    # tokens = multiplier x 20 N within a batch's rounding
    ratio = final["tokens"] / (20 * final["params"] * final["multiplier"])
    assert np.all(np.abs(ratio - 1) < 0.01)


def test_olmo_ladder_lr_is_exact() -> None:
    error = _olmo_ladder.lr_max_relative_error()
    print(f"olmo-ladder: max relative error of rebuilt vs logged lr = {error:.3g}")
    assert error < 1e-12


def test_olmo_ladder_schedule_spec_expands_to_the_rule() -> None:
    curve = datasets.load("olmo-ladder").curve("190M-1xC")
    schedule = parse_schedule(curve["lr_schedule"].iloc[0])
    peak = curve["peak_lr"].iloc[0]
    assert schedule.warmup == round(190_354_176 / 524_288) == 363
    steps = np.arange(0, 7273, dtype=float)
    lr = schedule.lr(steps)
    assert lr[0] == 0 and lr[363] == pytest.approx(peak) and lr[181] == pytest.approx(peak * 181 / 363)
    assert np.all(lr[7262:] == pytest.approx(0.1 * peak))
    assert np.array_equal(schedule.lr(curve["step"].to_numpy()), curve["lr"].to_numpy())


def test_olmo_ladder_refuses_a_wrong_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _olmo_ladder.FOLDER / "190M-1xC.csv"
    text = source.read_text().splitlines()
    header = text[0].split(",")
    column = header.index(_olmo_ladder.LOGGED_LR)
    cells = text[5].split(",")
    cells[column] = repr(float(cells[column]) * 1.01)
    text[5] = ",".join(cells)
    bad = tmp_path / "190M-1xC.csv"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match="rebuilt learning rate") as info:
        _olmo_ladder.load_run(bad)
    assert info.value.location.row == 5


def test_markov_ladder_is_the_documented_sweep() -> None:
    from scalelaw.ladder.spec import load_spec

    spec = load_spec(Path(str(datasets.info("markov-ladder")["folder"])) / "ladder.yaml")
    runs = datasets.load("markov-ladder")
    assert runs.runs == [c.run_id for c in spec.runs]
    table = runs.table
    assert np.array_equal(table["tokens"], table["step"] * table["batch_size"])
    assert (table["loss"] > table["entropy_rate"]).all()
    for run, rows in runs.curves():
        schedule = parse_schedule(rows["lr_schedule"].iloc[0])
        np.testing.assert_allclose(schedule.lr(rows["step"].to_numpy()), rows["lr"], rtol=1e-8)
