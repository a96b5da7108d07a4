"""Rendered notices: one small document, written out as plain text, e-mail HTML and each chat service's markup.

Every piece of text is escaped for its destination, the notice's own wording included, so a need title such
as ``<script>`` or ``@all`` reaches the reader as the characters CS typed and never as markup or a mention (the
chat rule of ``plugin.text``). Formatting (bold, quotes, links) comes only from the document's structure.

A notice has a document model of its own, apart from the issue body's in ``sync.loop.mapping``: a notice is a
titled message with bold runs, quoted free text, a row of links and small print, rendered as e-mail and chat
markup; an issue body is a table of fields rendered as tracker markup. Both use ``plugin.text.Link``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from plugin.text import Link, neutralise_mentions

Flavour = Literal["commonmark", "slack", "wecom", "dingtalk"]
FLAVOURS: tuple[Flavour, ...] = ("commonmark", "slack", "wecom", "dingtalk")

CHAT_QUOTE_LIMIT = 1500
"""Characters of free text (remarks, comments) kept in a chat message; bots cap a message at 4-20 KB."""

_ZERO_WIDTH_SPACE = "\u200b"
_COMMONMARK_SPECIAL = re.compile(r"([\\`*_\[\]<>#~|!&])")
_LINE_START_HASH = re.compile(r"^(\s*)#", re.MULTILINE)
_URL_SAFE = ":/?#[]@!$&'*+,;=%~-._"


@dataclass(frozen=True)
class Text:
    """A run of text; ``strong`` renders it bold where the format has bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Text, ...]


@dataclass(frozen=True)
class Quote:
    """Free text someone wrote (remarks for the customer, a comment), shown under a heading of ours."""

    heading: str
    body: str


@dataclass(frozen=True)
class Links:
    links: tuple[Link, ...]


Block = Paragraph | Quote | Links


@dataclass(frozen=True)
class Document:
    """What a notice says, independent of format: a title, blocks, and a small-print footer."""

    title: str
    blocks: tuple[Block, ...]
    footer: str = ""
    lang: str = "en"
    colon: str = ": "


@dataclass(frozen=True)
class Message:
    """A rendered notice, ready for any channel.

    ``notice_id`` is stable for the same notice, so a retried job sends the same id (e-mail Message-ID,
    ``X-Cocreate-Notice-Id``, webhook idempotency key). ``data`` holds the notice's fields for machine readers.
    """

    notice_id: str
    kind: str
    locale: str
    subject: str
    document: Document
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return render_text(self.document)

    @property
    def html(self) -> str:
        return render_html(self.document, self.subject)

    def markdown(self, flavour: Flavour = "commonmark", quote_limit: int = CHAT_QUOTE_LIMIT) -> str:
        return render_markdown(self.document, flavour, quote_limit)

    def feishu_post(self) -> dict[str, Any]:
        return render_feishu_post(self.document, self.subject, self.locale)


# Escaping ------------------------------------------------------------------------------------------


def escape(text: str, flavour: Flavour) -> str:
    """Escape ``text`` so that ``flavour`` shows it literally.

    * commonmark: backslash before every character that can start markup (CommonMark allows it for any
      ASCII punctuation).
    * slack: only ``&``, ``<`` and ``>`` become entities, as Slack's formatting reference asks; that also
      disarms ``<!here>``, ``<!channel>`` and ``<@U123>``. Slack offers no escape for ``*``, ``_`` or ``~``.
    * wecom, dingtalk: no escape is documented, so ``<``/``>`` become their full-width forms (no HTML
      tags, no ``<@userid>`` mention, no ``<font>``), a zero-width space splits ``](`` so no link can be
      disguised, and a line-leading ``#`` cannot start a heading.
    """
    text = neutralise_mentions(text, "chat")
    if flavour == "commonmark":
        return _COMMONMARK_SPECIAL.sub(r"\\\1", text)
    if flavour == "slack":
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if flavour in ("wecom", "dingtalk"):
        text = text.replace("<", "\uff1c").replace(">", "\uff1e").replace("](", "]" + _ZERO_WIDTH_SPACE + "(")
        return _LINE_START_HASH.sub(lambda match: match.group(1) + _ZERO_WIDTH_SPACE + "#", text)
    raise ValueError(f"unknown Markdown flavour {flavour!r}; use one of {', '.join(FLAVOURS)}")


def _chat_text(text: str) -> str:
    """Feishu post text is shown as typed, but its text messages parse ``<at user_id="all">``: defuse both."""
    return neutralise_mentions(text, "chat").replace("<", "\uff1c").replace(">", "\uff1e")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _url(url: str, flavour: Flavour) -> str:
    """Percent-encode what would end a Markdown link target or a Slack ``<url|label>`` early."""
    encoded = quote(url, safe=_URL_SAFE)
    if flavour == "slack":
        return encoded.replace("&", "&amp;").replace("|", "%7C")
    return encoded


# Plain text (e-mail text part, generic webhook) ---------------------------------------------------


def render_text(document: Document) -> str:
    chunks: list[str] = []
    for block in document.blocks:
        if isinstance(block, Paragraph):
            chunks.append("".join(part.text for part in block.parts))
        elif isinstance(block, Quote):
            body = "\n".join("    " + line for line in block.body.split("\n"))
            chunks.append(f"{block.heading}{document.colon.rstrip()}\n{body}")
        elif isinstance(block, Links):
            chunks.append("\n".join(f"{link.text}{document.colon}{link.url}" for link in block.links))
    if document.footer:
        chunks.append("-- \n" + document.footer)
    return "\n\n".join(chunks) + "\n"


# E-mail HTML ----------------------------------------------------------------------------------------

