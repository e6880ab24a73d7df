"""Parameter values that need no conversion skip typer's pydantic coercion (and its import).

typer (0.29 and later) converts every parameter through a pydantic ``TypeAdapter`` built on first
use, defaults and ``--help`` included: every start of the command imports pydantic and builds an
adapter per option (about a third of ``scalelaw fit --help``). A value that already has its
annotated type needs none of that: a default, ``None``, a string for a ``str`` option, strings for a
``list[str]`` option, a string for a ``Path`` option without path checks (``Path(text)``, as pydantic does). Those pass as they are; every other value goes to typer's own coercion, so a
bad value gets typer's message. With a typer that lacks the hook this module is a no-op.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

PLAIN = (str, int, float, bool, Path)
#: Options of a ``Path`` parameter that make typer check or change the path: such parameters keep typer's coercion.
PATH_CHECKS = ("exists", "writable", "resolve_path", "allow_dash")


def install() -> None:
    """Route plain values of plain parameters around pydantic (once per process)."""
    try:
        from typer.core import _TyperParameter
    except ImportError:
        return
    original = getattr(_TyperParameter, "get_runtime_param", None)
    if original is None or getattr(original, "scalelaw_fast", False):
        return

    def get_runtime_param(self: Any) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            plain = plain_type(getattr(self, "type_descriptor", None))
            if plain is not None:
                return PassPlain(plain, lambda: original(self))
        return original(self)

    get_runtime_param.scalelaw_fast = True  # type: ignore[attr-defined]
    _TyperParameter.get_runtime_param = get_runtime_param


def plain_type(descriptor: Any) -> type | None:
    """The scalar type of a ``T``, ``T | None`` or ``list[T]`` parameter without constraints, else None."""
    info = getattr(descriptor, "parameter_info", None)
    if descriptor is None or getattr(descriptor, "file_annotation", None) is not None or info is None:
        return None
    if any(getattr(info, name, None) is not None for name in ("parser", "click_type", "min", "max")):
        return None
    if any(getattr(info, name, False) for name in PATH_CHECKS) or getattr(info, "file_okay", True) is False \
            or getattr(info, "dir_okay", True) is False:
        return None
    annotation = descriptor.annotation
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    elif origin is list:
        (annotation,) = get_args(annotation) or (None,)
    return annotation if annotation in PLAIN else None


class PassPlain:
    """Coercion of one plain parameter: values of the right type as they are, the rest to typer."""

    def __init__(self, kind: type, typer_coercion: Any) -> None:
        self.kind = kind
        self.typer_coercion = typer_coercion

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        if self.kind is Path:  # a path is its text: pydantic's Path validation is Path(text)
            if multi and isinstance(value, (list, tuple)) and all(isinstance(v, (str, Path)) for v in value):
                return [Path(v) for v in value]
            if not multi and isinstance(value, (str, Path)):
                return Path(value)
        elif multi and isinstance(value, (list, tuple)) and all(type(v) is self.kind for v in value):
            return list(value)
        elif not multi and type(value) is self.kind:
            return value
        return self.typer_coercion().coerce(value, param=param, ctx=ctx)
