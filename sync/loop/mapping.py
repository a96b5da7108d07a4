"""From a need and the config to the issue it should have: pure functions, no I/O.

Text from CS and customers is escaped for its destination here: Jira Cloud gets an ADF document built
only from text nodes, Jira Data Center wiki markup with every markup character escaped, GitHub
Markdown with markup escaped; mentions (``@all``, ``@team``, ``[~accountid:...]``) are neutralised by the
issue-body rule of ``plugin.text`` so an issue never pings people because of what a customer wrote.

The issue body has a document model of its own (:class:`Block`: headings, paragraphs, field tables, bullet
lists), apart from the notices' in ``sync.notify.formats``: a body is a table of fields rendered as ADF, wiki
markup or Markdown, a notice a titled message rendered as e-mail and chat markup. Both use ``plugin.text.Link``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from plugin.base import IssueSpec
from plugin.catalogs import catalog
from plugin.customer import CustomerBook
from plugin.need import N_, STAGE_NAMES, stage_name
from plugin.people import PeopleBook
from plugin.settings import Settings
from plugin.text import Link, neutralise_mentions, wiki_escape
from plugin.demand import Demand, format_score

_WORD_JOINER = "\u2060"

GITHUB_SECTION_START = "<!-- cocreate:start (edited by Cocreate; write above or below) -->"
GITHUB_SECTION_END = "<!-- cocreate:end -->"
_SECTION = re.compile(re.escape("<!-- cocreate:start") + r".*?" + re.escape(GITHUB_SECTION_END), re.S)

LABELS = {
    "need": N_("Customer need"),
    "customer": N_("Customer"),
    "reporter": N_("Reported by"),
    "reported_at": N_("Reported at"),
    "urgency": N_("Urgency"),
    "category": N_("Category"),
    "owner": N_("Follow-up"),
    "stage": N_("Stage"),
    "remarks": N_("Remarks"),
    "screenshots": N_("Screenshots"),
    "asking": N_("Customers asking"),
    "minutes": N_("Meeting minutes"),
    "demand": N_("Customer demand"),
    "unassigned": N_("not in the people directory, left unassigned"),
    "shortened": N_("(shortened here: the whole text is on the need page)"),
    "more_screenshots": N_("more on the need page"),
}

BODY_LIMITS = {"markdown": 65_536, "wiki": 32_767, "adf": 32_767}
"""The longest issue body each tracker takes, in characters: GitHub refuses a longer ``body`` (422), Jira a longer
``description`` (Cloud counts the ADF document's text as stored). A need whose body would be longer is shortened
(:func:`fit_need`) rather than failing to sync for good."""
BODY_MARGIN = 1_024
"""Room left under the limit for the section markers and what a splice adds."""
SCREENSHOTS_IN_BODY = 50
"""Screenshots listed in a shortened body; the rest are on the need page."""


def need_url(settings: Settings, ref: str) -> str:
    """The address of a need's page in Cocreate (issue bodies, notices, the JSON API)."""
    return f"{settings.base_url.rstrip('/')}/needs/{ref}"


def label(key: str, locale: str) -> str:
    return catalog(locale).gettext(LABELS[key])


# The neutral document ---------------------------------------------------------------------------

Inline = str | Link


@dataclass(frozen=True)
class Block:
    """``heading`` (text), ``paragraph`` (inlines), ``fields`` (label, inlines) rows, ``bullets`` (inlines)."""

    kind: str
    text: str = ""
    inlines: tuple[Inline, ...] = ()
    rows: tuple[tuple[str, tuple[Inline, ...]], ...] = ()
    items: tuple[tuple[Inline, ...], ...] = ()


# Escaping ---------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=])")
# GitHub links "#12", "org/repo#12" and "GH-12" to issues in any text node, escaped or not: a word joiner after
# "#" (or "GH-") keeps what the customer wrote and links nothing.
_MD_REFERENCE = re.compile(r"(#|\bGH\\-)(?=\d)", re.IGNORECASE)
# Jira wiki markup starts a heading or a quote with "h1." ... "h6." or "bq." at the start of a line.
_WIKI_LINE_MACRO = re.compile(r"^(\s*)(h[1-6]|bq)\.", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """Plain text as GitHub Markdown shown as written: markup escaped (a line of "===" or "---" under text makes
    no heading), no mention pings, no issue reference links."""
    text = neutralise_mentions(text, "issue_body")
    escaped = _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")
    return _MD_REFERENCE.sub(lambda match: match[1] + _WORD_JOINER, escaped)


def escape_wiki(text: str) -> str:
    """Plain text as Jira wiki markup shown as written. A backslash is written as the entity "&#92;": escaped as
    "\\\\" it would be Jira's line break."""
    text = _WIKI_LINE_MACRO.sub(lambda match: f"{match[1]}{match[2]}{_WORD_JOINER}.", text)
    return "&#92;".join(wiki_escape(neutralise_mentions(part, "issue_body")) for part in text.split("\\"))


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# Renderers --------------------------------------------------------------------------------------


def _md_inline(inline: Inline, newline: str = "  \n") -> str:
    if isinstance(inline, Link):
        return f"[{escape_markdown(inline.text)}](<{inline.url.replace('>', '%3E')}>)"
    return newline.join(escape_markdown(line) for line in _lines(inline))


def render_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            out.append(f"### {escape_markdown(block.text)}")
        elif block.kind == "paragraph":
            out.append("".join(_md_inline(inline) for inline in block.inlines))
        elif block.kind == "fields":
            # Inside a table a newline would end the row: use <br> there.
            out.append("| | |\n|---|---|\n" + "\n".join(
                f"| **{escape_markdown(name)}** | {''.join(_md_inline(i, '<br>') for i in value)} |"
                for name, value in block.rows))
        elif block.kind == "bullets":
            out.append("\n".join("- " + "".join(_md_inline(i, " ") for i in item) for item in block.items))
    return "\n\n".join(out)


def _wiki_inline(inline: Inline) -> str:
    if isinstance(inline, Link):
        return f"[{escape_wiki(inline.text)}|{inline.url.replace('|', '%7C').replace(']', '%5D')}]"
    return "\\\\ ".join(escape_wiki(line) for line in _lines(inline))


def render_wiki(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            out.append(f"h3. {escape_wiki(block.text)}")
        elif block.kind == "paragraph":
            out.append("".join(_wiki_inline(inline) for inline in block.inlines))
        elif block.kind == "fields":
            out.append("\n".join(
                f"||{escape_wiki(name)}|{''.join(_wiki_inline(i) for i in value) or ' '}|" for name, value in block.rows))
        elif block.kind == "bullets":
            out.append("\n".join("* " + "".join(_wiki_inline(i) for i in item) for item in block.items))
    return "\n\n".join(out)


def _adf_text(inline: Inline) -> list[dict]:
    if isinstance(inline, Link):
        return [{"type": "text", "text": inline.text or inline.url,
                 "marks": [{"type": "link", "attrs": {"href": inline.url}}]}]
    nodes: list[dict] = []
    for index, line in enumerate(_lines(inline)):
        if index:
            nodes.append({"type": "hardBreak"})
        if line:
            nodes.append({"type": "text", "text": neutralise_mentions(line, "issue_body")})
    return nodes


def _adf_paragraph(inlines) -> dict:
    content = [node for inline in inlines for node in _adf_text(inline)]
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}


def render_adf(blocks: list[Block]) -> dict:
    content: list[dict] = []
    for block in blocks:
        if block.kind == "heading":
            content.append({"type": "heading", "attrs": {"level": 3}, "content": _adf_text(block.text)})
        elif block.kind == "paragraph":
            content.append(_adf_paragraph(block.inlines))
        elif block.kind == "fields":
            content.append({"type": "table", "content": [
                {"type": "tableRow", "content": [
                    {"type": "tableHeader", "content": [_adf_paragraph((name,))]},
                    {"type": "tableCell", "content": [_adf_paragraph(value)]},
                ]} for name, value in block.rows
            ]})
        elif block.kind == "bullets":
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [_adf_paragraph(item)]} for item in block.items
            ]})
    return {"type": "doc", "version": 1, "content": content}


