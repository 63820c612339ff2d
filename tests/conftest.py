"""Shared fixtures: a few named participants across the chain, built without a factory library."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.test import Client, override_settings

from directory.catalog.search import refresh_search_index
from directory.models import Offering, Participant, Relationship, Segment, Status

_segments_migration = importlib.import_module("directory.migrations.0002_canonical_segments")
SEGMENTS, create_segments = _segments_migration.SEGMENTS, _segments_migration.create_segments
create_curator_groups = importlib.import_module("directory.migrations.0005_curator_groups").create_groups


# Addresses without a language prefix: the API, the admin, the language switch, static
# files and the files of directory/web/file_urls.py.
UNPREFIXED = (
    "/api/",
    f"/{settings.ADMIN_URL}",
    "/i18n/",
    "/static/",
    "/media/",
    "/participants/export.csv",
    "/relationships/export.csv",
    "/records/export.csv",
    "/sitemap.xml",
    "/robots.txt",
    "/favicon.ico",
    "/healthz",
)


def page_address(path, language="en"):
    """``path`` as a page is addressed in ``language``: English pages have no prefix,
    Chinese ones ``/zh-hans/`` (``/participants/`` -> ``/zh-hans/participants/``);
    addresses without a language are left as they are."""
    if language == "en" or f"{path}/".startswith(("/zh-hans/", *UNPREFIXED)):
        return path
    return f"/{language}{path}"


class PageClient(Client):
    """The test client, asking for a page at its language's address as the site's own
    links do: the language a request names (Accept-Language, or the language cookie the
    switch sets), else English. How the site leads a visitor from one address to the
    other is tested with Django's plain ``Client`` (tests/test_language.py)."""

    def generic(self, method, path, *args, **extra):
        if path.startswith("/"):
            headers = {k.lower(): v for k, v in (extra.get("headers") or {}).items()}
            wanted = (
                extra.get("HTTP_ACCEPT_LANGUAGE")
                or headers.get("accept-language")
                or self.defaults.get("HTTP_ACCEPT_LANGUAGE")
                or ""
            )
            cookie = self.cookies.get(settings.LANGUAGE_COOKIE_NAME)
            chosen = cookie.value if cookie is not None else wanted
            path = page_address(path, "zh-hans" if chosen.lower().startswith("zh") else "en")
        return super().generic(method, path, *args, **extra)


@pytest.fixture
def client():
    return PageClient()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a file rather than in memory, as production does: threads then
    get their own connections that wait for each other's writes (the busy timeout), so
    tests/test_concurrency.py runs on SQLite too. The file is in this run's own pytest
    temporary directory, so simultaneous runs stay apart and a killed run's file is
    cleaned up with pytest's old temporary directories; Django deletes it at the end."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)


