"""A closed month's VOC figures are kept (``sync.report.cache``): after every kind of write that reaches back into
a month, on randomized data, the figures read are those computed from the history; a write that does not reach
back leaves them kept; a write in flight while they are computed keeps them from being kept."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import delete, insert, select, update

from plugin.base import IssueState
from plugin.loading import parse_settings
from sync.bulk import BulkChange, Selection, apply_bulk
from sync.ledger.edits import change_fields
from sync.ledger.store import Need, ReportMonth, StatusChange, utcnow
from sync.loop.status import apply_issue_state, set_status_by_hand
from sync.report import cache
from sync.report.figures import month_bounds, voc_report
from sync.table.importer import import_table
from tests.table.helpers import TABLE_YAML
from tests.table.report_data import LAST, fill_needs
from tests.table.sheets import SEED_HEADERS, add_need, at, write_xlsx

CLOSED = [(month, zone) for month in ("2026-08", "2026-09", "2026-10", "2026-11", "2026-12")
          for zone in ("UTC", "Asia/Shanghai", "America/Los_Angeles")]
"""The months and zones compared, all closed at :data:`LAST`."""

STATUSES = ["new", "accepted", "scheduled", "in_progress", "done", "declined"]


def kept_months(runtime) -> set[tuple[str, str]]:
    with runtime.Session() as session:
        return {(month, zone) for month, zone in session.execute(
            select(ReportMonth.month, ReportMonth.timezone).where(ReportMonth.figures.is_not(None)))}


def keep_all(runtime) -> None:
    for month, zone in CLOSED:
        voc_report(runtime, month, timezone=zone, now=LAST)
    assert kept_months(runtime) == set(CLOSED)


def assert_as_computed(runtime, context: str) -> None:
    """Every closed month's figures, kept or not, are those computed from the history."""
    for month, zone in CLOSED:
        assert (voc_report(runtime, month, timezone=zone, now=LAST)
                == voc_report(runtime, month, timezone=zone, now=LAST, kept=False)), (context, month, zone)


def _moment(rng: random.Random, days: int = 150) -> dt.datetime:
    """A time in the ``days`` from the start of August 2026 (150: to the end of December), to the microsecond."""
    first = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    return first + dt.timedelta(microseconds=rng.randrange(int(days * 86400e6)))


def _needs(runtime) -> list[Need]:
    with runtime.Session() as session:
        return list(session.scalars(select(Need).order_by(Need.id)))


# The writes: each reaches back into past months, through the code paths that write needs and their history.


def late_webhook(runtime, rng):
    """The tracker says an issue's needs are done (or back in progress), written now."""
    key = rng.choice(["CS-1", "CS-2", "CS-3", "CS-10", "GH-7"])
    category, name = rng.choice([("done", "Done"), ("indeterminate", "In Progress"), ("new", "To Do")])
    apply_issue_state(runtime, IssueState(key=key, url=f"https://jira.example/browse/{key}", title="t",
                                          labels=frozenset(), status_name=name, status_category=category))


def status_by_hand(runtime, rng):
    need = rng.choice([need for need in _needs(runtime) if not need.issue_key])
    set_status_by_hand(runtime, need.ref, rng.choice([s for s in STATUSES if s != need.status]), "by hand", "cs1")


def bulk_edit(runtime, rng):
    refs = tuple(need.ref for need in rng.sample(_needs(runtime), 5))
    change = rng.choice([BulkChange("category", rng.choice(["billing", "reports"])),
                         BulkChange("urgency", rng.choice(["critical", "high", "medium", "low"])),
                         BulkChange("status", rng.choice(STATUSES), note="bulk")])
    apply_bulk(runtime, Selection(refs=refs), change, "cs1")


def import_old_rows(runtime, rng, tmp_path):
    """A sheet of needs raised months ago, some new and some already imported (their category changes)."""
    rows = [SEED_HEADERS["en"] + ["Customer"]]
    for number in rng.sample(range(9001, 9021), 4):
        reported = _moment(rng, days=120)  # to the end of November: before the import
        rows.append([str(number), rng.choice(["Billing", "Reports"]), f"Old need {number}", "",
                     rng.choice(["Critical", "High", "Low"]), "Li Na", f"{reported:%Y/%m/%d %H:%M}", "",
                     rng.choice(["", "Accepted", "Done"]), "", "ACME Corp"])
    now = rng.choice([None, at("12-01 00:00") + dt.timedelta(seconds=rng.randrange(5 * 86400))])
    report = import_table(runtime, write_xlsx(tmp_path / f"old-{rng.random()}.xlsx", rows), dry_run=False,
                          **({"now": now} if now else {}))
    assert not report.problems, report.problems


