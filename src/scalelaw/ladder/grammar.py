"""English-like text generated from a small, fixed probabilistic grammar.

No public-domain book ships inside any package the project may depend on (Python's
standard library has none and nltk's corpora are downloaded), so the bundled "natural"
corpus is generated: sentences from the grammar below, with a fixed seed, so it is
the same on every machine. It has real structure (agreement, nesting, a Zipf-like
lexicon) but no known entropy rate; use the Markov corpus when the true loss matters.

Grammar (each alternative equally likely unless weighted)::

    paragraph -> sentence{3..7} "\\n"
    sentence  -> clause "." | clause ", and" clause "." | "when" clause "," clause "."
    clause    -> noun_phrase verb_phrase
    noun_phrase -> determiner adjective{0..2} noun [prepositional]   (prepositional 20%)
    verb_phrase -> verb noun_phrase | verb adverb | verb
    prepositional -> preposition noun_phrase
"""

from __future__ import annotations

import random

DETERMINERS = ("the", "a", "one", "every", "that", "this", "some", "no")
ADJECTIVES = (
    "old", "young", "quiet", "bright", "dark", "small", "great", "cold", "warm", "grey",
    "green", "silent", "busy", "tired", "gentle", "proud", "strange", "early", "late", "wild",
)
NOUNS = (
    "miller", "river", "horse", "house", "child", "road", "king", "garden", "letter", "ship",
    "village", "storm", "window", "bridge", "farmer", "book", "candle", "forest", "bell", "sailor",
    "market", "stone", "mountain", "door", "lamp", "wolf", "clock", "field", "widow", "soldier",
)
VERBS = (
    "saw", "found", "kept", "carried", "followed", "watched", "left", "heard", "crossed", "mended",
    "sold", "painted", "remembered", "called", "opened", "waited", "slept", "sang", "walked", "laughed",
)
ADVERBS = ("slowly", "again", "alone", "at night", "in silence", "for years", "too soon", "gladly")
PREPOSITIONS = ("near", "beside", "under", "behind", "across", "beyond", "with", "without")


def _zipf_choice(rng: random.Random, words: tuple[str, ...]) -> str:
    """Pick a word with probability proportional to 1/rank, as in natural text."""
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    return rng.choices(words, weights=weights)[0]


def _noun_phrase(rng: random.Random, depth: int = 0) -> str:
    words = [_zipf_choice(rng, DETERMINERS)]
    words += [_zipf_choice(rng, ADJECTIVES) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    words.append(_zipf_choice(rng, NOUNS))
    if depth < 2 and rng.random() < 0.2:
        words += [_zipf_choice(rng, PREPOSITIONS), _noun_phrase(rng, depth + 1)]
    return " ".join(words)


def _clause(rng: random.Random) -> str:
    verb = _zipf_choice(rng, VERBS)
    form = rng.randrange(3)
    if form == 0:
        return f"{_noun_phrase(rng)} {verb} {_noun_phrase(rng)}"
    if form == 1:
        return f"{_noun_phrase(rng)} {verb} {_zipf_choice(rng, ADVERBS)}"
    return f"{_noun_phrase(rng)} {verb}"


def _sentence(rng: random.Random) -> str:
    form = rng.randrange(3)
    if form == 0:
        text = f"{_clause(rng)}."
    elif form == 1:
        text = f"{_clause(rng)}, and {_clause(rng)}."
    else:
        text = f"when {_clause(rng)}, {_clause(rng)}."
    return text[0].upper() + text[1:]


def generate_text(characters: int, *, seed: int = 0) -> str:
    """At least ``characters`` characters of paragraphs from the grammar, the same for a seed."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    length = 0
    while length < characters:
        paragraph = " ".join(_sentence(rng) for _ in range(rng.randint(3, 7))) + "\n"
        paragraphs.append(paragraph)
        length += len(paragraph)
    return "".join(paragraphs)
