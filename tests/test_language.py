"""Chinese and English: language-prefixed addresses (/en/…, /zh-hans/…), the redirects of
the addresses linked before the prefixes, hreflang alternates, the sitemap in both
languages, the set_language switcher, Accept-Language."""

import re
from xml.etree import ElementTree

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_switching_to_chinese_keeps_the_page(client, small_chain):
    response = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/en/segments/ai-chips/?country=CN"}
    )
    assert response.status_code == 302 and response["Location"] == "/zh-hans/segments/ai-chips/?country=CN"
    body = client.get(response["Location"]).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "算力芯片" in body and "寒武纪" in body


def test_switching_back_to_english(client, small_chain):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/en/"})
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/zh-hans/"})
    assert response["Location"] == "/en/"
    body = client.get("/en/").content.decode()
    assert '<html lang="en">' in body and "AI chips" in body


def test_each_language_has_its_own_addresses(small_chain):
    plain = Client()
    english = plain.get("/en/participants/nvidia/").content.decode()
    chinese = plain.get("/zh-hans/participants/nvidia/").content.decode()
    assert '<html lang="en">' in english and "<h1>NVIDIA" in english
    assert '<html lang="zh-hans">' in chinese and "<h1>英伟达" in chinese
    # The page's own links stay in its language.
    assert 'href="/zh-hans/segments/ai-chips/"' in chinese and 'href="/en/segments/ai-chips/"' in english


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("/participants/?country=CN&page=2", "", "/en/participants/?country=CN&page=2"),
        ("/participants/nvidia/", "zh-CN,zh;q=0.9", "/zh-hans/participants/nvidia/"),
        ("/segments/ai-chips/", "en-GB", "/en/segments/ai-chips/"),
        ("/chain/flows/?kind=chips", "zh-hans", "/zh-hans/chain/flows/?kind=chips"),
    ],
)
def test_addresses_linked_before_the_prefixes_redirect_permanently(small_chain, path, language, expected):
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 301 and response["Location"] == expected
    assert "Accept-Language" in response["Vary"]


def test_the_root_follows_the_visitors_language(small_chain):
    chinese = Client().get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert chinese.status_code == 302 and chinese["Location"] == "/zh-hans/"  # not cached for good
    assert Client().get("/", HTTP_ACCEPT_LANGUAGE="en-US").headers["Location"] == "/en/"
    chosen = Client()
    chosen.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert chosen.get("/", HTTP_ACCEPT_LANGUAGE="en-US")["Location"] == "/zh-hans/"  # the choice wins
    assert Client().get("/no-such-page/").status_code == 404


def test_the_api_and_the_files_have_no_language_prefix(small_chain):
    plain = Client()
    for path in ("/api/participants/", "/participants/export.csv", "/robots.txt", "/sitemap.xml", "/healthz"):
        assert plain.get(path).status_code == 200, path
    assert plain.get("/en/api/participants/").status_code == 404
    assert plain.get("/zh-hans/robots.txt").status_code == 404


def test_every_page_names_its_other_language(small_chain):
    plain = Client()
    for path in ("/", "/segments/ai-chips/", "/participants/?q=ai", "/participants/nvidia/", "/chain/flows/"):
        body = plain.get(f"/en{path}").content.decode()
        links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', body))
        query = path.replace("&", "&amp;")
        assert links == {
            "en": f"http://testserver/en{query}",
            "zh-Hans": f"http://testserver/zh-hans{query}",
            "x-default": f"http://testserver{query}",  # leads each visitor to their language
        }, path
        # The switcher sends the visitor back to this page.
        assert 'action="/i18n/setlang/"' in body
        assert f'name="next" type="hidden" value="/en{query}"' in body


def test_the_sitemap_lists_both_languages_with_their_alternates(small_chain):
    sitemap = ElementTree.fromstring(Client().get("/sitemap.xml").content)  # noqa: S314 (our own output)
    locations = {e.text for e in sitemap.iter(f"{SITEMAP}loc")}
    assert {
        "http://testserver/en/participants/nvidia/",
        "http://testserver/zh-hans/participants/nvidia/",
    } <= locations
    entry = next(
        u
        for u in sitemap.iter(f"{SITEMAP}url")
        if u.find(f"{SITEMAP}loc").text.endswith("/en/participants/nvidia/")
    )
    alternates = {a.get("hreflang"): a.get("href") for a in entry.iter(f"{XHTML}link")}
    assert alternates["zh-hans"] == "http://testserver/zh-hans/participants/nvidia/"
    assert alternates["x-default"] == "http://testserver/participants/nvidia/"


def test_accept_language_chooses_chinese(small_chain):
    response = Client().get("/participants/", headers={"accept-language": "zh-CN,zh;q=0.9"}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [("/zh-hans/participants/", 301)]
    assert '<html lang="zh-hans">' in body
    assert "英伟达" in body and "智谱" in body
    # Country names in the facet follow the language too.
    assert "中国 (2)" in body


def test_a_form_sent_to_an_old_address_is_sent_again_not_lost(small_chain):
    """308 keeps the method and the data: a browser sends the same POST to the new address."""
    response = Client().post("/participants/nvidia/suggest/", {"founded": "1994"})
    assert response.status_code == 308 and response["Location"] == "/en/participants/nvidia/suggest/"
