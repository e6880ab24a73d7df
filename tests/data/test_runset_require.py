"""RunSet.require: a column a law needs but the data lacks is an InputError naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalelaw.data.pipeline import read_runs
from scalelaw.errors import InputError


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "final.csv"
    path.write_text("run,params,loss\na,1e6,3.0\n")
    runs = read_runs(path)
    with pytest.raises(InputError, match="needs a 'tokens' column") as info:
        runs.require(["params", "tokens"], purpose="law chinchilla")
    assert info.value.location.file == str(path) and info.value.location.column == "tokens"


def test_column_never_set_in_one_run_names_the_run(tmp_path: Path) -> None:
    path = tmp_path / "final.csv"
    path.write_text("run,params,tokens,loss\na,1e6,1e9,3.0\nb,2e6,,2.9\n")
    with pytest.raises(InputError, match="never sets") as info:
        read_runs(path).require(["tokens"], purpose="law chinchilla")
    assert info.value.location.run == "b"
