"""The customer status page: unguessable and revocable link, that customer's needs only, no internal detail."""

import datetime as dt

from click.testing import CliRunner

from sync.ledger.customers import customer_for_token, issue_status_token, revoke_status_token
from sync.ledger.store import Need
from tests.factories import need_data  # noqa: F401 - documents where the defaults come from


def test_page_shows_only_that_customers_needs_without_internal_details(runtime, client, make_need):
    make_need(title="Tax number on invoices", remarks="Planned for the March release",
              description="Internal detail from the customer call")
    make_need(customer="globex", title="Someone else's request")
    with runtime.Session.begin() as session:
        need = session.get(Need, 1)
        need.issue_key, need.issue_url = "CS-1", "https://jira.example/browse/CS-1"
    token = issue_status_token(runtime, "acme")
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ACME Corp" in html and "Tax number on invoices" in html and "Planned for the March release" in html
    assert "Someone else" not in html
    assert "CS-1" not in html and "jira.example" not in html and "Wang Wei" in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"


def test_tokens_are_unguessable_and_revocable(runtime, client):
    first = issue_status_token(runtime, "acme")
    assert customer_for_token(runtime, first) == "acme"
    second = issue_status_token(runtime, "acme")
    assert customer_for_token(runtime, first) is None  # a new link revokes the old one
    assert client.get(f"/s/{first}").status_code == 404
    assert client.get(f"/s/{second}").status_code == 200
    assert client.get(f"/s/{second[:-3]}abc").status_code == 404
    assert revoke_status_token(runtime, "acme") is True
    assert client.get(f"/s/{second}").status_code == 404


def test_cli_prints_and_revokes_the_link(runtime, tmp_path, monkeypatch):
    from webhooks.cli import main

    config = tmp_path / "c.yaml"
    config.write_text("base_url: https://cs.example\ncustomers: [{key: acme, name: ACME}]\n")
    monkeypatch.setenv("COCREATE_HOME", str(tmp_path / "data"))
    runner = CliRunner()
    result = runner.invoke(main, ["customer", "token", "acme", "--config", str(config)])
    assert result.exit_code == 0 and result.output.startswith("https://cs.example/s/")
    result = runner.invoke(main, ["customer", "token", "acme", "--revoke", "--config", str(config)])
    assert result.output.strip() == "status page of acme revoked"
    result = runner.invoke(main, ["customer", "token", "nobody", "--config", str(config)])
    assert result.exit_code == 1 and "no customer nobody" in result.output


def test_status_history_is_listed_per_need(runtime, client, make_need):
    make_need()
    with runtime.Session.begin() as session:
        need = session.get(Need, 1)
        need.status = "in_progress"
        need.status_changed_at = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    html = client.get(f"/s/{issue_status_token(runtime, 'acme')}").get_data(as_text=True)
    assert "In progress" in html and "Received" in html
