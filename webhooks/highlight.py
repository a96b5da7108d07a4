"""Search words marked in need text on the /needs table.

The need's text is CS's or a customer's input: it is escaped piece by piece and only the marks are markup,
so a ``<script>`` in a title stays text and a mark can never land inside a tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

SNIPPET_BEFORE = 40
SNIPPET_AFTER = 120
"""Characters of the description shown before and after its first match."""


def _pattern(words: Sequence[str]) -> re.Pattern | None:
    if not words:
        return None
    # Longest first, so that a word containing another is marked whole.
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)), re.IGNORECASE)


def highlight(text: str | None, words: Sequence[str]) -> Markup:
    """``text`` escaped, every occurrence of a search word (ignoring case, as the search does) in ``<mark>``."""
    text = text or ""
    pattern = _pattern(words)
    if pattern is None:
        return escape(text)
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces += [escape(text[last:match.start()]), Markup("<mark>%s</mark>") % match.group()]
        last = match.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)


def snippet(text: str | None, words: Sequence[str]) -> Markup | None:
    """The part of ``text`` around its first search word, marked; None when no word is in it."""
    pattern = _pattern(words)
    match = pattern.search(text) if pattern is not None and text else None
    if match is None:
        return None
    start = max(match.start() - SNIPPET_BEFORE, 0)
    end = min(match.end() + SNIPPET_AFTER, len(text))
    before, after = ("…" if start else ""), ("…" if end < len(text) else "")
    return Markup("%s%s%s") % (before, highlight(text[start:end], words), after)
