"""sitemap.xml: the chain map, the listing, the chain's flows and changes, the records
pages, every segment, every kind of record and every published participant, each in
English and Chinese with its alternates."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from directory import catalog
from directory.models import TIER_ORDER


class PageSitemap(Sitemap):
    """Every page in each language, each entry with its alternates (hreflang)."""

    i18n = True
    alternates = True
    x_default = True


class StaticSitemap(PageSitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return [
            "directory:home",
            "directory:participants",
            "directory:flows",
            "directory:changes",
            "directory:record_kinds",
        ]

    def location(self, item):
        return reverse(item)


class SegmentSitemap(PageSitemap):
    changefreq = "weekly"
    priority = 0.7

    def items(self):
        return sorted(catalog.segments(), key=lambda s: (TIER_ORDER.index(s.tier), s.order, s.slug))


class RecordKindSitemap(PageSitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return catalog.record_kinds()


class ParticipantSitemap(PageSitemap):
    changefreq = "weekly"
    priority = 0.5
    limit = 5000

    def items(self):
        return catalog.sitemap_participants()

    def lastmod(self, participant):
        return participant.updated_at


SITEMAPS = {
    "pages": StaticSitemap,
    "segments": SegmentSitemap,
    "records": RecordKindSitemap,
    "participants": ParticipantSitemap,
}
