"""Merging needs against a fake GitHub driven through the real PyGithub client: the merged need's issue gets a
comment and its needs move to the surviving issue, which then lists every customer; each customer is told
exactly once, also across an undo and a second merge; the undo puts every link and status back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.ledger.store import NeedEdit, NeedMerge, OutboxMessage, StatusChange
from sync.loop.status import apply_issue_state
from sync.merges import MergeRefused, merge_needs, merges_of, open_merge, undo_merge
from tests.factories import file_need
from tests.github.fake_github import checked_site
from tests.sync.trackers import stored, tracker_runtime

GLOBEX = "  - {key: globex, name: Globex, locale: zh-Hant}"
GLOBEX_TOLD = "  - {key: globex, name: Globex, locale: zh-Hant, channels: [{kind: email, to: [wu@globex.example]}]}"

STATUSES = """statuses:
  - {key: new, name: Received}
  - {key: in_progress, name: In progress, github_label: "status: in progress"}
  - {key: done, name: Done}
  - {key: declined, name: Declined}
"""


@pytest.fixture
def site():
    with checked_site() as fake:
        yield fake


@pytest.fixture
def rt(tmp_path):
    runtime = tracker_runtime("github", tmp_path, replace={GLOBEX: GLOBEX_TOLD}, extra_yaml=STATUSES)
    yield runtime
    runtime.engine.dispose()


def notices(rt) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every customer notice in the outbox: customer, status told, needs named."""
    with rt.Session() as session:
        return [(row.customer, row.payload["new"], tuple(row.payload["refs"])) for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "customer").order_by(OutboxMessage.id))]


def to_in_progress(site, rt, key):
    site.edit(key, labels=[*(label["name"] for label in site.issue(key)["labels"]), "status: in progress"])
    assert apply_issue_state(rt, rt.adapter().get_issue(key), actor="R&D")


@pytest.fixture
def three(site, rt):
    """N-0001 (ACME) on issue #1, in progress; N-0002 (Globex) on issue #2 and N-0003 (ACME) linked to it."""
    file_need(rt, title="Invoices should show the tax number")
    file_need(rt, title="Tax number missing on PDF invoices", customer="globex")
    file_need(rt, title="PDF invoices lack the tax number", linked_to="acme/billing#2")
    to_in_progress(site, rt, "acme/billing#1")
    assert notices(rt) == [("acme", "in_progress", ("N-0001",))]
    assert stored(rt, "N-0003").issue_key == "acme/billing#2"
    return rt


def test_merge_moves_the_issue_s_needs_and_tells_each_customer_once(site, three):
    rt = three
    merge = merge_needs(rt, "N-0002", "N-0001", "cs1")
    assert (merge.from_issue_key, merge.into_issue_key, merge.merged_by) == ("acme/billing#2", "acme/billing#1", "cs1")
    for ref in ("N-0002", "N-0003"):
        need = stored(rt, ref)
        assert (need.issue_key, need.linked_to, need.status) == ("acme/billing#1", "N-0001", "in_progress")
    # Globex hears of its need's new status; ACME, told already for issue #1, hears nothing more.
    assert notices(rt) == [("acme", "in_progress", ("N-0001",)), ("globex", "in_progress", ("N-0002",))]
    comment = site.comments("acme/billing#2")[-1]["body"]
    assert r"N-0002 was merged into N-0001 (acme/billing\#1) by cs1" in comment  # escaped for Markdown
    assert "Globex" in site.issue("acme/billing#1")["body"]  # the surviving issue lists every customer
    with rt.Session() as session:
        need = stored(rt, "N-0002")
        assert open_merge(session, need.id).id == merge.id
        assert [item.id for item in merges_of(session, stored(rt, "N-0001").id)] == [merge.id]
        history = session.scalars(select(StatusChange).where(StatusChange.need_id == need.id)).all()
        assert history[-1].note == "merged into N-0001" and history[-1].actor == "cs1"
        edits = session.scalars(select(NeedEdit).where(NeedEdit.need_id == need.id)).all()
        assert [(edit.field, edit.old, edit.new) for edit in edits] == [("linked_to", None, "N-0001")]

    # Later changes of the surviving issue tell each customer once, naming all its needs.
    site.close("acme/billing#1")
    assert apply_issue_state(rt, rt.adapter().get_issue("acme/billing#1"), actor="R&D")
    assert notices(rt)[2:] == [("acme", "done", ("N-0001", "N-0003")), ("globex", "done", ("N-0002",))]


