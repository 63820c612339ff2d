"""/participants/: every filter alone and combined, search, facets, pagination, bad input."""

import re

import pytest
from django.http import QueryDict
from django.test import override_settings

from directory.catalog.search import refresh_search_index
from directory.models import Offering, Participant, Segment
from tests.conftest import make_chain, make_participant, page_slugs

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(small_chain):
    """small_chain plus a Chinese research lab in two midstream segments, an open-source
    agent framework, and participants that must never show: a draft and an archived one."""
    make_participant(
        "baai",
        ("foundation-models", "training-tuning"),
        name_en="Beijing Academy of AI",
        name_zh="智源研究院",
        country="CN",
        kind="research",
        open_source="yes",
        founded=2018,
    )
    make_participant("langchain", ("agent-platforms",), kind="open_source", open_source="yes", founded=2022)
    make_participant("hidden-draft", ("ai-chips",), country="CN", status="draft", name_zh="芯片草稿")
    make_participant("hidden-archived", ("ai-chips",), country="CN", status="archived")
    Participant.objects.filter(slug="nvidia").update(founded=1993)
    Participant.objects.filter(slug="openai").update(founded=2015)
    return small_chain


def slugs(response):
    return page_slugs(response.context["listing"])


def test_lists_published_participants_by_name(client, chain):
    response = client.get("/participants/")
    assert response.status_code == 200
    assert slugs(response) == ["baai", "cambricon", "langchain", "azure", "nvidia", "openai", "zhipu-ai"]
    assert "7 participants" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=cambricon", {"cambricon"}),
        ("q=Azure", {"azure"}),
        ("tier=upstream", {"nvidia", "cambricon", "azure"}),
        ("tier=midstream", {"openai", "zhipu-ai", "baai"}),
        ("tier=downstream", {"langchain"}),
        ("segment=cloud-compute", {"azure"}),
        ("segment=ai-chips&segment=cloud-compute", {"nvidia", "cambricon", "azure"}),
        ("kind=research", {"baai"}),
        ("kind=open_source", {"langchain"}),
        ("country=CN", {"cambricon", "zhipu-ai", "baai"}),
        ("country=cn", {"cambricon", "zhipu-ai", "baai"}),
        ("open_source=yes", {"baai", "langchain"}),
        ("open_source=partly", {"zhipu-ai"}),
        ("open_source=no", {"nvidia", "cambricon", "azure", "openai"}),
        ("open_source=true", {"baai", "langchain", "zhipu-ai"}),
        ("open_source=false", {"nvidia", "cambricon", "azure", "openai"}),
        # combined
        ("tier=upstream&country=CN", {"cambricon"}),
        ("segment=foundation-models&country=CN&open_source=true", {"zhipu-ai", "baai"}),
        ("segment=foundation-models&segment=ai-chips&country=US", {"nvidia", "openai"}),
        ("tier=midstream&kind=research&open_source=yes", {"baai"}),
        ("q=ai&country=CN&tier=midstream", {"zhipu-ai", "baai"}),
        ("q=cambricon&country=US", set()),
        ("tier=downstream&segment=ai-chips", set()),
    ],
)
def test_filters_alone_and_combined(client, chain, query, expected):
    response = client.get(f"/participants/?{query}")
    assert response.status_code == 200
    assert set(slugs(response)) == expected
    assert response.context["listing"].notes == []


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["baai", "cambricon", "langchain", "azure", "nvidia", "openai", "zhipu-ai"]),
        ("-name", ["zhipu-ai", "openai", "nvidia", "azure", "langchain", "cambricon", "baai"]),
        ("founded", ["nvidia", "openai", "baai", "langchain"]),
        ("-founded", ["langchain", "baai", "openai", "nvidia"]),
    ],
)
def test_ordering(client, chain, ordering, expected):
    found = slugs(client.get(f"/participants/?ordering={ordering}"))
    # Participants without a founding year come last or first depending on the database;
    # only the dated ones have a defined order.
    assert [s for s in found if s in expected] == expected


