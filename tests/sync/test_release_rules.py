"""Which issues a GitHub release ships (the rule README states), the release notice in each language, and the
``notifications.delivered_on`` setting."""

from __future__ import annotations

import pytest

from plugin.errors import ConfigError
from plugin.github.releases import mentioned_numbers, milestone_matches, parse_release_ref, shipped
from plugin.loading import parse_settings
from sync.notify import ReleaseNotice, notice_data, notice_from_data, render

NOTES = """## What's Changed
* Tax number on invoices by @octocat in #12
* Export fix by @hubot in https://github.com/acme/billing/pull/13
* Closes https://github.com/acme/billing/issues/14 and ACME/Billing#15
* Not ours: other/repo#16, repo#17, #18x, issue#19
**Full Changelog**: https://github.com/acme/billing/compare/v5.1...v5.2
"""


def test_notes_mention_issues_by_number_full_name_or_url():
    assert mentioned_numbers("acme/billing", NOTES) == {12, 14, 15}


def test_a_mention_of_another_repository_is_not_this_ones():
    assert mentioned_numbers("other/repo", NOTES) == {12, 16}
    assert mentioned_numbers("acme/billing", "") == set()


@pytest.mark.parametrize(("title", "tag", "name", "matches"), [
    ("v5.2", "v5.2", "", True),
    (" V5.2 ", "v5.2", "Spring release", True),
    ("Spring release", "v5.2", "Spring release", True),
    ("v5.3", "v5.2", "v5.2", False),
    ("", None, "", False),
])
def test_milestone_titled_like_the_tag_or_name(title, tag, name, matches):
    assert milestone_matches(title, tag, name) is matches


@pytest.mark.parametrize(("data", "ships"), [
    ({"published_at": "2027-01-14T10:00:00Z", "draft": False, "prerelease": False}, True),
    ({"published_at": "2027-01-14T10:00:00Z", "draft": False, "prerelease": True}, False),
    ({"published_at": None, "draft": True, "prerelease": False}, False),
])
def test_only_published_releases_ship(data, ships):
    assert shipped(data) is ships


def test_release_refs():
    assert parse_release_ref("acme/billing:17372790") == ("acme/billing", 17372790)
    for bad in ("acme/billing", "acme:1", "acme/billing:v5"):
        with pytest.raises(ValueError):
            parse_release_ref(bad)


def notice(locale: str, released_on: str | None = "2027-01-14") -> ReleaseNotice:
    return ReleaseNotice(customer_name="ACME", locale=locale, need_ref="N-0042",
                         need_title="Invoices show the tax number", version="v5.2", released_on=released_on, status_page_url="https://cocreate.example/s/t",
                         event_key="release:acme:0:10000:N-0042")


@pytest.mark.parametrize(("locale", "subject", "headline"), [
    ("en", "Your request N-0042 “Invoices show the tax number” shipped in v5.2",
     "Your request N-0042 “Invoices show the tax number” shipped in v5.2 on 2027-01-14."),
    ("zh-Hans", "需求 N-0042「Invoices show the tax number」已在 v5.2 中发布",
     "您的需求 N-0042「Invoices show the tax number」已于 2027-01-14 在 v5.2 中发布。"),
    ("zh-Hant", "需求 N-0042「Invoices show the tax number」已在 v5.2 中發布",
     "您的需求 N-0042「Invoices show the tax number」已於 2027-01-14 在 v5.2 中發布。"),
])
def test_release_notice_names_the_version_and_date_in_each_language(locale, subject, headline):
    message = render(notice(locale))
    assert message.subject == subject
    assert headline in message.text
    assert "https://cocreate.example/s/t" in message.text and "v5.2" in message.html


def test_release_notice_without_a_date_and_as_stored_data():
    assert "shipped in v5.2." in render(notice("en", released_on=None)).text
    stored = notice_data(notice("zh-Hant"))
    assert stored["kind"] == "release" and notice_from_data(stored) == notice("zh-Hant")
    assert render(notice("en")).notice_id == render(notice("en")).notice_id


def test_delivered_on_defaults_to_done_and_says_what_it_takes():
    assert parse_settings("locale: en\n", "c.yaml").notifications.delivered_on == "done"
    settings = parse_settings("notifications: {delivered_on: both}\n", "c.yaml")
    assert settings.notifications.tells_on_release
    done = settings.status("done")
    assert settings.notifications.tells_customers_of(done)
    only_release = parse_settings("notifications: {delivered_on: release}\n", "c.yaml").notifications
    assert not only_release.tells_customers_of(done)
    assert only_release.tells_customers_of(settings.status("in_progress"))
    with pytest.raises(ConfigError) as caught:
        parse_settings("notifications:\n  delivered_on: shipped\n", "c.yaml")
    [problem] = caught.value.problems
    assert str(problem) == "c.yaml:2: notifications.delivered_on: Input should be 'done', 'release' or 'both'"