def render(blocks: list[Block], destination: str) -> Any:
    """``destination``: ``adf`` (Jira Cloud), ``wiki`` (Jira Data Center) or ``markdown`` (GitHub)."""
    return {"adf": render_adf, "wiki": render_wiki, "markdown": render_markdown}[destination](blocks)


# The need -> issue mapping ----------------------------------------------------------------------


@dataclass(frozen=True)
class NeedView:
    """What the mapping reads of a need (decoupled from the ORM, so tests build it directly)."""

    ref: str
    category: str
    title: str
    description: str
    urgency: str
    reporter_name: str
    reported_at: dt.datetime
    customer: str
    owner: str | None = None
    remarks: str = ""
    stage: str | None = None
    url: str = ""
    screenshots: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Asking:
    """One customer asking for the same issue (a need linked to it)."""

    ref: str
    customer: str
    urgency: str


@dataclass(frozen=True)
class Assignment:
    """Who the issue goes to: a tracker identity, or None with the reason shown to CS."""

    assignee: str | None
    note: str | None = None


@dataclass(frozen=True)
class MappedIssue:
    """What mapping a need or an action item gives: the issue it should have, who it is assigned to (or why
    nobody), and the labels Cocreate manages on it."""

    spec: IssueSpec
    assignment: Assignment
    managed_labels: frozenset[str] = field(default_factory=frozenset)
    demand: Demand | None = None
    demand_label: str | None = None


