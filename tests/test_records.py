"""Compliance and risk records: validation (status and dates agree, a source required),
the ``record`` filter and its facet the same in the listing and the API with either
backend, the wording of a missing record, expired records shown as expired, the record
pages, /api/records/, the CSV import and export, and constant query counts."""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from directory.csvio import import_record_kinds, import_records
from directory.csvio.records import COLUMNS, KIND_COLUMNS
from directory.models import Record, RecordKind, Source
from tests.conftest import make_chain, make_participant, page_slugs
from tests.curation import make_user

pytestmark = pytest.mark.django_db

BACKENDS = ["bitmap", "sql"]
CAC, ENTITY, EU = "cac-genai-filing", "us-entity-list", "eu-gpai-code"
SEED_KINDS = Path(__file__).resolve().parent.parent / "data" / "seed" / "record-kinds.csv"


def make_kinds():
    """Three kinds of record: two with a badge on cards, one without; one in Chinese too."""
    rows = [
        (CAC, "Generative AI service filing (CAC)", "CN", "Cyberspace Administration of China", True),
        (ENTITY, "US Entity List", "US", "Bureau of Industry and Security", False),
        (EU, "EU GPAI code of practice", "EU", "European Commission", True),
    ]
    chinese = {
        "name_zh": "生成式人工智能服务备案",
        "authority_zh": "国家互联网信息办公室",
        "description_zh": "该服务已完成备案；备案不是质量认证。",
        "short_zh": "网信办备案",
    }
    return {
        slug: RecordKind.objects.create(
            slug=slug,
            name_en=name,
            jurisdiction=jurisdiction,
            authority_en=authority,
            description_en=f"{name}: it is not a quality certification.",
            badge=badge,
            short_en={CAC: "CAC filed", EU: "EU code"}.get(slug, ""),
            list_changes=slug != EU,
            order=order,
            **(chinese if slug == CAC else {}),
        )
        for order, (slug, name, jurisdiction, authority, badge) in enumerate(rows, 1)
    }


def add_record(participant, kind, sources=(), **fields):
    record = Record.objects.create(participant=participant, kind=kind, **fields)
    record.sources.set(sources)
    return record


@pytest.fixture
def records(small_chain):
    """Records in force, expired and revoked over small_chain plus a second Chinese model
    maker, one record of a draft participant (never shown), partial dates, Chinese notes,
    several sources, a title a spreadsheet would run as a formula."""
    kinds = make_kinds()
    chain = dict(small_chain)
    chain["ernie"] = make_participant(
        "ernie", ("foundation-models",), name_en="Baidu ERNIE", name_zh="文心", country="CN"
    )
    hidden = make_participant("hidden-lab", ("foundation-models",), country="CN", status="draft")
    cac_list = Source.objects.create(
        publisher="CAC",
        title="Filed generative AI services",
        published="2023-08",
        url="https://example.com/cac",
        checked=datetime.date(2025, 1, 15),
    )
    bis = Source.objects.create(publisher="BIS", title="Entity List additions", published="2022-12-15")
    formula = Source.objects.create(publisher="上海网信办", title="=list(1)", published="2024")
    commission = Source.objects.create(
        publisher="European Commission", title="Signatories", published="2025-08", url="https://example.eu/"
    )
    add_record(
        chain["zhipu"],
        kinds[CAC],
        [cac_list],
        identifier="Beijing-ZhipuQingyan-20230830S0001",
        entity_name="北京智谱华章科技有限公司",
        date="2023-08-31",
        checked=datetime.date(2025, 1, 15),
        notes_en="Filed as Zhipu Qingyan.",
        notes_zh="以“智谱清言”备案。",
    )
    add_record(chain["ernie"], kinds[CAC], [cac_list], date="2023-08")
    add_record(chain["azure"], kinds[CAC], [formula], authority="Shanghai CAC", role="deployer", date="2024")
    add_record(
        chain["cambricon"], kinds[CAC], [cac_list, formula], status="expired", date="2023", end_date="2024-06"
    )
    add_record(
        chain["cambricon"],
        kinds[ENTITY],
        [bis],
        date="2022-12-15",
        notes_en='Added with "affiliates",\nsee the rule.',
    )
    add_record(chain["openai"], kinds[EU], [commission], date="2025-08-01")
    add_record(chain["azure"], kinds[EU], [commission], status="revoked", date="2025-08", end_date="2025-10")
    add_record(hidden, kinds[CAC], [cac_list], date="2024-01")
    return chain