def test_ordering_recently_updated(client, chain):
    from django.utils import timezone

    Participant.objects.filter(slug="openai").update(updated_at=timezone.now() + timezone.timedelta(days=1))
    assert slugs(client.get("/participants/?ordering=-updated"))[0] == "openai"


def test_name_match_ranks_above_description_match(client, db):
    make_participant("alpha", name_en="Alpha Tools", description_en="We resell quantum gadgets.")
    make_participant("quantum", name_en="Quantum Works", description_en="A chip company.")
    assert slugs(client.get("/participants/?q=quantum")) == ["quantum", "alpha"]


def test_chinese_query_finds_chinese_description_and_offering(client, chain):
    # Cambricon's description_zh contains 芯片; Chipmaker has it only in an offering's name;
    # NVIDIA is in the segment 算力芯片. Nobody else mentions it.
    maker = make_participant("chipmaker", ("cloud-compute",), name_en="Chipmaker", country="CN")
    Offering.objects.create(
        participant=maker, segment=Segment.objects.get(slug="data-services"), name="云端芯片租赁"
    )
    refresh_search_index([maker.pk])
    Participant.objects.filter(slug="cambricon").update(name_zh="")
    refresh_search_index(Participant.objects.values_list("pk", flat=True))
    assert set(slugs(client.get("/participants/?q=芯片"))) == {"cambricon", "chipmaker", "nvidia"}


def test_chinese_name_finds_participant(client, chain):
    assert slugs(client.get("/participants/?q=寒武纪")) == ["cambricon"]
    assert slugs(client.get("/participants/?q=智谱")) == ["zhipu-ai"]


def test_search_never_shows_unpublished(client, chain):
    assert slugs(client.get("/participants/?q=芯片草稿")) == []


def _facet_counts(response):
    return {
        name: {o.value: o.count for o in options}
        for name, options in response.context["listing"].facets.items()
    }


@pytest.mark.parametrize("state", ["", "country=CN", "tier=midstream&open_source=true", "q=ai"])
def test_facet_counts_equal_real_counts(client, chain, state):
    """Each option's count is the number of results the listing gives with that option
    chosen (and the facet's own current value replaced)."""
    counts = _facet_counts(client.get(f"/participants/?{state}"))
    for name, options in counts.items():
        for value, count in options.items():
            params = QueryDict(state, mutable=True)
            params.setlist(name, [value])
            real = client.get(f"/participants/?{params.urlencode()}").context["listing"].page.paginator.count
            assert count == real, (state, name, value)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_facet_counts_are_shown_as_their_digits(client, chain, language):
    response = client.get("/participants/", headers={"accept-language": language})
    body = response.content.decode()
    facets = response.context["listing"].facets
    tiers = {o.value: o.count for o in facets["tier"]}
    assert tiers["midstream"] > 0
    assert re.search(rf'value="midstream"> [^<]+ <span class="n">{tiers["midstream"]}</span>', body)
    kinds = {o.value: o.count for o in facets["kind"]}
    assert re.search(rf'<option value="vendor">[^<]+ \({kinds["vendor"]}\)</option>', body)


def test_facets_show_zero_options_disabled(client, chain):
    body = client.get("/participants/?country=CN").content.decode()
    # No Chinese participant is downstream: the option is there but cannot be chosen.
    assert 'value="downstream" disabled' in body


def test_form_keeps_current_values_and_offers_clear_link(client, chain):
    body = client.get(
        "/participants/?q=ai&country=CN&segment=foundation-models&kind=research"
    ).content.decode()
    assert 'name="q" value="ai"' in body
    assert '<option value="CN" selected>' in body
    assert 'value="foundation-models" checked' in body
    assert '<option value="research" selected' in body
    assert 'href="/participants/">Clear filters' in body


def test_empty_state(client, chain):
    response = client.get("/participants/?q=nothing-matches-this")
    body = response.content.decode()
    assert "No participant matches these filters." in body
    assert "Clear filters" in body


