"""Plain text made safe per destination: its mention rule, Jira wiki and GitHub comment escaping, the ``Link``,
and how names are compared (``fold_name``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

_ZERO_WIDTH_SPACE = "\u200b"
_ZERO_WIDTH_JOINER = "\u200d"
_WORD_JOINER = "\u2060"


@dataclass(frozen=True)
class Link:
    """A link as every destination writes it: the text shown and the address it opens. Issue bodies
    (``sync.loop.mapping``) and notices (``sync.notify.formats``) have documents of their own, this link in both."""

    text: str
    url: str


# Mentions -----------------------------------------------------------------------------------------------

Destination = Literal["issue_body", "github_comment", "chat"]

# What pings people differs per destination, and so does the rule; each puts an invisible character after the
# "@" (or Jira's "[") so the text reads the same and pings nobody. Jira comments need none: ADF text nodes are
# never parsed, and wiki_escape escapes "[~user]".
_MENTIONS: dict[Destination, tuple[tuple[re.Pattern[str], str], ...]] = {
    # Issue bodies on either tracker (ADF text, wiki markup, Markdown): any "@" before a word or "-" (@all,
    # @team, @user-1) and Jira's "[~accountid:...]", so that what a customer wrote pings nobody in R&D.
    "issue_body": (
        (re.compile(r"@(?=[\w-])"), "@" + _ZERO_WIDTH_SPACE),
        (re.compile(r"\[~"), "[" + _ZERO_WIDTH_SPACE + "~"),
    ),
    # GitHub comments: "@" where GitHub links a login or an org/team, which is not after a letter, digit or "_"
    # (an e-mail address stays whole). plain_text takes the joiner out again, so Cocreate reads its comments back.
    "github_comment": (
        (re.compile(r"(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])"), "@" + _ZERO_WIDTH_JOINER),
    ),
    # Chat notices: only "@all", "@here", "@channel", "@everyone" and the Chinese "@所有人" ping a whole group
    # when a chat service parses them; an "@" inside a word (an e-mail address) is left alone.
    "chat": (
        (re.compile(r"(?<!\w)@(?=(?:all|here|channel|everyone)\b|所有人|全体成员|全體成員)", re.IGNORECASE),
         "@" + _WORD_JOINER),
    ),
}


def neutralise_mentions(text: str, destination: Destination) -> str:
    """``text`` with every mention ``destination`` would act on made inert: shown the same, pings nobody."""
    for pattern, replacement in _MENTIONS[destination]:
        text = pattern.sub(replacement, text)
    return text


# Jira wiki markup (Data Center's REST v2) ---------------------------------------------------------------

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


# GitHub comment Markdown --------------------------------------------------------------------------------

_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|~&#!])")
_MARKDOWN_LINE_START = re.compile(r"^([ \t]*)([-+=]|[0-9]+[.)])", re.MULTILINE)
_MARKDOWN_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def markdown_text(text: str) -> str:
    """Plain text as GitHub Markdown that shows the same characters, formats nothing and pings nobody.

    Markdown punctuation is backslash-escaped, and ``@user``, ``@org/team`` and ``@all`` are neutralised as
    GitHub comments need (GitHub would notify them).
    """
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", text)
    escaped = _MARKDOWN_LINE_START.sub(lambda match: match[1] + _escape_marker(match[2]), escaped)
    return neutralise_mentions(escaped, "github_comment")


def _escape_marker(marker: str) -> str:
    return marker[:-1] + "\\" + marker[-1]


def plain_text(markdown: str) -> str:
    """Undo :func:`markdown_text`: Cocreate's own comments read back exactly as they were written."""
    return _MARKDOWN_ESCAPED.sub(r"\1", markdown.replace("@" + _ZERO_WIDTH_JOINER, "@"))


# Names --------------------------------------------------------------------------------------------------


def fold_name(text: str) -> str:
    """A name as it is compared, not shown: full-width and half-width forms alike (NFKC: ＡＣＭＥ　Ｃｏ. is
    ACME Co.), case ignored, runs of spaces one space, none at either end."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
