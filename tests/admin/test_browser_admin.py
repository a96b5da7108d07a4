"""In Chromium from an empty data folder: /setup creates the first admin, who adds a customer with another name
and a WeCom channel on /admin/customers, a person on /admin/people and a CS user on /admin/users; the CS user
files a need typing the other name, the customer's status page lists it, and the CS user is refused the admin
pages. Screenshots go to test-output/, or to the folder COCREATE_SHOTS names."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from sync.ledger.store import Customer, Need
from tests.browser import OUTPUT, page, serve, submit_login  # noqa: F401  the browser fixture
from webhooks.app import create_app

SHOTS = Path(os.environ.get("COCREATE_SHOTS") or OUTPUT)

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123456789abcdef"


def test_first_admin_adds_a_customer_a_person_and_a_cs_user_who_files_a_need(runtime, page):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve(create_app({}, runtime=runtime)) as server:
        page.goto(f"{server}/login")
        page.screenshot(path=SHOTS / "admin-login-first-run.png", full_page=True)
        page.click("text=Create the first admin")
        expect(page).to_have_url(f"{server}/setup")
        page.fill("#name", "root")
        page.fill("#password", "password1")
        page.fill("#again", "password1")
        page.screenshot(path=SHOTS / "admin-setup.png", full_page=True)
        page.click("button.primary")
        expect(page).to_have_url(f"{server}/admin/customers")
        page.screenshot(path=SHOTS / "admin-customers-empty.png", full_page=True)

        page.click("text=Add a customer")
        # Inputs written without a type are text fields and look like every other field of the form.
        padding = "el => getComputedStyle(el).paddingTop"
        assert page.eval_on_selector("#key", padding) == page.eval_on_selector("#locale", padding) != "0px"
        page.fill("#key", "goodthings")
        page.fill("#name", "台灣好物股份有限公司")
        page.fill("#aliases", "ACME Corp")
        page.select_option("#channel-0-kind", "wecom")
        page.fill("#channel-0-url", WECOM)
        page.click("button.primary")
        expect(page.locator(".alert-error")).to_contain_text("Nothing was saved.")
        expect(page.locator("#aliases-error")).to_contain_text("ACME Corp is already a name of customer ACME Corp.")
        page.screenshot(path=SHOTS / "admin-customer-error.png", full_page=True)

        page.fill("#aliases", "好物")
        page.select_option("#locale", "zh_Hant")
        page.click("button.primary")
        expect(page).to_have_url(f"{server}/admin/customers")
        row = page.locator("table.customers tbody tr", has_text="goodthings")
        expect(row.locator(".col-aliases")).to_have_text("好物")
        expect(row.locator(".col-channels")).to_have_text("1")
        page.screenshot(path=SHOTS / "admin-customers.png", full_page=True)

        row.locator(".col-key a").click()
        expect(page.locator("#channel-0-url")).to_have_value("https://qyapi.weixin.qq.com/••••ef")
        page.click("text=New link")
        expect(page.locator(".flash-success")).to_contain_text("/s/")
        status_url = page.locator("section.status-link a").get_attribute("href")
        page.screenshot(path=SHOTS / "admin-customer-edit.png", full_page=True)

        page.click("nav.mainnav >> text=People")
        expect(page).to_have_url(f"{server}/admin/people")
        page.fill("#name", "Zhao Min")
        page.fill("#email", "zhao.min@example.com")
        page.click("button[name=save]")
        expect(page.locator(".flash-success")).to_contain_text("Zhao Min added to the people directory.")
        expect(page.locator("table")).to_contain_text("zhao.min@example.com")
        page.screenshot(path=SHOTS / "admin-people.png", full_page=True)

        page.click("nav.mainnav >> text=Users")
        expect(page).to_have_url(f"{server}/admin/users")
        page.fill("#name", "cs1")
        page.select_option("#role", "cs")
        page.fill("#password", "password1")
        page.click("button.primary")
        expect(page.locator(".flash-success")).to_contain_text("User cs1 added.")
        expect(page.locator("table.users tr", has_text="root")).not_to_contain_text("not known")  # setup logged in
        page.screenshot(path=SHOTS / "admin-users.png", full_page=True)
        page.click("button:has-text('Log out')")

        page.goto(f"{server}/login")
        expect(page.locator("text=Create the first admin")).to_have_count(0)
        submit_login(page)
        page.goto(f"{server}/needs/new")
        page.select_option("#category", "billing")
        page.select_option("#urgency", "critical")
        page.fill("#title", "Invoices should show the tax number")
        page.fill("#description", "The PDF invoice lacks the tax number.")
        page.fill("#customer", "好物")
        page.fill("#reporter_name", "Chen Mei")
        page.fill("#reported_at", "2026-11-20T09:30")
        page.fill("#owner", "Zhao Min")
        page.click("button.primary")
        expect(page).to_have_url(f"{server}/needs/N-0001")
        with runtime.Session() as session:
            assert session.scalars(select(Need.customer)).all() == ["goodthings"]
            assert session.scalars(select(Customer.channels).where(Customer.key == "goodthings")).one() == [
                {"kind": "wecom", "url": WECOM}]

        expect(page.locator("nav.mainnav")).not_to_contain_text("People")
        for path in ("/admin/customers", "/admin/people", "/admin/users"):
            response = page.goto(f"{server}{path}")
            assert response.status == 403, path
        page.screenshot(path=SHOTS / "admin-users-cs-403.png", full_page=True)

        page.goto(status_url.replace(runtime.settings.base_url.rstrip("/"), server))
        expect(page.locator("body")).to_contain_text("Invoices should show the tax number")
        page.screenshot(path=SHOTS / "admin-status-page.png", full_page=True)