def test_pagination_with_page_numbers_and_total(client, db):
    make_chain(45)
    response = client.get("/participants/?page=2")
    page = response.context["listing"].page
    assert (page.number, page.paginator.num_pages, page.paginator.count) == (2, 3, 45)
    assert len(page.object_list) == 20
    body = response.content.decode()
    assert "45 participants" in body and "Page 2 of 3" in body
    assert 'href="?page=3#listing"' in body


def test_page_size_and_links_keep_the_filter(client, db):
    make_chain(45)
    response = client.get("/participants/?page_size=30&country=US")
    listing = response.context["listing"]
    assert listing.page_size == 30 and len(listing.page.object_list) == 15
    response = client.get("/participants/?page_size=20&country=US")
    assert response.context["listing"].page.paginator.num_pages == 1
    response = client.get("/participants/?page_size=20")
    assert 'href="?page=2#listing"' in response.content.decode()
    response = client.get("/participants/?page_size=50&tier=upstream")
    assert response.context["listing"].query == "tier=upstream&page_size=50"


def test_paging_lands_at_the_top_of_the_new_page_of_results(client, db):
    """A page link scrolls to the top of the listing: without JavaScript by its #listing
    anchor, with htmx by ``show:top`` on the swapped listing (both the same place)."""
    make_chain(45)
    body = client.get("/participants/?q=bulk&page=2").content.decode()
    links = re.findall(r'<a (?:rel="(?:prev|next)" )?href="([^"]*)" data-hx-get="([^"]*)"[^>]*>', body)
    assert len(links) == 4  # previous, pages 1 and 3, next
    for href, hx_get in links:
        assert href.startswith("?q=bulk&amp;page=") and href.endswith("#listing")
        assert hx_get.startswith("/participants/?q=bulk&amp;page=") and "#" not in hx_get
    swaps = re.findall(r'<a [^>]*data-hx-swap="([^"]*)"', body)
    assert swaps == ["outerHTML show:top"] * 4
    assert '<form id="listing"' in body


def test_the_sort_menu_names_each_order_once(client, chain):
    def options(query):
        body = client.get(f"/participants/{query}").content.decode()
        menu = re.search(r'<select id="id_ordering" name="ordering">(.*?)</select>', body, re.S).group(1)
        return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', menu)

    plain = options("")
    labels = [label for _, _, label in plain]
    assert labels == ["Name A–Z", "Name Z–A", "Oldest first", "Newest first", "Recently updated"]
    assert plain[0] == ("", " selected", "Name A–Z")  # the default is that option itself
    assert [label for _, selected, label in options("?ordering=-founded") if selected] == ["Newest first"]
    assert [label for _, selected, label in options("?ordering=name") if selected] == ["Name A–Z"]
    searched = options("?q=chip")
    assert [label for _, _, label in searched] == ["Relevance", *labels]
    assert searched[0] == ("", " selected", "Relevance") and searched[1][0] == "name"


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("", None),
        ("?q=chip", None),  # the search words are not a filter
        ("?country=CN", "1 active"),
        ("?segment=ai-chips&segment=cloud-compute&kind=vendor&q=chip", "3 active"),
        ("?country=ZZ", None),  # ignored, with a note
    ],
)
def test_the_filter_column_is_a_disclosure_with_the_number_of_filters_chosen(client, chain, query, count):
    body = client.get(f"/participants/{query}").content.decode()
    box = re.search(r'<details class="filters-box" id="filters-box">\s*<summary>(.*?)</summary>', body, re.S)
    assert box, "no disclosure"
    assert box.group(1).startswith("Filters and order")
    shown = re.search(r'<span class="filter-count">(.*?)</span>', box.group(1))
    assert (shown and shown.group(1)) == count
    assert 'name="ordering"' in body.split('id="filters-box"')[1].split("</details>")[0]  # the column inside


