"""Minutes on a fresh install (no config, no people directory): owners nobody knows are accepted with a warning,
and a need's imported ref is accepted as a link."""

from __future__ import annotations

from sqlalchemy import select, update

from plugin.settings import Settings
from sync.ledger.store import ActionItem, MeetingMinutes, Need
from tests.factories import file_need, migrated_runtime
from tests.minutes.helpers import logged_in_client


def test_fresh_install_saves_unknown_owners_with_a_warning_and_links_an_imported_ref(tmp_path, migrated_store):
    runtime = migrated_runtime(Settings(), tmp_path / "home", migrated_store)
    try:
        file_need(runtime, category="general", customer="acme", owner=None)
        with runtime.Session.begin() as session:  # as the table import keeps the sheet's 序號
            session.execute(update(Need).values(ref="17"))
        client = logged_in_client(runtime)
        response = client.post("/minutes/new?lang=zh_Hant", data={
            "customer": "acme", "topic": "啟動會議", "date": "2026-11-20", "needs": "17",
            "action_items.1.text": "寄樣本", "action_items.1.owner": "王小明", "action_items.1.due_date": "",
            "action_items.2.text": "回電", "action_items.2.owner": "李小華", "action_items.2.due_date": "",
        }, follow_redirects=True)
        assert response.status_code == 200, response.text
        assert "王小明 不在人員目錄中：其待辦事項的工單將以未指派建立。" in response.text
        assert "李小華 不在人員目錄中" in response.text
        with runtime.Session() as session:
            minutes = session.scalars(select(MeetingMinutes)).one()
            assert [link.need.ref for link in minutes.need_links] == ["17"]
            assert sorted(session.scalars(select(ActionItem.owner))) == ["李小華", "王小明"]
    finally:
        runtime.close()
