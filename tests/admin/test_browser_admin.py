"""In Chromium from an empty data folder: /setup creates the first admin, who adds a customer with another name
and a WeCom channel on /admin/customers; a CS user (added in the store: there is no users page yet) files a need
typing the other name, the customer's status page lists it, and the CS user is refused /admin/customers."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from sync.ledger.store import Customer, Need
from tests.browser import OUTPUT, page, serve, submit_login  # noqa: F401  the browser fixture
from webhooks.app import create_app

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123456789abcdef"


def test_first_admin_adds_a_customer_and_cs_files_a_need_for_it(runtime, page, make_user):  # noqa: F811
    with serve(create_app({}, runtime=runtime)) as server:
        page.goto(f"{server}/login")
        page.screenshot(path=OUTPUT / "admin-login-first-run.png", full_page=True)
        page.click("text=Create the first admin")
        expect(page).to_have_url(f"{server}/setup")
        page.fill("#name", "root")
        page.fill("#password", "password1")
        page.fill("#again", "password1")
        page.screenshot(path=OUTPUT / "admin-setup.png", full_page=True)
        page.click("button.primary")
        expect(page).to_have_url(f"{server}/admin/customers")
        page.screenshot(path=OUTPUT / "admin-customers-empty.png", full_page=True)

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
        page.screenshot(path=OUTPUT / "admin-customer-error.png", full_page=True)

        page.fill("#aliases", "好物")
        page.select_option("#locale", "zh_Hant")
        page.click("button.primary")
        expect(page).to_have_url(f"{server}/admin/customers")
        row = page.locator("table.customers tbody tr", has_text="goodthings")
        expect(row.locator(".col-aliases")).to_have_text("好物")
        expect(row.locator(".col-channels")).to_have_text("1")
        page.screenshot(path=OUTPUT / "admin-customers.png", full_page=True)

        row.locator(".col-key a").click()
        expect(page.locator("#channel-0-url")).to_have_value("https://qyapi.weixin.qq.com/••••ef")
        page.click("text=New link")
        expect(page.locator(".flash-success")).to_contain_text("/s/")
        status_url = page.locator("section.status-link a").get_attribute("href")
        page.screenshot(path=OUTPUT / "admin-customer-edit.png", full_page=True)
        page.click("button:has-text('Log out')")

        make_user("cs1", "password1", "cs")
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
        page.fill("#owner", "Wang Wei")
        page.click("button.primary")
        expect(page).to_have_url(f"{server}/needs/N-0001")
        with runtime.Session() as session:
            assert session.scalars(select(Need.customer)).all() == ["goodthings"]
            assert session.scalars(select(Customer.channels).where(Customer.key == "goodthings")).one() == [
                {"kind": "wecom", "url": WECOM}]

        response = page.goto(f"{server}/admin/customers")
        assert response.status == 403
        page.screenshot(path=OUTPUT / "admin-customers-cs-403.png", full_page=True)

        page.goto(status_url.replace(runtime.settings.base_url.rstrip("/"), server))
        expect(page.locator("body")).to_contain_text("Invoices should show the tax number")
        page.screenshot(path=OUTPUT / "admin-status-page.png", full_page=True)
