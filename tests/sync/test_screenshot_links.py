"""Screenshot links (``/files/...``): signed with a named key that can be revoked, optionally limited in age,
stable across syncs, and never kept by a shared cache."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from plugin.errors import ConfigError
from plugin.loading import parse_settings
from plugin.settings import FilesSettings
from sync.intake import Upload
from sync.ledger.store import Attachment
from sync.loop.links import attachment_serializer, attachment_url
from tests.factories import DEFAULT_YAML, file_need
from tests.images import png_bytes
from webhooks.app import create_app


def _use(runtime, monkeypatch, **files) -> None:
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(update={"files": FilesSettings(**files)}))


def _attachment(runtime) -> Attachment:
    file_need(runtime, uploads=[Upload("screen.png", png_bytes())])
    with runtime.Session() as session:
        return session.scalars(select(Attachment)).one()


def _get(runtime, url: str):
    return create_app({"TESTING": True}, runtime=runtime).test_client().get(url.split("localhost:8080", 1)[-1])


def test_a_link_names_its_key_is_stable_and_is_cached_privately(runtime):
    attachment = _attachment(runtime)
    url = attachment_url(runtime, attachment)

    answer = _get(runtime, url)

    assert "/files/1/" in url and attachment_url(runtime, attachment) == url  # the same on every sync
    assert answer.status_code == 200 and answer.data == png_bytes()
    assert "private" in answer.headers["Cache-Control"] and "public" not in answer.headers["Cache-Control"]


def test_revoking_the_key_refuses_its_links_and_a_new_key_signs_new_ones(runtime, monkeypatch):
    attachment = _attachment(runtime)
    old = attachment_url(runtime, attachment)

    _use(runtime, monkeypatch, key_id="2", revoked_key_ids=["1"])
    new = attachment_url(runtime, attachment)

    assert _get(runtime, old).status_code == 404
    assert "/files/2/" in new and _get(runtime, new).status_code == 200


def test_a_link_with_a_key_id_it_was_not_signed_with_is_refused(runtime, monkeypatch):
    attachment = _attachment(runtime)
    url = attachment_url(runtime, attachment)
    _use(runtime, monkeypatch, key_id="2")  # rotated, "1" not revoked: links of an unknown key are refused too

    assert _get(runtime, url.replace("/files/1/", "/files/2/")).status_code == 404


def test_old_format_links_work_until_legacy_is_revoked(runtime, monkeypatch):
    attachment = _attachment(runtime)
    old = f"/files/{attachment_serializer(runtime).dumps(attachment.id)}"

    assert _get(runtime, old).status_code == 200
    _use(runtime, monkeypatch, revoked_key_ids=["legacy"])
    assert _get(runtime, old).status_code == 404


def test_links_expire_the_set_number_of_days_after_the_upload(runtime, monkeypatch):
    attachment = _attachment(runtime)
    with runtime.Session.begin() as session:
        session.get(Attachment, attachment.id).created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with runtime.Session() as session:
        attachment = session.get(Attachment, attachment.id)
    url = attachment_url(runtime, attachment)
    assert _get(runtime, url).status_code == 200  # no limit by default

    _use(runtime, monkeypatch, link_max_age_days=7)
    assert _get(runtime, url).status_code == 200
    _use(runtime, monkeypatch, link_max_age_days=2)
    assert _get(runtime, url).status_code == 404


def test_a_link_to_a_deleted_attachment_does_not_show_the_one_that_took_its_id(runtime):
    attachment = _attachment(runtime)
    url = attachment_url(runtime, attachment)
    with runtime.Session.begin() as session:
        session.get(Attachment, attachment.id).created_at = attachment.created_at + dt.timedelta(seconds=5)

    assert _get(runtime, url).status_code == 404


@pytest.mark.parametrize(("files", "message"), [
    ("  key_id: '2'\n  revoked_key_ids: ['2']\n", "files: key_id 2 is in revoked_key_ids; choose a new key_id"),
    ("  key_id: legacy\n", "key_id legacy names the links made before key ids"),
    ("  key_id: a/b\n", "files.key_id: String should match pattern"),
])
def test_files_settings_refuse_a_revoked_or_malformed_current_key(files, message):
    with pytest.raises(ConfigError) as error:
        parse_settings(DEFAULT_YAML + "files:\n" + files, "test.yaml")
    assert message in str(error.value)
