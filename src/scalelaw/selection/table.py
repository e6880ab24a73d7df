"""The table of a selection's candidates, as the command line and the report both show it.

One row per candidate: its backtest errors in the unit people read them in (percent of the loss, or
accuracy points for an accuracy), and why it was chosen, dropped or not backtested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def candidate_rows(selection: Mapping[str, Any]) -> list[dict[str, str]]:
    """The candidates of a FIT.json ``selection`` record, errors formatted; the deciding-folds column only when it decided."""
    accuracy = selection.get("unit") == "accuracy"
    deciding = bool(selection.get("deciding_folds"))
    rows = []
    for row in selection.get("candidates", []):
        label = row.get("label", row.get("law"))
        decided = {"error on the deciding folds": error_text(row.get("decided_error"), accuracy)} if deciding else {}
        rows.append({
            "law": str(label),
            **decided,
            "held-out final error": error_text(row.get("final_error"), accuracy),
            "held-out curve error": error_text(row.get("curve_error"), accuracy),
            "signed bias": error_text(row.get("bias"), accuracy, signed=True),
            "note": "chosen" if label == selection.get("chosen") else str(row.get("failure") or ""),
        })
    return rows


def error_text(value: object, accuracy: bool, *, signed: bool = False) -> str:
    """A backtest error as people read it: '0.25%' of the loss, or '1.20 pts' of accuracy; '–' when absent."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return "–"
    sign = "+" if signed else ""
    return f"{100 * value:{sign}.2f} pts" if accuracy else f"{100 * value:{sign}.2f}%"