def backdated_entries(runtime, rng):
    """Entries written straight into the history at earlier times, as a bulk load does."""
    needs = rng.sample(_needs(runtime), 5)
    with runtime.Session.begin() as session:
        session.execute(insert(StatusChange), [
            {"need_id": need.id, "status": rng.choice(STATUSES), "previous": None, "source": "tracker",
             "actor": "load", "note": "", "at": _moment(rng)} for need in needs])


def edit_fields(runtime, rng):
    need = rng.choice(_needs(runtime))
    values = rng.choice([{"title": f"Renamed {rng.random()}"}, {"reported_at": _moment(rng)},
                         {"customer": rng.choice(["acme", "globex"])}, {"urgency": "medium"}])
    with runtime.Session.begin() as session:
        change_fields(session, session.get(Need, need.id), values, source="cs", actor="cs1")


def link_issue(runtime, rng):
    with runtime.Session.begin() as session:
        session.execute(update(Need).where(Need.id == rng.choice(_needs(runtime)).id)
                        .values(issue_key=rng.choice(["CS-1", "CS-99"]), issue_url=None))


def remove_need(runtime, rng):
    with runtime.Session.begin() as session:
        session.delete(session.get(Need, rng.choice(_needs(runtime)).id))


def move_entry(runtime, rng):
    with runtime.Session.begin() as session:
        entry = session.scalars(select(StatusChange).order_by(StatusChange.id)).all()[rng.randrange(50)]
        session.execute(update(StatusChange).where(StatusChange.id == entry.id).values(at=_moment(rng)))


def remove_entry(runtime, rng):
    with runtime.Session.begin() as session:
        entries = session.scalars(select(StatusChange.id).order_by(StatusChange.id)).all()
        session.execute(delete(StatusChange).where(StatusChange.id == rng.choice(entries)))


def status_without_history(runtime, rng):
    """A need without history counts by its status: changing it (without an entry) changes the past months."""
    with runtime.Session.begin() as session:
        bare = session.scalars(select(Need).where(~Need.history.any()).order_by(Need.id)).all()
        need = rng.choice(bare)
        need.status = rng.choice([s for s in STATUSES if s != need.status])


WRITES = [late_webhook, status_by_hand, bulk_edit, import_old_rows, backdated_entries, edit_fields, link_issue,
          remove_need, move_entry, remove_entry, status_without_history]


def test_after_every_kind_of_write_the_kept_figures_are_those_of_the_history(runtime, tmp_path):
    fill_needs(runtime)
    rng = random.Random(13)
    keep_all(runtime)
    assert_as_computed(runtime, "filled")
    for round_ in range(2):
        for write in rng.sample(WRITES, len(WRITES)):
            write(runtime, rng, tmp_path) if write is import_old_rows else write(runtime, rng)
            assert_as_computed(runtime, f"{write.__name__}, round {round_}")


def test_a_write_that_does_not_reach_back_leaves_the_months_kept(runtime):
    add_need(runtime, "N-0001", "10-20 00:00", [("new", "10-20 00:00", "cs")])
    keep_all(runtime)
    before = utcnow()
    set_status_by_hand(runtime, "N-0001", "accepted", "", "cs1")
    # The new entry is known at the end of the months closed when it was written: only those are kept.
    assert kept_months(runtime) == {(month, zone) for month, zone in CLOSED if month_bounds(month, zone)[1] < before}
    assert_as_computed(runtime, "status now")


def test_the_month_in_progress_is_never_kept(runtime):
    add_need(runtime, "N-0001", "11-02 00:00", [("new", "11-02 00:00", "cs")])
    voc_report(runtime, "2026-11", now=at("11-14 10:30"))
    assert kept_months(runtime) == set()
    voc_report(runtime, "2026-11", now=at("12-01 00:00"))
    assert kept_months(runtime) == {("2026-11", "UTC")}


def test_another_config_does_not_read_the_figures_kept_for_the_first(runtime):
    add_need(runtime, "N-0001", "11-02 00:00", [("new", "11-02 00:00", "cs")], urgency="high")
    before = voc_report(runtime, "2026-11", now=LAST)
    assert before.breach_count("high", "first_response") == 1
    runtime.settings = parse_settings(TABLE_YAML.replace("first_response: 1d, resolution: 7d", "resolution: 90d"),
                                      "table.yaml")
    after = voc_report(runtime, "2026-11", now=LAST)
    assert after.breach_count("high", "first_response") == 0
    assert after == voc_report(runtime, "2026-11", now=LAST, kept=False)


def test_figures_computed_while_a_write_deleted_their_place_are_not_kept(runtime):
    add_need(runtime, "N-0001", "11-02 00:00", [("new", "11-02 00:00", "cs")])
    start, end = month_bounds("2026-11", "UTC")
    token = cache.place(runtime, "2026-11", "UTC", end)
    with runtime.Session() as session:
        rows = session.execute(select(Need.id)).all()
    add_need(runtime, "N-0002", "11-03 00:00", [("new", "11-03 00:00", "cs")])
    assert not cache.keep(runtime, token, "2026-11", "UTC", rows, [])
    assert kept_months(runtime) == set()


