"""What a listing counts and shows equals what choosing each option lists: the totals and
facets of the HTML listing, the segment pages and the API, pages in every order, and a
search wider than its window saying so."""

import itertools
import random

import pytest
from django.db.models import F
from django.test import override_settings

from directory.models import Participant

from .conftest import make_participant, page_slugs

pytestmark = pytest.mark.django_db


def _listed(client, url, params):
    response = client.get(url, {**params, "page_size": 100})
    assert response.status_code == 200
    listing = response.context["listing"]
    return listing, page_slugs(listing)


BASES = [
    {},
    {"country": "CN"},
    {"segment": ["ai-chips"], "open_source": "true"},
    {"tier": "upstream", "kind": "vendor"},
    {"segment": ["ai-chips", "foundation-models"]},
    {"q": "chip"},
    {"q": "chip", "country": "US"},
]


@pytest.mark.parametrize("base", BASES, ids=lambda b: "&".join(f"{k}={v}" for k, v in b.items()) or "none")
def test_every_facet_count_is_what_choosing_it_lists(client, varied, base):
    listing, slugs = _listed(client, "/participants/", base)
    assert listing.page.paginator.count == len(slugs)
    assert "hidden" not in slugs and "gone" not in slugs
    checked = 0
    for name, options in listing.facets.items():
        for option in options:
            if option.value == "false":
                continue  # the same as "no", listed only when chosen
            chosen = {**base, name: [option.value] if name == "segment" else option.value}
            _, chosen_slugs = _listed(client, "/participants/", chosen)
            assert option.count == len(chosen_slugs), (name, option.value, chosen_slugs)
            checked += 1
    assert checked >= 15


def test_segment_page_counts_within_the_segment_and_its_sub_segments(client, varied):
    listing, slugs = _listed(client, "/segments/ai-chips/", {})
    assert sorted(slugs) == ["alpha", "beta", "gamma"]
    assert listing.page.paginator.count == 3
    countries = {o.value: o.count for o in listing.facets["country"]}
    assert countries == {"US": 1, "CN": 2}
    listing, slugs = _listed(client, "/segments/ai-chips/", {"country": "CN", "open_source": "no"})
    assert slugs == ["beta"] and listing.page.paginator.count == 1
    assert {o.value: o.count for o in listing.facets["open_source"]}["partly"] == 1


def test_listing_pages_in_name_order_match_the_database(client, db):
    rng = random.Random(3)
    for i in range(50):  # names repeat, so ties go by id as in the database's order
        make_participant(
            f"p{i:02d}",
            (rng.choice(["ai-chips", "cloud-compute"]),),
            name_en=f"Name {rng.randint(0, 20)}",
            country=rng.choice(["US", "CN"]),
        )
    published = Participant.objects.published()
    for params in (
        {},
        {"ordering": "-name"},
        {"country": "CN"},
        {"country": "US", "segment": "ai-chips", "ordering": "name"},
    ):
        fields = ("-name_en", "-pk") if params.get("ordering") == "-name" else ("name_en", "pk")
        wanted = published.filter(country=params.get("country", "") or F("country"))
        if "segment" in params:
            wanted = wanted.filter(offerings__segment__slug=params["segment"])
        expected = list(wanted.order_by(*fields).values_list("slug", flat=True))
        listed = []
        for page in (1, 2, 3):
            response = client.get("/participants/", {**params, "page": page})
            if response.context["listing"].page.number == page:
                listed += page_slugs(response.context["listing"])
        assert listed == expected, params


@override_settings(SEARCH_WINDOW=3)
def test_a_search_wider_than_the_window_says_so(client, varied):
    listing, slugs = _listed(client, "/participants/", {"q": "chip"})  # 7 published matches
    assert listing.truncated and len(slugs) == 3 and listing.page.paginator.count == 3
    body = client.get("/participants/", {"q": "chip"}).content.decode()
    assert "More than 3 participants" in body and "cover the first 3 matches" in body
    # Facet options are not disabled when their counts only cover the window.
    assert " disabled" not in body.split('name="segment"', 1)[1].split("</fieldset>", 1)[0]
    api = client.get("/api/participants/", {"q": "chip"})
    assert api.json()["count"] == 3 and api["X-Search-Truncated"] == "true"


@override_settings(SEARCH_WINDOW=3)
def test_a_narrow_search_is_exact(client, varied):
    listing, slugs = _listed(client, "/participants/", {"q": "chip", "country": "CN"})
    assert sorted(slugs) == ["beta", "gamma"] and not listing.truncated
    assert "More than" not in client.get("/participants/", {"q": "chip", "country": "CN"}).content.decode()
    api = client.get("/api/participants/", {"q": "chip", "country": "CN"})
    assert api.json()["count"] == 2 and "X-Search-Truncated" not in api


def test_results_equal_the_sql_filter_for_every_combination(client, varied):
    """The index's total equals the number of participants the SQL filter lists, over
    every combination of a few values of each parameter."""
    values = {
        "country": ["", "CN", "US"],
        "segment": [[], ["ai-chips"], ["cloud-compute", "foundation-models"]],
        "open_source": ["", "true", "no"],
        "tier": ["", "midstream"],
    }
    for combo in itertools.product(*values.values()):
        params = {k: v for k, v in zip(values, combo, strict=True) if v}
        listing, slugs = _listed(client, "/participants/", params)
        assert listing.page.paginator.count == len(slugs), params


@override_settings(SEARCH_WINDOW=3)
def test_the_export_of_a_search_has_every_match(client, varied):
    response = client.get("/participants/export.csv", {"q": "chip"})
    rows = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(rows) == 1 + 7  # the header and every published match, not the window's 3
