"""The /needs table's query at 100,000 needs: what each column sorts by, and one page of ids with the count.

Only ids are sorted and skipped, so a deep page never sorts whole needs; the page's needs are then read by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import selectinload

from plugin.settings import Settings
from sync.ledger.store import Attachment, Need, remarks_sort_key

PAGE_SIZE = 50

SCREENSHOTS = (select(Attachment.need_id, func.count(Attachment.id).label("count"))
               .group_by(Attachment.need_id).subquery("screenshots"))
"""Screenshots per need, joined only when the table sorts by them: one grouped pass over the attachments,
where a count per need would look them up 100,000 times (twice as slow on PostgreSQL)."""


@dataclass(frozen=True)
class Sort:
    """What a column sorts by: ``order``, an expression; for a column sorted in the order the config lists
    its keys (紧急 before 高, unknown keys last), also the stored ``column`` and those ``keys``."""

    order: ColumnElement
    column: ColumnElement | None = None
    keys: tuple[str, ...] = ()


def _in_config_order(column, keys: list[str]) -> Sort:
    if not keys:
        return Sort(column)
    return Sort(case({key: index for index, key in enumerate(keys)}, value=column, else_=len(keys)), column,
                tuple(keys))


def sort_columns(settings: Settings) -> dict[str, Sort]:
    return {
        "ref": Sort(Need.ref_sort),
        "category": _in_config_order(Need.category, [item.key for item in settings.categories]),
        "title": Sort(Need.title),
        "screenshots": Sort(func.coalesce(SCREENSHOTS.c.count, 0)),
        "urgency": _in_config_order(Need.urgency, [item.key for item in settings.urgencies]),
        "reporter": Sort(Need.reporter_name),
        "reported_at": Sort(Need.reported_at),
        "owner": Sort(Need.owner),
        "status": _in_config_order(Need.status, [item.key for item in settings.statuses]),
        "remarks": Sort(remarks_sort_key()),
        "customer": Sort(Need.customer),
        "issue": Sort(Need.issue_key),
    }


def sorted_ids(where: list, name: str, sort: Sort, direction: str) -> Select:
    """The matching needs' ids in the table's order, ``id`` breaking ties in the same direction."""
    order = sort.order.asc() if direction == "asc" else sort.order.desc()
    ids = select(Need.id).where(*where).order_by(order, _tie(direction))
    if name == "screenshots":
        ids = ids.outerjoin(SCREENSHOTS, SCREENSHOTS.c.need_id == Need.id)
    return ids


def _tie(direction: str):
    return Need.id.asc() if direction == "asc" else Need.id.desc()


def page_of_ids(session, ids: Select, where: list, page: int, searched: bool, sort: Sort | None = None,
                direction: str = "desc") -> tuple[list[int], int, int]:
    """The ids on ``page`` of the sorted ``ids`` (the last page when it is past the end), how many needs match
    ``where``, and the page shown.

    When ``searched``, the count rides on the page's rows as a window, so the search runs once rather than once
    for the count and again for the page; without a search the count is its own query, which an index answers
    at once, while a window would pass over every need. A sort in config order without a search goes by
    :func:`_grouped_page`.
    """
    if searched:
        rows = session.execute(ids.add_columns(func.count().over()).limit(PAGE_SIZE)
                               .offset((page - 1) * PAGE_SIZE)).all()
        if rows or page == 1:
            return [row[0] for row in rows], rows[0][1] if rows else 0, page
    elif sort is not None and sort.keys:
        return _grouped_page(session, sort, where, page, direction)
    total = session.scalar(select(func.count(Need.id)).where(*where))
    page = _last_page(page, total)
    return list(session.scalars(ids.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))), total, page


def _last_page(page: int, total: int) -> int:
    return min(page, max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


def _grouped_page(session, sort: Sort, where: list, page: int, direction: str) -> tuple[list[int], int, int]:
    """A page in config order read a key at a time: the needs of each key counted (one pass over the column's
    index, which is also the total), then only the keys the page falls in asked for their needs in id order,
    each through the (column, id) index. Ordering by the CASE instead sorted every matching need for each page:
    on PostgreSQL at 100,000 needs, most of the page's time."""
    column = sort.column
    counts = dict(session.execute(select(column, func.count()).where(*where).group_by(column)).all())
    total = sum(counts.values())
    page = _last_page(page, total)
    groups = [(column == key, counts[key]) for key in sort.keys if counts.get(key)]
    unknown = total - sum(count for _condition, count in groups)
    if unknown:  # keys the config no longer lists sort last, among themselves by id, as the CASE sorts them
        groups.append((column.not_in(sort.keys), unknown))
    if direction == "desc":
        groups.reverse()
    skip, ids = (page - 1) * PAGE_SIZE, []
    for condition, count in groups:
        if skip >= count:
            skip -= count
            continue
        ids += session.scalars(select(Need.id).where(*where, condition).order_by(_tie(direction))
                               .offset(skip).limit(PAGE_SIZE - len(ids)))
        skip = 0
        if len(ids) >= PAGE_SIZE:
            break
    return ids, total, page


def needs_in_order(session, ids: list[int]) -> list[Need]:
    """The needs of ``ids`` with their screenshots, in the order of ``ids``."""
    found = {need.id: need for need in session.scalars(
        select(Need).where(Need.id.in_(ids)).options(selectinload(Need.attachments)))}
    return [found[need_id] for need_id in ids if need_id in found]
