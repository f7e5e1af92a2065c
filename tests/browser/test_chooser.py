"""The département chooser in a browser: a misspelt commune, then a shared postcode, by keyboard."""
from __future__ import annotations

from playwright.sync_api import expect


def test_a_misspelt_commune_leads_to_its_departement(page, multi_live_server):
    base = multi_live_server
    page.goto(base + "/?lang=en&change=1")
    page.locator("#q").fill("Tolouse")
    page.keyboard.press("Enter")                                    # the search button is the form's only one
    first = page.locator("main ul.places li a").first
    expect(first).to_contain_text("Toulouse (31000")
    expect(first).to_contain_text("Haute-Garonne (31)")
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(base + "/31/")


def test_a_shared_postcode_asks_which_commune(page, multi_live_server):
    base = multi_live_server
    page.goto(base + "/?lang=en&change=1")
    page.locator("#q").fill("01590")
    page.keyboard.press("Enter")
    expect(page.locator("#result-title")).to_have_text("Which commune does the child live in?")
    page.locator("main ul.places a", has_text="Dortan").click()
    expect(page.locator("#result-title")).to_have_text("Dortan is in Ain (01)")
    expect(page.locator("main .chooser-result")).to_contain_text("This site does not serve the département Ain (01).")
    expect(page.locator("main .chooser-result a[href='tel:119']")).to_have_count(1)
