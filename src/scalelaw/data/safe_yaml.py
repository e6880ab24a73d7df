"""Untrusted YAML: PyYAML's safe loader without aliases, and a size cap.

Aliases are what make the "billion laughs" bomb (nine levels of nine references expand
1 kB into 9**9 strings once anything stringifies them), and no spec or metadata file
needs them. ``load_yaml`` is the one way scalelaw parses YAML; ``NoAliasSafeLoader`` is
its loader, for a reader that handles YAML errors itself.
"""

from __future__ import annotations

from typing import Any

import yaml

from scalelaw.data.guards import MAX_SMALL_FILE_BYTES
from scalelaw.errors import InputError


class NoAliasSafeLoader(yaml.SafeLoader):
    """The safe loader, minus aliases: ``*name`` references are refused, so nothing expands."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed", mark)
        return super().compose_node(parent, index)


def load_yaml(text: str, *, file: str, max_chars: int = MAX_SMALL_FILE_BYTES) -> Any:
    """Parse untrusted YAML: safe types only, no aliases, at most ``max_chars`` characters."""
    if len(text) > max_chars:
        raise InputError(f"the YAML is longer than {max_chars} characters", file=file)
    try:
        return yaml.load(text, Loader=NoAliasSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=file) from None
    except RecursionError:
        raise InputError("the YAML is nested too deeply", file=file) from None
