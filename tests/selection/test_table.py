"""The candidates table the command line and the report share."""

from __future__ import annotations

from scalelaw.selection.table import candidate_rows, error_text


def test_errors_read_in_percent_or_accuracy_points() -> None:
    assert error_text(0.002467, False) == "0.25%"
    assert error_text(-0.0123, False, signed=True) == "-1.23%"
    assert error_text(0.0123, False, signed=True) == "+1.23%"
    assert error_text(0.012, True) == "1.20 pts"
    assert [error_text(v, False) for v in (None, float("nan"), True, "0.1")] == ["–"] * 4


def test_rows_name_the_chosen_law_and_why_others_failed() -> None:
    selection = {"chosen": "b", "deciding_folds": ["f1"], "candidates": [
        {"label": "a", "decided_error": 0.01, "final_error": 0.02, "curve_error": None, "bias": -0.01, "failure": None},
        {"label": "b", "decided_error": 0.005, "final_error": 0.01, "curve_error": 0.004, "bias": 0.002},
        {"label": "c", "failure": "did not converge"},
    ]}
    rows = candidate_rows(selection)
    assert [r["note"] for r in rows] == ["", "chosen", "did not converge"]
    assert rows[1]["error on the deciding folds"] == "0.50%" and rows[0]["signed bias"] == "-1.00%"
    assert "error on the deciding folds" not in candidate_rows({**selection, "deciding_folds": []})[0]
    assert candidate_rows({**selection, "unit": "accuracy"})[0]["held-out final error"] == "2.00 pts"
