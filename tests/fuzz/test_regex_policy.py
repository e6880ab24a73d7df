"""The regex policy (scalelaw.data.regex_policy): user patterns run on RE2, and every built-in
pattern applied to untrusted text matches adversarial lines in about linear time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scalelaw.data.regex_policy import compile_user_pattern
from scalelaw.errors import InputError

#: Modules whose regexes read text scalelaw did not write (logs, column names, folder names, filters).
MODULES = (*(f"scalelaw.data.readers.{name}" for name in (
    "textlog", "formats", "hf_trainer", "mlflow_db", "mlflow", "lightning", "model_size", "tabular", "tensorboard",
    "wandb_file", "wandb_panel", "wandb_api")),
    "scalelaw.plan.tasks", "scalelaw.data.units", "scalelaw.data.store", "scalelaw.data.filter",
    "scalelaw.data.metadata", "scalelaw.data.aliases")
#: Pieces repeated to build adversarial lines: what the patterns' own repeats and separators match.
FRAGMENTS = ("a:b", "a:", ":", " ", "\t", "1", "1.", ",", "|", " |", "| ", "[", "]", "[a", "/", "_", "x", ".",
             "downstream/", "s:1 ", "a:1 ", "step 1: ", "iter 1: loss ", "| lr ", " loss ", "_acc", "bits", "-",
             "checkpoint-1", "'", '"', "\\'", "`", "e+", "\n", " \n")
LENGTH = 10_000
#: Patterns only ever applied with ``.match`` at a position (so a ``search`` over them says nothing):
#: the --where tokenizer, on at most 10,000 characters.
MATCH_ONLY = ("scalelaw.data.filter._TOKEN",)
#: Seconds one pattern may take on all adversarial lines (linear: milliseconds; quadratic: minutes).
BUDGET = 5.0

SCRIPT = r"""
import importlib, json, re, sys, time
fragments, length, modules, match_only = json.loads(sys.argv[1])
patterns = {}
for module_name in modules:
    module = importlib.import_module(module_name)
    for name, value in vars(module).items():
        values = value.values() if isinstance(value, dict) else [value]
        for i, item in enumerate(values):
            item = item[0] if isinstance(item, tuple) and item and isinstance(item[0], re.Pattern) else item
            if isinstance(item, re.Pattern):
                patterns[f"{module_name}.{name}" + (f"[{i}]" if isinstance(value, dict) else "")] = item
times = {}
for name, pattern in patterns.items():
    literal = re.match(r"\^?([^\\\[\](){}*+?|^$.]*)", pattern.pattern if isinstance(pattern.pattern, str)
                       else pattern.pattern.decode("latin-1"))[1]
    start = time.perf_counter()
    for prefix in ("", literal):
        for fragment in fragments:
            for tail in ("\x01", " !", ""):
                line = prefix + fragment * (length // len(fragment)) + tail
                text = line if isinstance(pattern.pattern, str) else line.encode("latin-1")
                pattern.match(text)
                if name not in match_only:
                    pattern.search(text)
    times[name] = time.perf_counter() - start
print(json.dumps(times))
"""


def test_every_builtin_pattern_is_linear_on_adversarial_lines() -> None:
    argument = json.dumps([FRAGMENTS, LENGTH, MODULES, MATCH_ONLY])
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT, argument], capture_output=True, text=True, timeout=600,
                              check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("a built-in pattern did not finish its adversarial lines in 600 s (it backtracks)")
    times = json.loads(done.stdout)
    assert len(times) >= 15, sorted(times)  # the patterns were found
    assert {"scalelaw.data.readers.textlog.LLMC_MAIN", "scalelaw.data.readers.formats.TEXT_LOG_SIGNS",
            "scalelaw.plan.tasks._ACCURACY"} <= set(times)
    slow = {name: round(seconds, 2) for name, seconds in times.items() if seconds > BUDGET}
    assert not slow, f"patterns slower than {BUDGET} s on {LENGTH}-character adversarial lines: {slow}"


@pytest.mark.parametrize("line", ["s:1 " + "a:b" * 40 + " \x01", "s:1 " + "a:" * 30 + "  x"])
def test_llmc_main_pattern_fails_fast_and_still_reads_main_log(line: str) -> None:
    from scalelaw.data.readers.textlog import LLMC_MAIN

    start = time.perf_counter()
    assert LLMC_MAIN.match(line) is None
    assert time.perf_counter() - start < 1.0  # the old pattern took 17 s on the first line, doubling per item
    assert LLMC_MAIN.match("s:12 trl:3.2 lr:1e-3 norm:0.5").groups() == ("12", "trl:3.2 lr:1e-3 norm:0.5")
    assert LLMC_MAIN.match("s:12 tel:3.1 ").groups() == ("12", "tel:3.1")
    assert LLMC_MAIN.match("s:12 trl:3.2  x") is None and LLMC_MAIN.match("s:12 trl") is None


def test_user_patterns_run_on_re2_in_linear_time() -> None:
    pattern = compile_user_pattern(r"(?P<step>(a+)+$)")
    start = time.perf_counter()
    assert pattern.search("a" * 100_000 + "!") is None
    assert time.perf_counter() - start < 1.0  # Python's re would not return
    assert pattern.search("aaa") == {"step": "aaa"}
    with pytest.raises(InputError, match="RE2"):
        compile_user_pattern(r"(a)\1")
    assert re.compile(r"(a)\1")  # the same pattern that Python's re would accept


def test_task_names_keep_their_meaning() -> None:
    from scalelaw.plan.tasks import _ACCURACY

    match = _ACCURACY.match("eval/downstream/arc_easy_len_norm")
    assert match is not None and match.groupdict() == {"prefix": "eval/", "task": "arc_easy", "kind": "len_norm"}
    assert _ACCURACY.match("downstream/hellaswag_acc")["task"] == "hellaswag"  # type: ignore[index]
    assert _ACCURACY.match("downstream/_acc") is None
