"""A customer's channel changed by an admin on one web process is what the other web process shows and what the
worker's next notice uses, with no restart: two ``cocreate serve --no-worker`` and one ``cocreate worker`` on
PostgreSQL and Redis. Each process keeps its own customer book and reloads it when the store's counter moves.
"""

from __future__ import annotations

import requests

from sync.ledger import accounts
from tests.scale.cluster import Cluster, Process, wait_until
from tests.web.pages import csrf_token_of

OLD = "desk@globex.example"
NEW = "support@globex.example"


def admin_session(cluster: Cluster, web: Process) -> requests.Session:
    """A browser-like session logged in as an admin on ``web`` through the login form."""
    session = requests.Session()
    page = session.get(web.url + "/login", timeout=10)
    answer = session.post(web.url + "/login", timeout=10, allow_redirects=False,
                          data={"name": "scale-admin", "password": "password1", "csrf_token": csrf_token_of(page.text)})
    assert answer.status_code == 302, answer.text
    return session


def customer_form(session: requests.Session, web: Process, path: str, fields: dict[str, str]) -> requests.Response:
    """POST the customer form at ``path`` as the page does, with the page's CSRF token."""
    page = session.get(web.url + path, timeout=10)
    assert page.status_code == 200, page.text
    return session.post(web.url + path, timeout=10, allow_redirects=False,
                        data={"csrf_token": csrf_token_of(page.text), **fields})


def set_address(session: requests.Session, web: Process, address: str) -> None:
    answer = customer_form(session, web, "/admin/customers/globex", {
        "name": "Globex", "locale": "en", "channel_rows": "1", "channel-0-index": "0", "channel-0-kind": "email",
        "channel-0-to": address})
    assert answer.status_code == 302, answer.text


def shows(session: requests.Session, web: Process, address: str, other: str) -> bool:
    text = session.get(web.url + "/admin/customers/globex", timeout=10).text
    return address in text and other not in text


def notices_to(cluster: Cluster, address: str) -> list:
    return [mail for mail in list(cluster.smtp.messages) if address in mail.rcpt_tos]


def test_channel_changed_on_one_web_process_reaches_the_other_and_the_worker(cluster, scale_report):
    web_a, web_b = cluster.start_web(), cluster.start_web()
    cluster.start_worker()

    with cluster.runtime.Session.begin() as session:
        accounts.add_user(session, "scale-admin", "password1", "admin")
    on_a, on_b = admin_session(cluster, web_a), admin_session(cluster, web_b)

    added = customer_form(on_a, web_a, "/admin/customers/new", {
        "key": "globex", "name": "Globex", "locale": "en", "channel_rows": "1", "channel-0-kind": "email",
        "channel-0-to": OLD})
    assert added.status_code == 302, added.text
    # Web B has read its book before the customer existed; it shows it without a restart.
    wait_until(lambda: shows(on_b, web_b, OLD, NEW), 30, "web B to show the new customer")
    assert cluster.post_need(web_b, "Globex need", customer="globex").status_code == 201
    need = cluster.wait_synced(1, timeout=30)[0]

    for step, (address, other, issue) in enumerate([(NEW, OLD, cluster.tracker.close_issue),
                                                    (OLD, NEW, cluster.tracker.reopen_issue)], start=1):
        before = len(notices_to(cluster, address))
        set_address(on_a, web_a, address)
        wait_until(lambda: shows(on_b, web_b, address, other), 30, f"web B to show {address}")  # noqa: B023
        assert shows(on_a, web_a, address, other)
        action = "closed" if step == 1 else "reopened"
        assert cluster.deliver(web_b, action, issue(need.issue_key)).status_code == 202
        wait_until(lambda: len(notices_to(cluster, address)) > before, 30,  # noqa: B023
                   f"notice {step} to {address}")
        cluster.wait_settled(timeout=30)
        assert len(notices_to(cluster, address)) == before + 1
        assert len(notices_to(cluster, other)) == (0 if step == 1 else 1), f"no notice {step} to {other}"

    assert cluster.failed_jobs() == []
    scale_report(web_processes=2, workers=1, channel_changes=2, notices_to_new=1, notices_to_old_after_change=0)
