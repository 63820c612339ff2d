"""The Simplified Chinese catalogue: complete, consistent with its compiled .mo, and used.

The .po is read by a small parser here (no polib, no gettext tools), because a fresh
clone must show Chinese from the committed .mo alone.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from tests.conftest import make_participant
from tests.curation import make_user

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def parse_po(path):
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr (a list), flags."""
    entries = []
    entry, field = None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": [], "flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.fullmatch(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")", line):
            keyword, text = match.group(1), ast.literal_eval(match.group(2))
            if keyword.startswith("msgstr"):
                entry["msgstr"].append(text)
                field = ("msgstr", len(entry["msgstr"]) - 1)
            else:
                entry[keyword] = text
                field = (keyword, None)
        elif line.startswith('"'):  # continuation of the previous keyword's string
            text = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += text
            else:
                entry[field[0]] += text
        else:
            raise ValueError(f"unexpected line in {path.name}: {line!r}")
    return entries


ENTRIES = parse_po(PO_FILE)
HEADER, MESSAGES = ENTRIES[0], ENTRIES[1:]


def test_header_declares_chinese_with_a_single_plural_form():
    assert HEADER["msgid"] == "" and "fuzzy" not in HEADER["flags"]
    header = HEADER["msgstr"][0]
    assert "Language: zh_Hans\n" in header
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header
    assert "charset=UTF-8" in header


def test_every_message_is_translated_and_none_is_fuzzy():
    assert len(MESSAGES) > 350  # the whole UI, admin included, not a sample
    untranslated = [e["msgid"] for e in MESSAGES if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in MESSAGES if "fuzzy" in e["flags"]]
    assert untranslated == [] and fuzzy == []
    # nplurals=1: exactly one form, also for messages with a plural.
    assert all(len(e["msgstr"]) == 1 for e in MESSAGES)


def test_translations_keep_every_placeholder():
    for entry in MESSAGES:
        expected = set(PLACEHOLDER.findall(entry["msgid"]))
        if entry["msgid_plural"] is not None:
            expected |= set(PLACEHOLDER.findall(entry["msgid_plural"]))
        assert set(PLACEHOLDER.findall(entry["msgstr"][0])) == expected, entry["msgid"]


def test_one_word_for_organisation():
    """Participants are 机构 in every title, count and message, never 参与方 here and
    企业与机构 there."""
    mixed = [m["msgid"] for m in MESSAGES if any(w in "".join(m["msgstr"]) for w in ("参与方", "企业"))]
    assert mixed == []


def test_translations_are_chinese():
    # Every msgstr but pure names/codes contains CJK text: catches English left as the
    # "translation" and a msgstr pasted onto the wrong entry in another language.
    not_chinese = [e["msgid"] for e in MESSAGES if not re.search(r"[\u4e00-\u9fff]", e["msgstr"][0])]
    assert not_chinese == []


def test_the_committed_mo_matches_the_po():
    """Every .po translation comes back from gettext in zh-hans, so the compiled .mo in
    git is the one built from this .po (Django's own zh_Hans catalogue ranks below ours)."""
    assert MO_FILE.is_file()
    mismatches = []
    with translation.override("zh-hans"):
        for entry in MESSAGES:
            context, msgid, expected = entry["msgctxt"], entry["msgid"], entry["msgstr"][0]
            if entry["msgid_plural"] is not None:
                got = (
                    translation.npgettext(context, msgid, entry["msgid_plural"], 2)
                    if context
                    else (translation.ngettext(msgid, entry["msgid_plural"], 2))
                )
            else:
                got = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
            if got != expected:
                mismatches.append(msgid)
    assert mismatches == []


@pytest.fixture
def chain(db):
    nvidia = make_participant("nvidia", name_en="NVIDIA", name_zh="英伟达", open_source="partly")
    azure = make_participant("azure", ("cloud-compute",), name_en="Microsoft Azure", name_zh="微软云")
    nvidia.supplies.create(customer=azure, kind="chips")
    return nvidia


ZH = {"accept-language": "zh-hans"}

# Page -> translated UI strings that must appear on it in Chinese (and their English).
PAGES = {
    "/": (["产业链图谱", "名录数据概览", "各层级机构数量", "上游", "下游"], "The directory in numbers"),
    "/participants/": (["全部机构", "应用筛选", "全部国家/地区", "2 家机构"], "Apply filters"),
    "/participants/nvidia/": (
        ["产品与服务", "产业链位置", "下游客户", "供应芯片给", "开源情况", "部分开源", "提交更正"],
        "Suggest a correction",
    ),
    "/submit/": (["提交收录", "机构信息", "产业链位置（选填）", "提交审核"], "Send for review"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_speak_chinese_when_the_browser_asks(client, chain, url):
    chinese, english = PAGES[url]
    response = client.get(url, headers=ZH)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    for text in chinese:
        assert text in body, text
    assert english not in body


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_english_stays_the_default(client, chain, url):
    for headers in ({"accept-language": "en-GB,en;q=0.9"}, {}):
        body = client.get(url, headers=headers).content.decode()
        assert '<html lang="en">' in body
        assert PAGES[url][1] in body
        assert "产业链图谱" not in body  # the nav's "Chain map"


@pytest.mark.django_db
def test_the_404_page_is_translated_and_adds_no_query(client, django_assert_num_queries):
    # One query: the participant lookup that fails; the page itself reads no table.
    with django_assert_num_queries(1):
        response = client.get("/participants/no-such-company/", headers=ZH)
    body = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="zh-hans">' in body and "页面不存在" in body and "返回产业链图谱" in body

    with django_assert_num_queries(0):  # no view ran at all
        response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="en">' in body and "Page not found" in body and "页面不存在" not in body


@pytest.mark.django_db
def test_the_language_switch_carries_over_to_every_page(client, chain):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "提交审核" in client.get("/submit/").content.decode()
    response = client.get("/participants/missing/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_speaks_chinese_too(client, chain):
    client.force_login(make_user("root", superuser=True))
    index = client.get("/admin/", headers=ZH).content.decode()
    assert "产业链名录" in index and "机构" in index and "审核队列" in index
    changelist = client.get("/admin/directory/participant/", headers=ZH).content.decode()
    assert "发布所选机构" in changelist and "最近核实" in changelist

    response = client.post(
        "/admin/directory/participant/",
        {"action": "feature", "_selected_action": [str(chain.pk)]},
        headers=ZH,
        follow=True,
    )
    assert "已设为精选 1 家机构。" in response.content.decode()
