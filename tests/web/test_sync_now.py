"""The need page's "sync now": CS and admins queue one need's sync (CSRF checked), or are told why not, in the
page's language."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from sync.ledger import accounts
from sync.ledger.store import Job
from tests.factories import file_need
from tests.github.fake_github import checked_site
from tests.sync.trackers import stored, tracker_runtime
from tests.web.pages import csrf_token_of, log_in
from webhooks.app import create_app


@pytest.fixture
def site():
    with checked_site() as fake:
        yield fake


def browser(runtime, user: str = "cs1", role: str = "cs"):
    """A client of an app on ``runtime`` (CSRF checked), logged in as ``user``."""
    with runtime.Session.begin() as session:
        accounts.add_user(session, user, "password1", role)
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    log_in(client, user, csrf_token=csrf_token_of(client.get("/login").text))
    return client


def sync_now(client, ref: str = "N-0001", **headers) -> list[str]:
    """Press "sync now" on the need page; the flashes of the page it returns to."""
    page = client.get(f"/needs/{ref}", headers=headers).text
    token = re.search(r'action="/needs/' + ref + r'/sync">\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                      page).group(1)
    answer = client.post(f"/needs/{ref}/sync", data={"csrf_token": token}, headers=headers)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/needs/{ref}#tracker")
    return flashes(client.get(answer.headers["Location"], headers=headers).text)


def flashes(html: str) -> list[str]:
    return [unescape(text) for text in re.findall(r'<p class="flash [^"]+"[^>]*>(.*?)</p>', html, re.S)]


def sync_jobs(runtime) -> list[tuple[str, str]]:
    with runtime.Session() as session:
        return [tuple(row) for row in session.execute(
            select(Job.name, Job.state).where(Job.ref == "N-0001").order_by(Job.created_at))]


def test_sync_now_brings_a_failed_need_in_line(site, tmp_path):
    runtime = tracker_runtime("github", tmp_path)
    site.fail_next(404, "Not Found")
    file_need(runtime)
    assert stored(runtime, "N-0001").issue_key is None
    client = browser(runtime, "admin1", "admin")

    assert sync_now(client) == [
        "Sync of N-0001 queued: the issue is brought in line with the need in the background."]
    need = stored(runtime, "N-0001")
    assert (need.issue_key, need.sync_state) == ("acme/billing#1", "synced")
    assert site.writes == 1
    runtime.engine.dispose()


def test_sync_now_is_not_queued_twice(site, tmp_path):
    runtime = tracker_runtime("github", tmp_path, immediate=False)  # no consumer: the job stays queued
    file_need(runtime)
    client = browser(runtime)
    assert sync_now(client) == ["A sync of N-0001 is already queued; it was not queued twice."]  # the intake's
    with runtime.Session.begin() as session:
        session.scalars(select(Job).where(Job.ref == "N-0001")).one().state = "failed"

    assert sync_now(client, **{"Accept-Language": "zh-TW"}) == ["N-0001 的同步已排入佇列：工單將在背景中與需求一致。"]
    assert sync_now(client) == ["A sync of N-0001 is already queued; it was not queued twice."]
    assert sync_jobs(runtime) == [("sync_need", "failed"), ("sync_need", "queued")]
    assert site.writes == 0
    runtime.engine.dispose()


def test_without_a_tracker_sync_now_says_why_and_queues_nothing(tmp_path):
    runtime = tracker_runtime("github", tmp_path, tracker=False)
    file_need(runtime)
    client = browser(runtime)

    assert sync_now(client, **{"Accept-Language": "zh-CN"}) == ["未配置工单系统：N-0001 等待配置，配置后即为其创建工单。"]
    assert sync_jobs(runtime) == [] and stored(runtime, "N-0001").sync_state == "waiting_for_tracker"
    runtime.engine.dispose()


def test_sync_now_needs_its_csrf_token_and_a_login(tmp_path):
    runtime = tracker_runtime("github", tmp_path, tracker=False)
    file_need(runtime)
    anonymous = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    assert anonymous.post("/needs/N-0001/sync").status_code == 302  # to the login page
    client = browser(runtime)
    assert client.post("/needs/N-0001/sync").status_code == 400
    assert client.post("/needs/N-9999/sync", data={"csrf_token": csrf_token_of(client.get("/needs/N-0001").text)}
                       ).status_code == 404
    runtime.engine.dispose()