_HTML_BODY = (
    "font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;"
    "font-size:14px;line-height:1.6;color:#1f2328;max-width:640px"
)
_HTML_QUOTE = "margin:0 0 16px;padding:8px 12px;border-left:3px solid #d0d7de;color:#424a53"
_HTML_FOOTER = "margin-top:24px;color:#8c959f;font-size:12px"


def _html_text(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>\n")


def render_html(document: Document, subject: str) -> str:
    """A simple, inline-styled HTML page; mail clients drop <style> blocks, so nothing relies on one."""
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(document.lang)}">',
        f'<head><meta charset="utf-8"><title>{_html_text(subject)}</title></head>',
        f'<body style="{_HTML_BODY}">',
    ]
    for block in document.blocks:
        if isinstance(block, Paragraph):
            parts = "".join(
                f"<strong>{_html_text(part.text)}</strong>" if part.strong else _html_text(part.text)
                for part in block.parts
            )
            out.append(f"<p>{parts}</p>")
        elif isinstance(block, Quote):
            out.append(f'<p style="margin-bottom:4px"><strong>{_html_text(block.heading)}</strong></p>')
            out.append(f'<blockquote style="{_HTML_QUOTE}">{_html_text(block.body)}</blockquote>')
        elif isinstance(block, Links):
            anchors = " · ".join(
                f'<a href="{html.escape(link.url, quote=True)}">{_html_text(link.text)}</a>' for link in block.links
            )
            out.append(f"<p>{anchors}</p>")
    if document.footer:
        out.append(f'<p style="{_HTML_FOOTER}">{_html_text(document.footer)}</p>')
    out.append("</body>\n</html>")
    return "\n".join(out) + "\n"


# Markdown flavours -----------------------------------------------------------------------------------


def _bold(text: str, flavour: Flavour) -> str:
    core = text.strip()
    if not core:
        return text
    # Emphasis markers must touch the text: keep surrounding spaces outside them.
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    marker = "*" if flavour == "slack" else "**"
    return f"{lead}{marker}{core}{marker}{trail}"


def _link(link: Link, flavour: Flavour) -> str:
    if flavour == "slack":
        return f"<{_url(link.url, flavour)}|{escape(link.text, flavour)}>"
    return f"[{escape(link.text, flavour)}]({_url(link.url, flavour)})"


def render_markdown(document: Document, flavour: Flavour = "commonmark", quote_limit: int = CHAT_QUOTE_LIMIT) -> str:
    """The document in ``flavour``: CommonMark, Slack mrkdwn, or the WeCom / DingTalk bot Markdown subsets.

    Chat flavours keep at most ``quote_limit`` characters of each free-text quote; CommonMark keeps all.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown Markdown flavour {flavour!r}; use one of {', '.join(FLAVOURS)}")
    # CommonMark joins consecutive lines into one paragraph; two trailing spaces keep the line break.
    # DingTalk needs a blank line between quoted lines; WeCom and Slack keep single newlines.
    line_break = {"commonmark": "  \n", "dingtalk": "\n\n", "wecom": "\n", "slack": "\n"}[flavour]
    chat = flavour != "commonmark"
    chunks = [_bold(escape(document.title, flavour), flavour)]
    for block in document.blocks:
        if isinstance(block, Paragraph):
            chunks.append(
                "".join(
                    _bold(escape(part.text, flavour), flavour) if part.strong else escape(part.text, flavour)
                    for part in block.parts
                )
            )
        elif isinstance(block, Quote):
            body = clip(block.body, quote_limit) if chat else block.body
            lines = [f"> {escape(line, flavour)}" if line.strip() else ">" for line in body.split("\n")]
            chunks.append(_bold(escape(block.heading, flavour), flavour) + "\n" + line_break.join(lines))
        elif isinstance(block, Links):
            chunks.append(" · ".join(_link(link, flavour) for link in block.links))
    if document.footer:
        footer = escape(document.footer, flavour)
        chunks.append(f"_{footer}_" if flavour in ("slack", "commonmark") else footer)
    return "\n\n".join(chunks)


# Feishu "post" (rich text) ----------------------------------------------------------------------------

# Feishu's post content is keyed by language; its documentation names zh_cn, en_us and ja_jp.
_FEISHU_LANGUAGE = {"zh_Hans": "zh_cn", "zh_Hant": "zh_cn", "en": "en_us"}


def feishu_language(locale: str) -> str:
    return _FEISHU_LANGUAGE.get(locale, "en_us")


def render_feishu_post(document: Document, subject: str, locale: str) -> dict[str, Any]:
    """The ``content.post`` object of a Feishu ``msg_type: post`` message: rows of text and link tags."""
    rows: list[list[dict[str, Any]]] = []
    for block in document.blocks:
        if isinstance(block, Paragraph):
            rows.append([{"tag": "text", "text": _chat_text("".join(part.text for part in block.parts))}])
        elif isinstance(block, Quote):
            rows.append([{"tag": "text", "text": _chat_text(block.heading + document.colon.rstrip())}])
            for line in clip(block.body, CHAT_QUOTE_LIMIT).split("\n"):
                rows.append([{"tag": "text", "text": "    " + _chat_text(line)}])
        elif isinstance(block, Links):
            row: list[dict[str, Any]] = []
            for index, link in enumerate(block.links):
                if index:
                    row.append({"tag": "text", "text": " · "})
                row.append({"tag": "a", "text": _chat_text(link.text), "href": link.url})
            rows.append(row)
    if document.footer:
        rows.append([{"tag": "text", "text": _chat_text(document.footer)}])
    return {feishu_language(locale): {"title": _chat_text(subject), "content": rows}}
