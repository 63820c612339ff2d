"""End to end in a real headless Chromium: from the chain map to /chain/flows/, along a
flow (a band of the diagram, then a cell of the table) to the links behind it, and on to
a participant. Needs Chromium as tests/test_browser.py does."""

import re

import pytest

from tests.conftest import make_link, make_participant
from tests.test_browser import ARGS, chromium  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_follow_a_flow_to_its_links_and_a_participant(live_server, small_chain, chromium):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    aliyun = make_participant("aliyun", ("cloud-compute",), name_en="Alibaba Cloud", country="CN")
    make_link(small_chain["cambricon"], aliyun, "chips", since_year=2022)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(locale="en-US")
        page.set_default_timeout(15_000)

        page.goto(live_server.url + "/")
        page.locator(".hero-links").get_by_role("link", name=re.compile("flows between segments")).click()
        expect(page).to_have_url(re.compile(r"/chain/flows/$"))
        expect(page.locator("h1")).to_have_text("Supply flows across the chain")
        expect(page.locator(".lead")).to_contain_text("3 active supply links")

        # a band of the diagram leads to the links behind it
        band = page.locator('.flow-diagram a[href*="supplied=ai-chips&customer=cloud-compute"] path')
        expect(band).to_have_count(1)
        band.click()
        expect(page).to_have_url(re.compile(r"/chain/links/\?supplied=ai-chips&customer=cloud-compute$"))
        expect(page.locator("h1")).to_have_text("AI chips → Cloud & compute services")
        expect(page.locator(".lead")).to_have_text("2 active supply links")
        expect(page.locator("ul.links > li")).to_have_count(2)

        # the same flow from the table, filtered to Chinese customers
        page.goto(live_server.url + "/chain/flows/?customer_group=cn")
        cell = page.locator(".flow-table").get_by_role("link", name="1", exact=True)
        expect(cell).to_have_count(1)
        cell.click()
        expect(page).to_have_url(re.compile(r"customer_group=cn"))
        expect(page.locator(".lead")).to_contain_text("1 active supply link")
        expect(page.locator("ul.links")).to_contain_text("since 2022")

        page.locator("ul.links").get_by_role("link", name="Alibaba Cloud").click()
        expect(page).to_have_url(re.compile(r"/participants/aliyun/$"))
        expect(page.locator("h1")).to_contain_text("Alibaba Cloud")
        expect(page.locator(".chain-links")).to_contain_text("Cambricon")
        browser.close()
