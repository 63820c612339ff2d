"""Chinese and English: Accept-Language, the set_language switcher, model text fallback."""

import pytest

pytestmark = pytest.mark.django_db


def test_switching_to_chinese_keeps_the_page(client, small_chain):
    response = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/segments/ai-chips/?country=CN"}
    )
    assert response.status_code == 302 and response["Location"] == "/segments/ai-chips/?country=CN"
    body = client.get(response["Location"]).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "算力芯片" in body and "寒武纪" in body


def test_switching_back_to_english(client, small_chain):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body and "AI chips" in body


def test_accept_language_chooses_chinese(client, small_chain):
    body = client.get("/participants/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "英伟达" in body and "智谱" in body
    # Country names in the facet follow the language too.
    assert "中国 (2)" in body


def test_every_page_has_the_switcher_pointing_back_to_itself(client, small_chain):
    for url in ("/", "/segments/ai-chips/", "/participants/?q=ai", "/participants/nvidia/"):
        body = client.get(url).content.decode()
        assert 'action="/i18n/setlang/"' in body
        assert f'name="next" type="hidden" value="{url.replace("&", "&amp;")}"' in body