def marker_label(ref: str) -> str:
    return f"cocreate-{ref}"


def issue_body(settings: Settings, blocks: list[Block]) -> Any:
    """``blocks`` rendered as the configured tracker's issue body; between the section markers where Cocreate
    writes only its own section of the body (``body_section``)."""
    if settings.tracker is None:
        raise ValueError("no tracker configured")
    tracker = settings.tracker.section
    body = render(blocks, tracker.body_format)
    return f"{GITHUB_SECTION_START}\n{body}\n{GITHUB_SECTION_END}" if tracker.body_section else body


def project_for(settings: Settings, category_key: str) -> str:
    category = settings.category(category_key)
    if category is None:
        raise ValueError(f"unknown category {category_key}")
    return settings.tracker.section.project_for(category)


def assignee_for(settings: Settings, people: PeopleBook, owner: str | None) -> Assignment:
    """Owner -> assignee through the people directory (by name, then by e-mail); never guessed."""
    if not owner:
        return Assignment(None)
    person = people.person(owner)
    identity = settings.tracker.section.user_id(person) if person else None
    if identity:
        return Assignment(identity)
    return Assignment(None, f"{owner}: {label('unassigned', settings.locale)}")


def _localized_urgency(settings: Settings, key: str) -> str:
    urgency = settings.urgency(key)
    return urgency.name.get(settings.locale) if urgency else key


def _asking_line(settings: Settings, asking: Asking, customers: CustomerBook) -> str:
    record = customers.current(asking.customer)
    line = f"{customers.name(asking.customer)} · {_localized_urgency(settings, asking.urgency)} · {asking.ref}"
    return f"{line} · {record.tier}" if record and record.tier else line


def need_blocks(settings: Settings, need: NeedView, asking: list[Asking], minutes: list[Link],
                assignment: Assignment, customers: CustomerBook, demand: Demand | None = None) -> list[Block]:
    """The Cocreate part of the issue body, in the configured language; with the issue's demand score when
    ``demand`` is given."""
    locale = settings.locale
    category = settings.category(need.category)
    rows: list[tuple[str, tuple[Inline, ...]]] = [
        (label("need", locale), (Link(need.ref, need.url),) if need.url else (need.ref,)),
        (label("customer", locale), (customers.name(need.customer),)),
        (label("reporter", locale), (need.reporter_name,)),
        (label("reported_at", locale), (need.reported_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),)),
        (label("urgency", locale), (_localized_urgency(settings, need.urgency),)),
        (label("category", locale), (category.name.get(locale) if category else need.category,)),
    ]
    if need.owner:
        rows.append((label("owner", locale), (need.owner + (f" ({assignment.note.split(': ', 1)[1]})"
                                                             if assignment.note else ""),)))
    if need.stage:
        rows.append((label("stage", locale), (stage_name(need.stage, locale),)))
    if need.remarks:
        rows.append((label("remarks", locale), (need.remarks,)))
    if demand is not None:
        rows.append((label("demand", locale), (format_score(demand.score),)))
    blocks = [Block("paragraph", inlines=(need.description,))] if need.description else []
    blocks.append(Block("heading", text=label("need", locale) + " · Cocreate"))
    blocks.append(Block("fields", rows=tuple(rows)))
    if need.screenshots:
        blocks.append(Block("heading", text=label("screenshots", locale)))
        blocks.append(Block("bullets", items=tuple((link,) for link in need.screenshots)))
    if len(asking) > 1:
        blocks.append(Block("heading", text=f"{label('asking', locale)} ({len({a.customer for a in asking})})"))
        blocks.append(Block("bullets", items=tuple((_asking_line(settings, a, customers),) for a in asking)))
    if minutes:
        blocks.append(Block("heading", text=label("minutes", locale)))
        blocks.append(Block("bullets", items=tuple((link,) for link in minutes)))
    return blocks


def body_size(body: Any) -> int:
    """What a tracker counts of ``body``: its characters, or an ADF document's as JSON (an upper bound)."""
    return len(body) if isinstance(body, str) else len(json.dumps(body, ensure_ascii=False))


def _shortened(text: str, keep: int, note: str) -> str:
    return text if len(text) <= keep else text[:keep].rstrip() + " … " + note


