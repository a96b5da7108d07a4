"""Owner notices on a status change: the owner is found in the people directory as the issue's assignee is (by
name or e-mail, ignoring case), and told once however CS spelled them on each need."""

from sqlalchemy import select

from plugin.base import IssueState
from sync.ledger.store import OutboxMessage
from sync.loop.status import apply_issue_state
from tests.sync.trackers import tracker_runtime
from tests.table.sheets import add_need


def test_one_owner_notice_per_person_however_spelled(tmp_path):
    runtime = tracker_runtime("jira", tmp_path)
    for ref, owner in (("N-0001", "Wang Wei"), ("N-0002", "WANG.WEI@example.com"), ("N-0003", " wang wei "),
                       ("N-0004", "Someone Else")):
        add_need(runtime, ref, "10-01 00:00", [("new", "10-01 00:00", "cs")], issue_key="CS-1", owner=owner)
    state = IssueState(key="CS-1", url="https://cocreate-test.atlassian.net/browse/CS-1", title="t",
                       labels=frozenset(), status_name="Done", status_category="done")
    assert apply_issue_state(runtime, state, actor="R&D")
    with runtime.Session() as session:
        owners = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "owner")).all()
        comment = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "comment")).one()
    runtime.close()
    assert [(row.target, row.payload["owner"], row.payload["refs"]) for row in owners] == [
        ("wang.wei@example.com", "Wang Wei", ["N-0001", "N-0002", "N-0003"])]
    assert comment.payload["text"].count("owner Wang Wei") == 1  # the status comment says who was told, once