def test_the_segment_page_counts_its_filters_but_not_its_own_segment(client, chain):
    body = client.get("/segments/ai-chips/?country=CN&kind=vendor").content.decode()
    assert '<span class="filter-count">2 active</span>' in body
    chinese = client.get("/segments/ai-chips/?country=CN", headers={"accept-language": "zh-hans"})
    summary = '<summary>筛选与排序 <span class="filter-count">已选 1 项</span></summary>'
    assert summary in chinese.content.decode()


def test_page_past_the_end_shows_the_last_page_with_a_note(client, db):
    make_chain(45)
    response = client.get("/participants/?page=99")
    assert response.status_code == 200
    assert response.context["listing"].page.number == 3
    assert "There is no page 99; showing the last page." in response.content.decode()


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("page=abc", "Page must be a number"),
        ("page=0", "There is no page 0"),
        ("page=-3", "There is no page -3"),
        ("page=999999999999999999999999999", "showing the last page"),
        ("page_size=abc", "Page size must be a number"),
        ("page_size=5", "showing 20"),
        ("page_size=100000", "showing 100"),
        ("segment=no-such-segment", "Unknown segment"),
        ("segment=%27%20OR%201%3D1%20--", "Unknown segment"),
        ("tier=sideways", "“tier” ignored"),
        ("kind=%3Cscript%3E", "“kind” ignored"),
        ("country=XX", "“country” ignored"),
        ("country=%ff", "“country” ignored"),
        ("open_source=maybe", "“open_source” ignored"),
        ("ordering=-password", "“ordering” ignored"),
        ("q=" + "x" * 10_000, "“q” ignored"),
        ("q=a%00b", "“q” ignored"),
    ],
)
def test_bad_values_are_ignored_with_a_visible_note(client, chain, query, note):
    response = client.get(f"/participants/?{query}")
    assert response.status_code == 200
    assert note in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "q=%27%3B%20DROP%20TABLE%20directory_participant%3B%20--",
        "q=%22unclosed",
        "q=-",
        "q=%ff%fe",
        "q=a%00",
        "q=%E8%8A",
        "q=!!!%26%26%7C%7C",
        "q=%3Cscript%3Ealert(1)%3C/script%3E",
        "segment=ai-chips&segment=zzz&segment=",
        "page=1e9&page_size=-1",
        "unknown=1",
        "tier=upstream&tier=downstream",
    ],
)
def test_malformed_input_never_errors(client, chain, query):
    response = client.get(f"/participants/?{query}")
    assert response.status_code == 200
    assert Participant.objects.count() == 9
    assert "<script>alert" not in response.content.decode()


def test_unknown_segment_keeps_the_known_ones(client, chain):
    response = client.get("/participants/?segment=ai-chips&segment=zzz")
    assert set(slugs(response)) == {"nvidia", "cambricon"}
    assert "Unknown segment “zzz” ignored." in response.content.decode()


def test_htmx_request_gets_the_listing_fragment(client, chain):
    response = client.get("/participants/?country=CN", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="listing"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]
    assert "Cambricon" in body


SEARCHED = "q=bulk&country=CN&segment=ai-chips&segment=data-services&open_source=true"


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    "query, expected",
    [
        # segments and kinds of record, the bitmap index (participants, offerings,
        # records), the cards' participants (the page's ids and each card's segments and
        # badges come from the index)
        ("", 6),
        # the same, the search window, the query's own window (for the facets); the ids
        # are the window's
        (SEARCHED, 8),
    ],
)
def test_query_count_is_constant(client, db, django_assert_num_queries, size, query, expected):
    make_chain(size)
    with django_assert_num_queries(expected):
        response = client.get(f"/participants/?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("size", [25, 60])
def test_query_count_of_another_page_with_the_counts_cache(client, db, django_assert_num_queries, size):
    make_chain(size)
    with override_settings(COUNT_CACHE_SECONDS=3600):
        client.get("/participants/")  # builds the index and the segments, renders page 1
        # The cards' participants: the ids, the total, the facets and each card's
        # segments come from the index, the list of segments from memory.
        with django_assert_num_queries(1):
            response = client.get("/participants/?page=2")
    assert response.status_code == 200
    assert "bulk-020" in response.content.decode()


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    "query, expected",
    [
        # nothing: the ids come from the index, the cards and the filter column are cached
        ("", 0),
        # nothing: the search window (which gives the ids), the query's own window, the
        # cards and the filter column are all cached
        (SEARCHED, 0),
    ],
)
def test_query_count_of_a_page_seen_before(client, db, django_assert_num_queries, size, query, expected):
    make_chain(size)
    with override_settings(COUNT_CACHE_SECONDS=3600):
        first = client.get(f"/participants/?{query}")
        with django_assert_num_queries(expected):
            response = client.get(f"/participants/?{query}&page=1")
    assert response.status_code == 200
    assert response.content.decode().count('class="card"') == first.content.decode().count('class="card"') > 0
    assert response.status_code == 200


