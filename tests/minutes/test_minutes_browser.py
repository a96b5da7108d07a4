"""In Chromium: write minutes through the real form (CSRF on), see the page, the customer's view (shared
minutes only) and the printable page. Screenshots go to ``test-output/``; a missing Chromium fails the test."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.browser import OUTPUT, page, server, submit_login  # noqa: F401  the browser and app fixtures
from tests.minutes.helpers import file_minutes


def test_minutes_page_and_customer_view_in_chromium(server, page, runtime, make_need):  # noqa: F811
    make_need(title="Invoices should show the tax number")
    make_need(title="Invoice PDF in English", urgency="low")
    page.goto(f"{server}/minutes/new")
    submit_login(page)
    expect(page).to_have_url(f"{server}/minutes/new")

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    page.fill("#topic", "Invoice workshop")
    page.fill("#customer", "acme")
    page.fill("#date", dt.date.today().isoformat())
    page.fill("#time", "14:00")
    page.fill("#place", "ACME HQ, room 3")
    page.fill("#attendees", "Li Na\nWang Wei")
    page.fill("#key_points", "Finance files every invoice by tax number.")
    page.fill("#decisions", "Show the tax number on every PDF invoice.")
    page.fill("#open_questions", "Which format for branches?")
    page.fill("#action_items-1-text", "Send a sample invoice")
    page.fill("#action_items-1-owner", "Wang Wei")
    page.fill("#action_items-1-due_date", yesterday)
    page.fill("#action_items-2-text", "Check the English PDF")
    page.fill("#action_items-2-owner", "Wang Wei")
    page.fill("#needs", "N-0001, N-0002")
    page.select_option("#visibility", "shared")
    page.click("form.minutes-form button[type=submit]")

    expect(page.locator("#action_items-1-due_date-error")).to_have_text(f"{yesterday} is in the past.")
    expect(page.locator(".alert-error")).to_contain_text("Nothing was saved.")
    expect(page.locator("#topic")).to_have_value("Invoice workshop")
    page.screenshot(path=OUTPUT / "minutes-form-error.png", full_page=True)

    rows = page.locator(".action-rows tbody tr")
    count = rows.count()
    page.click("#add-row")
    expect(rows).to_have_count(count + 1)
    page.fill("#action_items-1-due_date", due)
    page.click("form.minutes-form button[type=submit]")

    expect(page).to_have_url(f"{server}/minutes/1")
    expect(page.locator(".flash-success")).to_have_text("Minutes saved.")
    expect(page.locator("h1")).to_have_text("Invoice workshop")
    expect(page.locator("#visibility")).to_have_text("Shared with the customer")
    expect(page.locator("table.action-items tbody tr")).to_have_count(2)
    expect(page.locator("table.linked-needs tbody tr")).to_have_count(2)
    expect(page.locator("table.linked-needs .col-status").first).to_have_text("Received")
    page.screenshot(path=OUTPUT / "minutes-page.png", full_page=True)

    file_minutes(runtime, topic="Internal pricing talk", visibility="internal")
    page.click("text=As the customer sees it")
    expect(page).to_have_url(f"{server}/minutes/customer/acme#minutes-1")
    view = page.locator(".customer-view")
    expect(view.locator("article.shared-minutes")).to_have_count(1)
    expect(view.locator("h2")).to_have_text("Invoice workshop")
    expect(view).not_to_contain_text("Internal pricing talk")
    expect(view.locator("form, input, button")).to_have_count(0)
    expect(view.locator("table").last).to_contain_text("Invoices should show the tax number")
    page.screenshot(path=OUTPUT / "minutes-customer-view.png", full_page=True)

    page.goto(f"{server}/minutes")
    expect(page.locator("table.minutes tbody tr")).to_have_count(2)
    page.screenshot(path=OUTPUT / "minutes-list.png", full_page=True)

    page.goto(f"{server}/minutes/1/print")
    page.emulate_media(media="print")
    expect(page.locator(".toolbar")).to_be_hidden()
    expect(page.locator("h1")).to_have_text("Invoice workshop")
    page.screenshot(path=OUTPUT / "minutes-print.png", full_page=True)
