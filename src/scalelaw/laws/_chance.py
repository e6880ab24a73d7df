"""The chance level of common multiple-choice benchmarks: the floor of an accuracy law.

A model that guesses scores 1/k on a k-way multiple-choice task; that is where a
chance-floored accuracy law starts. Looked up by the words of a metric's name
(``eval/downstream/hellaswag_val_rc_5shot_len_norm`` is HellaSwag); the first entry whose
name appears wins, so ``mmlu_pro`` (10 options) is listed before ``mmlu`` (4).
"""

from __future__ import annotations

import re

#: (name as it appears in metric names, chance level, why): checked against each benchmark's answer format.
CHANCE_LEVELS: tuple[tuple[str, float, str], ...] = (
    ("mmlu_pro", 0.1, "MMLU-Pro: 10 options"),
    ("mmlu", 0.25, "MMLU: 4 options"),
    ("hellaswag", 0.25, "HellaSwag: 4 endings"),
    ("arc_challenge", 0.25, "ARC-Challenge: 4 options (a handful of questions have 3 or 5)"),
    ("arc_easy", 0.25, "ARC-Easy: 4 options (a handful of questions have 3 or 5)"),
    ("arc_c", 0.25, "ARC-Challenge: 4 options"),
    ("arc_e", 0.25, "ARC-Easy: 4 options"),
    ("openbookqa", 0.25, "OpenBookQA: 4 options"),
    ("obqa", 0.25, "OpenBookQA: 4 options"),
    ("sciq", 0.25, "SciQ: 4 options"),
    ("race", 0.25, "RACE: 4 options"),
    ("gpqa", 0.25, "GPQA: 4 options"),
    ("csqa", 0.2, "CommonsenseQA: 5 options"),
    ("commonsense_qa", 0.2, "CommonsenseQA: 5 options"),
    ("commonsenseqa", 0.2, "CommonsenseQA: 5 options"),
    ("socialiqa", 1 / 3, "Social IQa: 3 options"),
    ("social_iqa", 1 / 3, "Social IQa: 3 options"),
    ("siqa", 1 / 3, "Social IQa: 3 options"),
    ("piqa", 0.5, "PIQA: 2 solutions"),
    ("winogrande", 0.5, "WinoGrande: 2 options"),
    ("boolq", 0.5, "BoolQ: yes or no (the majority answer, yes, is 62%; guessing is 50%)"),
    ("copa", 0.5, "COPA: 2 alternatives"),
)


def chance_level(metric: str) -> tuple[float, str] | None:
    """(chance level, why) of the benchmark named in ``metric``, or None when it is not in the table.

    A name matches as whole words of the metric, its punctuation read as ``_``: ``arc_c``
    matches ``ARC-C`` but not ``arc_challenge``, ``race`` does not match ``trace``.
    """
    padded = "_" + re.sub(r"[^a-z0-9]+", "_", metric.lower()) + "_"
    for name, level, why in CHANCE_LEVELS:
        if f"_{name}_" in padded:
            return level, why
    return None