# Validation ----------------------------------------------------------------------------


@pytest.fixture
def record(small_chain):
    kind = make_kinds()[CAC]
    return Record(participant=small_chain["zhipu"], kind=kind, date="2024-05")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"end_date": "2024-04-30", "status": "expired"}, "end_date", "The end comes before the start."),
        ({"end_date": "2023"}, "end_date", "The end comes before the start."),
        ({"status": "expired"}, "end_date", "needs the date it ended"),
        ({"status": "revoked"}, "end_date", "needs the date it ended"),
        ({"status": "removed"}, "end_date", "needs the date it ended"),
        ({"end_date": "2025-01-31"}, "status", "no longer in force"),
        ({"date": "2024-13"}, "date", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"status": "lapsed", "end_date": "2025"}, "status", "not a valid choice"),
    ],
)
def test_full_clean_refuses_status_and_dates_that_disagree(record, fields, field, message):
    for name, value in fields.items():
        setattr(record, name, value)
    with pytest.raises(ValidationError) as caught:
        record.full_clean(exclude=["sources"])
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"date": "2024", "status": "expired", "end_date": "2024-05"},
        {"status": "removed", "end_date": "2025-02-28"},
        {"end_date": "2099-12-31"},  # in force until a future date
    ],
)
def test_full_clean_accepts_consistent_records(record, fields):
    for name, value in fields.items():
        setattr(record, name, value)
    record.full_clean(exclude=["sources"])


def test_an_end_date_in_the_current_year_or_month_has_not_passed(record):
    today = timezone.localdate()
    for end in (str(today.year), today.strftime("%Y-%m")):
        record.end_date = end
        record.full_clean(exclude=["sources"])


def test_an_end_given_as_a_year_is_not_before_a_start_within_that_year(record):
    record.status, record.end_date = "expired", "2024"
    record.full_clean(exclude=["sources"])


ADD_URL = "/admin/directory/record/add/"


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("root", superuser=True))
    return client


