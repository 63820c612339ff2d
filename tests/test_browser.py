"""End to end in a real headless Chromium: the chain map, a segment, a country filter,
a search, a participant page, and the switch to Chinese.

CI must not skip this silently: without /usr/bin/chromium the test fails, unless
CHAINSITE_SKIP_BROWSER=1 says the skip is deliberate.
"""

import os
import re

import pytest

from tests.conftest import make_participant

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chain(request):
    return request.getfixturevalue("small_chain")


@pytest.fixture
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CHAINSITE_SKIP_BROWSER") == "1":
            pytest.skip("CHAINSITE_SKIP_BROWSER=1 and no Chromium at /usr/bin/chromium")
        pytest.fail(
            "Chromium is missing at /usr/bin/chromium (set CHAINSITE_SKIP_BROWSER=1 to skip on purpose)"
        )
    return CHROMIUM


def test_browse_the_chain_in_a_real_browser(live_server, chain, chromium):
    from playwright.sync_api import expect, sync_playwright

    make_participant("biren", ("ai-chips",), name_en="Biren Technology", name_zh="壁仞科技", country="CN")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(locale="en-US")
        page.set_default_timeout(15_000)

        page.goto(live_server.url + "/")
        expect(page.locator("h1")).to_have_text("The LLM industry chain")
        chips_panel = page.locator("article.panel", has_text="AI chips")
        expect(chips_panel).to_contain_text("NVIDIA")
        expect(chips_panel.locator(".count")).to_have_text("3")

        chips_panel.get_by_role("link", name="AI chips").click()
        expect(page).to_have_url(re.compile(r"/segments/ai-chips/$"))
        expect(page.locator("h1")).to_contain_text("AI chips")
        expect(page.locator(".results h2")).to_have_text("3 participants")

        # htmx swaps the listing in place and pushes the filtered URL; it binds to the
        # form once the page has loaded (a change before that would be a plain form's).
        page.wait_for_load_state("load")
        page.wait_for_function("() => window.htmx !== undefined")
        page.select_option("#id_country", "CN")
        expect(page).to_have_url(re.compile(r"country=CN"))
        expect(page.locator(".results h2")).to_have_text("2 participants")
        expect(page.locator(".results")).not_to_contain_text("NVIDIA")
        expect(page.locator("#id_country")).to_have_value("CN")

        page.fill("#header-q", "寒武纪")
        page.press("#header-q", "Enter")
        expect(page).to_have_url(re.compile(r"/participants/\?q="))
        expect(page.locator(".results h2")).to_have_text("1 participant")

        page.locator(".results").get_by_role("link", name="Cambricon").click()
        expect(page).to_have_url(re.compile(r"/participants/cambricon/$"))
        expect(page.locator("h1")).to_contain_text("Cambricon")
        expect(page.locator("#offerings-title + h3")).to_contain_text("AI chips")
        expect(page.get_by_role("link", name="Suggest a correction")).to_have_attribute(
            "href", "/participants/cambricon/suggest/"
        )

        # Where JavaScript runs, choosing the language switches at once: no "Go" button.
        expect(page.locator("form.lang button")).to_be_hidden()
        page.select_option("#lang-select", "zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page).to_have_url(re.compile(r"/zh-hans/participants/cambricon/$"))  # the Chinese address
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("h1")).to_contain_text("寒武纪")
        expect(page.locator("#offerings-title + h3")).to_contain_text("算力芯片")

        # The header stays on one line on a laptop-sized window, in both languages (the
        # language switch used to wrap alone at 1,100 px).
        for width in (1000, 1100, 1280):
            for locale in ("en-US", "zh-CN"):
                narrow = browser.new_page(locale=locale, viewport={"width": width, "height": 600})
                narrow.goto(live_server.url + "/participants/")
                boxes = [narrow.locator(s).bounding_box() for s in (".brand", "form.lang")]
                assert abs(boxes[0]["y"] - boxes[1]["y"]) < 20, (width, locale, boxes)
                narrow.close()
        browser.close()


def test_paging_a_search_shows_the_top_of_the_new_page(live_server, db, chromium):
    """The next page of a search opens at the top of its results, with htmx (show:top)
    and without JavaScript (the link's #listing anchor); it used to stay at the bottom."""
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import make_chain

    make_chain(45)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        for javascript in (True, False):
            page = browser.new_page(locale="en-US", java_script_enabled=javascript)
            page.set_default_timeout(15_000)
            page.goto(live_server.url + "/participants/?q=bulk")
            if javascript:
                page.wait_for_function("() => window.htmx !== undefined")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.locator(".pagination").get_by_role("link", name="Next →").click()
            expect(page).to_have_url(re.compile(r"[?&]page=2"))
            expect(page.locator(".pagination [aria-current=page]")).to_have_text("2")
            page.wait_for_timeout(300)  # let the scroll settle
            top = page.evaluate("document.getElementById('listing').getBoundingClientRect().top")
            assert abs(top) < 5, (javascript, top)
            page.close()
        browser.close()


