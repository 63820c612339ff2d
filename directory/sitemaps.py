"""sitemap.xml: the chain map, the listing, every segment and every published participant."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Participant, Segment


class StaticSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return ["directory:home", "directory:participants"]

    def location(self, item):
        return reverse(item)


class SegmentSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.7

    def items(self):
        return Segment.objects.order_by("tier", "order", "slug")


class ParticipantSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5
    limit = 5000

    def items(self):
        return Participant.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, participant):
        return participant.updated_at


SITEMAPS = {"pages": StaticSitemap, "segments": SegmentSitemap, "participants": ParticipantSitemap}