def _admin_post(participant, kind, **fields):
    form = {
        "participant": str(participant.pk),
        "kind": str(kind.pk),
        "status": "in force",
        "date": "2023-08-31",
        "identifier": "Beijing-ZhipuQingyan-20230830S0001",
        "notes_zh": "以“智谱清言”备案。",
    }
    form.update(fields)
    return form


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "A record needs at least one source."),
        ({"status": "expired", "with_source": True}, "needs the date it ended"),
        ({"end_date": "2020", "with_source": True}, "The end comes before the start."),
    ],
)
def test_the_admin_refuses_a_record_without_a_source_or_with_dates_that_disagree(
    admin_client, small_chain, fields, message
):
    kind, fields = make_kinds()[CAC], dict(fields)
    source = Source.objects.create(publisher="CAC", title="Filed services", published="2023-08")
    if fields.pop("with_source", False):
        fields["sources"] = [str(source.pk)]
    response = admin_client.post(ADD_URL, _admin_post(small_chain["zhipu"], kind, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Record.objects.exists() and not Record.history.exists()


def test_the_admin_adds_a_record_with_its_source_and_history(admin_client, small_chain):
    kind = make_kinds()[CAC]
    source = Source.objects.create(publisher="CAC", title="Filed services", published="2023-08")
    form = _admin_post(small_chain["zhipu"], kind, sources=[str(source.pk)])
    response = admin_client.post(ADD_URL, form)
    assert response.status_code == 302, response.context and response.context["errors"]
    record = Record.objects.get()
    assert (record.participant.slug, record.kind, record.status, record.date) == (
        "zhipu-ai",
        kind,
        "in force",
        "2023-08-31",
    )
    assert record.notes_zh == "以“智谱清言”备案。"
    assert list(record.sources.all()) == [source]
    history = record.history.get()
    assert history.history_type == "+" and history.history_user.username == "root"


def test_the_participant_admin_adds_records_inline_only_with_a_source(admin_client, small_chain):
    zhipu, kind = small_chain["zhipu"], make_kinds()[CAC]
    source = Source.objects.create(publisher="CAC", title="Filed services", published="2023-08")
    form = {
        **{k: getattr(zhipu, k) for k in ("name_en", "slug", "status", "website", "country", "kind")},
        "open_source": zhipu.open_source,
        **{
            f"{name}-{n}_FORMS": "0"
            for name in ("offerings", "supplied_by", "supplies")
            for n in ("TOTAL", "INITIAL")
        },
        "records-TOTAL_FORMS": "1",
        "records-INITIAL_FORMS": "0",
        "records-0-kind": str(kind.pk),
        "records-0-status": "in force",
        "records-0-date": "2023-08-31",
    }
    url = f"/admin/directory/participant/{zhipu.pk}/change/"
    refused = admin_client.post(url, form)
    assert refused.status_code == 200
    assert "A record needs at least one source." in refused.content.decode()
    assert not Record.objects.exists()
    response = admin_client.post(url, {**form, "records-0-sources": [str(source.pk)]})
    assert response.status_code == 302, response.context and response.context["errors"]
    record = Record.objects.get(participant=zhipu)
    assert list(record.sources.all()) == [source]
    assert record.history.get().history_user.username == "root"


# The filter and its facet: the listing and the API ---------------------------------------

PARITY = [
    (f"record={CAC}", {"zhipu-ai", "ernie", "azure"}),  # not Cambricon's expired one, not the draft
    (f"record={ENTITY}", {"cambricon"}),
    (f"record={EU}", {"openai"}),  # not Azure's revoked one
    (f"record={CAC}&record={ENTITY}", {"zhipu-ai", "ernie", "azure", "cambricon"}),
    (f"record={EU}&record={EU}", {"openai"}),
    (f"record={CAC}&country=CN", {"zhipu-ai", "ernie"}),
    (f"record={CAC}&segment=foundation-models", {"zhipu-ai", "ernie"}),
    (f"record={ENTITY}&country=US", set()),
    (f"record={EU}&record={CAC}&tier=midstream", {"openai", "zhipu-ai", "ernie"}),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_record_filter_gives_the_same_participants_in_the_listing_and_the_api(client, records, backend):
    with override_settings(CATALOG_BACKEND=backend):
        for query, expected in PARITY:
            page = client.get(f"/participants/?{query}")
            assert page.status_code == 200, query
            assert set(page_slugs(page.context["listing"])) == expected, (backend, query)
            api = client.get(f"/api/participants/?{query}&page_size=100")
            assert api.status_code == 200, query
            assert {p["slug"] for p in api.json()["results"]} == expected, (backend, query)
            assert api.json()["count"] == len(expected)
        segment_page = client.get(f"/segments/foundation-models/?record={CAC}&record={ENTITY}")
        assert set(page_slugs(segment_page.context["listing"])) == {"zhipu-ai", "ernie"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("query", "counts"),
    [
        ("", {CAC: 3, ENTITY: 1, EU: 1}),
        ("country=CN", {CAC: 2, ENTITY: 1, EU: 0}),
        (f"record={CAC}", {CAC: 3, ENTITY: 1, EU: 1}),  # counted without its own filter
        ("segment=ai-chips", {CAC: 0, ENTITY: 1, EU: 0}),  # Cambricon's filing has expired
    ],
)
def test_record_facet_counts_only_records_in_force_of_published_participants(
    client, records, backend, query, counts
):
    with override_settings(CATALOG_BACKEND=backend):
        response = client.get(f"/participants/?{query}")
    assert response.status_code == 200
    options = response.context["listing"].facets["record"]
    assert {o.value: o.count for o in options} == counts
    body = response.content.decode()
    for option in options:
        checked = " checked" if f"record={option.value}" in query else ""
        disabled = " disabled" if option.count == 0 and not checked else ""
        assert (
            f'<input type="checkbox" name="record" value="{option.value}"{checked}{disabled}> '
            f'{option.label} <span class="n">{option.count}</span>'
        ) in body


def test_cards_show_badges_of_kinds_with_a_badge_held_in_force(client, records):
    body = client.get("/participants/").content.decode()
    assert body.count('<span class="badge-record">CAC filed</span>') == 3
    assert body.count('<span class="badge-record">EU code</span>') == 1  # OpenAI, not Azure's revoked
    assert '<span class="badge-record">US Entity List</span>' not in body  # no badge for that kind
    chinese = client.get("/participants/?country=CN", headers={"accept-language": "zh-hans"})
    assert chinese.content.decode().count('<span class="badge-record">网信办备案</span>') == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unknown_kind_is_a_note_on_the_page_and_a_400_in_the_api(client, records, backend):
    with override_settings(CATALOG_BACKEND=backend):
        page = client.get(f"/participants/?record=no-such-kind&record={ENTITY}")
        assert page.status_code == 200
        assert "Unknown kind of record “no-such-kind” ignored." in page.content.decode()
        assert set(page_slugs(page.context["listing"])) == {"cambricon"}  # the good value kept
        api = client.get("/api/participants/?record=no-such-kind")
    assert api.status_code == 400
    assert "record" in api.json()["errors"]


# The participant page ------------------------------------------------------------------


def test_a_participant_without_records_says_only_that_there_is_none_in_chainsite(client, records):
    body = client.get("/participants/nvidia/").content.decode()
    section = body[body.index('<section class="records-section"') :]
    section = section[: section.index("</section>")]
    assert (
        '<p class="muted">No record in chainsite. <a href="/records/#how">How records are added</a></p>'
    ) in section
    assert '<ul class="records">' not in section
    lowered = body.lower()
    for word in ("non-compliant", "noncompliant", "not compliant", "non-compliance", "violation", "unfiled"):
        assert word not in lowered
    how = client.get("/records/").content.decode()
    assert '<section id="how"' in how and "It says nothing about whether an organisation complies" in how


def test_expired_and_revoked_records_are_shown_with_their_status_and_end(client, records):
    body = client.get("/participants/cambricon/").content.decode()
    assert "No record in chainsite." not in body
    in_force, expired = (
        body.index('<li class="record status-in-force">'),
        body.index('<li class="record status-expired">'),
    )
    assert in_force < expired  # in force first
    assert '<span class="record-status">expired</span>' in body
    assert '<span class="link-when">2023 to 2024-06</span>' in body
    assert '<span class="link-when">since 2022-12-15</span>' in body
    assert "Added with &quot;affiliates&quot;,\nsee the rule." in body
    azure = client.get("/participants/azure/").content.decode()
    assert '<span class="record-status">revoked</span>' in azure
    assert '<span class="link-when">2025-08 to 2025-10</span>' in azure
    assert '<span class="muted">· deployer</span>' in azure
    zhipu = client.get("/participants/zhipu-ai/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "以“智谱清言”备案。" in zhipu and "Beijing-ZhipuQingyan-20230830S0001" in zhipu
    assert "Filed generative AI services" in zhipu  # its source


# /records/ and /records/<kind>/ ----------------------------------------------------------


def holder_slugs(response):
    return [r.participant.slug for r in response.context["page"].object_list]


def test_the_records_page_lists_every_kind_with_its_holders_in_force(client, records):
    response = client.get("/records/")
    assert response.status_code == 200
    body = response.content.decode()
    for slug, name, holders in (
        (CAC, "Generative AI service filing (CAC)", "3 holders"),
        (ENTITY, "US Entity List", "1 holder"),
        (EU, "EU GPAI code of practice", "1 holder"),
    ):
        assert f'<a href="/records/{slug}/">{name}</a> <span class="n">{holders}</span>' in body


def test_the_records_page_lists_kinds_in_their_order(client, records):
    RecordKind.objects.filter(slug=ENTITY).update(order=0)
    body = client.get("/records/").content.decode()
    assert re.findall(r'<li><a href="/records/([-a-z]+)/">', body) == [ENTITY, CAC, EU]


@pytest.mark.parametrize(
    ("query", "expected", "note"),
    [
        ("", ["azure", "zhipu-ai", "ernie", "cambricon"], ""),  # in force first, newest first
        ("country=US", ["azure"], ""),
        ("country=cn", ["zhipu-ai", "ernie", "cambricon"], ""),
        ("segment=ai-chips", ["cambricon"], ""),
        ("segment=foundation-models&country=CN", ["zhipu-ai", "ernie"], ""),
        ("country=XX", ["azure", "zhipu-ai", "ernie", "cambricon"], "Unknown country “XX” ignored."),
        ("segment=nope", ["azure", "zhipu-ai", "ernie", "cambricon"], "Unknown segment “nope” ignored."),
        ("page=abc", ["azure", "zhipu-ai", "ernie", "cambricon"], ""),
    ],
)
def test_a_kind_page_lists_its_holders_filtered_by_segment_and_country(
    client, records, query, expected, note
):
    response = client.get(f"/records/{CAC}/?{query}")
    assert response.status_code == 200
    assert holder_slugs(response) == expected
    body = response.content.decode()
    assert "Cyberspace Administration of China · CN" in body
    assert "it is not a quality certification" in body
    assert f"<h2>{len(expected)} record{'s' if len(expected) > 1 else ''}</h2>" in body
    assert "hidden-lab" not in body
    if note:
        assert f'<div class="notes" role="status"><ul><li>{note}</li></ul></div>' in body
    else:
        assert '<div class="notes"' not in body


def test_a_kind_page_shows_expired_records_as_expired_and_is_404_for_an_unknown_kind(client, records):
    body = client.get(f"/records/{CAC}/?segment=ai-chips").content.decode()
    assert '<a href="/participants/cambricon/">Cambricon</a>' in body
    assert '<span class="record-status">expired</span>' in body and "2023 to 2024-06" in body
    assert client.get("/records/no-such-kind/").status_code == 404
    assert client.get("/records/no-such-kind/?country=CN").status_code == 404


def test_a_kind_page_in_chinese_shows_the_chinese_description(client, records):
    response = client.get(f"/records/{CAC}/", headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "该服务已完成备案；备案不是质量认证。" in body and "国家互联网信息办公室" in body
    assert "生成式人工智能服务备案" in body
    assert "it is not a quality certification" not in body
    # A kind without a Chinese description falls back to English.
    english = client.get(f"/records/{EU}/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "EU GPAI code of practice: it is not a quality certification." in english


# /api/records/ and the participant in the API ----------------------------------------------


def api_records(client, query=""):
    response = client.get(f"/api/records/?{query}")
    assert response.status_code == 200, response.content
    return [(r["participant"], r["kind"], r["status"]) for r in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"kind={CAC}", ["azure", "cambricon", "ernie", "zhipu-ai"]),  # the expired one too
        (f"kind={CAC}&status=in+force", ["azure", "ernie", "zhipu-ai"]),
        ("status=expired", ["cambricon"]),
        ("status=revoked", ["azure"]),
        ("participant=cambricon", ["cambricon", "cambricon"]),
        ("participant=hidden-lab", []),
        ("country=US", ["azure", "azure", "openai"]),
        ("segment=ai-chips", ["cambricon", "cambricon"]),
    ],
)
def test_api_records_filters(client, records, query, expected):
    found = api_records(client, query)
    assert sorted(slug for slug, _, _ in found) == expected
    if "kind=" in query:
        assert {kind for _, kind, _ in found} == {CAC}
    if "status=" in query:
        assert {status for _, _, status in found} == {query.split("status=")[1].replace("+", " ")}


def test_api_records_lists_published_participants_records_with_their_sources(client, records):
    everything = api_records(client)
    assert len(everything) == 7 and "hidden-lab" not in {slug for slug, _, _ in everything}
    assert [kind for _, kind, _ in everything] == [CAC] * 4 + [ENTITY] + [EU] * 2  # by kind order
    item = client.get("/api/records/?participant=zhipu-ai").json()["results"][0]
    assert item == {
        "participant": "zhipu-ai",
        "kind": CAC,
        "authority": "",
        "identifier": "Beijing-ZhipuQingyan-20230830S0001",
        "entity_name": "北京智谱华章科技有限公司",
        "role": "",
        "status": "in force",
        "date": "2023-08-31",
        "end_date": "",
        "checked": "2025-01-15",
        "notes_en": "Filed as Zhipu Qingyan.",
        "notes_zh": "以“智谱清言”备案。",
        "sources": [
            {
                "publisher": "CAC",
                "title": "Filed generative AI services",
                "published": "2023-08",
                "url": "https://example.com/cac",
                "checked": "2025-01-15",
            }
        ],
    }


@pytest.mark.parametrize("query", ["kind=no-such-kind", "status=lapsed", "country=XX", "segment=nope"])
def test_api_records_refuses_bad_values_naming_the_parameter(client, records, query):
    response = client.get(f"/api/records/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [query.split("=")[0]]


def test_records_are_in_the_participant_detail_of_the_api(client, records):
    cambricon = client.get("/api/participants/cambricon/").json()
    assert [(r["kind"], r["status"], r["end_date"]) for r in cambricon["records"]] == [
        (CAC, "expired", "2024-06"),
        (ENTITY, "in force", ""),
    ]
    assert {s["publisher"] for s in cambricon["records"][0]["sources"]} == {"CAC", "上海网信办"}
    assert client.get("/api/participants/nvidia/").json()["records"] == []


# CSV ----------------------------------------------------------------------------------------

SMALL = (
    "participant,kind,status,date,end_date,identifier,notes_zh,"
    "source_publisher,source_title,source_date,source_url,source_checked\n"
    f"zhipu-ai,{CAC},in force,2023-08-31,,S0001,以“智谱清言”备案。,"
    "CAC|Zhipu,Filed services|Press release,2023-08|2023-09,https://example.com/cac|,2025-01-15|\n"
    f"cambricon,{ENTITY},,2022-12,,,,BIS,Entity List additions,2022-12-15,,\n"
)


def snapshot():
    """Every record of a published participant as a comparable value, sources included."""
    return {
        (
            r.participant.slug,
            r.kind.slug,
            *(getattr(r, name) for name in ("authority", "identifier", "entity_name", "role", "status")),
            *(getattr(r, name) for name in ("date", "end_date", "checked", "notes_en", "notes_zh")),
            frozenset((s.publisher, s.title, s.published, s.url, s.checked) for s in r.sources.all()),
        )
        for r in Record.objects.filter(participant__status="published")
        .select_related("participant", "kind")
        .prefetch_related("sources")
    }


def export(client, query=""):
    response = client.get(f"/records/export.csv{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content)


def csv_rows(data):
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_an_import_writes_records_with_their_sources_and_a_second_one_changes_nothing(small_chain):
    make_kinds()
    report = import_records(SMALL.encode())
    assert report.written and report.summary == "2 created, 0 updated, 0 unchanged, 0 with errors"
    zhipu = Record.objects.get(participant__slug="zhipu-ai")
    assert (zhipu.kind.slug, zhipu.status, zhipu.date, zhipu.identifier) == (
        CAC,
        "in force",
        "2023-08-31",
        "S0001",
    )
    assert zhipu.notes_zh == "以“智谱清言”备案。"
    assert {(s.publisher, s.title, s.published, s.url, s.checked) for s in zhipu.sources.all()} == {
        ("CAC", "Filed services", "2023-08", "https://example.com/cac", datetime.date(2025, 1, 15)),
        ("Zhipu", "Press release", "2023-09", "", None),
    }
    cambricon = Record.objects.get(participant__slug="cambricon")
    assert (cambricon.status, cambricon.date) == ("in force", "2022-12")
    assert [s.title for s in cambricon.sources.all()] == ["Entity List additions"]
    assert Record.history.count() == 2

    again = import_records(SMALL.encode())
    assert again.summary == "0 created, 0 updated, 2 unchanged, 0 with errors"
    assert Record.history.count() == 2 and Source.objects.count() == 3

    changed = import_records(SMALL.replace("以“智谱清言”备案。", "已备案。").encode())
    assert changed.summary == "0 created, 1 updated, 1 unchanged, 0 with errors"
    assert [r.changes for r in changed.rows if r.action == "update"] == [["notes_zh"]]
    assert Record.objects.get(pk=zhipu.pk).notes_zh == "已备案。" and Record.objects.count() == 2


def test_export_then_import_into_an_empty_directory_is_lossless(client, records):
    before, data = snapshot(), export(client)
    assert list(csv_rows(data)[0]) == COLUMNS
    assert len(csv_rows(data)) == 7  # not the draft participant's record
    assert "'=list(1)" in data.decode()  # a formula neutralised in the file
    Record.objects.all().delete()
    Source.objects.all().delete()
    report = import_records(data)
    assert report.written and report.summary == "7 created, 0 updated, 0 unchanged, 0 with errors"
    assert snapshot() == before
    assert Source.objects.get(publisher="上海网信办").title == "=list(1)"
    assert export(client) == data
    assert import_records(data).summary == "0 created, 0 updated, 7 unchanged, 0 with errors"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"nobody,{CAC},in force,2024,,,,CAC,T,2024,,", "participant: no participant with slug nobody"),
        ("openai,no-such-kind,in force,2024,,,,CAC,T,2024,,", "kind: no kind of record no-such-kind"),
        (f"openai,{CAC},in force,2024,,,,,,,,", "a record needs at least one source"),
        (f"openai,{CAC},expired,2024,,,,CAC,T,2024,,", "end_date: An expired, revoked or removed record"),
        (f"openai,{CAC},expired,2024-05,2024-01,,,CAC,T,2024,,", "The end comes before the start."),
        (
            f"openai,{CAC},in force,2024-13,,,,CAC,T,2024,,",
            "date: Enter a date as YYYY, YYYY-MM or YYYY-MM-DD.",
        ),
        (f"openai,{CAC},in force,2024,,,,CAC,T,2024,notaurl,", "source_url: not an http(s) address"),
        (f"zhipu-ai,{CAC},in force,2023-08-31,,S0001,,CAC,T,2023,,", "the same record as line 2"),
    ],
)
def test_one_bad_row_among_good_ones_writes_nothing_and_names_its_line(records, row, message):
    header, first, second = SMALL.splitlines()
    data = "\n".join([header, first, row, second.replace(",2022-12,", ",2021,")]) + "\n"
    before, history, sources = snapshot(), Record.history.count(), Source.objects.count()
    report = import_records(data.encode())
    assert not report.written
    assert [(r.line, r.action) for r in report.errors] == [(3, "error")], [r.errors for r in report.errors]
    assert message in " ".join(report.errors[0].errors)
    assert snapshot() == before
    assert Record.history.count() == history and Source.objects.count() == sources


def test_the_import_command_dry_run_writes_nothing(small_chain, tmp_path):
    make_kinds()
    path = tmp_path / "records.csv"
    path.write_text(SMALL, encoding="utf-8")
    out = io.StringIO()
    call_command("import_records", str(path), "--dry-run", stdout=out)
    assert "dry run, nothing written: 2 created, 0 updated, 0 unchanged, 0 with errors" in out.getvalue()
    assert not Record.objects.exists() and not Source.objects.exists()
    call_command("import_records", str(path), stdout=out)
    assert Record.objects.count() == 2 and Source.objects.count() == 3
    path.write_text(SMALL + f"openai,{CAC},in force,2024,,,,,,,,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_records", str(path), stdout=out, stderr=err)
    assert "line 4: source_publisher: a record needs at least one source" in err.getvalue()


def test_the_command_imports_the_seed_kinds_and_the_kinds_export_reads_back_unchanged(client):
    out = io.StringIO()
    call_command("import_records", str(SEED_KINDS), "--kinds", stdout=out)
    assert "11 created" in out.getvalue()
    expected = csv_rows(SEED_KINDS.read_bytes())
    data = export(client, "?kinds=1")
    found = csv_rows(data)
    assert list(found[0]) == KIND_COLUMNS and found == expected
    assert (
        RecordKind.objects.get(slug=CAC).badge and RecordKind.objects.get(slug=CAC).short_zh == "网信办备案"
    )
    assert import_record_kinds(data).summary == "0 created, 0 updated, 11 unchanged, 0 with errors"


def test_the_export_of_one_kind_and_of_an_unknown_kind(client, records):
    response = client.get(f"/records/export.csv?kind={ENTITY}")
    assert response["Content-Disposition"] == 'attachment; filename="chainsite-records.csv"'
    rows = csv_rows(b"".join(response.streaming_content))
    assert [(r["participant"], r["kind"], r["date"], r["notes_en"]) for r in rows] == [
        ("cambricon", ENTITY, "2022-12-15", 'Added with "affiliates",\nsee the rule.')
    ]
    assert {r["kind"] for r in csv_rows(export(client, f"?kind={CAC}"))} == {CAC}
    assert len(csv_rows(export(client, f"?kind={CAC}"))) == 4
    kinds = client.get("/records/export.csv?kinds=1")
    assert kinds["Content-Disposition"] == 'attachment; filename="chainsite-record-kinds.csv"'
    assert [r["slug"] for r in csv_rows(b"".join(kinds.streaming_content))] == [CAC, ENTITY, EU]
    bad = client.get("/records/export.csv?kind=no-such-kind")
    assert bad.status_code == 400
    assert "Unknown kind of record “no-such-kind”." in bad.content.decode()


# Queries ------------------------------------------------------------------------------------


def chain_with_records(size):
    """``make_chain(size)``, each participant holding a CAC filing (every third expired)
    citing a shared source, and the first one ``size`` records of its own."""
    kinds = make_kinds()
    participants = make_chain(size)
    source = Source.objects.create(publisher="CAC", title="Filed services", published="2024")
    own = [
        Record(
            participant=participants[0],
            kind=kinds[(ENTITY, EU)[i % 2]],
            identifier=f"N{i:03d}",
            date="2024-01",
            **({"status": "revoked", "end_date": "2025"} if i % 4 == 0 else {}),
        )
        for i in range(size)
    ]
    created = Record.objects.bulk_create(
        [
            Record(
                participant=p,
                kind=kinds[CAC],
                date=f"2024-{i % 12 + 1:02d}",
                **({"status": "expired", "end_date": "2025"} if i % 3 == 2 else {}),
            )
            for i, p in enumerate(participants)
        ]
        + own
    )
    Record.sources.through.objects.bulk_create(
        Record.sources.through(record_id=r.pk, source_id=source.pk) for r in created
    )
    return participants


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # the segments and the kinds of record (the taxonomy), the count, the page of
        # records with their participants, their sources
        (f"/records/{CAC}/", 5),
        # the taxonomy (2); the bitmap index: participants, offerings, records in force;
        # the page's card rows
        (f"/participants/?record={CAC}", 6),
        # as the listing, then the page's participants, their offerings, their tags
        (f"/api/participants/?record={CAC}", 8),
        # the count, the page of records with participants and kinds, their sources
        ("/api/records/", 3),
        # the kinds with their holders counted
        ("/records/", 1),
        # the participant with its tags and offerings (3); the taxonomy (2); the bitmap
        # index (3); the chain index; similar and alternative participants; the dependency
        # graph up, down and its names (4); its links with their sources (2); its records
        # with their kinds, their sources (2)
        ("/participants/bulk-000/", 18),
        # the participant, offerings, tags, links both ways, their sources, its records, their sources
        ("/api/participants/bulk-000/", 8),
    ],
)
def test_query_count_is_constant(client, django_assert_num_queries, size, url, queries):
    chain_with_records(size)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    if url.startswith("/records/c"):
        page = response.context["page"]
        assert page.paginator.count == size and len(page.object_list) == min(size, 50)
        assert all(r.sources.all() for r in page.object_list)
    elif url == "/records/":
        assert f'<span class="n">{size - size // 3} holders</span>' in body  # every third expired
    elif url.startswith("/participants/?"):
        listing = response.context["listing"]
        assert listing.total == size - size // 3
        assert (
            body.count('<span class="badge-record">CAC filed</span>')
            == len(listing.ids)
            == min(listing.total, 20)
        )
    elif url == "/api/records/":
        assert response.json()["count"] == 2 * size
        assert all(r["sources"] for r in response.json()["results"])
    elif url.startswith("/participants/"):
        assert body.count('<li class="record status-') == size + 1
    elif url.startswith("/api/participants/b"):
        assert len(response.json()["records"]) == size + 1
    else:
        assert response.json()["count"] == size - size // 3


def test_the_holders_of_a_kind_are_paginated(client):
    chain_with_records(60)
    first = client.get(f"/records/{CAC}/")
    assert "Page 1 of 2" in first.content.decode() and 'href="?page=2"' in first.content.decode()
    second = client.get(f"/records/{CAC}/?page=2")
    assert second.context["page"].number == 2
    shown = second.context["page"].object_list
    assert len(shown) == 10 and all(r.status == "expired" for r in shown)  # in force first
    filtered = client.get(f"/records/{CAC}/?segment=ai-chips&country=US").content.decode()
    assert "<h2>4 records</h2>" in filtered and 'rel="next"' not in filtered
