"""The catalog's two backends give the same answers: the in-memory index (``bitmap``, the
fast path) against the reference that reads everything with SQL (``sql``), on random
directories and random criteria. And the catalog answers the same through either."""

import random

import pytest
from django.http import QueryDict
from django.test import override_settings

from directory import catalog
from directory.catalog.bitmap import BitmapBackend
from directory.catalog.criteria import BY_NAME, FILTERS, ORDERINGS, Criteria, taxonomy
from directory.catalog.flows import FlowFilter
from directory.catalog.sql import SqlBackend
from directory.models import Participant, Relationship, Segment

from .conftest import make_participant

pytestmark = pytest.mark.django_db

WORDS = ["chip", "model", "data", "cloud", "vector", "芯片", "模型"]
COUNTRIES = ["US", "CN", "DE", "FR", ""]


def _random_directory(rng, size):
    """Participants over segments and sub-segments, countries, kinds, licences, featured
    flags, parents, statuses and words, and random links between them."""
    chips = Segment.objects.get(slug="ai-chips")
    models = Segment.objects.get(slug="foundation-models")
    Segment.objects.create(slug="npu", name_en="NPUs", tier=chips.tier, parent=chips, order=1)
    Segment.objects.create(slug="speech", name_en="Speech", tier=models.tier, parent=models, order=1)
    slugs = list(Segment.objects.values_list("slug", flat=True))
    people = []
    for i in range(size):
        people.append(
            make_participant(
                f"p{i:03d}",
                tuple(rng.sample(slugs, rng.randint(0, 3))),
                name_en=f"name {rng.randint(0, size // 2):03d}",  # repeats: ties go by id
                country=rng.choice(COUNTRIES),
                kind=rng.choice(["vendor", "service", "both", "open_source", "research"]),
                open_source=rng.choice(["yes", "partly", "no"]),
                featured=rng.random() < 0.2,
                status=rng.choice(["published"] * 8 + ["draft", "archived"]),
                description_en=" ".join(rng.sample(WORDS, 2)),
            )
        )
    for participant in people:
        if rng.random() < 0.15:
            participant.parent = rng.choice(people)
            if participant.parent != participant:
                participant.save()
    pairs = {
        (rng.choice(people), rng.choice(people), rng.choice(["chips", "compute", "model"]))
        for _ in range(size * 2)
    }
    Relationship.objects.bulk_create(
        Relationship(supplier=a, customer=b, kind=k) for a, b, k in pairs if a != b
    )
    return people


def _random_criteria(rng, tax):
    params = QueryDict(mutable=True)
    if rng.random() < 0.3:
        params["q"] = rng.choice(WORDS)
    if rng.random() < 0.3:
        params["tier"] = rng.choice(["upstream", "midstream", "downstream"])
    if rng.random() < 0.4:
        params.setlist("segment", rng.sample([s.slug for s in tax.segments], rng.randint(1, 2)))
    if rng.random() < 0.3:
        params["kind"] = rng.choice(["vendor", "service", "both", "open_source", "research"])
    if rng.random() < 0.4:
        params["country"] = rng.choice(COUNTRIES[:-1])
    if rng.random() < 0.3:
        params["open_source"] = rng.choice(["yes", "partly", "no", "true", "false"])
    if rng.random() < 0.5:
        params["ordering"] = rng.choice(list(ORDERINGS))
    scope = rng.choice(tax.segments).slug if rng.random() < 0.2 else ""
    return Criteria.parse(params, scope=scope)


def _answers(backend, criteria, tax):
    selection = backend.select(criteria, tax)
    pages = [selection.page_ids(start, 7) for start in range(0, selection.total + 7, 7)]
    facets = {}
    for definition in FILTERS:
        if definition.facet:
            options = definition.options(tax, criteria.get(definition.name, () if definition.many else ""))
            facets[definition.name] = selection.facet_counts(definition, [o.value for o in options])
    return selection.total, selection.truncated, pages, facets


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_listings_facets_and_pages_are_the_same_from_both_backends(seed):
    rng = random.Random(seed)
    _random_directory(rng, 60)
    tax = taxonomy()
    bitmap, sql = BitmapBackend(), SqlBackend()
    checked = 0
    for _ in range(40):
        criteria = _random_criteria(rng, tax)
        fast, reference = _answers(bitmap, criteria, tax), _answers(sql, criteria, tax)
        assert fast == reference, criteria
        checked += fast[0] > 0
    assert checked >= 15  # most criteria found someone