def test_a_segment_added_later_is_a_valid_filter_at_once(client, chain):
    assert "zz-robotics" not in client.get("/participants/?segment=zz-robotics").context["listing"].query
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="zz-robotics", name_en="Robot chips", tier=chips.tier, parent=chips, order=9)
    make_participant("robo", ("zz-robotics",), name_en="Robo Silicon")
    response = client.get("/participants/?segment=zz-robotics")
    assert response.context["listing"].notes == [] and slugs(response) == ["robo"]
    chinese = client.get("/participants/?segment=zz-robotics", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert slugs(chinese) == ["robo"]


def test_a_card_shows_kind_licence_and_segments_in_chain_order_in_both_languages(client, db):
    make_participant(
        "multi",
        ("industry-apps", "ai-chips", "foundation-models"),
        name_en="Multi Co",
        kind="research",
        open_source="partly",
    )
    card = client.get("/participants/").content.decode().split('<article class="card">')[1]
    assert "Research institution" in card and "Partly open source" in card
    tags = card.split('aria-label="Segments"')[1]
    assert tags.index("AI chips") < tags.index("Foundation models") < tags.index("Industry applications")
    chinese = client.get("/participants/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    card = chinese.split('<article class="card">')[1]
    assert "研究机构" in card and "部分开源" in card and "算力芯片" in card


def test_a_card_shows_names_mark_badges_and_a_shortened_description(client, db):
    make_participant(
        "zhipu",
        ("foundation-models",),
        name_en="Zhipu AI",
        name_zh="智谱",
        country="CN",
        open_source="yes",
        featured=True,
        description_en="Word " * 60,
    )
    make_participant("plain-co", (), name_en="", name_zh="平常公司", country="", description_en="")

    def card(slug, language="en"):
        body = client.get("/participants/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        cards = body.split('<article class="card">')[1:]
        prefix = "/zh-hans" if language.startswith("zh") else ""
        return next(c for c in cards if f'href="{prefix}/participants/{slug}/"' in c)

    zhipu = card("zhipu")
    assert '>Zhipu AI</a> <span class="alt-name" lang="zh-hans">智谱</span>' in zhipu
    assert '<span class="mark mark-midstream" aria-hidden="true">ZA</span>' in zhipu
    assert "<span>China</span>" in zhipu and '<span class="badge-open">Open source</span>' in zhipu
    assert '<span class="badge-featured">Featured</span>' in zhipu
    text = zhipu.split('<p class="card-text">')[1].split("</p>")[0]
    assert len(text) == 180 and text.endswith("…") and text.startswith("Word Word")
    plain = card("plain-co")
    # No segment, country, description, licence badge or second name: none of their markup.
    assert '<span class="mark mark-none" aria-hidden="true">平</span>' in plain
    for absent in ("alt-name", "badge-open", "badge-featured", "card-text", "seg-tags", "<span></span>"):
        assert absent not in plain

    chinese = card("zhipu", "zh-hans")
    assert '>智谱</a> <span class="alt-name" lang="en">Zhipu AI</span>' in chinese
    assert "开源" in chinese and "精选" in chinese
