"""Migration 0014 keeps today's links: ``partner`` becomes ``partnership``, every link is
active, its segments are each side's first segment in chain order, and an evidence URL
becomes a ``Source``; nothing else is lost. Its reverse does nothing to the data."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from directory.models import Relationship, Source

BEFORE = [("directory", "0013_website_site")]
RECORDED = timezone.make_aware(datetime.datetime(2024, 5, 17, 9, 30))


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def before_0014():
    """The database as it was before 0014 (its apps), put back to the latest state after."""
    executor = _migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    _migrate(_latest())


def _old_links(apps):
    """Today's links in 0013's models: a partnership and supply, with and without an
    evidence URL, two citing the same page, one to a participant with no offering."""
    Participant = apps.get_model("directory", "Participant")
    Offering = apps.get_model("directory", "Offering")
    Segment = apps.get_model("directory", "Segment")
    Relationship = apps.get_model("directory", "Relationship")
    segments = {s.slug: s for s in Segment.objects.all()}
    segments["npu"] = Segment.objects.create(
        slug="npu", name_en="NPUs", tier="upstream", order=1, parent=segments["ai-chips"]
    )

    def participant(slug, *offered):
        p = Participant.objects.create(slug=slug, name_en=slug.title(), country="US")
        for s in offered:
            Offering.objects.create(participant=p, segment=segments[s], name=f"{slug} {s}")
        return p

    # Listed cloud first: AI chips still comes first in the chain.
    nvidia = participant("nvidia", "cloud-compute", "ai-chips")
    lab = participant("lab", "foundation-models", "industry-apps")
    npu = participant("npu-maker", "npu", "ai-chips")
    bare = participant("bare")
    rows = [
        (nvidia, lab, "partner", "Joint lab.", "https://www.example.com/news/1"),
        (nvidia, lab, "chips", "GPUs.", "https://www.example.com/news/1"),
        (npu, lab, "chips", "NPUs.", "http://press.example.org/npu"),
        (lab, bare, "model", "", ""),
        (lab, nvidia, "software", "Tools.", ""),
    ]
    for supplier, customer, kind, evidence, url in rows:
        Relationship.objects.create(
            supplier=supplier,
            customer=customer,
            kind=kind,
            evidence=evidence,
            evidence_url=url,
            created_at=RECORDED,
        )
    return {
        (r.supplier.slug, r.customer.slug, r.kind): (r.pk, r.evidence)
        for r in Relationship.objects.select_related("supplier", "customer")
    }


@pytest.mark.django_db(transaction=True)
def test_todays_links_are_kept_with_kinds_mapped_segments_set_and_urls_as_sources(before_0014):
    old = _old_links(before_0014)
    _migrate(_latest())
    links = {
        (r.supplier.slug, r.customer.slug, r.kind): r
        for r in Relationship.objects.select_related(
            "supplier", "customer", "supplied_segment", "customer_segment"
        )
    }
    renamed = {(a, b, "partnership" if kind == "partner" else kind) for a, b, kind in old}
    assert set(links) == renamed
    assert len(links) == len(old) == 5
    for (a, b, kind), (pk, evidence) in old.items():
        link = links[a, b, "partnership" if kind == "partner" else kind]
        assert (link.pk, link.evidence, link.evidence_zh, link.created_at) == (pk, evidence, "", RECORDED)
        assert (link.status, link.since_year, link.until_year) == ("active", None, None)

    def segments(key):
        link = links[key]
        return (
            link.supplied_segment.slug if link.supplied_segment else None,
            link.customer_segment.slug if link.customer_segment else None,
        )

    assert segments(("nvidia", "lab", "partnership")) == ("ai-chips", "foundation-models")
    assert segments(("nvidia", "lab", "chips")) == ("ai-chips", "foundation-models")
    assert segments(("npu-maker", "lab", "chips")) == ("npu", "foundation-models")  # NPUs: order 1
    assert segments(("lab", "bare", "model")) == ("foundation-models", None)  # no offering, no segment
    assert segments(("lab", "nvidia", "software")) == ("foundation-models", "ai-chips")

    # One source per cited page, shared by the links citing it, dated checked when recorded.
    assert Source.objects.count() == 2
    example = Source.objects.get(url="https://www.example.com/news/1")
    assert (example.publisher, example.title, example.published, example.checked) == (
        "example.com",
        "[page cited as evidence]",
        "",
        RECORDED.date(),
    )
    assert set(example.relationships.values_list("kind", flat=True)) == {"partnership", "chips"}
    assert Source.objects.get(url="http://press.example.org/npu").publisher == "press.example.org"
    assert list(links["lab", "bare", "model"].sources.all()) == []
    assert list(links["lab", "nvidia", "software"].sources.all()) == []

    # The migrated links read as any other: the participant page shows them with their source.
    from django.test import Client

    body = Client().get("/participants/lab/").content.decode()
    assert "partner of" in body and 'href="https://www.example.com/news/1"' in body


@pytest.mark.django_db(transaction=True)
def test_the_reverse_leaves_the_links_and_drops_what_0014_added(before_0014):
    """The data step's reverse is a no-op: going back keeps every link of a kind 0013 knew
    (their kinds as they are), and the sources and segments go with their tables and
    columns; the evidence URL column comes back empty."""
    _old_links(before_0014)
    before_0014.get_model("directory", "Relationship").objects.filter(kind="partner").delete()
    _migrate(_latest())
    kept = set(Relationship.objects.values_list("pk", "supplier__slug", "customer__slug", "kind", "evidence"))
    executor = _migrate(BEFORE)
    Old = executor.loader.project_state(BEFORE).apps.get_model("directory", "Relationship")
    assert set(Old.objects.values_list("pk", "supplier__slug", "customer__slug", "kind", "evidence")) == kept
    assert set(Old.objects.values_list("evidence_url", flat=True)) == {""}
    assert "directory_source" not in connection.introspection.table_names()
