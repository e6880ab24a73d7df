"""Scaling laws and loss-curve laws, one module per law, found by name in a registry."""

from __future__ import annotations

from typing import Any

from scalelaw.errors import InputError
from scalelaw.laws.base import Design, Law, Param

_REGISTRY: dict[str, type[Law]] = {}


def register(cls: type[Law]) -> type[Law]:
    """Class decorator: make a law available by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get(name: str, **options: Any) -> Law:
    """The law called ``name``, built with ``options``."""
    _load_all()
    if name not in _REGISTRY:
        raise InputError(f"unknown law {name!r}; known laws: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**options)


def _load_all() -> None:
    """Import every law module so that its ``@register`` runs."""
    import importlib
    import pkgutil

    import scalelaw.laws as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in {"base"} and not info.name.startswith("_"):
            importlib.import_module(f"scalelaw.laws.{info.name}")


__all__ = ["Design", "Law", "Param", "get", "names", "register"]
