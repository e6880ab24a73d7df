"""Scaling laws and loss-curve laws, one module per law, found by name in a registry.

Importing this package is cheap: the law modules (and numpy, pandas, scipy) load only
when a law is built with :func:`get`; :mod:`scalelaw.laws.catalog` describes every law
without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scalelaw.errors import InputError
from scalelaw.laws.catalog import CARDS

if TYPE_CHECKING:
    from scalelaw.laws.base import Design, Law, Param

_REGISTRY: dict[str, type[Law]] = {}


def register(cls: type[Law]) -> type[Law]:
    """Class decorator: make a law available by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """Every law's name: the catalogued ones and any other registered so far."""
    return sorted(set(CARDS) | set(_REGISTRY))


def get(name: str, **options: Any) -> Law:
    """The law called ``name``, built with ``options``."""
    if name not in _REGISTRY:
        if name in CARDS:
            importlib.import_module(f"scalelaw.laws.{CARDS[name].module}")
        else:
            _load_all()
    if name not in _REGISTRY:
        raise InputError(f"unknown law {name!r}; known laws: {', '.join(names())}")
    return _REGISTRY[name](**options)


def _load_all() -> None:
    """Import every law module so that its ``@register`` runs."""
    import pkgutil

    import scalelaw.laws as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in {"base", "catalog"} and not info.name.startswith("_"):
            importlib.import_module(f"scalelaw.laws.{info.name}")


def __getattr__(name: str) -> Any:
    """``Design``, ``Law`` and ``Param`` on first use, so that the package imports without numpy."""
    if name in {"Design", "Law", "Param"}:
        from scalelaw.laws import base

        return getattr(base, name)
    raise AttributeError(f"module 'scalelaw.laws' has no attribute {name!r}")


__all__ = ["CARDS", "Design", "Law", "Param", "get", "names", "register"]
