"""Rows written with PostgreSQL's COPY: the import's bulk path, where an INSERT per batch costs more in
composing the statement and in running it than the rows cost to store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, TypeDecorator

from sync.ledger.store import Need, StatusChange


def copy_objects(db: Session, model: type, objects: Sequence[object], skip: Iterable[str] = ()) -> None:
    """Write ``objects`` (new instances of ``model``, never added to the session) to its table with COPY.

    A column whose attribute is None gets the column's Python default, as a flush would give it (a column
    left out of ``skip`` and without a default is written as NULL); a column named in ``skip`` is left to the
    server (a serial id). Values go through the column type's own bind processing, so what COPY writes is what
    an INSERT of the same objects would have written.
    """
    dialect = db.bind.dialect
    skipped = set(skip)
    columns = [(attribute.key, attribute.columns[0]) for attribute in sa_inspect(model).column_attrs
               if attribute.key not in skipped]
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for _key, column in columns)
    table = dialect.identifier_preparer.format_table(model.__table__)
    cursor = db.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for instance in objects:
            copy.write_row([_value(getattr(instance, key), column, dialect) for key, column in columns])


def _value(value, column, dialect):
    if value is None and column.default is not None:
        default = column.default
        value = default.arg(None) if default.is_callable else default.arg
    if value is None:
        return None
    if isinstance(column.type, TypeDecorator):
        value = column.type.process_bind_param(value, dialect)
    if isinstance(column.type, JSON):
        return json.dumps(value)
    return value


def copy_needs(db: Session, explicit: list[Need], numbered: list[Need], ref_for: Callable[[int], str]) -> None:
    """New needs and their history written with COPY (the import on PostgreSQL): ``explicit`` ones carry the id
    their ``N-`` number chose, ``numbered`` ones draw theirs from the sequence first, as a flush would, after the
    sequence is moved past the chosen ones; one still named ``tmp-...`` is then named ``ref_for(id)``."""
    if explicit:
        # An explicit id does not move PostgreSQL's sequence; move it, or the next form intake collides.
        db.execute(text("SELECT setval(pg_get_serial_sequence('needs', 'id'), "
                        "GREATEST((SELECT MAX(id) FROM needs), :highest))"), {"highest": max(n.id for n in explicit)})
    if numbered:
        ids = sorted(db.scalars(text("SELECT nextval(pg_get_serial_sequence('needs', 'id')) "
                                     "FROM generate_series(1, :count)"), {"count": len(numbered)}))
        for need, need_id in zip(numbered, ids, strict=True):
            need.id = need_id
            if need.ref.startswith("tmp-"):  # no sequence number in the sheet: numbered as intake does
                need.ref = ref_for(need_id)
    needs = explicit + numbered
    copy_objects(db, Need, needs)
    for need in needs:
        for change in need.history:
            change.need_id = need.id
    copy_objects(db, StatusChange, [change for need in needs for change in need.history], skip=("id",))
