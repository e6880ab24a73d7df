"""read_runs on CSV, TSV, JSONL and Parquet: mapping, filters, units, run ids, tokens."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.pipeline import read_runs
from scalelaw.errors import InputError

CURVE = "run,step,loss,lr,batch_size\na,1,4.0,0.001,512\na,2,3.5,0.001,512\nb,1,4.1,0.002,1024\nb,2,3.6,0.002,1024\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_curves_and_derived_tokens(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "curves.csv", CURVE))
    assert runs.runs == ["a", "b"]
    assert runs.curve("b")["tokens"].tolist() == [1024.0, 2048.0]
    assert runs.source("a").endswith("curves.csv")


def test_tsv_jsonl_parquet_read_the_same(tmp_path: Path) -> None:
    reference = read_runs(write(tmp_path, "c.csv", CURVE)).table
    write(tmp_path, "c.tsv", CURVE.replace(",", "\t"))
    frame = pd.read_csv(tmp_path / "c.csv")
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n")
    frame.to_parquet(tmp_path / "c.parquet")
    for name in ("c.tsv", "c.jsonl", "c.parquet"):
        pd.testing.assert_frame_equal(read_runs(tmp_path / name).table, reference)


def test_missing_run_column_uses_file_stem_and_keeps_row_order(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "my_run.csv", "loss,tokens\n4.0,100\n3.0,200\n"))
    assert runs.runs == ["my_run"]
    assert runs.curve("my_run")["loss"].tolist() == [4.0, 3.0]


def test_mapping_renames_and_keeps_displaced_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "name,N,val_loss_c4,loss\nr1,1e6,3.2,9.9\nr2,2e6,3.0,9.8\n")
    runs = read_runs(path, columns={"run": "name", "params": "N", "loss": "val_loss_c4"})
    assert runs.table["loss"].tolist() == [3.2, 3.0]
    assert runs.table["orig_loss"].tolist() == [9.9, 9.8]
    assert runs.table["params"].tolist() == [1e6, 2e6]


def test_mapping_to_unknown_column_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no column 'N'"):
        read_runs(write(tmp_path, "f.csv", "run,loss\na,3\n"), columns={"params": "N"})


def test_where_filter(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "c.csv", CURVE), where="lr > 0.0015")
    assert runs.runs == ["b"]
    with pytest.raises(InputError, match="keeps no rows"):
        read_runs(tmp_path / "c.csv", where="lr > 1")
    with pytest.raises(InputError, match="cannot apply filter"):
        read_runs(tmp_path / "c.csv", where="no_such_column > 1")


def test_loss_units(tmp_path: Path) -> None:
    path = write(tmp_path, "u.csv", "run,loss\na,2.0\n")
    assert read_runs(path, loss_unit="bits").table["loss"][0] == pytest.approx(2 * math.log(2))
    bpb = read_runs(path, loss_unit="bits_per_byte", bytes_per_token=4.0).table["loss"][0]
    assert bpb == pytest.approx(2 * math.log(2) * 4)
    with pytest.raises(InputError, match="bytes-per-token"):
        read_runs(path, loss_unit="bits_per_byte")
    with pytest.raises(InputError, match="unknown loss unit"):
        read_runs(path, loss_unit="furlongs")


def test_bits_named_column_declared_as_nats_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "run,val_bpb\na,0.9\n")
    with pytest.raises(InputError, match="named like bits") as info:
        read_runs(path, columns={"loss": "val_bpb"})
    assert info.value.location.column == "val_bpb"
    assert read_runs(path, columns={"loss": "val_bpb"}, loss_unit="bits_per_byte", bytes_per_token=3.0).has("loss")


def test_empty_loss_with_lr_is_a_schedule_row(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "s.csv", "step,loss,lr\n1,,0.1\n2,,0.1\n3,3.0,0.05\n"))
    curve = runs.curve("s")
    assert curve["loss"].isna().sum() == 2 and curve["lr"].notna().all()


def test_bom_and_windows_line_endings_read(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes(b"\xef\xbb\xbfrun,loss\r\na,3.0\r\nb,2.5\r\n")
    assert read_runs(path).runs == ["a", "b"]


def test_runs_in_two_files_are_joined_and_duplicates_refused(tmp_path: Path) -> None:
    one = write(tmp_path, "one.csv", "run,loss\na,3\n")
    two = write(tmp_path, "two.csv", "run,loss\nb,3\n")
    assert read_runs([one, two]).runs == ["a", "b"]
    with pytest.raises(InputError, match="appears in both"):
        read_runs([one, write(tmp_path, "three.csv", "run,loss\na,2\n")])


def test_extra_columns_are_kept_as_metrics_or_tags(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "x.csv", "run,loss,seed,optimizer\na,3,1,adam\nb,2,2,sgd\n"))
    assert runs.table["seed"].dtype == np.float64
    assert runs.table["optimizer"].tolist() == ["adam", "sgd"]


def test_interleaved_runs_are_grouped_in_file_order(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "i.csv", "run,step,loss\nb,1,4\na,1,4\nb,2,3\na,2,3\n"))
    assert runs.table["run"].tolist() == ["b", "b", "a", "a"]


def test_run_metadata_given_once_is_spread_over_the_run(tmp_path: Path) -> None:
    runs = read_runs(write(tmp_path, "m.csv", "run,step,loss,params,batch_size\na,1,4,1e6,10\na,2,3,,\nb,1,4,,\nb,2,3,2e6,20\n"))
    assert runs.table["params"].tolist() == [1e6, 1e6, 2e6, 2e6]
    assert runs.table["tokens"].tolist() == [10.0, 20.0, 20.0, 40.0]
    assert runs.meta("b") == {"params": 2e6, "batch_size": 20.0}


def test_where_sees_the_loss_in_nats(tmp_path: Path) -> None:
    path = write(tmp_path, "bits.csv", "run,loss\na,2.0\nb,1.0\n")
    assert read_runs(path, loss_unit="bits", where="loss > 1.2").runs == ["a"]  # 2 bits = 1.39 nats


@pytest.mark.parametrize(("body", "problem"), [
    ("step,loss\n1,2.0,9\n3\n", "row 1: this line has 3 fields but the header has 2"),  # more, then fewer fields
    ("step,loss\n1,2.0\n2,3.0,5\n", "row 2: this line has 3 fields"),
    ("step,loss\n1,nan\n2,1.9\n", "row 1, column 'loss': value 'nan' is NaN or infinite"),
    ("step,loss\n1,2.0\n2,1e500\n", "row 2, column 'loss': value .* is NaN or infinite"),  # read as inf
])
def test_typed_csv_reading_refuses_what_the_strict_reader_refuses(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "run.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        read_runs(path)


@pytest.mark.parametrize("body", [
    "step,loss,flag\n1,2.0,True\n2,1.9,false\n",     # typed: True/False read back as written
    "step,loss,flag\n1,2.0,True\n\n2,1.9,false\n",   # a blank line: the strict reader
    "step,loss,flag\n1,2.0,True\n,,\n2,1.9,false\n",  # a line of empty cells: the strict reader
    'step,loss,flag\n1,2.0,"True"\n2,1.9,false\n',   # quotes: the strict reader
])
def test_typed_and_strict_csv_reading_give_the_same_runs(tmp_path: Path, body: str) -> None:
    path = tmp_path / "run.csv"
    path.write_text(body)
    table = read_runs(path).table
    assert table["step"].tolist() == [1.0, 2.0] and table["loss"].tolist() == [2.0, 1.9]
    assert table["flag"].tolist() == ["True", "false"]


def test_utf8_text_is_parsed_from_its_bytes_and_other_bytes_are_named(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes("\ufeffrun,step,loss,note\nmodèle-α,1,3.0,café\nmodèle-α,2,2.5,thé\n".encode())
    runs = read_runs(path)
    assert runs.runs == ["modèle-α"] and runs.table["note"].tolist() == ["café", "thé"]
    assert runs.table["loss"].tolist() == [3.0, 2.5]
    path.write_bytes("run,step,loss\nmod\xe8le,1,3.0\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 17\)"):
        read_runs(path)
