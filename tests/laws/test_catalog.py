"""The law catalog: cards that describe every law without importing numerical libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import scalelaw
from scalelaw import laws
from scalelaw.errors import InputError
from scalelaw.laws.catalog import CARDS


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_matches_its_law(name: str) -> None:
    card, law = CARDS[name], laws.get(name)
    assert type(law).__module__ == f"scalelaw.laws.{card.module}"
    assert (law.name, law.kind, law.formula, law.citation) == (card.name, card.kind, card.formula, card.citation)
    assert (law.param_names, tuple(law.inputs)) == (card.params, card.inputs)


def test_every_registered_law_has_a_card() -> None:
    laws._load_all()
    assert set(laws._REGISTRY) == set(CARDS)
    assert laws.names() == sorted(CARDS)


def test_catalog_imports_without_numerical_libraries() -> None:
    code = "import sys, scalelaw.laws; print(sorted(m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules))"
    src = str(Path(scalelaw.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip() == "[]"


def test_unknown_law_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="chinchilla"):
        laws.get("no-such-law")
