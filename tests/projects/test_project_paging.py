"""Emergency paging: a critical need filed on a project pages each of our emergency contacts exactly once, on
their channel (WeCom at a real local HTTP server, e-mail at a real aiosmtpd server); the need page says who was
paged and when; the SLA escalation of the critical urgency still fires once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from plugin.loading import parse_settings
from plugin.need import validate_need
from sync.intake import create_need
from sync.ledger.projects import add_project
from sync.ledger.store import OutboxMessage
from sync.projects.paging import page_contacts, pages_of
from sync.sla import escalate_breaches
from tests.factories import DEFAULT_YAML, migrated_runtime, need_data
from tests.web.pages import log_in

SLA_YAML = DEFAULT_YAML + """
urgencies:
  - {key: critical, name: {zh-Hans: 紧急, zh-Hant: 緊急, en: Critical}, sla: {first_response: 4h, resolution: 3d}}
  - {key: high, name: {zh-Hans: 高, zh-Hant: 高, en: High}}
  - {key: low, name: {zh-Hans: 低, zh-Hant: 低, en: Low}}
"""
FILED_AT = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
"""When the tests' needs were raised: just now (an SLA breach due before a need entered Cocreate is not escalated)."""


@pytest.fixture
def paging(tmp_path, migrated_store, smtp_server, http_recorder):
    http_recorder.reply(200, {"errcode": 0, "errmsg": "ok"})
    text = SLA_YAML + (f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
                       "sender: 'Cocreate <cocreate@example.com>'}\n  escalation_contacts: [cs-lead@example.com]\n")
    runtime = migrated_runtime(parse_settings(text, "test.yaml"), tmp_path / "home", migrated_store)
    contacts = [
        {"side": "ours", "name": "Wang Wei", "role": "lead", "channel": "email", "address": "wang.wei@example.com"},
        {"side": "ours", "name": "Zhao Lei", "role": "on call", "channel": "wecom",
         "address": http_recorder.url("/cgi-bin/webhook/send?key=oncall")},
        {"side": "theirs", "name": "Li Na", "role": "IT", "channel": "email", "address": "li.na@acme.example"}]
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout", "status": "building",
                          "cadence": "weekly", "lead": "Wang Wei", "emergency_contacts": contacts})
    yield runtime
    runtime.close()


def file(runtime, urgency="critical", project="erp"):
    from sync.ledger.projects import project_id_for

    with runtime.Session() as session:
        project_id = project_id_for(session, project, "acme")
    data = need_data(urgency=urgency, reported_at=FILED_AT.isoformat())
    return create_need(runtime, validate_need(data, runtime.settings, now=FILED_AT), project_id=project_id)


def rows_of(runtime, kind):
    with runtime.Session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                               .order_by(OutboxMessage.id)).all()


def test_a_critical_need_pages_our_emergency_contacts_once_each(paging, smtp_server, http_recorder):
    need = file(paging)
    pages = rows_of(paging, "page")
    assert [(row.channel, row.payload["contact"], row.state) for row in pages] == [
        ("email", "Wang Wei", "sent"), ("wecom", "Zhao Lei", "sent")]  # not the customer's contact
    mails = [mail for mail in smtp_server.messages if "wang.wei@example.com" in mail.rcpt_tos]
    assert len(mails) == 1 and len(smtp_server.messages) == 1
    assert "[Emergency] ERP rollout: N-0001" in mails[0].message["Subject"]
    body = mails[0].message.get_body(("plain",)).get_content()
    assert "ACME Corp filed the need N-0001" in body and "as Critical in the project ERP rollout" in body
    assert len(http_recorder.requests) == 1
    assert http_recorder.last.path.startswith("/cgi-bin/webhook/send")
    assert "N-0001" in http_recorder.last.json()["markdown"]["content"]
    assert "oncall" not in str(pages[1].target) and pages[1].target == "1"  # the bot URL stays in the project

    # Paging again (a retried transaction, an import of the same need) pages nobody twice.
    with paging.Session.begin() as session:
        from sync.ledger.store import Need

        again = page_contacts(paging, session, session.get(Need, need.id))
    assert again == [] and len(rows_of(paging, "page")) == 2
    assert len(smtp_server.messages) == 1 and len(http_recorder.requests) == 1

    with paging.Session() as session:
        paged = pages_of(session, need.ref)
    assert [(page.name, page.channel, page.state) for page in paged] == [
        ("Wang Wei", "email", "sent"), ("Zhao Lei", "wecom", "sent")]
    assert all(page.sent_at is not None for page in paged)


def test_the_sla_escalation_of_a_paged_need_still_fires_once(paging, smtp_server):
    file(paging)
    later = FILED_AT + dt.timedelta(hours=5)  # past the 4 h first-response target
    first = escalate_breaches(paging, later)
    assert len(first) == 2  # the owner and the escalation contact
    assert escalate_breaches(paging, later + dt.timedelta(hours=1)) == []
    assert len(rows_of(paging, "escalation")) == 2 and len(rows_of(paging, "page")) == 2
    subjects = [mail.message["Subject"] for mail in smtp_server.messages]
    assert sum("[SLA breach]" in subject for subject in subjects) == 2
    assert sum("[Emergency]" in subject for subject in subjects) == 1


@pytest.mark.parametrize(("urgency", "project"), [("high", "erp"), ("critical", None)])
def test_other_urgencies_and_needs_in_no_project_page_nobody(paging, smtp_server, http_recorder, urgency, project):
    file(paging, urgency=urgency, project=project)
    assert rows_of(paging, "page") == [] and smtp_server.messages == [] and http_recorder.requests == []