def test_a_write_in_flight_keeps_the_figures_computed_meanwhile_from_being_kept(runtime):
    add_need(runtime, "N-0001", "11-02 00:00", [("new", "11-02 00:00", "cs")])
    with runtime.Session.begin() as writing:
        writing.execute(update(Need).where(Need.ref == "N-0001").values(category="reports"))
        assert cache.place(runtime, "2026-11", "UTC", month_bounds("2026-11", "UTC")[1]) is None
        report = voc_report(runtime, "2026-11", now=LAST)
        assert dict(report.by_category)["billing"] == 1  # the write is not committed yet
    assert kept_months(runtime) == set()
    assert dict(voc_report(runtime, "2026-11", now=LAST).by_category)["reports"] == 1
    assert kept_months(runtime) == {("2026-11", "UTC")}


@pytest.mark.parametrize("write", [lambda session, need: session.execute(
    insert(StatusChange).values(need_id=need.id, status="done", source="import", at=at("10-15 00:00"))),
    lambda session, need: session.execute(
        insert(StatusChange).values(need_id=need.id, status="done", source="import", at=at("11-15 00:00")))],
    ids=["an entry known at the month's end", "a first entry after it"])
def test_history_reaching_back_is_seen(runtime, write):
    add_need(runtime, "N-0001", "10-02 00:00", [("new", "12-01 00:00", "import")])
    assert dict(voc_report(runtime, "2026-10", now=LAST).by_status)["new"] == 1
    with runtime.Session.begin() as session:
        write(session, session.scalars(select(Need)).one())
    assert dict(voc_report(runtime, "2026-10", now=LAST).by_status)["done"] == 1


def _bare_need(session, ref: str, reported: str) -> Need:
    need = Need(ref=ref, category="billing", title=ref, description="", urgency="high", reporter_name="Li Na",
                reported_at=at(reported), status="done", customer="acme")
    session.add(need)
    return need


def test_a_need_without_history_added_or_removed_is_seen(runtime):
    add_need(runtime, "N-0001", "10-02 00:00", [("new", "10-02 00:00", "cs")])
    assert voc_report(runtime, "2026-10", now=LAST).total == 1
    with runtime.Session.begin() as session:
        _bare_need(session, "N-0002", "10-03 00:00")
    assert voc_report(runtime, "2026-10", now=LAST).total == 2
    with runtime.Session.begin() as session:
        session.execute(delete(Need).where(Need.ref == "N-0002"))
    assert voc_report(runtime, "2026-10", now=LAST).total == 1


def test_an_entry_moved_into_or_out_of_a_month_is_seen(runtime):
    add_need(runtime, "N-0001", "10-02 00:00", [("new", "10-02 00:00", "cs"), ("done", "11-20 00:00", "tracker")])
    assert dict(voc_report(runtime, "2026-10", now=LAST).by_status)["done"] == 0
    with runtime.Session.begin() as session:
        session.execute(update(StatusChange).where(StatusChange.status == "done").values(at=at("10-20 00:00")))
    assert dict(voc_report(runtime, "2026-10", now=LAST).by_status)["done"] == 1
    with runtime.Session.begin() as session:
        session.execute(update(StatusChange).where(StatusChange.status == "done").values(at=at("11-20 00:00")))
    assert dict(voc_report(runtime, "2026-10", now=LAST).by_status)["done"] == 0


def test_a_release_recorded_or_a_revenue_changed_forgets_the_kept_figures(runtime):
    """The delivered figures are kept with the month's rows; the writes they read that no trigger watches (a
    release recorded on needs, a customer's annual revenue) forget every kept month."""
    from plugin.base import Release
    from sync.ledger.customers import edit_customer
    from sync.loop.releases import _record

    add_need(runtime, "N-0001", "10-02 00:00", [("new", "10-02 00:00", "cs"), ("done", "10-20 00:00", "tracker")],
             issue_key="CS-1")
    keep_all(runtime)
    assert_as_computed(runtime, "kept with the delivered figures")
    release = Release(ref="10001", project="10000", name="v5.2", released=True, released_on=dt.date(2026, 10, 25))
    assert _record(runtime, release, {"cs-1"}, runtime.customers())[0] == ["N-0001"]
    assert kept_months(runtime) == set()
    assert voc_report(runtime, "2026-10", now=LAST).delivered_figures.shipped == 1

    keep_all(runtime)
    edit_customer(runtime, "acme", {"tier": "gold"})
    assert kept_months(runtime) == set(CLOSED)  # the tier weighs nothing in the report
    edit_customer(runtime, "acme", {"annual_revenue": 500000})
    assert kept_months(runtime) == set()
    assert voc_report(runtime, "2026-10", now=LAST).delivered_figures.revenue == 500000
