"""Themes in short texts: words and two-word phrases that more than one text uses.

The brainwriting reveal points them out, and how it finds them is meant to be explained in a
sentence (README, "Sector styles"):

1. Each text is split into words, in lower case; words of one or two letters and common
   English words that carry no theme ("the", "and", "very", "their", …) are dropped.
2. A plural counts as its singular: "approvals" as "approval", "agencies" as "agency".
3. A theme is a word, or two words that stood next to each other, that appears in at least
   two different texts. A text that repeats a word counts once.
4. A word is not listed on its own when a phrase holding it recurs just as often: "slow
   approval" in three texts hides "approval" in the same three.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_STOP_WORDS = """
    a about above after again against all almost also although always am an and any are
    around as at be because been before being below between both but by can cannot could
    did do does doing done down during each either else enough even ever every few for from
    further get gets getting go goes going got had has have having he her here hers him his
    how however i if in into is it its itself just least less like lot lots made make makes
    many may me might more most much must my need needs never no nor not now of off often on
    once one only or other others our ours out over own per quite rather really same see
    seem seems she should so some something sometimes such than that the their theirs them
    themselves then there these they thing things this those though through thus to too
    toward towards under until up upon us usually very via was way ways we well were what
    when where whether which while who whom whose why will with within without would yet you
    your yours
"""  # common English words that carry no theme; easier to edit as words than as a list
STOP_WORDS = frozenset(_STOP_WORDS.split())
_APOSTROPHE = "\u2019"  # a curly apostrophe, as phones type it
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019-][a-z0-9]+)*")
MIN_TEXTS = 2  # a theme appears in at least this many texts


def normalize(word: str) -> str:
    """A word as themes compare it: its simple singular ("agencies" -> "agency")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> set[str]:
    """The words and the two-word phrases of one text, stop words left out."""
    found: set[str] = set()
    previous: str | None = None
    for raw in _WORD.findall(text.lower()):
        word = raw.replace(_APOSTROPHE, "'")
        if len(word) < 3 or word in STOP_WORDS or word.split("'")[0] in STOP_WORDS:
            previous = None  # a phrase is two theme words that stood side by side
            continue
        word = normalize(word)
        found.add(word)
        if previous is not None:
            found.add(f"{previous} {word}")
        previous = word
    return found


def recurring(texts: Iterable[str], limit: int = 5) -> list[tuple[str, int]]:
    """The themes of `texts`: (term, how many texts use it), most used first, at most
    `limit` of them."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms(text))
    kept = {term: n for term, n in counts.items() if n >= MIN_TEXTS}
    phrases = [term for term in kept if " " in term]
    shown = {
        term: n
        for term, n in kept.items()
        if " " in term or not any(kept[p] == n and term in p.split() for p in phrases)
    }
    return sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def shared(by_group: dict[str, list[str]], limit: int = 5) -> list[tuple[str, list[str]]]:
    """Terms that recur across groups (sectors): (term, the groups whose texts use it), for
    terms used in at least two groups, most groups first."""
    groups_of: dict[str, list[str]] = {}
    for group, texts in by_group.items():
        for term in set().union(*(terms(t) for t in texts)) if texts else set():
            groups_of.setdefault(term, []).append(group)
    found = [(term, groups) for term, groups in groups_of.items() if len(groups) >= MIN_TEXTS]
    return sorted(found, key=lambda tg: (-len(tg[1]), " " not in tg[0], tg[0]))[:limit]
