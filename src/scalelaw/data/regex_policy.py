"""The regex policy: no regular expression scalelaw applies to untrusted text can backtrack for long.

- A user's pattern (``--pattern``) runs on RE2 (the ``google-re2`` bindings): matching
  takes time linear in the line whatever the pattern, so ``(a+)+$`` cannot hang. RE2
  refuses backreferences and lookaround; such a pattern is an InputError saying so.
- scalelaw's own patterns run on Python's ``re`` (RE2's bindings cost about 25 times more
  per call) and are written so that they cannot backtrack more than linearly: anchored,
  with no two adjacent quantifiers able to match the same character, possessive
  quantifiers (``*+``, ``++``) where a repeat must not give characters back, and ``[ \\t]``
  rather than ``\\s`` where a newline would let a repeat run into the next line.
  ``tests/fuzz/test_regex_policy.py`` runs every built-in pattern on adversarial lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalelaw.errors import InputError

#: Longest user pattern accepted (characters).
MAX_PATTERN = 1000
#: Memory RE2 may use for one compiled pattern (bytes); a larger automaton is refused.
MAX_PATTERN_MEMORY = 8 << 20


@dataclass(frozen=True)
class UserPattern:
    """A user's regex compiled by RE2, with its named groups."""

    compiled: Any
    names: frozenset[str]

    def search(self, line: str) -> dict[str, str] | None:
        """The named groups that matched in ``line`` (None-valued groups left out), or None."""
        match = self.compiled.search(line)
        if match is None:
            return None
        return {name: value for name, value in match.groupdict().items() if value is not None}


def compile_user_pattern(pattern: str, *, option: str = "--pattern") -> UserPattern:
    """Compile a user's regex with RE2; refused (InputError) if too long, invalid or not RE2 syntax."""
    if len(pattern) > MAX_PATTERN:
        raise InputError(f"{option} is longer than {MAX_PATTERN} characters")
    try:
        import re2
    except ImportError:  # a dependency; missing only in a broken install
        raise InputError(f"{option} needs the google-re2 package (pip install google-re2), which matches "
                         "in linear time; scalelaw does not run user patterns on a backtracking engine") from None
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own parse errors to stderr
    options.max_mem = MAX_PATTERN_MEMORY
    try:
        compiled = re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InputError(f"{option} is not a valid regular expression for RE2 ({reason}); RE2 has no "
                         "backreferences or lookaround, so that matching cannot hang on a hostile line") from None
    return UserPattern(compiled, frozenset(compiled.groupindex))
