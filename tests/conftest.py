"""Shared fixtures: a few named participants across the chain, built without a factory library."""

import pytest

from directory.models import Offering, Participant, Relationship, Segment
from directory.search import refresh_search_index


def make_participant(slug, segments=("ai-chips",), **fields):
    """Create a published participant with one offering in each of ``segments``."""
    defaults = {
        "name_en": slug.replace("-", " ").title(),
        "website": f"https://{slug}.example.com/",
        "country": "US",
        "open_source": "no",
        "kind": "vendor",
        "description_en": f"{slug} description.",
    }
    defaults.update(fields)
    participant = Participant.objects.create(slug=slug, **defaults)
    for segment_slug in segments:
        Offering.objects.create(
            participant=participant,
            segment=Segment.objects.get(slug=segment_slug),
            name=f"{defaults['name_en'] or slug} offering",
        )
    refresh_search_index([participant.pk])
    return participant


@pytest.fixture
def participant_factory(db):
    return make_participant


@pytest.fixture
def small_chain(db):
    """Five participants along the chain with two supply links."""
    nvidia = make_participant("nvidia", name_en="NVIDIA", name_zh="英伟达", country="US")
    cambricon = make_participant(
        "cambricon",
        name_en="Cambricon",
        name_zh="寒武纪",
        country="CN",
        description_zh="寒武纪设计人工智能芯片。",
    )
    azure = make_participant("azure", ("cloud-compute",), name_en="Microsoft Azure", country="US")
    openai = make_participant("openai", ("foundation-models",), name_en="OpenAI", country="US")
    zhipu = make_participant(
        "zhipu-ai",
        ("foundation-models",),
        name_en="Zhipu AI",
        name_zh="智谱",
        country="CN",
        open_source="partly",
    )
    Relationship.objects.create(supplier=nvidia, customer=azure, kind="chips")
    Relationship.objects.create(supplier=azure, customer=openai, kind="compute")
    return {"nvidia": nvidia, "cambricon": cambricon, "azure": azure, "openai": openai, "zhipu": zhipu}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache, so throttle counters (the API's rate limit)
    and cached values never leak from one test into another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