@pytest.mark.parametrize("seed", [4, 5])
def test_the_chain_map_segment_chains_flows_and_relatives_are_the_same_from_both_backends(seed):
    rng = random.Random(seed)
    people = _random_directory(rng, 50)
    tax = taxonomy()
    bitmap, sql = BitmapBackend(), SqlBackend()
    assert bitmap.total() == sql.total() == Participant.objects.published().count()
    assert bitmap.country_counts() == sql.country_counts()
    for tier in ("upstream", "midstream", "downstream"):
        assert bitmap.tier_count(tax, tier) == sql.tier_count(tax, tier)
    for segment in tax.segments:
        assert bitmap.count_in(tax, [segment.slug]) == sql.count_in(tax, [segment.slug]), segment.slug
        assert bitmap.first_in(tax, [segment.slug], 5) == sql.first_in(tax, [segment.slug], 5), segment.slug
        assert bitmap.segment_partners(tax, segment.slug) == sql.segment_partners(tax, segment.slug), (
            segment.slug
        )
    countries = [
        ("", "", ""),
        ("chips", "", ""),
        ("", "cn", ""),
        ("", "", "us"),
        ("model", "europe", "other"),
    ]
    for kind, supplier_group, customer_group in countries:
        flow_filter = FlowFilter(kind, supplier_group, customer_group)
        assert bitmap.flows(tax, flow_filter) == sql.flows(tax, flow_filter), flow_filter
    published = [p for p in people if p.status == "published"]
    pks = [p.pk for p in published]
    assert {k: sorted(v) for k, v in bitmap.segment_ids_of(pks).items()} == {
        k: sorted(v) for k, v in sql.segment_ids_of(pks).items()
    }
    for participant in published:
        assert bitmap.subsidiaries(participant.pk) == sql.subsidiaries(participant.pk)
        own = sorted(set(participant.offerings.values_list("segment_id", flat=True)))
        parents = sorted({tax.by_id[s].parent_id for s in own if tax.by_id[s].parent_id} - set(own))
        assert bitmap.similar(participant.pk, own, parents, 6) == sql.similar(participant.pk, own, parents, 6)
        for segment_id in own[:2]:
            ids = tax.ids([tax.by_id[segment_id].slug])
            assert bitmap.alternatives(tax, participant.pk, ids, participant.country, 3) == sql.alternatives(
                tax, participant.pk, ids, participant.country, 3
            ), (participant.slug, segment_id)


def test_pages_answer_the_same_with_either_backend(client):
    rng = random.Random(9)
    _random_directory(rng, 40)
    urls = ["/", "/participants/?country=CN", "/participants/?q=chip&ordering=-name", "/segments/ai-chips/"]
    answers = {}
    for backend in ("bitmap", "sql"):
        with override_settings(CATALOG_BACKEND=backend):
            answers[backend] = [client.get(url).content for url in urls]
            api = client.get("/api/participants/", {"segment": "ai-chips", "page_size": 100}).json()
            answers[backend].append(str(api))
    assert answers["bitmap"] == answers["sql"]


class _FoundedFilter:
    """A made-up filter, defined once: participants founded in or after a year."""

    name = "founded_from"
    label = "Founded from"
    many = False
    facet = False
    schema = {"type": "integer"}
    description = "Founded in or after this year."

    def parse(self, values, taxonomy):
        return self.parse_one(values[-1], taxonomy)

    def parse_one(self, value, taxonomy):
        from directory.catalog.criteria import Invalid

        if not value.isdigit():
            raise Invalid("Enter a year.")
        return int(value)

    def condition(self, value, taxonomy):
        from django.db.models import Q

        return Q(founded__gte=value)

    def bits(self, index, value, taxonomy):
        # What the index does not hold, it takes from the database (one query).
        pks = Participant.objects.published().filter(founded__gte=value).values_list("pk", flat=True)
        return index.bits_of(pks)

    def encode(self, value):
        return [str(value)]

    def counted(self, value):
        return value


def test_a_filter_is_one_definition(client, monkeypatch):
    """Adding a filter is one entry in ``FILTERS``: the listing, the API and the export
    all take it, with either backend, and a bad value gets a note on the page and a 400
    in the API."""
    for i, year in enumerate([1990, 2005, 2020]):
        make_participant(f"firm-{i}", name_en=f"Firm {i}", founded=year)
    founded = _FoundedFilter()
    monkeypatch.setattr("directory.catalog.criteria.FILTERS", [*FILTERS, founded])
    monkeypatch.setitem(BY_NAME, founded.name, founded)
    for backend in ("bitmap", "sql"):
        with override_settings(CATALOG_BACKEND=backend):
            page = client.get("/participants/", {"founded_from": "2000"})
            assert [p.slug for p in page.context["listing"].participants] == ["firm-1", "firm-2"]
            api = client.get("/api/participants/", {"founded_from": "2000"}).json()
            assert [p["slug"] for p in api["results"]] == ["firm-1", "firm-2"]
            export = b"".join(client.get("/participants/export.csv?founded_from=2000").streaming_content)
            assert b"Firm 1" in export and b"Firm 0" not in export
    assert "Enter a year." in client.get("/participants/", {"founded_from": "soon"}).content.decode()
    assert client.get("/api/participants/", {"founded_from": "soon"}).status_code == 400


def test_the_catalog_counts_what_it_lists(db):
    rng = random.Random(11)
    _random_directory(rng, 30)
    criteria = Criteria.parse(QueryDict("country=CN"))
    listing = catalog.listing(criteria, page_size=100)
    assert listing.total == catalog.count(criteria) == len(listing.participants)
    assert all(p.country == "CN" for p in listing.participants)