def test_on_a_phone_the_filters_fold_into_a_disclosure(live_server, chain, chromium):
    """At 390 px the filter column is a closed disclosure with the number of filters
    chosen, so the results come first; it opens with or without JavaScript, and stays
    open while htmx swaps the listing. On a wide screen it is simply open."""
    from playwright.sync_api import expect, sync_playwright

    for i in range(12):
        make_participant(f"chipmaker-{i}", ("ai-chips",), country="CN", description_en="x " * 80)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        phone = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
        phone.set_default_timeout(15_000)
        phone.goto(live_server.url + "/segments/ai-chips/?kind=vendor")
        phone.wait_for_function("() => window.htmx !== undefined")
        summary = phone.locator("#filters-box > summary")
        expect(summary).to_be_visible()
        expect(summary).to_have_text("Filters and order 1 active")
        expect(phone.locator("#id_country")).to_be_hidden()
        results_top = "document.querySelector('.results h2').getBoundingClientRect().top + window.scrollY"
        folded = phone.evaluate(results_top)
        summary.click()
        expect(phone.locator("#id_country")).to_be_visible()
        assert phone.evaluate(results_top) > folded + 300  # the column was folded away
        phone.select_option("#id_country", "CN")
        expect(phone).to_have_url(re.compile(r"country=CN"))
        expect(summary).to_have_text("Filters and order 2 active")
        expect(phone.locator("#id_country")).to_be_visible()  # still open after the swap

        plain = browser.new_page(
            locale="en-US", viewport={"width": 390, "height": 844}, java_script_enabled=False
        )
        plain.goto(live_server.url + "/participants/")
        # Without JavaScript the language switch keeps its button, and it works.
        plain.select_option("#lang-select", "zh-hans")
        plain.locator("form.lang button").click()
        expect(plain.locator("html")).to_have_attribute("lang", "zh-hans")
        plain.select_option("#lang-select", "en")
        plain.locator("form.lang button").click()
        expect(plain.locator("html")).to_have_attribute("lang", "en")
        expect(plain.locator("#id_kind")).to_be_hidden()
        plain.locator("#filters-box > summary").click()
        plain.select_option("#id_kind", "vendor")
        plain.get_by_role("button", name="Apply filters").click()
        expect(plain).to_have_url(re.compile(r"kind=vendor"))
        expect(plain.locator("#filters-box > summary")).to_have_text("Filters and order 1 active")

        wide = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        wide.goto(live_server.url + "/segments/ai-chips/?kind=vendor")
        expect(wide.locator("#filters-box > summary")).to_be_hidden()
        expect(wide.locator("#id_country")).to_be_visible()
        browser.close()


TARGETS = """() => {
  const small = [];
  const targets = 'a, button, input:not([type=hidden]), select, summary, textarea';
  for (const el of document.querySelectorAll(targets)) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.closest('.hp, .skip')) continue;
    if (box.width >= 24 && box.height >= 24) continue;
    if (el.tagName === 'A' && el.parentElement.tagName === 'P') continue;  // a link inside a sentence
    const label = el.closest('label');
    if (label && label.getBoundingClientRect().height >= 24) continue;  // the label is the target too
    const text = (el.textContent || el.name).trim().slice(0, 30);
    small.push(`${el.tagName} "${text}" ${box.width}x${box.height}`);
  }
  return small;
}"""


def test_touch_targets_are_at_least_24_px(live_server, chain, chromium):
    """WCAG 2.5.8: every link, button and field that stands on its own is at least 24 px
    each way on a phone and a desktop (the stats table's links were 16 px high)."""
    from playwright.sync_api import sync_playwright

    pages = ["/", "/segments/ai-chips/", "/participants/?q=chip", "/participants/nvidia/", "/submit/"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        for width in (390, 1280):
            page = browser.new_page(locale="en-US", viewport={"width": width, "height": 900})
            for url in pages:
                page.goto(live_server.url + url)
                assert page.evaluate(TARGETS) == [], (width, url)
            page.close()
        browser.close()


def test_a_submission_round_trip_through_moderation(live_server, chain, chromium):
    """Someone proposes a listing on /submit/; a moderator corrects a field in the review
    form and approves it; the submitter's status page then links to the new public page."""
    from playwright.sync_api import expect, sync_playwright

    from tests.curation import PASSWORD, make_user

    make_user("mona", "Moderators")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        public = browser.new_page(locale="en-US")
        public.set_default_timeout(15_000)
        public.goto(live_server.url + "/submit/")
        public.fill("#id_name_en", "Moonshot AI")
        public.fill("#id_website", "https://www.moonshot.cn/")
        public.select_option("#id_country", "CN")
        public.fill("#id_founded", "2023")
        public.select_option("#id_offerings-0-segment", "foundation-models")
        public.fill("#id_offerings-0-name", "Kimi")
        public.fill("#id_suppliers-0-participant", "nvidia")
        public.select_option("#id_suppliers-0-kind", "chips")
        public.fill("#id_submitter_name", "Li Wei")
        public.fill("#id_submitter_email", "li.wei@example.org")
        public.get_by_role("button", name="Send for review").click()
        expect(public.locator(".status-label")).to_have_text("Pending review")
        status_url = public.url

        admin = browser.new_page(locale="en-US")
        admin.set_default_timeout(15_000)
        admin.goto(live_server.url + "/admin/")
        admin.fill("#id_username", "mona")
        admin.fill("#id_password", PASSWORD)
        admin.get_by_role("button", name="Log in").click()
        admin.get_by_text("1 pending submission").click()
        admin.get_by_role("link", name="New listing: Moonshot AI").click()
        expect(admin.locator("#id_name_en")).to_have_value("Moonshot AI")
        expect(admin.locator("#id_offerings-0-name")).to_have_value("Kimi")
        admin.fill("#id_name_zh", "月之暗面")
        admin.get_by_role("button", name="Approve").click()
        expect(admin.locator(".messagelist")).to_contain_text("Approved: Moonshot AI is in the directory.")

        public.goto(status_url)
        expect(public.locator(".status-label")).to_have_text("Approved")
        public.get_by_role("link", name="See Moonshot AI in the directory →").click()
        expect(public.locator("h1")).to_contain_text("Moonshot AI")
        expect(public.locator("h1")).to_contain_text("月之暗面")
        expect(public.locator(".chain-links")).to_contain_text("NVIDIA")
        browser.close()
