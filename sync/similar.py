"""Open needs like the one being typed: candidates from the search index (``sync.ledger.search``), re-scored by
``sync.duplicates``, grouped by tracker issue so that an issue several customers asked for appears once.

SQLite asks its FTS5 trigram table for any of the typed text's pieces, best BM25 rank first; PostgreSQL asks
the ``pg_trgm`` GIN index with one ``LIKE`` per piece. Either way at most ``CANDIDATES`` needs are scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
)

from plugin.settings import Settings
from sync.duplicates import THRESHOLD, profile, score, search_terms
from sync.ledger.search import SEARCH_LOWER, TRIGRAM
from sync.ledger.store import Need, NeedMerge
from sync.sla import closed_statuses

CANDIDATES = 200
"""Needs the index hands over for scoring; the best-ranked of those it finds."""
SUGGESTED = 5
"""Issues (or needs without an issue) suggested at most."""

_FTS = table("needs_search", column("rowid"), column("rank"))


@dataclass
class Suggestion:
    """One issue (or one need without an issue yet) like the typed need: the need that scored best, to attach
    to, and every open need of that issue with its customer."""

    ref: str
    title: str
    status: str
    score: float
    issue_key: str | None
    issue_url: str | None
    category: str
    needs: list[Need] = field(default_factory=list)

    @property
    def customers(self) -> list[str]:
        return list(dict.fromkeys(need.customer for need in self.needs))

    @property
    def refs(self) -> list[str]:
        return [need.ref for need in self.needs]


def merged() -> ColumnElement[bool]:
    """Needs merged into another (an open merge): they are no longer suggested or merged into."""
    return exists().where(NeedMerge.from_need_id == Need.id, NeedMerge.undone_at.is_(None))


def open_needs(settings: Settings) -> list[ColumnElement[bool]]:
    """Needs that can still take customers: not closed (done, declined) and not merged into another."""
    return [Need.status.not_in(closed_statuses(settings)), ~merged()]


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def candidate_query(dialect: str, title: str, description: str, where: list) -> Select | None:
    """The ids of at most ``CANDIDATES`` needs matching ``where`` that share a piece of text with the typed
    need, as the index finds them; None when the typed text has nothing to look for."""
    asked = [term for term in search_terms(title, description) if len(term) >= TRIGRAM]
    if not asked:
        # A title of two-character words (報表 匯出): the index cannot help, a substring test on titles can.
        short = search_terms(title, piece=2, limit=12)
        if not short:
            return None
        found = or_(*(Need.title.contains(term, autoescape=True) for term in short))
        return select(Need.id).where(found, *where).order_by(Need.id.desc()).limit(CANDIDATES)
    if dialect == "sqlite":
        ranked = (select(_FTS.c.rowid).where(literal_column("needs_search").match(" OR ".join(map(_phrase, asked))))
                  .order_by(_FTS.c.rank).limit(CANDIDATES * 2).subquery())
        return select(Need.id).join(ranked, ranked.c.rowid == Need.id).where(*where).limit(CANDIDATES)
    # The stored lower-cased search text and LIKE, through its trigram index, as search does.
    found = or_(*(SEARCH_LOWER.like(func.lower(_pattern(term)), escape="\\") for term in asked))
    # As in search: a materialized CTE makes PostgreSQL ask the index first rather than walk the primary key.
    hits = select(Need.id).where(found).cte("similar_found").prefix_with("MATERIALIZED")
    return (select(Need.id).where(Need.id.in_(select(hits.c.id)), *where)
            .order_by(Need.id.desc()).limit(CANDIDATES))


def similar_needs(session, settings: Settings, dialect: str, title: str, description: str = "", *,
                  category: str | None = None, threshold: float = THRESHOLD, exclude: str | None = None,
                  limit: int = SUGGESTED) -> list[Suggestion]:
    """The open needs most like ``title`` and ``description`` scoring ``threshold`` or more, best first, one
    :class:`Suggestion` per tracker issue (a need attached to another, with no issue yet, counts as that one's);
    on a tie, a need of ``category`` first. ``exclude``: a need's own ref, and the needs attached to it."""
    typed = profile(title, description)
    if typed.empty:
        return []
    where = open_needs(settings)
    if exclude:
        where += [Need.ref != exclude, or_(Need.linked_to.is_(None), Need.linked_to != exclude)]
    query = candidate_query(dialect, title, description, where)
    ids = list(session.scalars(query)) if query is not None else []
    scored = []
    for need in session.scalars(select(Need).where(Need.id.in_(ids))):
        value = score(typed, profile(need.title, need.description))
        if value >= threshold:
            scored.append((value, need.category == category, need.id, need))
    scored.sort(key=lambda item: (-item[0], not item[1], -item[2]))
    groups: dict[str, Suggestion] = {}
    for value, _same, _id, need in scored:
        key = need.issue_key or need.linked_to or need.ref
        if key not in groups and len(groups) < limit:
            groups[key] = Suggestion(need.ref, need.title, need.status, value, need.issue_key, need.issue_url,
                                     need.category)
    issues = [item.issue_key for item in groups.values() if item.issue_key]
    siblings = session.scalars(select(Need).where(Need.issue_key.in_(issues), *open_needs(settings))
                               .order_by(Need.id)) if issues else []
    for need in siblings:
        groups[need.issue_key].needs.append(need)
    for item in groups.values():
        if not item.needs:
            item.needs = [need for _v, _s, _i, need in scored if need.ref == item.ref]
    return list(groups.values())
