"""The real chain data in data/seed/ loads completely and idempotently, and holds every
data rule (``check_data``: sites, segments of links, sources, coverage minimums)."""

import pytest
from django.core.management import call_command

from directory.models import LinkStatus, Participant, Relationship, Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db, capsys):
    call_command("load_seed")
    capsys.readouterr()


def test_the_seed_holds_every_data_rule(seeded, capsys):
    call_command("check_data")
    out = capsys.readouterr().out
    assert "check_data: every rule holds" in out
    assert "energy-power" in out and "industry-apps" in out  # the coverage table


def test_every_seed_participant_is_complete(seeded):
    for p in Participant.objects.prefetch_related("offerings"):
        assert p.website.startswith(("https://", "http://")), p.slug
        assert p.description_en and p.description_zh, p.slug
        assert p.offerings.all(), p.slug
        assert p.is_published and not p.is_synthetic and p.last_verified, p.slug
    assert not Participant.objects.filter(country="").exists()
    # Sub-segments in both languages, each with participants.
    for segment in Segment.objects.filter(parent__isnull=False):
        assert segment.name_zh and segment.description_en and segment.description_zh, segment.slug
        assert segment.offerings.exists(), segment.slug


def test_the_corrections_the_data_issue_named(seeded):
    assert Participant.objects.get(slug="kuaishou").open_source == "partly"
    assert Participant.objects.get(slug="jina-ai").parent.slug == "elastic"
    assert Participant.objects.get(slug="graphcore").parent.slug == "softbank-group"
    assert Participant.objects.get(slug="microsoft-azure").parent.slug == "microsoft"
    assert Participant.objects.get(slug="github").parent.slug == "microsoft"
    assert Participant.objects.get(slug="amazon-web-services").parent.slug == "amazon"
    assert Participant.objects.get(slug="modelscope").parent.slug == "alibaba-group"
    ended = Relationship.objects.get(supplier__slug="appen", customer__slug="google-deepmind")
    assert ended.status == LinkStatus.ENDED and ended.until_year == 2024
    # Investments and governance are ties, not supply.
    assert Relationship.objects.filter(
        supplier__slug="meta", customer__slug="scale-ai", kind="investment"
    ).exists()


def test_second_load_adds_nothing(seeded, capsys):
    counts = (Participant.objects.count(), Relationship.objects.count())
    call_command("load_seed")
    out = capsys.readouterr().out
    assert " 0 created, 0 updated" in out and "created" in out
    assert out.count(" 0 created, 0 updated") == out.count("created")
    assert (Participant.objects.count(), Relationship.objects.count()) == counts


def test_make_run_keeps_what_curators_changed(seeded, capsys):
    """``make run`` and ``make serve`` load the seed with --if-empty: a restart never sets
    a curator's edit back to the file's value; an empty directory is still filled."""
    Participant.objects.filter(slug="nvidia").update(description_en="Edited by a curator.")
    call_command("load_seed", "--if-empty")
    assert "nothing loaded" in capsys.readouterr().out
    assert Participant.objects.get(slug="nvidia").description_en == "Edited by a curator."


def test_an_empty_directory_is_filled_with_if_empty(db, capsys):
    call_command("load_seed", "--if-empty")
    assert Participant.objects.filter(slug="nvidia").exists()
    assert Relationship.objects.count() > 450
