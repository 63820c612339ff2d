""" "A–Z" on Chinese pages orders names by their pinyin, the same way on SQLite and
PostgreSQL and on both catalog backends; English pages keep the English names' order."""

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from directory.models import Participant, chinese_sort_key
from tests.conftest import make_participant

pytestmark = pytest.mark.django_db

NAMES = [
    # (slug, English name, Chinese name)
    ("zhipu-ai", "Zhipu AI", "智谱"),
    ("alibaba-cloud", "Alibaba Cloud", "阿里云"),
    ("nvidia", "NVIDIA", "英伟达"),
    ("anthropic", "Anthropic", ""),
    ("baidu", "Baidu", "百度"),
    ("moonshot-ai", "Moonshot AI", "月之暗面"),
    ("aishi", "PixVerse", "爱诗科技"),
]
IN_ENGLISH = ["Alibaba Cloud", "Anthropic", "Baidu", "Moonshot AI", "NVIDIA", "PixVerse", "Zhipu AI"]
# aishikeji, aliyun, anthropic, baidu, yingweida, yuezhianmian, zhipu
IN_CHINESE = ["爱诗科技", "阿里云", "Anthropic", "百度", "英伟达", "月之暗面", "智谱"]


@pytest.fixture
def named(db):
    cache.clear()
    for slug, en, zh in NAMES:
        make_participant(slug, name_en=en, name_zh=zh)
    yield
    cache.clear()


def _names(client, url, language):
    body = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return re.findall(r'<h3 class="card-title"><a href="(?:/zh-hans)?/participants/[^/]+/">([^<]+)</a>', body)


def test_the_key_is_the_pinyin_of_the_chinese_name():
    assert chinese_sort_key("智谱AI", "Zhipu AI") == "zhipuai"
    assert chinese_sort_key("月之暗面") == "yuezhianmian"
    assert chinese_sort_key("", "Anthropic, PBC") == "anthropicpbc"
    assert chinese_sort_key("绿色算力") == "lvsesuanli"


@pytest.mark.parametrize("backend", ["bitmap", "sql"])
def test_chinese_pages_order_by_pinyin_and_english_pages_by_name(client, named, backend):
    with override_settings(CATALOG_BACKEND=backend):
        assert _names(client, "/participants/", "zh-hans") == IN_CHINESE
        assert _names(client, "/participants/?ordering=-name", "zh-hans") == IN_CHINESE[::-1]
        assert _names(client, "/participants/?country=US", "zh-hans") == IN_CHINESE
        assert _names(client, "/participants/", "en") == IN_ENGLISH
        assert _names(client, "/participants/?ordering=-name", "en") == IN_ENGLISH[::-1]


def test_the_api_and_the_export_follow_the_language(client, named):
    api = client.get("/api/participants/?ordering=name", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert [p["slug"] for p in api["results"]][:3] == ["aishi", "alibaba-cloud", "anthropic"]
    export = b"".join(
        client.get("/participants/export.csv", HTTP_ACCEPT_LANGUAGE="zh-hans").streaming_content
    )
    assert [line.split(",")[0] for line in export.decode().splitlines()[1:3]] == ["PixVerse", "Alibaba Cloud"]


def test_a_rename_moves_the_participant_whichever_way_it_is_written(client, named, tmp_path):
    """Through save() (admin, moderation) and through the importer's bulk writes."""
    nvidia = Participant.objects.get(slug="nvidia")
    nvidia.name_zh = "阿达"  # "ada": first
    nvidia.save()
    cache.clear()
    assert _names(client, "/participants/", "zh-hans")[0] == "阿达"
    Participant.objects.filter(slug="nvidia").update(name_sort_zh="")  # as before the migration
    export = b"".join(client.get("/participants/export.csv").streaming_content).decode()
    path = tmp_path / "p.csv"
    path.write_text(export.replace("阿达", "智子"), encoding="utf-8")  # "zhizi": after zhipu
    call_command("import_participants", str(path))
    cache.clear()
    assert Participant.objects.get(slug="nvidia").name_sort_zh == "zhizi"
    assert _names(client, "/participants/", "zh-hans")[-2:] == ["智谱", "智子"]