@pytest.fixture(autouse=True)
def _canonical_segments(request):
    """Transactional tests end by emptying every table, rows made by data migrations
    included; put the ten canonical segments back before any database test that follows,
    and the curator groups before a transactional one (the others see them from the
    migrations)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False) or (marker.args and marker.args[0])
    request.getfixturevalue("transactional_db" if transactional else "db")
    if Segment.objects.count() < len(SEGMENTS):
        create_segments(django_apps, None)
    if transactional:
        config = django_apps.get_app_config("directory")
        models_module = config.models_module  # the migration's function sets it to None
        try:
            create_curator_groups(django_apps, None)
        finally:
            config.models_module = models_module


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


def make_link(supplier, customer, kind="chips", supplied=None, received=None, **fields):
    """An active link from ``supplier`` to ``customer``; its supplied and customer
    segments are each side's first offering's segment unless given (as slugs)."""

    def segment(participant, slug):
        if slug:
            return Segment.objects.get(slug=slug)
        first = participant.offerings.order_by("pk").first()
        return first.segment if first else None

    return Relationship.objects.create(
        supplier=supplier,
        customer=customer,
        kind=kind,
        supplied_segment=segment(supplier, supplied),
        customer_segment=segment(customer, received),
        **fields,
    )


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
    make_link(nvidia, azure, "chips")
    make_link(azure, openai, "compute")
    return {"nvidia": nvidia, "cambricon": cambricon, "azure": azure, "openai": openai, "zhipu": zhipu}


@pytest.fixture
def varied(db):
    """Participants over countries, kinds, licences and segments, one in a sub-segment,
    one in two segments, and unpublished ones that must never be counted."""
    chips = Segment.objects.get(slug="ai-chips")
    Segment.objects.create(slug="npu", name_en="NPUs", tier=chips.tier, parent=chips, order=1)
    rows = [
        ("alpha", ("ai-chips",), "US", "vendor", "yes"),
        ("beta", ("ai-chips", "cloud-compute"), "CN", "vendor", "no"),
        ("gamma", ("npu",), "CN", "research", "partly"),
        ("delta", ("foundation-models",), "FR", "open_source", "yes"),
        ("epsilon", ("foundation-models", "agent-platforms"), "US", "service", "no"),
        ("zeta", ("industry-apps",), "US", "both", "partly"),
        ("eta", ("cloud-compute",), "", "vendor", "no"),
    ]
    for slug, segments, country, kind, licence in rows:
        make_participant(
            slug, segments, country=country, kind=kind, open_source=licence, description_en="chip model"
        )
    make_participant("hidden", ("ai-chips",), country="DE", status=Status.DRAFT, description_en="chip")
    make_participant("gone", ("npu",), country="CN", status=Status.ARCHIVED, description_en="chip")


CHAIN_SEGMENTS = [
    "energy-power",
    "ai-chips",
    "cloud-compute",
    "foundation-models",
    "training-tuning",
    "data-services",
    "knowledge-base",
    "agent-platforms",
    "aigc-tools",
    "industry-apps",
]


def page_slugs(listing):
    """The slugs of a listing's current page, in order (the page holds participant ids)."""
    ids = list(listing.page.object_list)
    names = dict(Participant.objects.filter(pk__in=ids).values_list("pk", "slug"))
    return [names[pk] for pk in ids]


def make_chain(n):
    """``n`` published participants spread over every segment, three countries and all
    kinds, each supplying the next one: data for query-count tests at several sizes."""
    kinds = ["vendor", "service", "both", "open_source", "research"]
    participants = []
    for i in range(n):
        segments = (CHAIN_SEGMENTS[i % 10], CHAIN_SEGMENTS[(i + 3) % 10])
        participants.append(
            make_participant(
                f"bulk-{i:03d}",
                segments,
                name_zh=f"批量{i}",
                country=["US", "CN", "DE"][i % 3],
                kind=kinds[i % 5],
                open_source=["yes", "partly", "no"][i % 3],
                featured=i % 7 == 0,
                founded=1990 + i % 30,
            )
        )
    first = {
        p.pk: p.offerings.order_by("pk").values_list("segment_id", flat=True).first() for p in participants
    }
    Relationship.objects.bulk_create(
        Relationship(
            supplier=a,
            customer=b,
            kind="software",
            evidence=f"{a.slug} to {b.slug}",
            supplied_segment_id=first[a.pk],
            customer_segment_id=first[b.pk],
        )
        for a, b in zip(participants, participants[1:], strict=False)
    )
    return participants


@pytest.fixture(autouse=True)
def _no_page_or_count_cache():
    """Tests see live pages and counts (and `response.context`); the caches have their own
    tests in test_caching.py. Inside a test transaction on_commit never fires, so cached
    counts would otherwise go stale within a test."""
    with override_settings(PAGE_CACHE_SECONDS=0, COUNT_CACHE_SECONDS=0):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache, so throttle counters (the API's rate limit)
    and cached values never leak from one test into another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request in Chinese leaves Chinese
    active in this thread (LocaleMiddleware activates, nothing deactivates), which would
    otherwise translate messages built outside requests in the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
