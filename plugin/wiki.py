"""Jira wiki markup (Data Center's REST v2) escaping: the Jira adapter's comments and ``sync.loop.mapping``'s issue
bodies render plain text literally with it."""

from __future__ import annotations

import re

# Characters with a meaning in Jira wiki markup (text effects, links, macros, tables, lists, mentions).
_WIKI_SPECIAL = "\\*_?-+^~|!#{}[]"
_WIKI_ESCAPE = re.compile("([" + re.escape(_WIKI_SPECIAL) + "])")
_WIKI_UNESCAPE = re.compile(r"\\([" + re.escape(_WIKI_SPECIAL) + "])")


def wiki_escape(text: str) -> str:
    """Plain ``text`` as Jira wiki markup that renders literally (``[~user]`` mentions included)."""
    return _WIKI_ESCAPE.sub(r"\\\1", text)


def wiki_unescape(markup: str) -> str:
    """The inverse of :func:`wiki_escape`, so that Cocreate reads back the text it wrote."""
    return _WIKI_UNESCAPE.sub(r"\1", markup)
