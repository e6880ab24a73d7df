"""Parameter values that need no conversion skip typer's pydantic coercion (and its import).

typer (0.29 and later) converts every parameter through a pydantic ``TypeAdapter`` built on first
use, defaults and ``--help`` included: every start of the command imports pydantic and builds an
adapter per option (about a third of ``scalelaw fit --help``). A value that already has its
annotated type needs none of that: a default, ``None``, a string for a ``str`` option, strings for a
``list[str]`` option, a string for a ``Path`` option without path checks (``Path(text)``, as pydantic does),
and a number written plainly for an ``int`` or ``float`` option (``int(text)``, ``float(text)``) inside the
option's ``min`` and ``max``: a `scalelaw predict FIT.json --points 50` or `plan compute --flops 1e23` no
longer imports pydantic (about 0.1-0.3 s). Those pass as they are; every other value goes to typer's own
coercion, so a bad value gets typer's message. With a typer that lacks the hook this module is a no-op.
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

PLAIN = (str, int, float, bool, Path)
#: An integer written plainly (what int() and pydantic both read the same way).
INTEGER = re.compile(r"[+-]?[0-9]+")
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
            descriptor = getattr(self, "type_descriptor", None)
            plain = plain_type(descriptor)
            if plain is not None:
                info = descriptor.parameter_info
                return PassPlain(plain, lambda: original(self), (getattr(info, "min", None), getattr(info, "max", None)))
        return original(self)

    get_runtime_param.scalelaw_fast = True  # type: ignore[attr-defined]
    _TyperParameter.get_runtime_param = get_runtime_param


def plain_type(descriptor: Any) -> type | None:
    """The scalar type of a ``T``, ``T | None`` or ``list[T]`` parameter without constraints, else None."""
    info = getattr(descriptor, "parameter_info", None)
    if descriptor is None or getattr(descriptor, "file_annotation", None) is not None or info is None:
        return None
    if any(getattr(info, name, None) is not None for name in ("parser", "click_type")) or getattr(info, "clamp", False):
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
    """Coercion of one plain parameter: values of the right type (or numbers written plainly) inside the
    option's bounds as they are, the rest to typer."""

    def __init__(self, kind: type, typer_coercion: Any, bounds: tuple[Any, Any] = (None, None)) -> None:
        self.kind = kind
        self.typer_coercion = typer_coercion
        self.bounds = bounds

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        if self.kind is Path:  # a path is its text: pydantic's Path validation is Path(text)
            if multi and isinstance(value, (list, tuple)) and all(isinstance(v, (str, Path)) for v in value):
                return [Path(v) for v in value]
            if not multi and isinstance(value, (str, Path)):
                return Path(value)
        elif multi and isinstance(value, (list, tuple)):
            values = [self.plain(v) for v in value]
            if all(v is not None for v in values):
                return values
        elif not multi and (plain := self.plain(value)) is not None:
            return plain
        return self.typer_coercion().coerce(value, param=param, ctx=ctx)

    def plain(self, value: Any) -> Any:
        """``value`` as the parameter's type when it is one, or a number written plainly, inside the bounds; else None
        (typer's coercion then converts it or says why not)."""
        if type(value) is not self.kind:
            if not isinstance(value, str) or self.kind not in (int, float):
                return None
            text = value.strip()
            if "_" in text or (self.kind is int and not INTEGER.fullmatch(text)):  # left to typer's reading
                return None
            try:
                value = self.kind(text)
            except ValueError:
                return None
        low, high = self.bounds
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (
                (low is not None and not value >= low) or (high is not None and not value <= high)):
            return None
        return value
