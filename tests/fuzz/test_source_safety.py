"""No code in src/ evaluates, unpickles or shells out on untrusted input, and YAML is always alias-free.

A grep, deliberately blunt: a new use of one of these calls must either be removed or be
made safe in the way the allowed forms below are (and the allow-list changed on purpose).
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "scalelaw"

FORBIDDEN: dict[str, re.Pattern[str]] = {
    "eval/exec": re.compile(r"(?<![.\w])(eval|exec|__import__)\("),
    "pandas query/eval (runs Python)": re.compile(r"\.query\s*\(|\bpd\.eval\s*\(|\.eval\s*\(\s*['\"f]"),
    "pickle": re.compile(r"^\s*(import|from)\s+(c?pickle|dill|cloudpickle|joblib|marshal|shelve)\b|read_pickle|"
                         r"allow_pickle\s*=\s*True", re.M),
    "shell": re.compile(r"shell\s*=\s*True|\bos\.(system|popen)\s*\(|\bsubprocess\b"),
    "unbounded YAML": re.compile(r"yaml\.(safe_load|unsafe_load|full_load|load_all|safe_load_all)\s*\(|"
                                 r"yaml\.(Loader|FullLoader|UnsafeLoader|CLoader)\b|yaml\.load\s*\((?!.*NoAliasSafeLoader)"),
    "torch.load without weights_only=True": re.compile(r"torch\.load\s*\((?!.*weights_only\s*=\s*True)"),
}


def test_no_unsafe_calls_in_src() -> None:
    hits = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50, "the source tree was not found"
    for path in files:
        text = path.read_text(encoding="utf-8")
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                hits.append(f"{path.relative_to(SRC.parent)}:{line}: {what}: {text.splitlines()[line - 1].strip()}")
    assert not hits, "\n".join(hits)


def test_the_grep_finds_what_it_forbids() -> None:
    """The patterns catch the forms issue 13 found (so a passing grep means something)."""
    samples = {
        "eval/exec": "x = eval(text)",
        "pandas query/eval (runs Python)": "kept = table.query(where, engine='python')",
        "pickle": "import pickle",
        "shell": "subprocess.run(cmd, shell=True)",
        "unbounded YAML": "raw = yaml.safe_load(text)",
        "torch.load without weights_only=True": "state = torch.load(path, weights_only=False)",
    }
    for what, sample in samples.items():
        assert FORBIDDEN[what].search(sample), what
    assert not FORBIDDEN["eval/exec"].search("model.eval()")
    assert not FORBIDDEN["unbounded YAML"].search("yaml.load(text, Loader=NoAliasSafeLoader)")
    assert not FORBIDDEN["torch.load without weights_only=True"].search("torch.load(path, weights_only=True)")