def fit_need(settings: Settings, need: NeedView, asking: list[Asking], minutes: list[Link],
             assignment: Assignment, customers: CustomerBook, demand: Demand | None = None) -> Any:
    """The issue body of ``need``, shortened to fit the tracker: the description and remarks are cut (with a note
    that the whole text is on the need page, which the body links) and the screenshot list is capped, halving
    what is kept until the body fits. The fields, the customers asking and the minutes are always kept."""
    body = issue_body(settings, need_blocks(settings, need, asking, minutes, assignment, customers, demand))
    limit = BODY_LIMITS[settings.tracker.section.body_format] - BODY_MARGIN
    if body_size(body) <= limit:
        return body
    note, more = label("shortened", settings.locale), label("more_screenshots", settings.locale)
    keep = limit // 2
    while True:
        screenshots = need.screenshots
        if len(screenshots) > SCREENSHOTS_IN_BODY:
            screenshots = screenshots[:SCREENSHOTS_IN_BODY] + (f"… {len(need.screenshots) - SCREENSHOTS_IN_BODY} "
                                                               f"{more}",)
        short = replace(need, description=_shortened(need.description, keep * 2 // 3, note),
                        remarks=_shortened(need.remarks, keep // 3, note), screenshots=screenshots)
        body = issue_body(settings, need_blocks(settings, short, asking, minutes, assignment, customers, demand))
        if body_size(body) <= limit or keep < 64:
            return body
        keep //= 2


def map_need(settings: Settings, need: NeedView, asking: list[Asking] = (), minutes: list[Link] = (),
             customers: CustomerBook = CustomerBook(), people: PeopleBook = PeopleBook(),
             demand: Demand | None = None) -> MappedIssue:
    """The issue ``need`` should have in the configured tracker; ``customers`` names the customers, ``people``
    gives the assignee; ``demand``, the issue's demand, goes into the body, the band label (GitHub) and the demand
    field (Jira)."""
    tracker = settings.tracker.section
    assignment = assignee_for(settings, people, need.owner)
    asking = list(asking) or [Asking(need.ref, need.customer, need.urgency)]
    # The most urgent of all customers asking decides the issue's urgency.
    order = [urgency.key for urgency in settings.urgencies]
    top = min((a.urgency for a in asking if a.urgency in order), key=order.index, default=need.urgency)
    urgency = settings.urgency(top)
    labels = {marker_label(need.ref), "cocreate", f"category-{need.category}"}
    if need.stage:
        labels.add(f"stage-{need.stage.replace('_', '-')}")
    managed = {f"category-{c.key}" for c in settings.categories} | {
        f"stage-{stage.replace('_', '-')}" for stage in STAGE_NAMES} | {"cocreate"}
    managed |= {name for name in map(tracker.urgency_label, settings.urgencies) if name}
    if urgency and tracker.urgency_label(urgency):
        labels.add(tracker.urgency_label(urgency))
    band = None
    if demand is not None and tracker.demand_labels:
        managed |= settings.demand.band_labels
        band = settings.demand.band(demand.score)
        if band:
            labels.add(band)
    spec = IssueSpec(
        project=project_for(settings, need.category),
        title=f"[{customers.name(need.customer)}] {need.title}"[:250],
        body=fit_need(settings, need, asking, list(minutes), assignment, customers, demand),
        marker=marker_label(need.ref),
        labels=frozenset(labels),
        priority=tracker.urgency_priority(urgency) if urgency else None,
        assignee=assignment.assignee,
        issue_type=tracker.issue_type,
        custom_fields=tracker.demand_fields(demand.score) if demand is not None else {},
    )
    return MappedIssue(spec=spec, assignment=assignment, managed_labels=frozenset(managed), demand=demand,
                       demand_label=band)


def splice_github_section(current_body: str | None, section: str) -> str:
    """Put Cocreate's section into a GitHub body, replacing the old one in place and keeping R&D's text."""
    current_body = current_body or ""
    if _SECTION.search(current_body):
        return _SECTION.sub(lambda _match: section, current_body, count=1)
    return f"{current_body.rstrip()}\n\n{section}" if current_body.strip() else section


def same_labels(first, second) -> bool:
    """Label sets compared as the trackers do (GitHub ignores case)."""
    return {label.casefold() for label in first} == {label.casefold() for label in second}


def merge_labels(current: frozenset[str], desired: frozenset[str], managed: frozenset[str]) -> frozenset[str]:
    """R&D's own labels stay; labels Cocreate manages are set to what the need says."""
    managed_folded = {label.casefold() for label in managed}
    kept = {label for label in current if label.casefold() not in managed_folded}
    desired_folded = {label.casefold() for label in desired}
    return frozenset({label for label in kept if label.casefold() not in desired_folded} | desired)


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
