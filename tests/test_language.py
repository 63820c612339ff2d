"""Chinese and English: each page at an address per language (English where it always
was, Chinese under /zh-hans/), visitors led to their language, hreflang alternates, the
sitemap in both languages, the set_language switcher, Accept-Language."""

import re
from xml.etree import ElementTree

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_switching_to_chinese_keeps_the_page(client, small_chain):
    response = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/segments/ai-chips/?country=CN"}
    )
    assert response.status_code == 302 and response["Location"] == "/zh-hans/segments/ai-chips/?country=CN"
    body = client.get(response["Location"]).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "算力芯片" in body and "寒武纪" in body


def test_switching_to_chinese_from_a_chinese_browser_goes_straight_to_the_page(small_chain):
    response = Client().post(
        "/i18n/setlang/",
        {"language": "zh-hans", "next": "/participants/nvidia/"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response["Location"] == "/zh-hans/participants/nvidia/"


def test_switching_back_to_english(client, small_chain):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/zh-hans/"})
    assert response["Location"] == "/"
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body and "AI chips" in body


def test_each_language_has_its_own_addresses(small_chain):
    plain = Client()
    english = plain.get("/participants/nvidia/").content.decode()
    chinese = plain.get("/zh-hans/participants/nvidia/").content.decode()
    assert '<html lang="en">' in english and "<h1>NVIDIA" in english
    assert '<html lang="zh-hans">' in chinese and "<h1>英伟达" in chinese
    # The page's own links stay in its language.
    assert 'href="/zh-hans/segments/ai-chips/"' in chinese and 'href="/segments/ai-chips/"' in english


def test_the_english_addresses_linked_before_still_answer_in_english(small_chain):
    """Every address of the URL contract keeps its page; a browser that only prefers
    Chinese is not moved off an address someone linked (its other language is named)."""
    for path in ("/participants/?country=CN&page=1", "/segments/ai-chips/", "/chain/flows/?kind=chips"):
        response = Client().get(path, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
        assert response.status_code == 200 and '<html lang="en">' in response.content.decode(), path


def test_the_home_page_leads_chinese_browsers_to_chinese(small_chain):
    chinese = Client().get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert chinese.status_code == 302 and chinese["Location"] == "/zh-hans/"  # not cached for good
    assert Client().get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").status_code == 200
    assert Client().get("/").status_code == 200  # no preference: English


def test_the_redirects_do_not_depend_on_the_previous_request(small_chain):
    """A worker's thread keeps the language of its previous request: a Chinese page
    served just before must not stop / from leading the next visitor to Chinese."""
    plain = Client()
    assert plain.get("/zh-hans/participants/").status_code == 200
    assert plain.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")["Location"] == "/zh-hans/"
    assert plain.get("/zh-hans/").status_code == 200
    assert plain.get("/en/segments/ai-chips/")["Location"] == "/segments/ai-chips/"
    assert plain.get("/zh-hans/").status_code == 200
    assert '<html lang="en">' in plain.get("/participants/").content.decode()
    assert 'hreflang="zh-Hans"' in plain.get("/participants/").content.decode()


def test_a_visitor_who_chose_chinese_is_led_to_chinese_pages(small_chain):
    chosen = Client()
    chosen.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    response = chosen.get("/participants/?country=CN", HTTP_ACCEPT_LANGUAGE="en-US")
    assert response.status_code == 302 and response["Location"] == "/zh-hans/participants/?country=CN"
    assert chosen.get("/api/participants/").status_code == 200  # the API has no language
    assert chosen.get("/participants/export.csv").status_code == 200
    # A form is never sent elsewhere.
    assert chosen.post("/participants/nvidia/suggest/", {}).status_code == 200


def test_a_guessed_english_prefix_leads_to_the_english_address(small_chain):
    response = Client().get("/en/participants/nvidia/?x=1")
    assert response.status_code == 301 and response["Location"] == "/participants/nvidia/?x=1"
    assert Client().get("/en/no-such-page/").status_code == 404


def test_the_api_and_the_files_have_no_language_prefix(small_chain):
    plain = Client()
    for path in ("/api/participants/", "/participants/export.csv", "/robots.txt", "/sitemap.xml", "/healthz"):
        assert plain.get(path).status_code == 200, path
    assert plain.get("/zh-hans/api/participants/").status_code == 404
    assert plain.get("/zh-hans/robots.txt").status_code == 404


def test_every_page_names_its_other_language(small_chain):
    plain = Client()
    for path in ("/", "/segments/ai-chips/", "/participants/?q=ai", "/participants/nvidia/", "/chain/flows/"):
        query = path.replace("&", "&amp;")
        for address in (path, f"/zh-hans{path}"):
            body = plain.get(address).content.decode()
            links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', body))
            assert links == {
                "en": f"http://testserver{query}",
                "zh-Hans": f"http://testserver/zh-hans{query}",
                "x-default": f"http://testserver{query}",
            }, address
        # The switcher sends the visitor back to this page.
        body = plain.get(path).content.decode()
        assert 'action="/i18n/setlang/"' in body
        assert f'name="next" type="hidden" value="{query}"' in body
    api = plain.get("/api/").content.decode()
    assert 'hreflang="' not in api


def test_the_sitemap_lists_both_languages_with_their_alternates(small_chain):
    sitemap = ElementTree.fromstring(Client().get("/sitemap.xml").content)  # noqa: S314 (our own output)
    locations = {e.text for e in sitemap.iter(f"{SITEMAP}loc")}
    assert {
        "http://testserver/participants/nvidia/",
        "http://testserver/zh-hans/participants/nvidia/",
    } <= locations
    entry = next(
        u
        for u in sitemap.iter(f"{SITEMAP}url")
        if u.find(f"{SITEMAP}loc").text.endswith("/zh-hans/participants/nvidia/")
    )
    alternates = {a.get("hreflang"): a.get("href") for a in entry.iter(f"{XHTML}link")}
    assert alternates == {
        "en": "http://testserver/participants/nvidia/",
        "zh-hans": "http://testserver/zh-hans/participants/nvidia/",
        "x-default": "http://testserver/participants/nvidia/",
    }


def test_accept_language_chooses_chinese_at_the_home_page(small_chain):
    response = Client().get("/", headers={"accept-language": "zh-CN,zh;q=0.9"}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [("/zh-hans/", 302)]
    assert '<html lang="zh-hans">' in body and "英伟达" in body
    listing = Client().get("/zh-hans/participants/").content.decode()
    assert "英伟达" in listing and "智谱" in listing
    assert "中国 (2)" in listing  # country names in the facet follow the language too
