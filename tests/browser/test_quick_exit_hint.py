"""The "press Escape three times" hint is shown only where JavaScript runs (it does nothing
without it); the quick exit link works in both cases."""
from __future__ import annotations

from playwright.sync_api import expect


def test_hint_shown_with_javascript(page, live_server):
    page.goto(f"{live_server}/?lang=en")
    expect(page.locator(".quick-exit-hint")).to_be_visible()
    expect(page.locator(".quick-exit-hint")).to_have_text("or press Escape three times")


def test_hint_hidden_without_javascript(js_disabled_page, live_server):
    page = js_disabled_page
    page.goto(f"{live_server}/?lang=en")
    expect(page.locator("a[data-quick-exit]")).to_be_visible()
    expect(page.locator(".quick-exit-hint")).to_be_hidden()
