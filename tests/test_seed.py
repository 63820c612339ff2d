"""The real chain data in data/seed/ loads completely and idempotently."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from directory.models import Participant, Relationship, Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db, capsys):
    call_command("load_seed")
    capsys.readouterr()


def test_seed_covers_every_segment_with_chinese_and_international_participants(seeded):
    assert Participant.objects.count() >= 150
    segments = Segment.objects.annotate(
        n=Count("offerings__participant", distinct=True),
        cn=Count("offerings__participant", filter=Q(offerings__participant__country="CN"), distinct=True),
        intl=Count("offerings__participant", filter=~Q(offerings__participant__country="CN"), distinct=True),
    )
    for segment in segments:
        assert segment.n >= 10, segment.slug
        assert segment.cn >= 1 and segment.intl >= 1, segment.slug


def test_every_seed_participant_is_complete(seeded):
    for p in Participant.objects.prefetch_related("offerings"):
        assert p.website.startswith("https://") or p.website.startswith("http://"), p.slug
        assert p.description_en and p.description_zh, p.slug
        assert p.offerings.all(), p.slug
        assert p.is_published and not p.is_synthetic
    # The HQ country is left empty only where sources disagree.
    assert Participant.objects.filter(country="").count() <= 3
    assert Relationship.objects.count() >= 40
    assert not Relationship.objects.filter(evidence="").exists()


def test_second_load_adds_nothing(seeded, capsys):
    counts = (Participant.objects.count(), Relationship.objects.count())
    call_command("load_seed")
    out = capsys.readouterr().out
    assert " 0 created, 0 updated" in out and "created" in out
    assert out.count(" 0 created, 0 updated") == out.count("created")
    assert (Participant.objects.count(), Relationship.objects.count()) == counts