def test_a_page_that_cannot_go_out_is_kept_as_failed_and_shown(paging, smtp_server, http_recorder):
    http_recorder.reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    need = file(paging)  # the need is stored whatever the page's fate; the failed job is kept for a retry
    [email, wecom] = rows_of(paging, "page")
    assert email.state == "sent" and wecom.state == "failed" and "93000" in (wecom.last_error or "")
    with paging.Session() as session:
        assert [page.state for page in pages_of(session, need.ref)] == ["sent", "failed"]


def test_the_need_page_says_who_was_paged_and_when(paging, smtp_server, http_recorder):
    from sync.ledger import accounts
    from webhooks.app import create_app

    need = file(paging)
    with paging.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=paging).test_client()
    log_in(client)
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert 'id="paged"' in page
    assert "Paged Wang Wei (E-mail) at" in page and "Paged Zhao Lei (WeCom) at" in page
    assert "emergency contact Zhao Lei (WeCom)" in page


def test_a_critical_row_of_an_imported_sheet_pages_too(paging, smtp_server, http_recorder, tmp_path):
    from sync.table.importer import import_table
    from tests.table.sheets import SEED_HEADERS, write_xlsx

    reported = f"{FILED_AT:%Y/%m/%d %H:%M}"
    rows = [SEED_HEADERS["zh_Hant"] + ["客戶", "專案"],
            ["1", "計費", "發票全部開不出來", "", "緊急", "Li Na", reported, "Wang Wei", "", "", "ACME Corp", "erp"],
            ["2", "計費", "發票要顯示稅號", "", "高", "Li Na", reported, "Wang Wei", "", "", "ACME Corp", "erp"]]
    report = import_table(paging, write_xlsx(tmp_path / "needs.xlsx", rows), dry_run=False,
                          now=FILED_AT + dt.timedelta(minutes=1))
    assert report.problems == [] and report.created == 2
    assert [(row.need_ref, row.channel, row.state) for row in rows_of(paging, "page")] == [
        ("1", "email", "sent"), ("1", "wecom", "sent")]
    assert len(smtp_server.messages) == 1 and len(http_recorder.requests) == 1


def test_the_page_and_the_meeting_reminder_in_zh_hant():
    from sync.notify import (
        MeetingReminder,
        PageNotice,
        notice_data,
        notice_from_data,
        render,
    )

    page = PageNotice(locale="zh-Hant", contact_name="王偉", project_name="報表平台上線", customer_name="環球科技",
                      need_ref="N-0042", need_title="月報\n全部打不開", urgency_label="緊急",
                      need_url="https://cocreate.example/needs/N-0042", event_key="page:N-0042:x")
    message = render(page)
    assert message.subject == "[緊急] 報表平台上線：N-0042「月報 全部打不開」（緊急）"  # one line, whatever was typed
    assert "環球科技 在專案 報表平台上線 中提出了緊急需求 N-0042" in message.text
    assert notice_from_data(notice_data(page)) == page
    reminder = MeetingReminder(locale="zh_Hant", lead_name="王偉", project_name="報表平台上線", customer_name="環球科技",
                               cadence_label="每週", days=21, last_meeting="2026-11-17",
                               minutes_url="https://cocreate.example/minutes/new?project=bi")
    text = render(reminder).text
    assert "例會頻率是每週，上次會議在 2026-11-17，已過 21 天。" in text
    assert render(reminder).subject == "[Cocreate] 報表平台上線：例會已逾期"
    with pytest.raises(ValueError):
        PageNotice(locale="en", contact_name="x", project_name="p", customer_name="c", need_ref="N-1",
                   need_title="t", urgency_label="u", need_url="javascript:alert(1)")


def test_a_page_that_cannot_be_written_never_costs_the_need(paging, smtp_server, monkeypatch, caplog):
    def broken():
        raise RuntimeError("customer records unreadable")

    monkeypatch.setattr(paging, "customers", broken)
    need = file(paging)
    with paging.Session() as session:
        from sync.ledger.store import Need

        assert session.get(Need, need.id).ref == need.ref
    assert rows_of(paging, "page") == [] and smtp_server.messages == []
    assert f"paging the emergency contacts of {need.ref} failed" in caplog.text


def test_an_edit_raising_a_need_to_critical_or_moving_it_into_the_project_pages_once(paging, smtp_server,
                                                                                    http_recorder):
    from sync.intake import update_need
    from sync.ledger.projects import project_id_for

    def edit(need, project_id=None, **changes):
        data = need_data(urgency="high", reported_at=FILED_AT.isoformat()) | changes
        options = {} if project_id is None else {"project_id": project_id}
        return update_need(paging, need.ref, validate_need(data, paging.settings, now=FILED_AT), "cs1", **options)

    high = file(paging, urgency="high")
    assert rows_of(paging, "page") == []
    edit(high, urgency="critical")
    assert [row.need_ref for row in rows_of(paging, "page")] == [high.ref, high.ref]
    edit(high, urgency="critical", title="Invoices are all blank")  # already paged: nobody twice
    assert len(rows_of(paging, "page")) == 2 and len(smtp_server.messages) == 1

    loose = file(paging, urgency="critical", project=None)
    with paging.Session() as session:
        erp = project_id_for(session, "erp", "acme")
    edit(loose, project_id=erp, urgency="critical")
    assert [row.need_ref for row in rows_of(paging, "page")][2:] == [loose.ref, loose.ref]
    assert len(http_recorder.requests) == 2
