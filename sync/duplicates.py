"""How alike two needs read: pure, no database. Chinese text is compared by character bigrams, other text by
lower-cased words without a short stop list; a need's title counts twice its description.

The score is the cosine of the two needs' weighted term counts, 0 (nothing shared) to 1 (the same terms).
Traditional characters are folded to simplified ones first (``sync.hanzi``), so a need typed in zh-Hant finds
its twin typed in zh-Hans. ``THRESHOLD`` is the score from which a need is suggested as a duplicate; it is
chosen on the labelled pairs in ``tests/fixtures/duplicates`` by ``bench/dup_bench.py``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from sync.hanzi import simplified, traditional

THRESHOLD = 0.35
"""Suggest a need from this score on (``bench/dup_bench.py`` prints why: the best F1 on the labelled set)."""
TITLE_WEIGHT = 2.0
DESCRIPTION_WEIGHT = 1.0
DESCRIPTION_READ = 2000
"""Only the start of a long description is compared: the gist of a need is at its top."""

STOP_WORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "if", "then", "of", "to", "in", "on", "at", "by", "for", "with", "from",
    "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "there",
    "here", "we", "our", "us", "you", "your", "they", "their", "them", "i", "me", "my", "he", "she", "his", "her",
    "not", "no", "do", "does", "did", "can", "could", "should", "would", "will", "shall", "may", "might", "must",
    "have", "has", "had", "when", "where", "which", "who", "what", "how", "please", "also", "just", "so", "very",
    "into", "out", "up", "down", "over", "than", "too", "again", "any", "some", "all", "each", "more", "most",
    "other", "such", "only", "own", "same"
})

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _stem(word: str) -> str:
    """A plural's singular, enough for "invoices" to meet "invoice"; not a stemmer."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The terms ``text`` is compared by: each run of Chinese characters as its bigrams (a lone character as
    itself), each other word lower-cased and singular, stop words and one-letter words left out."""
    text = simplified(unicodedata.normalize("NFKC", text or ""))
    found: list[str] = []
    for run in _CJK.findall(text):
        found += [run] if len(run) == 1 else [run[index:index + 2] for index in range(len(run) - 1)]
    for word in _WORD.findall(_CJK.sub(" ", text).lower()):
        if len(word) > 1 and word not in STOP_WORDS:
            found.append(_stem(word))
    return found


@dataclass(frozen=True)
class Profile:
    """A need's weighted terms and their length, computed once and compared with many."""

    weights: dict[str, float]
    norm: float

    @property
    def empty(self) -> bool:
        return not self.weights


def profile(title: str, description: str = "") -> Profile:
    """The terms of a title and a description, the title's counted ``TITLE_WEIGHT`` times."""
    weights: Counter[str] = Counter()
    for term in terms(title):
        weights[term] += TITLE_WEIGHT
    for term in terms((description or "")[:DESCRIPTION_READ]):
        weights[term] += DESCRIPTION_WEIGHT
    # Repeating a word a hundred times must not make a need "about" it: counts grow by their square root.
    scaled = {term: math.sqrt(weight) for term, weight in weights.items()}
    return Profile(scaled, math.sqrt(sum(value * value for value in scaled.values())))


def score(left: Profile, right: Profile) -> float:
    """The cosine of two profiles: 0 when they share no term (or one is empty), 1 when they match."""
    if left.empty or right.empty:
        return 0.0
    small, large = (left, right) if len(left.weights) <= len(right.weights) else (right, left)
    dot = sum(weight * large.weights.get(term, 0.0) for term, weight in small.weights.items())
    return round(dot / (left.norm * right.norm), 4)


def similarity(title: str, description: str, other_title: str, other_description: str) -> float:
    """How alike two needs read, from their titles and descriptions (``score`` of their profiles)."""
    return score(profile(title, description), profile(other_title, other_description))


def search_terms(title: str, description: str = "", limit: int = 24, piece: int = 3) -> list[str]:
    """What to ask the search index for to find needs like this one: three-character pieces of the Chinese
    text (the shortest the trigram indexes find), as typed and in simplified and traditional characters, and the
    longer words (singular), the title's first, each once, at most ``limit``."""
    asked: list[str] = []
    for text in (title, (description or "")[:DESCRIPTION_READ]):
        text = unicodedata.normalize("NFKC", text or "")
        for run in _CJK.findall(text):
            for index in range(max(len(run) - piece + 1, 0)):
                part = run[index:index + piece]
                asked += [part, simplified(part), traditional(part)]
        asked += [_stem(word) for word in _WORD.findall(_CJK.sub(" ", text).lower())
                  if len(word) >= 3 and word not in STOP_WORDS]
    return list(dict.fromkeys(asked))[:limit]