def test_undo_puts_everything_back_and_a_second_merge_tells_nobody_again(site, three):
    rt = three
    merge = merge_needs(rt, "N-0002", "N-0001", "cs1")
    told = notices(rt)
    undone = undo_merge(rt, merge.id, "cs2")
    assert undone.undone_by == "cs2" and undone.undone_at is not None
    assert (stored(rt, "N-0002").issue_key, stored(rt, "N-0002").linked_to) == ("acme/billing#2", None)
    assert (stored(rt, "N-0003").issue_key, stored(rt, "N-0003").linked_to) == ("acme/billing#2", "acme/billing#2")
    assert {stored(rt, ref).status for ref in ("N-0002", "N-0003")} == {"new"}
    assert notices(rt) == told
    assert "The merge of N-0002 into N-0001 was undone by cs2" in site.comments("acme/billing#2")[-1]["body"]
    with rt.Session() as session:
        assert open_merge(session, stored(rt, "N-0002").id) is None
    with pytest.raises(MergeRefused, match="undone already"):
        undo_merge(rt, merge.id, "cs2")

    again = merge_needs(rt, "N-0002", "N-0001", "cs1")
    assert again.id != merge.id and notices(rt) == told  # Globex was told this status for this issue already
    with rt.Session() as session:
        assert session.scalars(select(NeedMerge).where(NeedMerge.undone_at.is_(None))).one().id == again.id


def test_refused_merges_change_nothing(site, three):
    rt = three
    with pytest.raises(MergeRefused, match="into itself"):
        merge_needs(rt, "N-0001", "N-0001", "cs1")
    with pytest.raises(LookupError):
        merge_needs(rt, "N-0001", "N-0404", "cs1")
    with pytest.raises(LookupError):
        undo_merge(rt, 404, "cs1")
    file_need(rt, title="Something else entirely")
    merge_needs(rt, "N-0002", "N-0001", "cs1")
    with pytest.raises(MergeRefused, match="N-0002 is already merged"):
        merge_needs(rt, "N-0002", "N-0004", "cs1")
    with pytest.raises(MergeRefused, match="N-0002 is already merged"):
        merge_needs(rt, "N-0004", "N-0002", "cs1")
    assert stored(rt, "N-0004").issue_key == "acme/billing#3"


def test_an_undo_refuses_when_a_need_moved_on_since(site, three):
    rt = three
    merge = merge_needs(rt, "N-0002", "N-0001", "cs1")
    with rt.Session.begin() as session:
        need = session.get(type(stored(rt, "N-0003")), stored(rt, "N-0003").id)
        need.issue_key = "acme/billing#9"
    with pytest.raises(MergeRefused, match="N-0003 has moved"):
        undo_merge(rt, merge.id, "cs1")
    assert stored(rt, "N-0002").issue_key == "acme/billing#1"


def test_a_need_with_an_issue_is_not_merged_into_one_without(tmp_path):
    rt = tracker_runtime("github", tmp_path, tracker=False)
    file_need(rt, title="Invoices should show the tax number")
    file_need(rt, title="Tax number missing on PDF invoices")
    merge = merge_needs(rt, "N-0002", "N-0001", "cs1")  # neither has an issue: N-0002 follows N-0001's
    assert (stored(rt, "N-0002").linked_to, merge.into_issue_key) == ("N-0001", None)
    undo_merge(rt, merge.id, "cs1")
    with rt.Session.begin() as session:
        need = session.get(type(stored(rt, "N-0002")), stored(rt, "N-0002").id)
        need.issue_key = "acme/billing#5"
    with pytest.raises(MergeRefused, match="N-0001 has no tracker issue yet"):
        merge_needs(rt, "N-0002", "N-0001", "cs1")
    rt.engine.dispose()
